import * as core from '@actions/core'
import type { ImageBuild } from './build-log.js'
import { podman, reason } from './podman.js'
import type { LayoutRegistry } from './registry/server.js'

/**
 * The layer cache without `--cache-from/--cache-to`: the step images `podman build --layers` leaves in
 * storage are pushed into the cache directory after the build and pulled back, nameless, before the
 * next one, where `--layers` finds them as its own. For podman older than 4.2, which has no cache
 * flags, and wherever they misbehave (`podman-cache-mode: images`).
 */
const STEP_REPOSITORY = 'qdc-steps'

/** Pulls every step image the cache holds; returns the bytes served for each, by image ID. */
export async function loadStepImages(registry: LayoutRegistry, bridge: string, env: Record<string, string>): Promise<Map<string, number>> {
  const loaded = new Map<string, number>()
  for (const id of registry.layout.tags(STEP_REPOSITORY)) {
    const name = `${bridge}/${STEP_REPOSITORY}:${id}`
    registry.label = `step:${id}`
    const pulled = await podman(['pull', '--quiet', name], env)
    if (pulled.code !== 0) {
      core.warning(`step image ${id.slice(0, 12)} could not be loaded from the cache (${reason(pulled)}); its step will be built`)
      continue
    }
    // Back to how the build left it: an image without a name, which is what --layers looks for.
    await podman(['untag', name, name], env)
    loaded.set(id, registry.trafficOf(registry.label).servedBytes)
  }
  core.info(`layer cache: ${loaded.size} step image(s) loaded`)
  return loaded
}

/**
 * Pushes the step images of these builds that the cache lacks, with each build's bytes counted under
 * its image; returns the tags of every step image the builds used, the ones to keep.
 */
export async function saveStepImages(
  registry: LayoutRegistry,
  bridge: string,
  builds: ImageBuild[],
  env: Record<string, string>
): Promise<Set<string>> {
  const stored = new Set(registry.layout.tags(STEP_REPOSITORY))
  const used = new Set<string>()
  for (const build of builds) {
    registry.label = build.image
    for (const step of build.stepImages) {
      const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', step.id], env)).stdout.trim()
      if (!/^[a-f0-9]{64}$/.test(id)) continue
      used.add(`${STEP_REPOSITORY}:${id}`)
      if (stored.has(id)) continue
      const pushed = await podman(['push', '--quiet', id, `${bridge}/${STEP_REPOSITORY}:${id}`], env)
      if (pushed.code === 0) stored.add(id)
      else core.warning(`step image ${id.slice(0, 12)} could not be saved into the cache: ${reason(pushed)}`)
    }
  }
  return used
}

/** Bytes of the step images this build found in the cache, as loaded before it. */
export function stepBytesReused(build: ImageBuild, loaded: Map<string, number>): number {
  return build.stepImages.filter(step => step.cached).reduce((total, step) => total + (loaded.get(step.id) ?? 0), 0)
}
