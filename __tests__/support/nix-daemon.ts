/**
 * A multi-user Nix for tests (nix-bin 2.8): a root `nix-daemon` on a private store (store, state, log and
 * config directories under a temp root, so its socket is `<root>/var/daemon-socket/socket` and /nix is
 * never touched), and jobs run through the runner simulation as the unprivileged user `nobody` (main, the
 * user's nix-build and post all with that uid), who
 * reaches the store only through that daemon, as a self-hosted NixOS runner's user does.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { describe } from '@jest/globals'
import { type JobResult, runJob } from '../../scripts/runner-sim.js'
import { parseLogLine } from '../../src/util/capture.js'
import type { CommandResult } from './nix.js'
import { describeUnless, missingTools } from './tools.js'
import { runAs } from './users.js'

export const TEST_USER = 'nobody'

/** `describe` when we are root, `nobody` exists and the tools answer; else "skipped: <why>", a failure under CI=true. */
export function describeAsRootWithTools(commands: string[]): typeof describe | typeof describe.skip {
  const missing = missingTools(commands)
  return describeUnless(
    missing.length > 0
      ? `${missing.join(', ')} not installed (scripts/setup.sh installs them)`
      : process.getuid?.() !== 0
        ? 'starting a nix-daemon and switching to another user needs root'
        : userIds(TEST_USER) === null
          ? `there is no user '${TEST_USER}' to run jobs as`
          : null
  )
}

export function userIds(user: string): { uid: number; gid: number } | null {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' })
  if (uid.status !== 0 || gid.status !== 0) return null
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

export interface NixDaemon {
  storeDir: string
  /** What a client needs: the same store, state (so the same socket) and config; store = auto, as on NixOS. */
  clientEnv: Record<string, string>
  stop(): Promise<void>
}

/**
 * Starts `nix-daemon` as root on an empty private store under `root`, with `extraConf` appended to the
 * nix.conf that both the daemon and its clients read (as /etc/nix/nix.conf on NixOS).
 */
export async function startDaemon(root: string, extraConf: string[]): Promise<NixDaemon> {
  const dirs = {
    NIX_STORE_DIR: path.join(root, 'store'),
    NIX_STATE_DIR: path.join(root, 'var'),
    NIX_LOG_DIR: path.join(root, 'log'),
    NIX_CONF_DIR: path.join(root, 'etc')
  }
  for (const dir of [dirs.NIX_STORE_DIR, dirs.NIX_STATE_DIR, dirs.NIX_LOG_DIR]) removeTree(dir)
  fs.mkdirSync(dirs.NIX_CONF_DIR, { recursive: true, mode: 0o755 })
  const conf = [
    'sandbox = false',
    'build-users-group =',
    'experimental-features = nix-command',
    'substituters =',
    'trusted-users = root',
    'connect-timeout = 2',
    ...extraConf,
    ''
  ]
  fs.writeFileSync(path.join(dirs.NIX_CONF_DIR, 'nix.conf'), conf.join('\n'), { mode: 0o644 })
  // Only these variables: an inherited NIX_STATE_DIR or NIX_DAEMON_SOCKET_PATH must never point it at /nix.
  const daemon = spawn('nix-daemon', [], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...dirs },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let log = ''
  daemon.stderr?.on('data', chunk => (log += chunk))
  await waitForSocket(path.join(dirs.NIX_STATE_DIR, 'daemon-socket', 'socket'), daemon, () => log)
  return {
    storeDir: dirs.NIX_STORE_DIR,
    clientEnv: dirs,
    stop: async () => {
      await stopProcess(daemon)
      for (const dir of [dirs.NIX_STORE_DIR, dirs.NIX_STATE_DIR, dirs.NIX_LOG_DIR]) removeTree(dir)
    }
  }
}

async function waitForSocket(socket: string, daemon: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(socket) && fs.statSync(socket).isSocket()) return
    if (daemon.exitCode !== null) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  await stopProcess(daemon)
  throw new Error(`nix-daemon did not open ${socket}: ${log()}`)
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** Store paths are read-only; make them writable so the tree can go. */
export function removeTree(dir: string): void {
  if (fs.existsSync(dir)) spawnSync('chmod', ['-R', 'u+w', dir])
  fs.rmSync(dir, { recursive: true, force: true })
}

export interface UserJobOptions {
  actionDir: string
  /** The runner simulation's job options, minus `between` (functions do not cross processes). */
  job: {
    machine: { home: string; workspace: string; temp: string }
    runId: number
    inputs: Record<string, string>
    env: Record<string, string>
  }
  /** The user's step between main and post: `nix-build <args>`; a failed build fails the job. */
  nixBuildArgs: string[]
}

export interface UserJobResult {
  job: JobResult
  build: CommandResult | null
}

/** Runs a whole job (dist main, the user's nix-build, dist post) as `user`: every nix command the action runs is theirs. */
export async function runJobAs(user: string, options: UserJobOptions): Promise<UserJobResult> {
  const ids = userIds(user)
  if (ids === null) throw new Error(`no user '${user}'`)
  let build: CommandResult | null = null
  const job = await runJob({
    ...options.job,
    actionDir: options.actionDir,
    user: ids,
    between: async env => {
      build = await runAs(ids, 'nix-build', options.nixBuildArgs, env, options.job.machine.workspace)
      if (build.code !== 0) throw new Error('nix-build failed')
    }
  })
  return { job, build }
}

/** The text of a workflow command's message (`::warning::...`), with the runner's escapes undone. */
export function commandMessage(line: string): string {
  return parseLogLine(line).text
}

/** Turns `  nix.settings.<name> = [ "a" "b" ];` lines (NixOS) into the nix.conf lines they become. */
export function nixosSettingsToConf(text: string): string[] {
  return [...text.matchAll(/^ {2}nix\.settings\.([\w-]+) = \[ (.*) \];$/gm)].map(
    ([, name, list]) => `${name} = ${[...list.matchAll(/"([^"]*)"/g)].map(m => m[1]).join(' ')}`
  )
}
