import * as exec from '@actions/exec'

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs podman quietly with qdc's private environment additions; never throws for a non-zero exit. */
export async function podman(args: string[], env: Record<string, string>): Promise<CommandResult> {
  const result = await exec.getExecOutput('podman', args, {
    silent: true,
    ignoreReturnCode: true,
    env: { ...(process.env as Record<string, string>), ...env }
  })
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr }
}

/** The last line podman wrote to stderr: its `Error: …` reason. */
export function reason(result: CommandResult): string {
  const lines = result.stderr.trim().split('\n')
  return lines[lines.length - 1] || `exit code ${result.code}`
}
