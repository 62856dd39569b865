import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { EntryInfo, LocalStore } from '../backends/local.js'
import { inPlaceDir, inPlaceKinds } from './layout.js'
import { acquireLease, type Lease, LeaseBusyError, releaseLease } from './lease.js'

export interface StorePruneOptions {
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

export interface StorePruneResult {
  entries: EntryInfo[]
  files: InPlaceFile[]
  /** Archive entries, orphans and in-place files freed (or that would be, on a dry run). */
  bytes: number
  /** In-place kinds a running job holds: counted against the cap, never touched. */
  busyKinds: string[]
  /** What the store holds once pruned. */
  remainingBytes: number
}

type Item = { lastUsed: number; bytes: number; entry?: EntryInfo; file?: InPlaceFile }

/**
 * One cap and one age rule for the whole store: archive entries and in-place files compete, the
 * least recently used going first, whatever it is. In-place kinds are pruned under an exclusive
 * lease; a kind a job is using is skipped (its files still count).
 */
export async function pruneStore(store: LocalStore, storeRoot: string, options: StorePruneOptions, now = Date.now()): Promise<StorePruneResult> {
  const leases: Lease[] = []
  const busyKinds: string[] = []
  const files: InPlaceFile[] = []
  const pinnedBytes: number[] = []
  try {
    for (const kind of await inPlaceKinds(storeRoot)) {
      const found = await listFiles(kind, inPlaceDir(storeRoot, kind))
      const lease = await acquireLease(storeRoot, kind, 'exclusive').catch((error: unknown) => {
        if (error instanceof LeaseBusyError) return null
        throw error
      })
      if (lease === null) {
        busyKinds.push(kind)
        pinnedBytes.push(...found.map(f => f.bytes))
      } else {
        leases.push(lease)
        files.push(...found)
      }
    }
    const entries = await store.listEntries()
    const items: Item[] = [...entries.map(entry => ({ lastUsed: entry.lastUsed, bytes: entry.bytes, entry })), ...files.map(file => ({ lastUsed: file.lastUsed, bytes: file.bytes, file }))]
    const doomed = chooseItems(items, pinnedBytes.reduce((a, b) => a + b, 0), options, now)
    const keptArchiveBytes = entries.filter(entry => !doomed.some(item => item.entry === entry)).reduce((sum, entry) => sum + entry.bytes, 0)
    // The store applies the same age rule and evicts its least recently used first: the same entries.
    const archive = await store.prune({ maxAgeMs: options.maxAgeMs, maxBytes: keptArchiveBytes, dryRun: options.dryRun })
    const doomedFiles = doomed.flatMap(item => (item.file ? [item.file] : []))
    if (!options.dryRun) await removeFiles(doomedFiles, storeRoot)
    const freedFileBytes = doomedFiles.reduce((sum, f) => sum + f.bytes, 0)
    const total = items.reduce((sum, item) => sum + item.bytes, 0) + pinnedBytes.reduce((a, b) => a + b, 0)
    return {
      entries: archive.entries,
      files: doomedFiles,
      bytes: archive.bytes + freedFileBytes,
      busyKinds,
      remainingBytes: total - freedFileBytes - archive.entries.reduce((sum, e) => sum + e.bytes, 0)
    }
  } finally {
    await Promise.all(leases.map(releaseLease))
  }
}

function chooseItems(items: Item[], pinned: number, options: StorePruneOptions, now: number): Item[] {
  const { maxAgeMs, maxBytes } = options
  const byLastUse = [...items].sort((a, b) => a.lastUsed - b.lastUsed)
  const expired = new Set(maxAgeMs === undefined ? [] : byLastUse.filter(item => now - item.lastUsed > maxAgeMs))
  let total = pinned + byLastUse.filter(item => !expired.has(item)).reduce((sum, item) => sum + item.bytes, 0)
  const evicted: Item[] = []
  for (const item of byLastUse) {
    if (maxBytes === undefined || total <= maxBytes) break
    if (expired.has(item)) continue
    evicted.push(item)
    total -= item.bytes
  }
  return [...expired, ...evicted]
}

/** Regular files and symlinks below dir, without following links. */
export async function listFiles(kind: string, dir: string): Promise<InPlaceFile[]> {
  const found: InPlaceFile[] = []
  const walk = async (entry: string): Promise<void> => {
    const stat = await fs.lstat(entry).catch(() => null)
    if (!stat) return
    if (stat.isDirectory()) {
      for (const name of await fs.readdir(entry).catch(() => [] as string[])) await walk(path.join(entry, name))
      return
    }
    found.push({ kind, file: entry, bytes: stat.size, lastUsed: Math.max(stat.atimeMs, stat.mtimeMs) })
  }
  await walk(dir)
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
