import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Env } from '../constants.js'
import { type PreparedRun, prepareRun, runMain } from '../restore/run.js'
import { runPost } from '../save/run.js'
import { releaseLeases } from '../inplace/index.js'
import { loadRunState } from '../state.js'
import { COMMON_OPTIONS, parseCommand } from './args.js'
import { exportInputs, readConfigFile } from './config-file.js'
import { EXIT, UsageError } from './errors.js'
import { readFileCommand } from './file-commands.js'
import { renderMarkdown, styleFor, translatingActionsOutput, WorkflowCommandFilter } from './terminal.js'

export const usage = `Usage: qdc run [--config FILE] [--quiet] [--json] -- COMMAND [ARG...]

Does the action's whole job around COMMAND: restores the caches (or uses them in place), runs
COMMAND with the environment the action exports (PIP_CACHE_DIR, HF_HUB_CACHE, TMPDIR, ...),
measures what it downloaded, saves, and prints the summary the action writes.

Options:
  --config FILE  YAML whose keys are the action's inputs (caches, local-mode, models, save, ...)
  --quiet        print only warnings, errors and the summary
  --json         print the JSON report on stdout instead of the summary
  -h, --help     show this help

Exit status: COMMAND's own; 1 when the caches could not be set up (a model that cannot be
fetched, say), COMMAND then does not run; 2 for bad usage or a bad config file.
Saving follows the 'save' input: on-success (default), always, never.`

const OPTIONS = { ...COMMON_OPTIONS, config: { type: 'string' }, quiet: { type: 'boolean' } } as const

/** The files a runner provides for one step's file commands. */
interface RunnerFiles {
  dir: string
  state: string
  env: string
  output: string
  summary: string
}

export async function run(argv: string[]): Promise<number> {
  const separator = argv.indexOf('--')
  const flags = separator < 0 ? argv : argv.slice(0, separator)
  const command = separator < 0 ? [] : argv.slice(separator + 1)
  const { values, positionals } = parseCommand('run', flags, OPTIONS, true)
  if (values.help) {
    process.stdout.write(usage + '\n')
    return EXIT.ok
  }
  if (positionals.length > 0) throw new UsageError(`run: put the command after '--': qdc run [--config FILE] -- ${positionals.join(' ')}`)
  if (command.length === 0) throw new UsageError('run: no command given; write qdc run [--config FILE] -- COMMAND [ARG...]')
  exportInputs(readConfigFile(values.config))
  const filter = new WorkflowCommandFilter(process.stderr, { quiet: values.quiet ?? false, debug: process.env.QDC_DEBUG === '1' })
  // The runner's files first: RUNNER_TEMP, where the report goes, is among them.
  const files = runnerFiles()
  try {
    // Bad values fail here with exit 2, before any cache is touched; through the filter, so that the
    // secrets masked on the way are not printed as ::add-mask:: lines.
    const prepared = await translatingActionsOutput(filter, prepareRun)
    return await wrap(prepared, command, files, filter, values.json ?? false)
  } finally {
    fs.rmSync(files.dir, { recursive: true, force: true })
  }
}

/** Main, the user's command, post: the runner's sequence, with post-if's rule. */
async function wrap(
  prepared: PreparedRun,
  command: string[],
  files: RunnerFiles,
  filter: WorkflowCommandFilter,
  json: boolean
): Promise<number> {
  await translatingActionsOutput(filter, () => runMain(prepared))
  const mainFailed = process.exitCode === 1
  process.exitCode = 0
  const status = mainFailed ? EXIT.failed : await runCommand(command)
  for (const [name, value] of Object.entries(readFileCommand(files.state))) process.env[`STATE_${name}`] = value
  if (status === 0 || process.env[Env.SaveOnFailure] === 'true') await translatingActionsOutput(filter, runPost)
  // Post gives the in-place leases back; without it, this process still holds them until it exits.
  else await translatingActionsOutput(filter, () => releaseLeases(loadRunState()?.leases))
  process.exitCode = 0
  printOutcome(files, json)
  return status
}

function runnerFiles(): RunnerFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-run-'))
  const files = {
    dir,
    state: path.join(dir, 'state'),
    env: path.join(dir, 'env'),
    output: path.join(dir, 'output'),
    summary: path.join(dir, 'summary.md')
  }
  for (const file of [files.state, files.env, files.output, files.summary]) fs.writeFileSync(file, '')
  Object.assign(process.env, {
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary
  })
  process.env.RUNNER_TEMP ||= dir
  // The lease on in-place caches lasts as long as this process (inplace/lease.ts).
  process.env[Env.LeasePid] = String(process.pid)
  return files
}

/**
 * The user's command with the environment main exported (core.exportVariable also set it here).
 * Ctrl-C reaches the command through the terminal; qdc waits for it and still saves if asked to.
 */
async function runCommand(command: string[]): Promise<number> {
  const ignore = () => undefined
  process.on('SIGINT', ignore)
  try {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: process.env })
    const forward = () => child.kill('SIGTERM')
    process.on('SIGTERM', forward)
    try {
      return await new Promise<number>(resolve => {
        child.once('error', error => {
          process.stderr.write(`qdc: cannot run ${command[0]}: ${(error as NodeJS.ErrnoException).code ?? error.message}\n`)
          resolve(127)
        })
        child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)))
      })
    } finally {
      process.off('SIGTERM', forward)
    }
  } finally {
    process.off('SIGINT', ignore)
  }
}

function printOutcome(files: RunnerFiles, json: boolean): void {
  const report = readFileCommand(files.output).report
  if (json) {
    const text = report && fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : 'null\n'
    process.stdout.write(text)
    return
  }
  const summary = fs.readFileSync(files.summary, 'utf8')
  if (summary.trim()) process.stderr.write('\n' + renderMarkdown(summary, styleFor(process.stderr)) + '\n')
}
