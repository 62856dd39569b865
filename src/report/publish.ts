import * as core from '@actions/core'
import { Outputs } from '../constants.js'
import { type LedgerEntry, totals } from '../ledger.js'
import { stringifyError } from '../util/errors.js'
import { writeReport } from './report.js'
import { renderSummary } from './summary.js'

/** Report file, outputs and job summary, all from the same ledger; `sections` are the kinds' own (see renderSummary). */
export async function publish(entries: LedgerEntry[], sections: string[][], reportPath: string, withSummary: boolean): Promise<void> {
  const sums = totals(entries)
  core.setOutput(Outputs.BytesDownloaded, String(sums.downloadedBytes))
  core.setOutput(Outputs.BytesReused, String(sums.reusedBytes))
  try {
    await writeReport(reportPath, entries)
    core.setOutput(Outputs.Report, reportPath)
  } catch (error) {
    core.warning(`Could not write the report to ${reportPath}: ${stringifyError(error)}`)
  }
  if (withSummary && process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(renderSummary(entries, sections)).write()
  }
}
