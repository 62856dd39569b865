import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { Outputs } from '../constants.js'
import { totals } from '../ledger.js'
import { stringifyError } from '../util/errors.js'
import { runnerTemp } from '../util/temp.js'
import { writeReport } from './report.js'
import type { RunReport } from './run-report.js'
import { renderSummary } from './summary.js'

/** Outputs, the JSON report, the summary's Markdown (also as a file for a PR comment) and the job summary. */
export async function publish(report: RunReport, reportPath: string, withSummary: boolean): Promise<void> {
  const sums = totals(report.entries)
  core.setOutput(Outputs.BytesDownloaded, String(sums.downloadedBytes))
  core.setOutput(Outputs.BytesReused, String(sums.reusedBytes))
  core.setOutput(Outputs.BudgetExceeded, String(report.budget.exceeded))
  try {
    await writeReport(reportPath, report)
    core.setOutput(Outputs.Report, reportPath)
  } catch (error) {
    core.warning(`Could not write the report to ${reportPath}: ${stringifyError(error)}`)
  }
  const markdown = renderSummary(report)
  const markdownFile = path.join(runnerTemp(), 'qdc-summary.md')
  try {
    await fs.writeFile(markdownFile, markdown)
    core.setOutput(Outputs.SummaryMarkdown, markdownFile)
  } catch (error) {
    core.warning(`Could not write the summary to ${markdownFile}: ${stringifyError(error)}`)
  }
  if (withSummary && process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write()
}
