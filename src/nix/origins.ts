import * as core from '@actions/core'
import { stringifyError } from '../util/errors.js'
import { hashPartOf } from './binary-cache.js'
import { type Origin, type PathInfo, pathInfos } from './store-paths.js'

/** A store Nix may have substituted from. */
export interface SourceStore {
  url: string
  priority: number
  /** Set for the restored cache: the hash parts of its narinfos Nix accepts (only those can have served a path). */
  accepted?: Set<string>
}

/** Where one new store path came from, and what fetching it cost. */
export interface PathOrigin {
  info: PathInfo
  origin: Origin
  /** The store that served it; null for a path built here, or substituted from a store qdc cannot see. */
  store: string | null
  /** The serving store's compressed NAR (its narinfo's FileSize): for a download, the bytes that crossed the wire. */
  fileSize: number
}

type Match = 'exact' | 'subset'

/**
 * Where each new path came from, from evidence rather than from the order Nix should have asked in. Nix
 * substitutes a path from the first store (in priority order) whose narinfo it accepts and copies that
 * narinfo's signatures onto the path, so the store that served it is the first whose narinfo has the
 * path's NAR hash and exactly the signatures the path carries (failing that, the first whose signatures
 * the path carries: Nix can sign a path later). The restored cache's own signature (nix-signing-key) is on
 * no upstream's narinfo, which is what tells the two apart when both hold a path; only an unsigned cache
 * (nix-trusted) leaves the priority order to decide. A path no store offers that way was built here when
 * Nix says so (`ultimate`) or nobody signed it and it is content-addressed (a source added by evaluation);
 * otherwise it came from a store qdc cannot see and stays a download, at its NAR size (`store` null).
 * `stores` must be in the order Nix asks them.
 */
export async function tracePaths(added: PathInfo[], stores: SourceStore[]): Promise<PathOrigin[]> {
  const served = await servingStores(
    added.filter(info => !info.ultimate),
    stores
  )
  return added.map(info => {
    const offer = served.get(info.path)
    if (info.ultimate) return { info, origin: 'built', store: null, fileSize: 0 }
    if (offer)
      return {
        info,
        origin: offer.store.accepted ? 'fromCache' : 'fromUpstream',
        store: offer.store.url,
        fileSize: offer.info.downloadSize ?? offer.info.narSize
      }
    if (info.ca !== null && info.signatures.length === 0) return { info, origin: 'built', store: null, fileSize: 0 }
    return { info, origin: 'fromUpstream', store: null, fileSize: info.narSize }
  })
}

interface Offer {
  store: SourceStore
  info: PathInfo
}

/** For each path, the store whose narinfo it was made from, asking each store only for what is still open. */
async function servingStores(paths: PathInfo[], stores: SourceStore[]): Promise<Map<string, Offer>> {
  const byPath = new Map(paths.map(info => [info.path, info]))
  const exact = new Map<string, Offer>()
  const subset = new Map<string, Offer>()
  for (const store of stores) {
    const open = [...byPath.keys()].filter(p => !exact.has(p) && (!store.accepted || store.accepted.has(hashPartOf(p))))
    if (open.length === 0) continue
    for (const offered of await narinfosOf(store, open)) {
      const local = byPath.get(offered.path)
      const match = local ? matchOf(local, offered) : null
      if (match === 'exact') exact.set(offered.path, { store, info: offered })
      else if (match === 'subset' && !subset.has(offered.path)) subset.set(offered.path, { store, info: offered })
    }
  }
  return new Map([...subset, ...exact])
}

/** Whether the path could have been substituted from this narinfo: the same NAR, and its signatures all on the path. */
function matchOf(local: PathInfo, offered: PathInfo): Match | null {
  if (offered.narHash !== local.narHash) return null
  const carried = new Set(local.signatures)
  if (!offered.signatures.every(sig => carried.has(sig))) return null
  return new Set(offered.signatures).size === carried.size ? 'exact' : 'subset'
}

/** The store's narinfos for `paths`, through Nix (which answers from its narinfo disk cache when it can); none when the store cannot be read. */
async function narinfosOf(store: SourceStore, paths: string[]): Promise<PathInfo[]> {
  try {
    return await pathInfos(paths, store.url)
  } catch (error) {
    core.info(`Could not ask ${store.url} about ${paths.length} store path(s): ${stringifyError(error)}`)
    return []
  }
}
