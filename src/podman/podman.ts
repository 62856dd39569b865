import { type CommandResult, runQuietly } from '../util/exec.js'

/** Runs podman quietly with qdc's private environment additions; never throws for a non-zero exit. */
export function podman(args: string[], env: Record<string, string>): Promise<CommandResult> {
  return runQuietly('podman', args, env)
}

/** The last line podman wrote to stderr: its `Error: …` reason. */
export function reason(result: CommandResult): string {
  const lines = result.stderr.trim().split('\n')
  return lines[lines.length - 1] || `exit code ${result.code}`
}
