import type { KindName, ReportSettings } from '../config/config.js'
import { type LedgerEntry, totals } from '../ledger.js'
import { formatBytes } from './format.js'

/** One budget that was exceeded: the job's (kind null) or a kind's. */
export interface BudgetBreach {
  kind: KindName | null
  downloadedBytes: number
  budgetBytes: number
}

export interface BudgetResult {
  /** The budgets that applied (null: no budget for the whole job). */
  maxDownloaded: number | null
  maxDownloadedPerKind: Partial<Record<KindName, number>>
  breaches: BudgetBreach[]
  exceeded: boolean
  /** The one line an annotation (or the failed job) says; null when every budget held. */
  line: string | null
}

/** The user's bandwidth gate: upstream bytes of the job and of each kind against their budgets. */
export function checkBudget(entries: LedgerEntry[], settings: ReportSettings): BudgetResult {
  const breaches: BudgetBreach[] = []
  for (const [kind, budgetBytes] of Object.entries(settings.maxDownloadedPerKind) as Array<[KindName, number]>) {
    const downloadedBytes = entries.filter(e => e.kind === kind).reduce((sum, e) => sum + e.downloadedBytes, 0)
    if (downloadedBytes > budgetBytes) breaches.push({ kind, downloadedBytes, budgetBytes })
  }
  const total = totals(entries).downloadedBytes
  if (settings.maxDownloaded !== null && total > settings.maxDownloaded)
    breaches.push({ kind: null, downloadedBytes: total, budgetBytes: settings.maxDownloaded })
  return {
    maxDownloaded: settings.maxDownloaded,
    maxDownloadedPerKind: settings.maxDownloadedPerKind,
    breaches,
    exceeded: breaches.length > 0,
    line: breaches.length === 0 ? null : `Bandwidth budget exceeded: ${breaches.map(describeBreach).join('; ')}`
  }
}

function describeBreach(breach: BudgetBreach): string {
  const who = breach.kind ?? 'the job'
  return `${who} downloaded ${formatBytes(breach.downloadedBytes)}, budget ${formatBytes(breach.budgetBytes)}`
}
