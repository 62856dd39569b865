import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { Inputs, Outputs } from '../constants.js'
import { totals } from '../ledger.js'
import { stringifyError } from '../util/errors.js'
import { runnerTemp } from '../util/temp.js'
import { postStickyComment, pullRequestOfRun } from './pr-comment.js'
import { writeReport } from './report.js'
import type { RunReport } from './run-report.js'
import { renderSummary } from './summary.js'

export interface PublishSettings {
  reportPath: string
  summary: boolean
  prComment: boolean
}

/** Outputs, the JSON report, the summary's Markdown (as a file, and as a PR comment when asked) and the job summary. */
export async function publish(report: RunReport, settings: PublishSettings): Promise<void> {
  const { reportPath } = settings
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
  if (settings.summary && process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write()
  if (settings.prComment) await commentOnPullRequest(markdown)
}

/** A comment that cannot be posted (no pull request, a token without the permission) is a warning. */
async function commentOnPullRequest(markdown: string): Promise<void> {
  const target = pullRequestOfRun()
  if (target === null) {
    core.info("pr-comment: this run is not a pull request's; no comment.")
    return
  }
  const token = core.getInput(Inputs.GithubToken).trim() || process.env.GITHUB_TOKEN || ''
  if (!token) return void core.warning("pr-comment: no github-token; set it (the job's own token, with pull-requests: write) to comment")
  core.setSecret(token)
  try {
    core.info(`pr-comment: ${await postStickyComment(target, token, markdown)} the comment on #${target.number}`)
  } catch (error) {
    core.warning(`pr-comment: could not comment on #${target.number} (the token needs pull-requests: write): ${stringifyError(error)}`)
  }
}
