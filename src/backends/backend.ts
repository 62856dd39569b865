import type { LedgerEntry } from '../ledger.js'

/**
 * One directory (or file) an entry holds. Its identity is its name, the same on every machine; its path is
 * where that name resolves on this one, so an entry saved on one runner restores on another whose home,
 * workspace or user differ.
 */
export interface ArchivePart {
  /**
   * `role`: a kind's own directory, named by what it is for (`pip-cache`); its contents are archived
   * relative to it. `spelled`: a path as the user wrote it (`build/ccache`, `~/.gradle/caches`,
   * `/opt/sdk`), relative to the workspace, to home, or absolute.
   */
  origin: 'role' | 'spelled'
  name: string
  /** Absolute, on this machine. */
  path: string
}

/** What one cache entry holds: parts archived together under one key. */
export interface ArchiveSpec {
  /** In a stable order: the names, in order, are part of the entry's identity. */
  parts: ArchivePart[]
  /** tar `--exclude` patterns applied below every part (e.g. `.locks`, `*.incomplete`); never archived. */
  exclude: string[]
  /** The cache kind the entry holds; the local store records it for `qdc stats`. Not part of the identity. */
  kind?: string
}

/** The part names of a spec as one machine-independent list: what an entry's version is computed from. */
export function partIdentities(spec: ArchiveSpec): string[] {
  return spec.parts.map(part => `${part.origin}:${part.name}`)
}

export function partPaths(spec: ArchiveSpec): string[] {
  return spec.parts.map(part => part.path)
}

export interface RestoreResult {
  /** The key of the entry that was restored: the primary key, or the newest entry matching a restore-key prefix. */
  matchedKey: string
  /** Compressed bytes transferred from the store, when the backend can tell. */
  archiveBytes: number | null
  /** How long the transfer of those bytes took, when the backend measures it (the summary's throughput). */
  transferMs?: number
}

export interface Miss {
  matchedKey: null
  /**
   * One line when the store holds the key under another identity (other parts, another spelling, another
   * compression or format), naming what differs; null when it does not or cannot tell.
   */
  otherIdentity: string | null
}

export interface SaveResult {
  /** Compressed bytes written to the store, when the backend can tell. */
  archiveBytes: number | null
  /** How long writing them took, when the backend measures it (the summary's throughput). */
  transferMs?: number
}

/**
 * A place entries live. `restore` resolves to a Miss when nothing matches and throws on a fault
 * (service down, corrupt archive, ...): the caller turns a throw into a warning, never a failed job.
 */
export interface CacheBackend {
  readonly name: BackendName
  /**
   * True when the kind's directory is the store itself (in place): nothing is copied, and whatever is there
   * when the job starts counts as restored. False when a restore writes the files it restores.
   */
  readonly restoresInPlace: boolean
  restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | Miss>
  save(spec: ArchiveSpec, key: string): Promise<SaveResult>
  /** Once per job, after every save: the store's own upkeep (pruning, history). Never throws. */
  maintain?(entries: LedgerEntry[]): Promise<void>
  /** A store's own place for small documents; without one they are kept as entries (report/history.ts). */
  readonly documents?: DocumentStore
}

/** Small JSON documents kept under a key and replaced whole: the run history the summary compares with. */
export interface DocumentStore {
  /** null when there is none under `key`; throws when the store cannot be read. */
  read(key: string): Promise<unknown>
  write(key: string, document: unknown): Promise<void>
}

/**
 * The store refuses this run's writes (credentials that may read but not write): the save is `read-only`,
 * and only the first refusal of a job is a warning.
 */
export class ReadOnlyStoreError extends Error {
  constructor(
    message: string,
    /** False for the saves after the first refusal: the job was told already. */
    readonly firstInJob: boolean
  ) {
    super(message)
    this.name = 'ReadOnlyStoreError'
  }
}

export function missed(otherIdentity: string | null = null): Miss {
  return { matchedKey: null, otherIdentity }
}

export type BackendName = 'github' | 'local' | 's3' | 'in-place'
