import { bytesPerSecond, type LedgerEntry, type SaveOutcome, type StoreTransfer, totals } from '../ledger.js'
import type { BudgetResult } from './budget.js'
import { escapeCell, formatBytes, formatDuration, formatPercent } from './format.js'
import { type HistoryOutcome, sparkline } from './history.js'
import { type Payoff, payoffAdvice } from './payoff.js'
import type { RunReport } from './run-report.js'

const SAVE_LABELS: Record<SaveOutcome, string> = {
  saved: 'saved',
  unchanged: 'unchanged, not uploaded',
  'read-only': 'read-only',
  disabled: 'save: never',
  empty: 'nothing to save',
  failed: '⚠️ failed',
  pending: 'not run'
}

const HIT_LABELS = { exact: '✅ exact', partial: '🟡 partial', miss: '❌ miss' } as const

/**
 * The job summary, rendered from the run's report alone (GitHub-flavoured Markdown): the table of every
 * kind, the budget, the comparison with the base branch, whether each cache pays off, then each kind's
 * own section and the problems.
 */
export function renderSummary(report: Pick<RunReport, 'entries'> & Partial<RunReport>): string {
  const { entries } = report
  const sums = totals(entries)
  const lines = [
    '## qdc-action: bytes downloaded vs reused',
    '',
    '| Cache | Hit | Matched key | Restored | Downloaded | Reused | Uploaded | Save | Time |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
    ...entries.map(renderRow),
    '',
    `**Total: downloaded ${formatBytes(sums.downloadedBytes)}, reused ${formatBytes(sums.reusedBytes)} (${formatPercent(sums.reusedPercent)} from cache)**` +
      (sums.uploadedBytes > 0 ? `; uploaded ${formatBytes(sums.uploadedBytes)}` : '')
  ]
  for (const note of report.notes ?? []) lines.push('', note)
  const transfers = renderTransfers(entries)
  if (transfers.length > 0) lines.push('', ...transfers)
  if (report.budget) lines.push(...renderBudget(report.budget))
  if (report.history) lines.push('', ...renderBaseline(entries, report.history))
  if (report.payoffs?.length) lines.push('', ...renderPayoffs(report.payoffs))
  for (const section of report.sections ?? []) if (section.length > 0) lines.push('', ...section)
  const problems = entries.flatMap(e => e.problems.map(p => `- ⚠️ **${e.kind}**: ${escapeCell(p)}`))
  const advice = (report.payoffs ?? []).filter(p => !p.paysOff).map(p => `- ⚠️ ${escapeCell(payoffAdvice(p))}`)
  if (problems.length + advice.length > 0) lines.push('', ...problems, ...advice)
  return lines.join('\n') + '\n'
}

/** Per entry, what the store sent and took and how fast, for the backends that measure it (s3). */
function renderTransfers(entries: LedgerEntry[]): string[] {
  const measured = entries.filter(e => e.transfer?.restore || e.transfer?.save)
  if (measured.length === 0) return []
  const cell = (transfer: StoreTransfer | undefined) =>
    transfer ? `${formatBytes(transfer.bytes)} in ${formatDuration(transfer.ms)} (${formatBytes(bytesPerSecond(transfer))}/s)` : '—'
  return [
    '| Cache | Backend | From the store | To the store |',
    '| --- | --- | ---: | ---: |',
    ...measured.map(e => `| ${e.kind} | ${e.backend} | ${cell(e.transfer?.restore)} | ${cell(e.transfer?.save)} |`)
  ]
}

function renderRow(e: LedgerEntry): string {
  const matched = e.matchedKey ? `\`${escapeCell(e.matchedKey)}\`` : '—'
  const restored =
    e.restoredArchiveBytes !== null && e.restoredBytes > 0
      ? `${formatBytes(e.restoredBytes)} (${formatBytes(e.restoredArchiveBytes)} archive)`
      : formatBytes(e.restoredBytes)
  return `| ${e.kind} | ${HIT_LABELS[e.hit]} | ${matched} | ${restored} | ${formatBytes(e.downloadedBytes)} | ${formatBytes(e.reusedBytes)} | ${formatBytes(e.uploadedBytes)} | ${SAVE_LABELS[e.saved]} | ${formatDuration(e.restoreMs + e.saveMs)} |`
}

function renderBudget(budget: BudgetResult): string[] {
  const limits = [
    ...Object.entries(budget.maxDownloadedPerKind).map(([kind, bytes]) => `${kind} ≤ ${formatBytes(bytes)}`),
    ...(budget.maxDownloaded === null ? [] : [`the job ≤ ${formatBytes(budget.maxDownloaded)}`])
  ]
  if (limits.length === 0) return []
  return ['', budget.line ? `**⚠️ ${budget.line}**` : `Bandwidth budget held (${limits.join(', ')}).`]
}

/** Per kind: this run's download against the base branch's recent median, with the trend of those runs. */
function renderBaseline(entries: LedgerEntry[], history: HistoryOutcome): string[] {
  const baseline = history.baseline
  if (!baseline) return [history.note ?? 'No earlier runs to compare with.']
  const row = (label: string, now: number, median: number, past: number[]) =>
    `| ${label} | ${formatBytes(now)} | ${signed(now - median)} | ${formatBytes(median)} | ${sparkline([...past, now])} |`
  const kinds = [...new Set(entries.map(e => e.kind))]
  const downloadedOf = (kind: string) => entries.filter(e => e.kind === kind).reduce((sum, e) => sum + e.downloadedBytes, 0)
  return [
    `Compared with ${escapeCell(baseline.branch)}: the median of its last ${baseline.runs.length} run(s), and the trend of those runs then this one.`,
    '',
    `| Cache | Downloaded | vs ${escapeCell(baseline.branch)} | Median | Trend |`,
    '| --- | ---: | ---: | ---: | --- |',
    ...kinds.map(kind =>
      row(
        kind,
        downloadedOf(kind),
        baseline.medianByKind[kind] ?? 0,
        baseline.runs.map(run => run.downloadedBytes[kind] ?? 0)
      )
    ),
    row(
      '**total**',
      totals(entries).downloadedBytes,
      baseline.medianTotal,
      baseline.runs.map(run => run.totalDownloaded)
    )
  ]
}

function signed(bytes: number): string {
  if (bytes === 0) return '±0 B'
  return `${bytes > 0 ? '+' : '−'}${formatBytes(Math.abs(bytes))}`
}

/** What each restore cost against what a miss would have: the reused bytes at the upstream's bandwidth. */
function renderPayoffs(payoffs: Payoff[]): string[] {
  return [
    '| Cache | Restore took | Archive moved | Reused | A download of it would take | Pays off |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...payoffs.map(p => {
      const at = `~${formatDuration(p.missMs)} at ${formatBytes(p.bandwidth)}/s (${p.bandwidthSource})`
      return `| ${p.kind} | ${formatDuration(p.restoreMs)} | ${p.archiveBytes === null ? '—' : formatBytes(p.archiveBytes)} | ${formatBytes(p.reusedBytes)} | ${at} | ${p.paysOff ? '✅' : '⚠️ no'} |`
    })
  ]
}
