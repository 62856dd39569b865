import type { EntryCheck, EntryInfo } from './entry-meta.js'
import type { PruneOptions, PruneResult } from './local/prune.js'

/**
 * A store qdc owns and `qdc stats/prune/clear/verify` manage: the local directory store and the s3 store.
 * Both keep the same manifests (entry-meta.ts) and prune by the same policy (`chooseToPrune`).
 */
export interface ManagedStore {
  /** Where it is, for people: a directory, or `s3://bucket/prefix/`. */
  readonly label: string
  /** Every readable entry, most recently used first. */
  listEntries(): Promise<EntryInfo[]>
  /** Unused for longer than maxAgeMs first, then the least recently used until it fits maxBytes; leftovers of crashed saves too. */
  prune(options: PruneOptions): Promise<PruneResult>
  /** Removes every entry `chosen` picks; returns what went. */
  removeEntries(chosen: (entry: EntryInfo) => boolean): Promise<EntryInfo[]>
  /** Re-hashes the archives of the entries `wanted` picks against their manifests. */
  verifyEntries(wanted?: (entry: { key: string; kind?: string }) => boolean): Promise<EntryCheck[]>
  /** Removes an entry verifyEntries found corrupt. */
  removeCorrupt(check: EntryCheck): Promise<void>
}
