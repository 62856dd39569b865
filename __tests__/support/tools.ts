import { describe } from '@jest/globals'
import { spawnSync } from 'node:child_process'

/** The tools in `commands` that do not answer `--version` on this machine. */
export function missingTools(commands: string[]): string[] {
  return commands.filter(command => spawnSync(command, ['--version'], { stdio: 'ignore' }).status !== 0)
}

/**
 * `describe` when every tool is present; otherwise the suite says "skipped: <why>", and under CI=true a
 * missing tool is a failure, because `.ci/run` is supposed to have installed it.
 */
export function describeWithTools(commands: string[]): typeof describe | typeof describe.skip {
  const missing = missingTools(commands)
  return describeUnless(missing.length === 0 ? null : `${missing.join(', ')} not installed (scripts/setup.sh installs them)`)
}

/** `describe`, or a skip that says why (a failure under CI=true). */
export function describeUnless(why: string | null): typeof describe | typeof describe.skip {
  if (why === null) return describe
  if (process.env.CI === 'true') throw new Error(`skipped: ${why}; CI=true does not allow skips`)
  console.warn(`skipped: ${why}`)
  return describe.skip
}
