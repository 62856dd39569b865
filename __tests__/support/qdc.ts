/** Runs the built `qdc` (dist/cli/index.js) as a process, the way a shell script would. */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const QDC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/index.js')

export interface QdcResult {
  code: number
  stdout: string
  stderr: string
}

export function assertBuilt(): void {
  if (!fs.existsSync(QDC)) throw new Error('dist/cli/index.js is missing: run npm run build')
}

/**
 * The environment of a clean shell for `home`: no PIP_* (this machine's pip.conf has find-links, so
 * PIP_CONFIG_FILE=/dev/null), no runner variables, HOME and the XDG cache under the test's directory.
 */
export function cleanEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value === undefined ||
      name.startsWith('PIP_') ||
      name.startsWith('GITHUB_') ||
      name.startsWith('RUNNER_') ||
      name.startsWith('INPUT_')
    )
      continue
    if (name.startsWith('ACTIONS_') || name.startsWith('HF_') || name === 'XDG_CACHE_HOME' || name === 'CI') continue
    env[name] = value
  }
  return { ...env, HOME: home, PIP_CONFIG_FILE: os.devNull, QDC_PROGRESS_INTERVAL_MS: '50', ...extra }
}

export function qdc(args: string[], options: { env: Record<string, string>; cwd?: string }): Promise<QdcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [QDC, ...args], { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
