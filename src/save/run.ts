import * as fs from 'node:fs/promises'
import * as core from '@actions/core'
import type { CacheBackend } from '../backends/backend.js'
import { openBackend } from '../backends/select.js'
import type { ActionConfig } from '../config/config.js'
import { maskSecretInputs } from '../config/secrets.js'
import { backendForPlan, releaseLeases } from '../inplace/index.js'
import { kindNamed } from '../kinds/index.js'
import { type BudgetResult, checkBudget } from '../report/budget.js'
import { runHistory } from '../report/history.js'
import { jobBandwidth, payoffAdvice, payoffs } from '../report/payoff.js'
import { publish } from '../report/publish.js'
import type { RunReport } from '../report/run-report.js'
import { loadRunState, type RunState } from '../state.js'
import { stringifyError } from '../util/errors.js'
import { saveOne } from './save.js'

/**
 * The post step: each kind's own work before saving, then measure, save, the store's upkeep, report. A
 * cache problem only ever warns; an exceeded budget fails the job when `on-budget: fail` says so.
 */
export async function runPost(): Promise<void> {
  try {
    maskSecretInputs()
    const run = loadRunState()
    if (!run) {
      core.info('The main step did not finish; nothing to save.')
      return
    }
    const backend = openBackend(run.backend, run.config)
    for (const [index, plan] of run.plans.entries()) {
      const kind = kindNamed(plan.kind)
      const entry = run.entries[index]
      await kind.beforeSave?.({ config: run.config, plan, entry, mode: run.mode, snapshotDir: run.snapshotDir })
      const context = {
        backend: backendForPlan(plan, backend, run.config.local.dir),
        mode: run.mode,
        save: run.config.save,
        snapshotDir: run.snapshotDir
      }
      await core.group(`Save ${plan.kind}`, () => saveOne(plan, entry, run.fingerprints[plan.kind], context))
    }
    await releaseLeases(run.leases)
    await backend.maintain?.(run.entries)
    const report = await gatherReport(run, backend)
    for (const payoff of report.payoffs.filter(p => !p.paysOff)) core.warning(payoffAdvice(payoff))
    await publish(report, { reportPath: run.config.reportPath, summary: run.config.summary, prComment: run.config.report.prComment })
    enforceBudget(report.budget, run.config)
    await fs.rm(run.snapshotDir, { recursive: true, force: true })
  } catch (error) {
    core.warning(`qdc-action post step: ${stringifyError(error)}`)
  }
}

async function gatherReport(run: RunState, backend: CacheBackend): Promise<RunReport> {
  const { entries, config, mode } = run
  const bandwidth = jobBandwidth(entries)
  const history = config.report.history
    ? await runHistory({ backend, mode, keyPrefix: config.keyPrefix, baselineRuns: config.report.baselineRuns, entries, bandwidth })
    : { baseline: null, note: 'No comparison with earlier runs: history is off.', bandwidth: null }
  return {
    entries,
    sections: entries.map(entry => kindNamed(entry.kind).summarize?.(entry) ?? []),
    notes: mode.write ? [] : [`Nothing was saved: ${mode.reason}.`],
    budget: checkBudget(entries, config.report),
    history,
    payoffs: payoffs(entries, history.bandwidth, config.report.assumedBandwidth)
  }
}

/** The user's own gate, not a cache problem: `on-budget: fail` fails the job with the one line. */
function enforceBudget(budget: BudgetResult, config: ActionConfig): void {
  if (!budget.line) return
  if (config.report.onBudget === 'fail') core.setFailed(budget.line)
  else core.warning(budget.line)
}
