import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { PodmanCacheMode, PodmanSettings } from '../config/config.js'
import type { LedgerEntry } from '../ledger.js'
import { formatBytes, formatDuration } from '../report/format.js'
import { probe, toolVersion, versionAtLeast } from '../util/exec.js'
import { stringifyError } from '../util/errors.js'
import { runnerTemp } from '../util/temp.js'
import { loadBaseImages, saveBaseImages } from './base-images.js'
import type { ImageBuild } from './build-log.js'
import { type ComposeRun, composeBuild } from './compose.js'
import { type ComposeService, serviceOfImage } from './compose-file.js'
import { bytesPulled, storageBaseline } from './pulled.js'
import { writeRegistriesConf } from './registries-conf.js'
import { loadStepImages, saveStepImages, stepBytesReused } from './step-images.js'
import { LayoutRegistry } from './registry/server.js'

/** podman 4.2 (buildah 1.27) is the first with working --cache-from/--cache-to; before that they are no-ops. */
const CACHE_FLAGS_SINCE = [4, 2] as const
/** The repository in the layout that holds one cache image per build step, tagged by buildah's cache key. */
const CACHE_REPOSITORY = 'buildcache'

/** One image podman-compose built: how much of it the layer cache provided. */
export interface BuiltService {
  /** The compose service, or the image when the compose file does not name it. */
  service: string
  image: string
  /** Instructions after FROM. */
  steps: number
  reusedSteps: number
  builtSteps: number
  /** Cache-image bytes pulled from the layer cache vs pushed into it during this build. */
  layerBytesReused: number
  layerBytesPushed: number
  /** Base-image bytes loaded from the cache, vs pulled from upstream: the manifests, config and compressed layer blobs the pull fetched. */
  baseBytesReused: number
  baseBytesPulled: number
  buildMs: number
  /** The failing instruction and podman's reason; null when the build succeeded. */
  failure: string | null
}

/** The podman kind's ledger details: a row per image the compose build made. */
export interface PodmanDetails {
  services: BuiltService[]
}

/** What the build needs: the podman settings, the layer cache's directory and the compose file's services. */
export interface ComposeBuild extends PodmanSettings {
  composeFile: string
  services: ComposeService[]
  workspace: string
  /** The bridge drops a connection that goes this long without a byte either way (the `idle-timeout` input). */
  idleTimeoutMs: number
}

/**
 * `podman-compose build` with the podman kind's directory served as the layer cache and its base images
 * loaded first. The services built go on the entry (so post reports them) before a failing build throws;
 * a cache that cannot be served throws too, rather than building without the cache the user asked for.
 */
export async function buildWithLayerCache(build: ComposeBuild, entry: LedgerEntry): Promise<void> {
  const failures = await core.group('Build (podman-compose)', async () => {
    const version = await checkTools()
    return buildWithCache(build, entry, cacheMode(build.cacheMode, version))
  })
  if (failures.length > 0) throw new Error(failures.map(describeFailure).join('; '))
}

async function checkTools(): Promise<string> {
  const version = await toolVersion('podman')
  if (!version)
    throw new Error('compose-file is set but podman is not installed; install podman ≥ 4.2 (e.g. apt-get install podman podman-compose)')
  if ((await probe('podman-compose', ['--version'])) === null) {
    throw new Error(
      'compose-file is set but podman-compose is not installed; install it (apt-get install podman-compose, or pip install podman-compose)'
    )
  }
  return version
}

/** `registry`: --cache-from/--cache-to through the bridge; `images`: the step images themselves (src/build/step-images.ts). */
export function cacheMode(asked: PodmanCacheMode, version: string): 'registry' | 'images' {
  if (asked === 'images') return 'images'
  if (versionAtLeast(version, CACHE_FLAGS_SINCE)) return 'registry'
  const why = `podman ${version} has no --cache-from/--cache-to (they need podman ≥ 4.2), so the layer cache keeps the step images instead`
  if (asked === 'registry') core.warning(why)
  else core.info(why)
  return 'images'
}

async function buildWithCache(build: ComposeBuild, entry: LedgerEntry, mode: 'registry' | 'images'): Promise<ImageBuild[]> {
  const registry = new LayoutRegistry(build.dir, { idleTimeoutMs: build.idleTimeoutMs })
  let bridge: string
  try {
    bridge = await registry.start()
  } catch (error) {
    throw new Error(`the layer cache in ${build.dir} could not be served on 127.0.0.1 (${stringifyError(error)}); the build was not run`, {
      cause: error
    })
  }
  const confDir = await fs.mkdtemp(path.join(runnerTemp(), 'qdc-podman-'))
  try {
    const env = { CONTAINERS_REGISTRIES_CONF: await writeRegistriesConf(confDir, bridge) }
    core.info(`layer cache: ${build.dir} served as ${bridge}/${CACHE_REPOSITORY}`)
    const loaded = await loadBaseImages(registry, bridge, env)
    const steps = mode === 'images' ? await loadStepImages(registry, bridge, env) : new Map<string, number>()
    const before = await storageBaseline(env)
    const repo = `${bridge}/${CACHE_REPOSITORY}`
    const flags = mode === 'registry' ? ['--layers', '--cache-from', repo, '--cache-to', repo] : ['--layers']
    const run = await composeBuild(build, flags, env, image => (registry.label = image))
    const succeeded = run.exitCode === 0 && run.log.failures().length === 0
    const usedBases = [...new Set(run.log.builds.flatMap(b => b.baseImages))]
    const pulled = await bytesPulled(
      usedBases.filter(ref => !loaded.has(ref)),
      before,
      env
    )
    const tags = await saveBaseImages(registry, bridge, usedBases, loaded, env)
    const stepTags = mode === 'images' ? await saveStepImages(registry, bridge, run.log.builds, env) : new Set<string>()
    if (succeeded) await keepOnlyUsed(registry, new Set([...tags, ...stepTags]))
    return record(build.services, entry, run, registry, { loaded, pulled, steps })
  } finally {
    await registry.stop()
    for (const stall of registry.stalls) core.warning(`podman: the layer cache on ${bridge} dropped a stalled connection: ${stall}`)
    await fs.rm(confDir, { recursive: true, force: true })
  }
}

/**
 * Drops the cache images this build neither pulled nor pushed, and base and step images it did not use, so the
 * cache follows the Containerfiles instead of growing with every change. Only after a successful build:
 * a failed one did not reach its later steps, whose cache is still good.
 */
async function keepOnlyUsed(registry: LayoutRegistry, usedTags: Set<string>): Promise<void> {
  const keep = new Set([...registry.touched].filter(name => name.startsWith(`${CACHE_REPOSITORY}:`)))
  for (const tag of usedTags) keep.add(tag)
  const pruned = await registry.layout.retainOnly(keep)
  core.info(
    `layer cache: kept ${pruned.keptManifests} image(s) this build used; removed ${pruned.removedBlobs} unused blob(s), ${formatBytes(pruned.removedBytes)}`
  )
}

/** Bytes moved before and during the build: base images loaded from the cache and pulled from upstream (by reference), step images (by ID). */
interface CacheTraffic {
  loaded: Map<string, number>
  pulled: Map<string, number>
  steps: Map<string, number>
}

function record(
  services: ComposeService[],
  entry: LedgerEntry,
  run: ComposeRun,
  registry: LayoutRegistry,
  bytes: CacheTraffic
): ImageBuild[] {
  const counted = new Set<string>()
  const built = run.log.builds.map(build => {
    const traffic = registry.trafficOf(build.image)
    // A base image shared by several services is counted once, with the first that used it.
    const bases = build.baseImages.filter(ref => !counted.has(ref))
    bases.forEach(ref => counted.add(ref))
    const service: BuiltService = {
      service: serviceOfImage(build.image, services),
      image: build.image,
      steps: build.steps,
      reusedSteps: build.reused,
      builtSteps: Math.max(0, build.steps - build.reused),
      layerBytesReused: traffic.servedBytes + stepBytesReused(build, bytes.steps),
      layerBytesPushed: traffic.receivedBytes,
      baseBytesReused: sumOf(bases, bytes.loaded),
      baseBytesPulled: sumOf(bases, bytes.pulled),
      buildMs: build.endedAt - build.startedAt,
      failure: build.exitCode !== null && build.exitCode !== 0 ? describeFailure(build) : null
    }
    core.info(
      `${service.service} (${service.image}): ${service.reusedSteps}/${service.steps} steps from the cache (${build.pulled} pulled from it), ${formatBytes(service.layerBytesReused)} reused, ` +
        `${formatBytes(service.layerBytesPushed)} pushed, ${formatDuration(service.buildMs)}`
    )
    return service
  })
  entry.details = { services: built } satisfies PodmanDetails
  const failures = run.log.failures()
  if (run.exitCode !== 0 && failures.length === 0) {
    throw new Error(`podman-compose build failed (exit code ${run.exitCode}): ${run.lastError ?? 'no message'}`)
  }
  return failures
}

function describeFailure(build: ImageBuild): string {
  const where = build.failedStep ? ` at ${build.failedStep}` : ''
  return `build of ${build.image} failed${where}: ${build.error ?? `exit code ${build.exitCode}`}`
}

function sumOf(refs: string[], bytes: Map<string, number>): number {
  return refs.reduce((total, ref) => total + (bytes.get(ref) ?? 0), 0)
}
