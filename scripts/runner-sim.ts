/**
 * Runs the bundled action the way a GitHub runner does: `dist/main` and `dist/post` as separate
 * Node processes, inputs as INPUT_* with action.yml defaults, and the file commands a runner provides
 * (GITHUB_STATE, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STEP_SUMMARY). Used by the end-to-end tests and
 * by `npm run demo`. Plain erasable TypeScript so Node runs it directly.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

// The runner's file commands are read by the same parser `qdc run` uses. Imported at run time: scripts load
// src/ through load-ts.ts, whose hooks are in place only once its importer is evaluating.
const { readFileCommand } = await import('../src/cli/file-commands.js')

export interface Machine {
  /** A fresh HOME, workspace and RUNNER_TEMP: what a new runner VM looks like. */
  home: string
  workspace: string
  temp: string
}

export interface StepResult {
  exitCode: number
  stdout: string
  outputs: Record<string, string>
  summary: string
  /** Wall time of the step's process. */
  ms: number
}

export interface JobResult {
  main: StepResult
  /** null when post-if said no. */
  post: StepResult | null
  /** The environment later steps saw (GITHUB_ENV exports). */
  exported: Record<string, string>
}

/** A runner's user: self-hosted runners and several users sharing one store run as someone other than root. */
export interface RunnerUser {
  uid: number
  gid: number
}

export interface JobOptions {
  actionDir: string
  machine: Machine
  /** Runs main and post as this user (the machine's directories must be theirs); default: the caller. */
  user?: RunnerUser
  inputs: Record<string, string>
  /** Extra environment for every step (service URLs, PIP_CACHE_DIR, ...). */
  env?: Record<string, string>
  runId: number
  /** The user's steps between main and post; a throw marks the job failed, as a failing step would. */
  between?: (env: Record<string, string>) => Promise<void>
}

export function newMachine(root: string, name: string): Machine {
  const base = path.join(root, name)
  const machine = { home: path.join(base, 'home'), workspace: path.join(base, 'workspace'), temp: path.join(base, 'runner-temp') }
  for (const dir of Object.values(machine)) fs.mkdirSync(dir, { recursive: true })
  return machine
}

export async function runJob(options: JobOptions): Promise<JobResult> {
  const { machine } = options
  const files = path.join(machine.temp, `_runner_file_commands-${options.runId}`)
  fs.mkdirSync(files, { recursive: true })
  const stateFile = path.join(files, 'state')
  const envFile = path.join(files, 'env')
  fs.writeFileSync(stateFile, '')
  fs.writeFileSync(envFile, '')
  if (options.user) chownAll(files, options.user)
  const base = {
    ...baseEnvironment(machine, options.runId),
    ...inputEnvironment(options.actionDir, options.inputs),
    ...options.env,
    GITHUB_STATE: stateFile,
    GITHUB_ENV: envFile
  }
  const main = await runStep(path.join(options.actionDir, 'dist/main/index.js'), base, files, 'main', options.user)
  const exported = readFileCommand(envFile)
  let jobFailed = main.exitCode !== 0
  if (!jobFailed && options.between) {
    try {
      await options.between({ ...base, ...exported })
    } catch {
      jobFailed = true
    }
  }
  // action.yml: post-if: success() || env.QDC_SAVE_ON_FAILURE == 'true' (post only runs if main ran).
  const postRuns = !jobFailed || exported.QDC_SAVE_ON_FAILURE === 'true'
  const state = Object.fromEntries(Object.entries(readFileCommand(stateFile)).map(([k, v]) => [`STATE_${k}`, v]))
  const post = postRuns
    ? await runStep(path.join(options.actionDir, 'dist/post/index.js'), { ...base, ...exported, ...state }, files, 'post', options.user)
    : null
  return { main, post, exported }
}

function baseEnvironment(machine: Machine, runId: number): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: machine.home,
    GITHUB_WORKSPACE: machine.workspace,
    RUNNER_TEMP: machine.temp,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    GITHUB_ACTIONS: 'true',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REPOSITORY: 'org/repo',
    GITHUB_RUN_ID: String(runId),
    GITHUB_RUN_ATTEMPT: '1'
  }
}

/** INPUT_<NAME> for every input, with action.yml's default where the workflow gave none. */
function inputEnvironment(actionDir: string, inputs: Record<string, string>): Record<string, string> {
  const values = { ...actionDefaults(actionDir), ...inputs }
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]))
}

/** Reads the `inputs:` block of action.yml: `  name:` then `    default: value` (the shape we write). */
function actionDefaults(actionDir: string): Record<string, string> {
  const text = fs.readFileSync(path.join(actionDir, 'action.yml'), 'utf8')
  const block = text.split(/^inputs:\s*$/m)[1]?.split(/^\S/m)[0] ?? ''
  const defaults: Record<string, string> = {}
  let current = ''
  for (const line of block.split('\n')) {
    const name = /^ {2}([\w-]+):\s*$/.exec(line)
    if (name) current = name[1]
    const value = /^ {4}default:\s*(.*)$/.exec(line)
    // An expression default (`${{ github.token }}`) is the runner's to evaluate; here it is unset.
    if (value && current && !value[1].includes('${{')) defaults[current] = value[1].trim().replace(/^'(.*)'$/, '$1')
  }
  return defaults
}

async function runStep(
  script: string,
  env: Record<string, string>,
  files: string,
  step: string,
  user: RunnerUser | undefined
): Promise<StepResult> {
  const outputFile = path.join(files, `${step}.output`)
  const summaryFile = path.join(files, `${step}.summary`)
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  if (user) chownAll(files, user)
  const started = performance.now()
  const child = spawn(process.execPath, [script], {
    cwd: env.GITHUB_WORKSPACE,
    env: { ...env, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {})
  })
  let stdout = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stdout += chunk))
  const exitCode = await new Promise<number>(resolve => child.on('close', code => resolve(code ?? 1)))
  const ms = performance.now() - started
  return { exitCode, stdout, outputs: readFileCommand(outputFile), summary: fs.readFileSync(summaryFile, 'utf8'), ms }
}

/** Gives a directory tree to a user, the way a runner's own directories belong to its user. */
export function chownAll(dir: string, user: RunnerUser): void {
  fs.chownSync(dir, user.uid, user.gid)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    fs.lchownSync(path.join(entry.parentPath, entry.name), user.uid, user.gid)
  }
}
