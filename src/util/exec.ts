import * as exec from '@actions/exec'

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs a command quietly (nothing reaches the log) with this process's environment as the action changed
 * it, plus `env`; a non-zero exit is a result, not an error. A command that cannot be started throws.
 */
export async function runQuietly(command: string, args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const result = await exec.getExecOutput(command, args, {
    silent: true,
    ignoreReturnCode: true,
    env: { ...(process.env as Record<string, string>), ...env }
  })
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr }
}

/** A probe's output; null when the tool is absent or fails, so callers can say so plainly. */
export async function probe(command: string, args: string[], env?: Record<string, string>): Promise<string | null> {
  try {
    const result = await runQuietly(command, args, env)
    return result.code === 0 ? result.stdout.trim() : null
  } catch {
    return null
  }
}

/** The first dotted version number in a tool's `--version` output. */
export function firstVersion(text: string | null): string | null {
  return text?.match(/\d+\.\d+(?:\.\d+)?/)?.[0] ?? null
}

const versions = new Map<string, Promise<string | null>>()

/**
 * A tool's version from `--version`, or null when it is absent: asked once per process and PATH,
 * since the kinds, their keys and the build phase all want it.
 */
export function toolVersion(tool: string): Promise<string | null> {
  const key = `${tool}\0${process.env.PATH ?? ''}`
  let version = versions.get(key)
  if (version === undefined) {
    version = probe(tool, ['--version']).then(firstVersion)
    versions.set(key, version)
  }
  return version
}

/** `4.3.1` is at least `[4, 2]`. */
export function versionAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const [actualMajor, actualMinor] = version.split('.').map(Number)
  return actualMajor > major || (actualMajor === major && actualMinor >= minor)
}
