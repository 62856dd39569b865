import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { inPlaceDir, inPlaceKinds } from '../../inplace/layout.js'
import { acquireLease, type Lease, LeaseBusyError, releaseLease } from '../../inplace/lease.js'
import { walkFiles } from '../../measure/tree.js'
import type { EntryInfo, LocalStore } from './store.js'

export interface PruneOptions {
  maxAgeMs?: number
  maxBytes?: number
  dryRun?: boolean
}

export interface InPlaceFile {
  kind: string
  file: string
  bytes: number
  /** The later of access and modification time. */
  lastUsed: number
}

export interface PruneResult {
  /** The archive entries removed (or, on a dry run, that would be). */
  entries: EntryInfo[]
  files: InPlaceFile[]
  /** Store-relative paths of leftovers from crashed saves. */
  orphans: string[]
  /** Archive entries, orphans and in-place files freed (or that would be, on a dry run). */
  bytes: number
  /** In-place kinds a running job holds: counted against the cap, never touched. */
  busyKinds: string[]
  /** What the store holds once pruned. */
  remainingBytes: number
}

interface Prunable {
  lastUsed: number
  bytes: number
}

function sum(list: Array<{ bytes: number }>): number {
  return list.reduce((total, item) => total + item.bytes, 0)
}

/**
 * The one pruning policy: everything unused for longer than maxAgeMs goes, then the least recently used
 * until what remains (with `pinnedBytes` that cannot go) fits maxBytes.
 */
export function chooseToPrune<T extends Prunable>(items: T[], options: PruneOptions, now: number, pinnedBytes = 0): T[] {
  const { maxAgeMs, maxBytes } = options
  const byLastUse = [...items].sort((a, b) => a.lastUsed - b.lastUsed)
  const expired = new Set(maxAgeMs === undefined ? [] : byLastUse.filter(item => now - item.lastUsed > maxAgeMs))
  const kept = byLastUse.filter(item => !expired.has(item))
  let total = pinnedBytes + kept.reduce((sum, item) => sum + item.bytes, 0)
  const evicted: T[] = []
  for (const item of kept) {
    if (maxBytes === undefined || total <= maxBytes) break
    evicted.push(item)
    total -= item.bytes
  }
  return [...expired, ...evicted]
}

type Item = Prunable & ({ entry: EntryInfo } | { file: InPlaceFile })

/**
 * One cap and one age rule for the whole store: archive entries and in-place files compete, the least
 * recently used going first, whatever it is. In-place kinds are pruned under an exclusive lease; a kind a
 * job is using is skipped (its files still count).
 */
export async function pruneStore(store: LocalStore, storeRoot: string, options: PruneOptions, now: number): Promise<PruneResult> {
  const leases: Lease[] = []
  const busyKinds: string[] = []
  const files: InPlaceFile[] = []
  let pinnedBytes = 0
  try {
    for (const kind of await inPlaceKinds(storeRoot)) {
      const found = await listFiles(kind, inPlaceDir(storeRoot, kind))
      const lease = await acquireLease(storeRoot, kind, 'exclusive').catch((error: unknown) => {
        if (error instanceof LeaseBusyError) return null
        throw error
      })
      if (lease === null) {
        busyKinds.push(kind)
        pinnedBytes += found.reduce((sum, f) => sum + f.bytes, 0)
      } else {
        leases.push(lease)
        files.push(...found)
      }
    }
    return await store.withPruneLock(async () => {
      const entries = await store.listEntries()
      const items: Item[] = [
        ...entries.map(entry => ({ lastUsed: entry.lastUsed, bytes: entry.bytes, entry })),
        ...files.map(file => ({ lastUsed: file.lastUsed, bytes: file.bytes, file }))
      ]
      const doomed = chooseToPrune(items, options, now, pinnedBytes)
      const doomedEntries = doomed.flatMap(item => ('entry' in item ? [item.entry] : []))
      const doomedIds = new Set(doomedEntries.map(entryId))
      const doomedFiles = doomed.flatMap(item => ('file' in item ? [item.file] : []))
      const gone = options.dryRun ? doomedIds : new Set((await store.removeEntries(entry => doomedIds.has(entryId(entry)))).map(entryId))
      // In the order chosen: least recently used first.
      const removed = doomedEntries.filter(entry => gone.has(entryId(entry)))
      if (!options.dryRun) await removeFiles(doomedFiles, storeRoot)
      const orphans = [
        ...(await store.sweepOrphans(options.dryRun ?? false)),
        ...(await store.sweepDocuments(options.maxAgeMs, options.dryRun ?? false))
      ]
      const freed = sum(removed) + sum(doomedFiles)
      return {
        entries: removed,
        files: doomedFiles,
        orphans: orphans.map(orphan => path.relative(storeRoot, orphan.file)),
        bytes: freed + sum(orphans),
        busyKinds,
        remainingBytes: sum(items) + pinnedBytes - freed
      }
    })
  } finally {
    await Promise.all(leases.map(releaseLease))
  }
}

function entryId(entry: EntryInfo): string {
  return `${entry.version}/${entry.key}`
}

/** Regular files and symlinks below dir, without following links. */
export async function listFiles(kind: string, dir: string): Promise<InPlaceFile[]> {
  const found: InPlaceFile[] = []
  await walkFiles([dir], [], (file, stat) => found.push({ kind, file, bytes: stat.size, lastUsed: Math.max(stat.atimeMs, stat.mtimeMs) }))
  return found
}

async function removeFiles(files: InPlaceFile[], storeRoot: string): Promise<void> {
  await Promise.all(files.map(f => fs.rm(f.file, { force: true })))
  for (const kind of new Set(files.map(f => f.kind))) await tidy(inPlaceDir(storeRoot, kind), true)
}

/**
 * After files went: links that now point nowhere (a hub snapshot whose blob was pruned) and folders
 * left empty go too, so the tools see a file as missing rather than broken. Returns whether `dir` is empty.
 */
async function tidy(dir: string, isRoot = false): Promise<boolean> {
  let empty = true
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const entry = path.join(dir, name)
    const stat = await fs.lstat(entry).catch(() => null)
    if (stat?.isDirectory()) {
      if (await tidy(entry)) await fs.rmdir(entry).catch(() => undefined)
      else empty = false
    } else if (stat?.isSymbolicLink() && (await fs.stat(entry).catch(() => null)) === null) {
      await fs.rm(entry, { force: true })
    } else if (stat) {
      empty = false
    }
  }
  return empty && !isRoot
}
