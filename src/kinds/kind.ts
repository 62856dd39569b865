import type { ArchivePart } from '../backends/backend.js'
import type { ActionConfig, KindName } from '../config/config.js'

/** One named ingredient of a key, printed in the configuration group so a miss can be explained. */
export interface KeyPart {
  name: string
  value: string
  /** What the value was computed from (files hashed, command run), for the log. */
  source: string
}

export interface Location {
  /** What this kind caches: each part named the same on every machine, with where it is on this one. */
  parts: ArchivePart[]
  /** Basename patterns never archived at any depth (tar --exclude semantics). */
  exclude: string[]
  /** Facts worth a line in the configuration group (where a directory came from, a tool that is missing). */
  notes: string[]
}

export interface KindKey {
  parts: KeyPart[]
  /**
   * How many trailing parts restore keys may drop, most volatile last: pip's dependency hash can be
   * dropped (any older pip cache helps), buildah's tool version cannot (the cache-mount layout changed).
   */
  droppable: number
}

export interface PruneResult {
  removedBytes: number
  removed: string[]
}

/** A cache kind: where its data lives, what its key is made of, and what to drop before saving. */
export interface CacheKind {
  readonly name: KindName
  locate(config: ActionConfig): Promise<Location>
  key(config: ActionConfig, location: Location): Promise<KindKey>
  prune(location: Location): Promise<PruneResult>
}

export const NOTHING_PRUNED: PruneResult = { removedBytes: 0, removed: [] }

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
