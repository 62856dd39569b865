import { type LedgerEntry, totals } from '../ledger.js'
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
      // A kind's own figures (files, nix, services), as the kind keeps them.
      ...e.details
    })),
    totals: { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent }
  }
}

export async function writeReport(file: string, entries: LedgerEntry[]): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(buildReport(entries), null, 2) + '\n')
}
