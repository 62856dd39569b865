import { InputError } from '../config/inputs.js'
import { stringifyError } from '../util/errors.js'

/** Exit statuses scripts can rely on (README, "Command line"). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** Bad command line or config file: one line, exit 2. */
export class UsageError extends Error {}

/** What the one line says and which status goes with it. */
export function describeFailure(error: unknown): { line: string; code: number } {
  if (error instanceof UsageError) return { line: error.message, code: EXIT.usage }
  // Bad values in a config file are the action's input errors, named by the same input.
  if (error instanceof InputError) return { line: `config: ${error.message}`, code: EXIT.usage }
  return { line: stringifyError(error), code: EXIT.failed }
}
