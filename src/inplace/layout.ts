import * as fs from 'node:fs/promises'
import * as path from 'node:path'

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

/** The kinds that have an in-place directory in this store. */
export async function inPlaceKinds(storeRoot: string): Promise<string[]> {
  const names = await fs.readdir(inPlaceRoot(storeRoot)).catch(() => [] as string[])
  return names.filter(name => !name.startsWith('.')).sort()
}
