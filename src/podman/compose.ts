import * as exec from '@actions/exec'
import type { ComposeBuild } from './run.js'
import { BuildLog } from './build-log.js'

export interface ComposeRun {
  exitCode: number
  log: BuildLog
  /** podman-compose's own last stderr line, for errors before any build started (a bad compose file). */
  lastError: string | null
}

/**
 * `podman-compose build` with the layer-cache flags handed to every `podman build` through
 * `--podman-build-args` (podman-compose 1.0.x and newer split it like a shell). The output is streamed
 * to the log and parsed as it comes, so the registry can attribute its traffic to the image being built.
 */
export async function composeBuild(
  build: ComposeBuild,
  cacheFlags: string[],
  env: Record<string, string>,
  onImage: (image: string) => void
): Promise<ComposeRun> {
  const log = new BuildLog(onImage)
  let lastError: string | null = null
  const buildArgs = [...cacheFlags, ...(build.isolation ? [`--isolation=${build.isolation}`] : []), build.buildArgs].filter(Boolean).join(' ')
  const args = ['-f', build.composeFile, ...(buildArgs ? ['--podman-build-args', buildArgs] : []), 'build', ...build.composeServices]
  const exitCode = await exec.exec('podman-compose', args, {
    ignoreReturnCode: true,
    cwd: build.workspace,
    // Unbuffered, so podman-compose's own lines (which build starts, `exit code: N`) arrive in order with podman's.
    env: { ...(process.env as Record<string, string>), ...env, PYTHONUNBUFFERED: '1' },
    listeners: {
      stdline: line => log.line(line),
      errline: line => {
        log.line(line)
        if (line.trim()) lastError = line.trim()
      }
    }
  })
  log.finish(exitCode)
  return { exitCode, log, lastError }
}
