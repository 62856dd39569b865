import { type LedgerEntry, type StoreTransfer, totals } from '../ledger.js'
import { writeFileAtomic } from '../util/atomic.js'

/** The JSON report (version 1): the ledger as machine-readable figures a PR check can trust. */
export function buildReport(entries: LedgerEntry[]) {
  const { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent } = totals(entries)
  return {
    version: 1,
    caches: entries.map(e => ({
      kind: e.kind,
      backend: e.backend,
      key: e.key,
      matchedKey: e.matchedKey,
      hit: e.hit,
      restoredBytes: e.restoredBytes,
      restoredArchiveBytes: e.restoredArchiveBytes,
      downloadedBytes: e.downloadedBytes,
      reusedBytes: e.reusedBytes,
      uploadedBytes: e.uploadedBytes,
      saved: e.saved,
      problems: e.problems,
      restoreMs: Math.round(e.restoreMs),
      saveMs: Math.round(e.saveMs),
      // Bytes and time of the store's own transfers, where the backend measures them (s3).
      ...(e.transfer ? { transfer: { restore: transferFigures(e.transfer.restore), save: transferFigures(e.transfer.save) } } : {}),
      // A kind's own figures (files, nix, services), as the kind keeps them.
      ...e.details
    })),
    totals: { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent }
  }
}

function transferFigures(transfer: StoreTransfer | undefined) {
  if (!transfer) return undefined
  return { bytes: transfer.bytes, ms: Math.round(transfer.ms), bytesPerSecond: bytesPerSecond(transfer) }
}

export function bytesPerSecond(transfer: StoreTransfer): number {
  return Math.round(transfer.bytes / (Math.max(transfer.ms, 1) / 1000))
}

export async function writeReport(file: string, entries: LedgerEntry[]): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(buildReport(entries), null, 2) + '\n')
}
