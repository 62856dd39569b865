import type { LedgerEntry } from '../ledger.js'
import type { BudgetResult } from './budget.js'
import type { HistoryOutcome } from './history.js'
import type { Payoff } from './payoff.js'

/** Everything post reports, gathered once: the summary, the JSON report and the outputs all render it. */
export interface RunReport {
  entries: LedgerEntry[]
  /** Each kind's own summary lines, index-aligned with `entries` (files fetched, services built, store paths). */
  sections: string[][]
  /** Lines a reader needs beside the figures (why nothing was saved). */
  notes: string[]
  budget: BudgetResult
  history: HistoryOutcome
  payoffs: Payoff[]
}
