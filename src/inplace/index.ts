import * as core from '@actions/core'
import type { BackendName, CacheBackend } from '../backends/backend.js'
import { type ActionConfig, PRESET_KINDS } from '../config/config.js'
import type { CachePlan } from '../kinds/kind.js'
import { stringifyError } from '../util/errors.js'
import { InPlaceBackend } from './backend.js'
import { inPlaceDir } from './layout.js'
import { acquireLease, type Lease, releaseLease } from './lease.js'

/** In-place applies to the local store only; on GitHub's cache service there is no disk to share. */
export function usesInPlace(config: ActionConfig, backend: BackendName): boolean {
  return config.local.mode === 'in-place' && backend === 'local'
}

/**
 * The store's directory for each preset kind, which the kind then uses where it is. The user's own paths
 * are theirs: they never move into the store.
 */
export function inPlaceDirs(config: ActionConfig, inPlace: boolean): Partial<Record<string, string>> {
  return inPlace ? Object.fromEntries(PRESET_KINDS.map(kind => [kind, inPlaceDir(config.local.dir, kind)])) : {}
}

/** One shared lease per in-place kind, held until post has measured and saved. */
export async function takeLeases(storeRoot: string, plans: CachePlan[]): Promise<Record<string, Lease>> {
  const leases: Record<string, Lease> = {}
  for (const plan of plans.filter(p => p.inPlace)) leases[plan.kind] = await acquireLease(storeRoot, plan.kind, 'shared')
  return leases
}

export async function releaseLeases(leases: Record<string, Lease> | undefined): Promise<void> {
  for (const [kind, lease] of Object.entries(leases ?? {})) {
    await releaseLease(lease).catch(error =>
      core.warning(`${kind}: could not release the in-place lease ${lease}: ${stringifyError(error)}`)
    )
  }
}

/** The store a kind's plan restores from and saves to. */
export function backendForPlan(plan: CachePlan, shared: CacheBackend, storeRoot: string): CacheBackend {
  return plan.inPlace ? new InPlaceBackend(storeRoot, plan.kind) : shared
}
