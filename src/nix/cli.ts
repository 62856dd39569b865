import { runQuietly } from '../util/exec.js'

/** nix 2.8 hides `nix copy`, `nix path-info` and `nix show-config` behind this feature flag. */
const NIX_COMMAND = ['--extra-experimental-features', 'nix-command']

class NixCommandError extends Error {
  constructor(command: string, exitCode: number, stderr: string) {
    const last = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ')
    super(`${command} exited with ${exitCode}${last ? `: ${last}` : ''}`)
    this.name = 'NixCommandError'
  }
}

/** Runs `nix <args>` quietly and returns its stdout; a failure throws with the tail of stderr. */
export async function nix(args: string[]): Promise<string> {
  return run('nix', [...NIX_COMMAND, ...args])
}

/** Runs a Nix tool quietly and returns its stdout; a failure throws with the tail of stderr. */
export async function run(command: string, args: string[]): Promise<string> {
  const result = await runQuietly(command, args)
  if (result.code !== 0)
    throw new NixCommandError(`${command} ${args.filter(a => !NIX_COMMAND.includes(a))[0] ?? ''}`.trim(), result.code, result.stderr)
  return result.stdout
}

/** Splits long path lists so one command line stays far below ARG_MAX. */
export function inChunks<T>(items: T[], size = 500): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}
