import * as exec from '@actions/exec'
import { BuildLog, type ImageBuild } from './build-log.js'
import type { ComposeService } from './compose-file.js'
import { podman } from './podman.js'
import type { ComposeBuild } from './run.js'

export interface ComposeRun {
  /** The first non-zero exit status of the podman-compose runs, else 0. */
  exitCode: number
  log: BuildLog
  /** podman-compose's own last stderr line, for errors before any build started (a bad compose file). */
  lastError: string | null
}

/**
 * `podman-compose build SERVICE` once per service, with the layer-cache flags handed to every `podman
 * build` through `--podman-build-args=…` (podman-compose 1.0.x and newer split it like a shell; one word,
 * because argparse takes a lone `--layers` after `--podman-build-args` for an option of its own). The
 * output is streamed to the log and parsed as it comes.
 *
 * One service per run, because podman-compose 1.1+ builds all services at once: their podman builds
 * write straight to one shared stdout with nothing naming the service (1.3 prints no build command
 * either), and the layer cache sees only cache keys, so neither the log lines nor the registry's bytes
 * could be attributed to a service. Each run's exit status is then that one build's (1.3 returns the
 * status of whichever build finished last, 0 when a failed one finished first; 1.0.x always 0 and
 * prints `exit code: N`), and the image is checked to exist afterwards.
 */
export async function composeBuild(
  compose: ComposeBuild,
  cacheFlags: string[],
  env: Record<string, string>,
  onImage: (image: string) => void
): Promise<ComposeRun> {
  const log = new BuildLog()
  let lastError: string | null = null
  let exitCode = 0
  const buildArgs = [...cacheFlags, ...(compose.isolation ? [`--isolation=${compose.isolation}`] : []), compose.buildArgs]
    .filter(Boolean)
    .join(' ')
  for (const service of servicesToBuild(compose)) {
    onImage(service.image)
    const build = log.begin(service.image)
    let serviceError: string | null = null
    const args = ['-f', compose.composeFile, ...(buildArgs ? [`--podman-build-args=${buildArgs}`] : []), 'build', service.name]
    const code = await exec.exec('podman-compose', args, {
      ignoreReturnCode: true,
      cwd: compose.workspace,
      // Unbuffered, so podman-compose's own lines (`exit code: N`) arrive in order with podman's.
      env: { ...(process.env as Record<string, string>), ...env, PYTHONUNBUFFERED: '1' },
      listeners: {
        stdline: line => log.line(line),
        errline: line => {
          log.line(line)
          if (line.trim()) serviceError = line.trim()
        }
      }
    })
    log.finish(code)
    if (build.exitCode !== 0 && build.error === null) build.error = serviceError
    if (build.exitCode === 0) await checkImage(build, env)
    if (serviceError) lastError = serviceError
    if (exitCode === 0 && code !== 0) exitCode = code
  }
  return { exitCode, log, lastError }
}

/** The services named by compose-services, else every service with a build section and no profile (as podman-compose builds them). */
function servicesToBuild(compose: ComposeBuild): ComposeService[] {
  if (compose.composeServices.length === 0) return compose.services.filter(service => !service.profiles)
  return compose.composeServices.map(name => compose.services.find(service => service.name === name) ?? { name, image: name })
}

/**
 * A build counts as done only when podman printed the ID of the image it made and the service's image is
 * that one in storage: podman-compose's exit status alone has said 0 for builds that failed (1.0.x; 1.3
 * with several services) or never ran.
 */
async function checkImage(build: ImageBuild, env: Record<string, string>): Promise<void> {
  if (build.imageId === null) {
    build.exitCode = -1
    build.error = `podman-compose exited 0, but podman printed no image ID: ${build.image} was not built`
    return
  }
  const inspected = await podman(['image', 'inspect', '--format', '{{.Id}}', build.image], env)
  const id = inspected.code === 0 ? inspected.stdout.trim() : ''
  if (id !== build.imageId) {
    build.exitCode = -1
    build.error = `podman-compose exited 0, but ${id ? `${build.image} is ${id.slice(0, 12)}, not the ${build.imageId.slice(0, 12)} podman built` : `there is no image ${build.image}`}`
  }
}
