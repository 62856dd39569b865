import { bytesPerSecond, type LedgerEntry } from '../ledger.js'
import { formatBytes, formatDuration } from './format.js'

/** Where the bandwidth a miss is priced at comes from. */
export type BandwidthSource = 'measured' | 'history' | 'assumed'

/** Does a kind's cache pay off: what its restore cost against what downloading its reused bytes would. */
export interface Payoff {
  kind: string
  restoreMs: number
  /** Archive bytes the restore moved (null when the backend cannot tell, or in place). */
  archiveBytes: number | null
  reusedBytes: number
  /** Upstream bytes per second the miss is priced at. */
  bandwidth: number
  bandwidthSource: BandwidthSource
  /** How long downloading the reused bytes would have taken. */
  missMs: number
  /** False when the restore took more than a second longer than the download it saved: worth a look. */
  paysOff: boolean
}

/** Bytes a kind itself moved and the time it took; below this a measurement says little. */
const MEANINGFUL_BYTES = 1024 * 1024
/** A restore less than this slower than the download it saves is not worth a person's attention. */
const SLACK_MS = 1000

/**
 * Prices each kind's reused bytes at the best bandwidth figure there is: the kind's own download in this
 * run, else what the job's kinds measured, else the recent history's, else the assumed bandwidth.
 */
export function payoffs(entries: LedgerEntry[], historyBandwidth: number | null, assumedBandwidth: number): Payoff[] {
  const measured = jobBandwidth(entries)
  return entries.map(entry => {
    const own = entry.fetched ? bandwidthOf([entry.fetched]) : null
    const [bandwidth, bandwidthSource]: [number, BandwidthSource] =
      own !== null
        ? [own, 'measured']
        : measured !== null
          ? [measured, 'measured']
          : historyBandwidth !== null
            ? [historyBandwidth, 'history']
            : [assumedBandwidth, 'assumed']
    const missMs = (entry.reusedBytes / bandwidth) * 1000
    return {
      kind: entry.kind,
      restoreMs: Math.round(entry.restoreMs),
      archiveBytes: entry.restoredArchiveBytes,
      reusedBytes: entry.reusedBytes,
      bandwidth: Math.round(bandwidth),
      bandwidthSource,
      missMs: Math.round(missMs),
      paysOff: entry.reusedBytes === 0 || entry.restoreMs <= missMs + SLACK_MS
    }
  })
}

/** What the job's kinds measured downloading from upstream, together; null when they moved too little to tell. */
export function jobBandwidth(entries: LedgerEntry[]): number | null {
  return bandwidthOf(entries.flatMap(entry => (entry.fetched ? [entry.fetched] : [])))
}

function bandwidthOf(transfers: Array<{ bytes: number; ms: number }>): number | null {
  const bytes = transfers.reduce((sum, t) => sum + t.bytes, 0)
  const ms = transfers.reduce((sum, t) => sum + t.ms, 0)
  return bytes < MEANINGFUL_BYTES || ms <= 0 ? null : bytesPerSecond({ bytes, ms })
}

const SOURCE_WORDS: Record<BandwidthSource, string> = { measured: 'the measured', history: 'the recently measured', assumed: 'the assumed' }

/** The one actionable line for a kind whose restore costs more than its miss would. */
export function payoffAdvice(payoff: Payoff): string {
  return (
    `${payoff.kind}: restoring took ${formatDuration(payoff.restoreMs)}, downloading would take ~${formatDuration(payoff.missMs)} ` +
    `at ${SOURCE_WORDS[payoff.bandwidthSource]} ${formatBytes(payoff.bandwidth)}/s — consider in-place mode or no cache`
  )
}
