import { bytesPerSecond, type LedgerEntry, type StoreTransfer, totals } from '../ledger.js'
import { writeFileAtomic } from '../util/atomic.js'
import type { RunReport } from './run-report.js'

/**
 * The JSON report (version 2): the ledger as machine-readable figures a PR check can trust, with the budget
 * check, the comparison with the base branch and whether each cache pays off.
 */
export function buildReport(report: Pick<RunReport, 'entries'> & Partial<RunReport>) {
  const { entries } = report
  const { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent } = totals(entries)
  const baseline = report.history?.baseline ?? null
  return {
    version: 2,
    caches: entries.map(cacheFigures),
    totals: { downloadedBytes, reusedBytes, uploadedBytes, reusedPercent },
    budget: report.budget
      ? {
          exceeded: report.budget.exceeded,
          maxDownloaded: report.budget.maxDownloaded,
          maxDownloadedPerKind: report.budget.maxDownloadedPerKind,
          breaches: report.budget.breaches
        }
      : null,
    baseline: baseline && {
      branch: baseline.branch,
      runs: baseline.runs.length,
      medianDownloadedBytes: baseline.medianByKind,
      medianTotalDownloadedBytes: baseline.medianTotal,
      deltaDownloadedBytes: Object.fromEntries(entries.map(e => [e.kind, e.downloadedBytes - (baseline.medianByKind[e.kind] ?? 0)])),
      deltaTotalDownloadedBytes: downloadedBytes - baseline.medianTotal
    },
    baselineNote: report.history?.note ?? null,
    payoff: report.payoffs ?? []
  }
}

function cacheFigures(e: LedgerEntry) {
  return {
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
    ...(e.fetched ? { fetched: e.fetched } : {}),
    // Bytes and time of the store's own transfers, where the backend measures them (s3).
    ...(e.transfer ? { transfer: { restore: transferFigures(e.transfer.restore), save: transferFigures(e.transfer.save) } } : {}),
    // A kind's own figures (files, nix, services), as the kind keeps them.
    ...e.details
  }
}

function transferFigures(transfer: StoreTransfer | undefined) {
  if (!transfer) return undefined
  return { bytes: transfer.bytes, ms: Math.round(transfer.ms), bytesPerSecond: bytesPerSecond(transfer) }
}

export async function writeReport(file: string, report: RunReport): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(buildReport(report), null, 2) + '\n')
}
