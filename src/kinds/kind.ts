import type { ArchivePart, ArchiveSpec } from '../backends/backend.js'
import type { ActionConfig, KindName } from '../config/config.js'
import type { AccessMode } from '../config/mode.js'
import type { LedgerEntry } from '../ledger.js'

/** One named ingredient of a key, printed in the configuration group so a miss can be explained. */
export interface KeyPart {
  name: string
  value: string
  /** What the value was computed from (files hashed, command run), for the log. */
  source: string
}

/** What a kind decides in main, before anything is restored: a bad input the kind checks fails here. */
export interface KindPlan {
  /** What the kind caches: each part named the same on every machine, with where it is on this one. */
  parts: ArchivePart[]
  /** Basename patterns never archived at any depth (tar --exclude semantics). */
  exclude: string[]
  /** Facts worth a line in the configuration group (where a directory came from, a tool that is missing). */
  notes: string[]
  keyParts: KeyPart[]
  /**
   * How many trailing key parts restore keys may drop, most volatile last: pip's dependency hash can be
   * dropped (any older pip cache helps), buildah's tool version cannot (the cache-mount layout changed).
   */
  droppable: number
  /** A key of the user's own, taken as given instead of one made of the key parts (custom paths). */
  ownKey?: { key: string; restoreKeys: string[] }
  /** The kind's directory is the one the local store keeps for it in place (in-place mode). */
  inPlace?: boolean
  /** Variables later steps need to find what the kind restores (HF_HUB_CACHE; PIP_CACHE_DIR in place). */
  env?: Record<string, string>
  /** What the kind learnt while planning and needs again in its hooks (the compose file's services). */
  data?: unknown
}

/** A kind's plan with its keys: what main restores and post saves, carried in state. */
export interface CachePlan {
  kind: KindName
  /** What the entry holds: parts named the same on every machine, resolved on this one. */
  spec: ArchiveSpec
  key: string
  restoreKeys: string[]
  keyParts: KeyPart[]
  notes: string[]
  inPlace: boolean
  env: Record<string, string>
  data?: unknown
}

export interface PlanContext {
  config: ActionConfig
  /** In in-place mode, the directory the local store keeps for this kind; null otherwise. */
  inPlaceDir: string | null
}

/** What a kind's hooks work with: the run's settings, the kind's plan and its ledger entry. */
export interface KindRun {
  config: ActionConfig
  plan: CachePlan
  entry: LedgerEntry
  mode: AccessMode
  /** The run's private directory, from main to post (file lists, Nix's baseline). */
  snapshotDir: string
}

/** A kind's own downloaded and reused figures, where a directory diff cannot tell built from downloaded. */
export interface OwnAccount {
  downloadedBytes: number
  reusedBytes: number
  /** One log line saying where the figures come from. */
  explanation: string
}

/**
 * A cache kind owns its whole lifecycle: where its data lives and what its key is made of (plan), what it
 * does once restored (afterRestore), before it is measured and saved (beforeSave), how its bytes are counted
 * (account) and what it adds to the summary (summarize). The generic phases call these and nothing else.
 */
export interface CacheKind {
  readonly name: KindName
  plan(context: PlanContext): Promise<KindPlan>
  /**
   * Main, after the restore: Nix's substituter, model and download fetches, the compose build. It starts
   * as soon as this kind is restored, while other kinds may still be restoring, unless
   * `afterRestoreNeeds` says it reads what another kind restores.
   */
  afterRestore?(run: KindRun): Promise<void>
  /** `every-restore`: afterRestore waits until every kind is restored (the compose build reads the buildah cache mounts). */
  readonly afterRestoreNeeds?: 'its-restore' | 'every-restore'

  /** Post, before the kind is measured: Nix's new store paths go into the binary cache. */
  beforeSave?(run: KindRun): Promise<void>
  /** Null when the kind has no figures of its own this run: the directory diff counts instead. */
  account?(entry: LedgerEntry): OwnAccount | null
  /** Markdown lines for the summary, below the table (files fetched, services built, store paths). */
  summarize?(entry: LedgerEntry): string[]
}

/** A kind's own directory, named by its role so that it restores wherever that role lives on another runner. */
export function rolePart(name: string, dir: string): ArchivePart {
  return { origin: 'role', name, path: dir }
}

export function platformParts(): KeyPart[] {
  return [
    { name: 'os', value: runnerOs(), source: 'process.platform' },
    { name: 'arch', value: process.arch, source: 'process.arch' }
  ]
}

/** The runner's own spelling (RUNNER_OS), so keys read like the ones other actions make. */
function runnerOs(): string {
  const names: Record<string, string> = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' }
  return process.env.RUNNER_OS || names[process.platform] || process.platform
}
