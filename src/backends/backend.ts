/** What one cache entry holds: directories archived together under one key. */
export interface ArchiveSpec {
  /** Absolute paths of directories (or files), in a stable order: the order is part of the entry's version. */
  paths: string[]
  /** tar `--exclude` patterns applied below every path (e.g. `.locks`, `*.incomplete`); never archived. */
  exclude: string[]
  /** The cache kind the entry holds; the local store records it for `qdc stats`. Not part of the version. */
  kind?: string
}

export interface RestoreResult {
  /** The key of the entry that was restored: the primary key, or the newest entry matching a restore-key prefix. */
  matchedKey: string
  /** Compressed bytes transferred from the store, when the backend can tell. */
  archiveBytes: number | null
}

export interface SaveResult {
  /** Compressed bytes written to the store, when the backend can tell. */
  archiveBytes: number | null
}

/**
 * A place entries live. `restore` resolves to undefined on a miss and throws on a fault
 * (service down, corrupt archive, ...): the caller turns a throw into a warning, never a failed job.
 */
export interface CacheBackend {
  readonly name: BackendName
  restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | undefined>
  save(spec: ArchiveSpec, key: string): Promise<SaveResult>
}

export type BackendName = 'github' | 'local' | 'in-place'
