import * as crypto from 'node:crypto'
import * as path from 'node:path'
import * as core from '@actions/core'
import { readJson, writeFileAtomicIfChanged } from '../util/atomic.js'
import { podman, reason } from './podman.js'
import type { LayoutRegistry } from './registry/server.js'

/** Which layout tag holds which base image (`qdc-base/<hash>:image` → `docker.io/library/python:3.12`). */
const BASE_IMAGES_FILE = 'base-images.json'
const BASE_REPOSITORY = 'qdc-base'

function baseImageTag(ref: string): string {
  return `${BASE_REPOSITORY}/${crypto.createHash('sha256').update(ref).digest('hex').slice(0, 16)}:image`
}

/**
 * Loads every base image the cache holds into podman's storage, under its own name, so FROM finds it
 * locally and the build contacts no upstream registry. An image already present is left alone.
 */
export async function loadBaseImages(registry: LayoutRegistry, bridge: string, env: Record<string, string>): Promise<Map<string, number>> {
  const loaded = new Map<string, number>()
  const saved = (await readJson<Record<string, string>>(path.join(registry.layout.dir, BASE_IMAGES_FILE))) ?? {}
  for (const [tag, ref] of Object.entries(saved)) {
    if (!registry.layout.refNames().includes(tag)) continue
    if ((await podman(['image', 'exists', ref], env)).code === 0) {
      core.info(`base image ${ref}: already in podman's storage`)
      registry.touched.add(tag)
      continue
    }
    registry.label = `base:${ref}`
    const pulled = await podman(['pull', '--quiet', `${bridge}/${tag}`], env)
    if (pulled.code !== 0) {
      core.warning(`base image ${ref} could not be loaded from the cache (${reason(pulled)}); the build will pull it`)
      continue
    }
    await podman(['tag', `${bridge}/${tag}`, ref], env)
    await podman(['untag', `${bridge}/${tag}`, `${bridge}/${tag}`], env)
    loaded.set(ref, registry.trafficOf(registry.label).servedBytes)
    core.info(`base image ${ref}: loaded from the cache`)
  }
  return loaded
}

/**
 * Pushes the base images this build used and the cache did not have into the layout, and records the
 * names of all it used: the tags to keep. (What pulling them cost is measured apart, in pulled.ts: a
 * push re-compresses, so the cache's copy says nothing about the bytes the pull fetched.)
 */
export async function saveBaseImages(
  registry: LayoutRegistry,
  bridge: string,
  refs: string[],
  loaded: Map<string, number>,
  env: Record<string, string>
): Promise<Set<string>> {
  const names: Record<string, string> = {}
  for (const ref of refs) {
    const tag = baseImageTag(ref)
    if (loaded.has(ref) || registry.touched.has(tag)) {
      names[tag] = ref
      continue
    }
    if ((await podman(['image', 'exists', ref], env)).code !== 0) continue
    registry.label = `base:${ref}`
    const pushed = await podman(['push', '--quiet', ref, `${bridge}/${tag}`], env)
    if (pushed.code !== 0) {
      core.warning(`base image ${ref} could not be saved into the cache: ${reason(pushed)}`)
      continue
    }
    names[tag] = ref
  }
  await writeFileAtomicIfChanged(path.join(registry.layout.dir, BASE_IMAGES_FILE), JSON.stringify(names, null, 2) + '\n')
  return new Set(Object.keys(names))
}
