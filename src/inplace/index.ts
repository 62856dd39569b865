import * as core from '@actions/core'
import type { BackendName, CacheBackend } from '../backends/backend.js'
import type { ActionConfig, KindName } from '../config/config.js'
import { stringifyError } from '../util/errors.js'
import { InPlaceBackend } from './backend.js'
import { isInPlaceKind, useInPlaceDirectories } from './layout.js'
import { acquireLease, type Lease, releaseLease } from './lease.js'

/** In-place applies to the local store only; on GitHub's cache service there is no disk to share. */
export function usesInPlace(config: ActionConfig, backend: BackendName): boolean {
  return config.localMode === 'in-place' && backend === 'local'
}

/** Before planning: the kinds' directories move into the store and the tools are told so. */
export async function prepareInPlace(config: ActionConfig): Promise<void> {
  for (const [name, value] of Object.entries(await useInPlaceDirectories(config))) {
    core.exportVariable(name, value)
    core.info(`in place: ${name}=${value}`)
  }
}

/** One shared lease per in-place kind, held until post has measured and saved. */
export async function takeLeases(config: ActionConfig, kinds: KindName[]): Promise<Record<string, Lease>> {
  const leases: Record<string, Lease> = {}
  for (const kind of kinds.filter(isInPlaceKind)) leases[kind] = await acquireLease(config.localDir, kind, 'shared')
  return leases
}

export async function releaseLeases(leases: Record<string, Lease> | undefined): Promise<void> {
  for (const [kind, lease] of Object.entries(leases ?? {})) {
    await releaseLease(lease).catch(error => core.warning(`${kind}: could not release the in-place lease ${lease}: ${stringifyError(error)}`))
  }
}

/** The store a kind's plan restores from and saves to. */
export function backendForKind(kind: KindName, shared: CacheBackend, config: ActionConfig, inPlace: boolean): CacheBackend {
  return inPlace && isInPlaceKind(kind) ? new InPlaceBackend(config.localDir, kind) : shared
}
