import { type LedgerEntry, type SaveOutcome, type StoreTransfer, totals } from '../ledger.js'
import { escapeCell, formatBytes, formatDuration, formatPercent } from './format.js'
import { bytesPerSecond } from './report.js'

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
 * The job summary, rendered from the ledger alone (GitHub-flavoured Markdown): the table of every kind,
 * then each kind's own section (`sections[i]` for `entries[i]`: files fetched, services built, store paths).
 */
export function renderSummary(entries: LedgerEntry[], sections: string[][] = []): string {
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
  const transfers = renderTransfers(entries)
  if (transfers.length > 0) lines.push('', ...transfers)
  for (const section of sections) if (section.length > 0) lines.push('', ...section)
  const problems = entries.flatMap(e => e.problems.map(p => `- ⚠️ **${e.kind}**: ${escapeCell(p)}`))
  if (problems.length > 0) lines.push('', ...problems)
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
  const restored = e.restoredArchiveBytes !== null && e.restoredBytes > 0
    ? `${formatBytes(e.restoredBytes)} (${formatBytes(e.restoredArchiveBytes)} archive)`
    : formatBytes(e.restoredBytes)
  return `| ${e.kind} | ${HIT_LABELS[e.hit]} | ${matched} | ${restored} | ${formatBytes(e.downloadedBytes)} | ${formatBytes(e.reusedBytes)} | ${formatBytes(e.uploadedBytes)} | ${SAVE_LABELS[e.saved]} | ${formatDuration(e.restoreMs + e.saveMs)} |`
}
