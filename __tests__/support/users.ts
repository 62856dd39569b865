/**
 * A second, unprivileged user, as on a self-hosted runner (NixOS gives every runner its own user) or a host
 * where several users share one store. Created once per machine, with subordinate ids so that rootless
 * podman works for it.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import type { RunnerUser } from '../../scripts/runner-sim.js'

export const RUNNER_USER_NAME = 'qdc-runner'
const SUBORDINATE_COUNT = 65536

/** The user, or why there can be none here (only root can create one and run as it). */
export function runnerUser(): RunnerUser | string {
  if (process.getuid?.() !== 0) return 'not running as root, so no second user can be created or run as'
  if (spawnSync('id', ['-u', RUNNER_USER_NAME]).status !== 0) {
    const made = spawnSync('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', RUNNER_USER_NAME], {
      encoding: 'utf8'
    })
    if (made.status !== 0) return `useradd ${RUNNER_USER_NAME} failed: ${made.stderr.trim()}`
  }
  for (const file of ['/etc/subuid', '/etc/subgid']) ensureSubordinateIds(file)
  const uid = Number(spawnSync('id', ['-u', RUNNER_USER_NAME], { encoding: 'utf8' }).stdout)
  const gid = Number(spawnSync('id', ['-g', RUNNER_USER_NAME], { encoding: 'utf8' }).stdout)
  return { uid, gid }
}

/** useradd adds subordinate ids only for some configurations; rootless podman needs them. */
function ensureSubordinateIds(file: string): void {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
  if (lines.some(line => line.startsWith(`${RUNNER_USER_NAME}:`))) return
  const end = lines.map(line => line.split(':')).reduce((max, [, start, count]) => Math.max(max, Number(start) + Number(count)), 100000)
  fs.appendFileSync(file, `${RUNNER_USER_NAME}:${end}:${SUBORDINATE_COUNT}\n`)
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** A command as `user` (a job's own step), with exactly `env`. */
export function runAs(
  user: RunnerUser | null,
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(user ? { uid: user.uid, gid: user.gid } : {}) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
