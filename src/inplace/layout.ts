import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { ActionConfig, KindName } from '../config/config.js'
import { Env } from '../constants.js'

/*
 * In-place layout, beside the archive store's own folders:
 *
 *   <local-dir>/in-place/<kind>/            the kind's directory itself, used where it is
 *   <local-dir>/in-place/.meta/<kind>.json  the key of the last save, to tell exact from partial hits
 *   <local-dir>/in-place/.leases/<kind>/    one file per job using the kind (lease.ts)
 */

export function inPlaceRoot(storeRoot: string): string {
  return path.join(storeRoot, 'in-place')
}

export function inPlaceDir(storeRoot: string, kind: string): string {
  return path.join(inPlaceRoot(storeRoot), kind)
}

export function metaFile(storeRoot: string, kind: string): string {
  return path.join(inPlaceRoot(storeRoot), '.meta', `${kind}.json`)
}

export function leaseDir(storeRoot: string, kind: string): string {
  return path.join(inPlaceRoot(storeRoot), '.leases', kind)
}

/** The user's own paths are theirs: only the preset kinds move into the store. */
export function isInPlaceKind(kind: KindName): boolean {
  return kind !== 'custom'
}

/** The kinds that have an in-place directory in this store. */
export async function inPlaceKinds(storeRoot: string): Promise<string[]> {
  const names = await fs.readdir(inPlaceRoot(storeRoot)).catch(() => [] as string[])
  return names.filter(name => !name.startsWith('.')).sort()
}

/**
 * Points every enabled kind at its directory in the store: the tools through the environment later
 * steps (or `qdc run`'s command) inherit, qdc's own directory kinds through the config.
 * Returns the variables to export.
 */
export async function useInPlaceDirectories(config: ActionConfig): Promise<Record<string, string>> {
  const dir = (kind: KindName) => inPlaceDir(config.localDir, kind)
  config.podmanDir = dir('podman')
  config.nixDir = dir('nix')
  config.downloadsDir = dir('downloads')
  const env: Record<string, string> = {}
  if (config.kinds.includes('pip')) env[Env.PipCacheDir] = dir('pip')
  if (config.kinds.includes('huggingface')) env[Env.HfHubCache] = dir('huggingface')
  if (config.kinds.includes('buildah')) env[Env.TmpDir] = dir('buildah')
  for (const kind of config.kinds.filter(isInPlaceKind)) await fs.mkdir(dir(kind), { recursive: true })
  return env
}
