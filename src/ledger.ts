import * as core from '@actions/core'
import type { KindName } from './config/config.js'

export type HitKind = 'exact' | 'partial' | 'miss'

/** How the post step ended for one cache. */
export type SaveOutcome =
  | 'saved' // uploaded a new revision
  | 'unchanged' // exact hit and the content did not change: nothing uploaded
  | 'read-only' // read-only input or the service's cache mode forbids writes
  | 'disabled' // save: never
  | 'empty' // nothing on disk to save
  | 'failed' // the backend refused or failed; a warning says why
  | 'pending' // main ran, post has not (yet)

/** Every figure the summary, the outputs and the report show for one cache kind. */
export interface LedgerEntry {
  kind: KindName
  backend: string
  key: string
  matchedKey: string | null
  hit: HitKind
  /** Bytes the restore wrote to disk (unpacked). */
  restoredBytes: number
  /** Compressed bytes fetched from the store, when the backend reports it. */
  restoredArchiveBytes: number | null
  /** Bytes that appeared in the cache directories during the job: what upstream had to send. */
  downloadedBytes: number
  /** Restored bytes still there, unchanged, when the job ended. */
  reusedBytes: number
  /** Compressed bytes sent to the store by this run's save. */
  uploadedBytes: number
  saved: SaveOutcome
  /** Warnings a person should see next to the figures (service down, corrupt entry, ...). */
  problems: string[]
  restoreMs: number
  saveMs: number
  /** What the kind itself fetched from upstream during the job, and how long it took: a measured bandwidth. */
  fetched?: { bytes: number; ms: number }
  /** What went over the network to and from the store, when the backend measures it (s3): bytes and time. */
  transfer?: { restore?: StoreTransfer; save?: StoreTransfer }
  /**
   * Figures a kind keeps beyond the table's (`files` fetched, Nix store paths, `services` built): the kind
   * fills and renders them, and the JSON report carries them as they are.
   */
  details?: object
}

/** Compressed bytes moved to or from the store, and how long it took: the throughput the summary shows. */
export interface StoreTransfer {
  bytes: number
  ms: number
}

/** Bytes per second of a transfer, rounded; a transfer timed at under a millisecond counts as one. */
export function bytesPerSecond(transfer: { bytes: number; ms: number }): number {
  return Math.round(transfer.bytes / (Math.max(transfer.ms, 1) / 1000))
}

/** A file a fetcher delivered into a cache kind's directory, verified against its digest. */
export interface FetchedFile {
  repo: string
  path: string
  size: number
  /** `sha256:<hex>` or `git-sha1:<hex>`. */
  digest: string
  /** `repaired`: a cached copy existed but failed verification, and was downloaded again. */
  source: 'cache' | 'downloaded' | 'repaired'
  verified: true
}

/** A fault a person should act on: an annotation now, and a line next to the kind's figures in the summary. */
export function warnAbout(entry: LedgerEntry, problem: string): void {
  core.warning(`${entry.kind}: ${problem}`)
  entry.problems.push(problem.split('\n')[0])
}

export interface Totals {
  downloadedBytes: number
  reusedBytes: number
  uploadedBytes: number
  /** Share of the bytes the job used that came from the cache, 0–100; null when it used none. */
  reusedPercent: number | null
}

export function totals(entries: LedgerEntry[]): Totals {
  const downloadedBytes = sum(entries, e => e.downloadedBytes)
  const reusedBytes = sum(entries, e => e.reusedBytes)
  const used = downloadedBytes + reusedBytes
  return {
    downloadedBytes,
    reusedBytes,
    uploadedBytes: sum(entries, e => e.uploadedBytes),
    reusedPercent: used === 0 ? null : (reusedBytes / used) * 100
  }
}

/** 'true' only when every enabled kind hit exactly. */
export function allExact(entries: LedgerEntry[]): boolean {
  return entries.length > 0 && entries.every(e => e.hit === 'exact')
}

export function hitsByKind(entries: LedgerEntry[]): Record<string, HitKind> {
  return Object.fromEntries(entries.map(e => [e.kind, e.hit]))
}

function sum(entries: LedgerEntry[], figure: (e: LedgerEntry) => number): number {
  return entries.reduce((total, e) => total + figure(e), 0)
}
