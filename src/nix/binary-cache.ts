import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { readJson, writeFileAtomicIfChanged } from '../util/atomic.js'

/** One `<hash>.narinfo` of a file:// binary cache: the fields qdc needs. */
export interface NarInfo {
  /** The store path's hash part, which is also the narinfo's file name. */
  hash: string
  storePath: string
  /** The NAR file, relative to the cache directory. */
  url: string
  fileSize: number
  narHash: string
  narSize: number
  /** Basenames, as narinfo writes them. */
  references: string[]
  sigs: string[]
  /** Bytes of the narinfo itself. */
  infoBytes: number
}

interface CacheListing {
  entries: Map<string, NarInfo>
  /** narinfo files that do not parse, by file name. */
  corrupt: string[]
}

const CACHE_INFO = 'nix-cache-info'
/** When each store path was last used by a run (day granularity, so a same-day rerun changes nothing). */
const LAST_USED = 'qdc-last-used.json'

const HASH_PART = /^[0-9a-df-np-sv-z]{32}$/

function parseNarInfo(text: string, hash: string): NarInfo {
  const fields = new Map<string, string>()
  const sigs: string[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const colon = line.indexOf(': ')
    if (colon <= 0) throw new Error(`line '${line.slice(0, 40)}' is not 'Name: value'`)
    const [name, value] = [line.slice(0, colon), line.slice(colon + 2)]
    if (name === 'Sig') sigs.push(value)
    else fields.set(name, value)
  }
  const need = (name: string): string => {
    const value = fields.get(name)
    if (value === undefined || value === '') throw new Error(`no ${name}`)
    return value
  }
  const storePath = need('StorePath')
  if (!path.basename(storePath).startsWith(`${hash}-`)) throw new Error(`StorePath ${storePath} does not match the file name`)
  const narSize = Number(need('NarSize'))
  const fileSize = Number(fields.get('FileSize') ?? narSize)
  if (!Number.isSafeInteger(narSize) || narSize <= 0 || !Number.isSafeInteger(fileSize) || fileSize < 0)
    throw new Error('bad NarSize or FileSize')
  const narHash = need('NarHash')
  if (!/^sha256:/.test(narHash)) throw new Error(`NarHash '${narHash}' is not sha256`)
  return {
    hash,
    storePath,
    url: need('URL'),
    fileSize,
    narHash,
    narSize,
    references: (fields.get('References') ?? '').split(' ').filter(Boolean),
    sigs,
    infoBytes: Buffer.byteLength(text)
  }
}

/** What a Nix signature signs (nix's ValidPathInfo::fingerprint). */
export function fingerprintOf(info: NarInfo, storeDir: string): string {
  return `1;${info.storePath};${info.narHash};${info.narSize};${info.references.map(r => `${storeDir}/${r}`).join(',')}`
}

export function hashPartOf(storePath: string): string {
  return path.basename(storePath).slice(0, 32)
}

/** `nix-cache-info` as a map; null when the directory is not (yet) a binary cache. */
export async function readCacheInfo(dir: string): Promise<Map<string, string> | null> {
  const text = await fs.readFile(path.join(dir, CACHE_INFO), 'utf8').catch(() => null)
  return text === null ? null : parseCacheInfo(text)
}

/** `Name: value` lines, as any binary cache (a directory or an HTTP server) serves its `nix-cache-info`. */
export function parseCacheInfo(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .map(line => line.split(/:\s*/, 2) as [string, string])
      .filter(([name, value]) => name && value !== undefined)
  )
}

export async function listCache(dir: string): Promise<CacheListing> {
  const entries = new Map<string, NarInfo>()
  const corrupt: string[] = []
  const names = await fs.readdir(dir).catch(() => [] as string[])
  for (const name of names) {
    if (!name.endsWith('.narinfo')) continue
    const hash = name.slice(0, -'.narinfo'.length)
    try {
      if (!HASH_PART.test(hash)) throw new Error('not a store hash')
      entries.set(hash, parseNarInfo(await fs.readFile(path.join(dir, name), 'utf8'), hash))
    } catch {
      corrupt.push(name)
    }
  }
  return { entries, corrupt }
}

/** Store paths, their NAR bytes (uncompressed) and the compressed bytes a binary cache holds or sends for them. */
export interface PathTally {
  paths: number
  narBytes: number
  /** narinfo FileSize: what a binary cache stores, and what a download from it moves; 0 for paths built here. */
  fileBytes: number
}

/** New store paths of the job, classified, and what the save did to the binary cache. */
export interface NixAccount {
  built: PathTally
  /** Substituted from the restored cache; fileBytes as the cache holds them. */
  fromCache: PathTally
  /** Substituted from upstream caches; fileBytes as the serving cache's narinfo gives them: the bytes over the wire. */
  fromUpstream: PathTally
  /** The part of fromUpstream that matches no configured substituter's narinfo: counted at NAR size. */
  unattributed: PathTally
  /** Added to the binary cache directory by this run. */
  copied: PathTally
  /** Dropped from the binary cache directory: unused too long, or over nix-max-size. */
  pruned: PathTally
}

/** Paths and bytes of store paths, from narinfos or classified path-info records. */
export function tally(infos: Iterable<{ narSize: number; fileSize: number }>): PathTally {
  let paths = 0
  let narBytes = 0
  let fileBytes = 0
  for (const info of infos) {
    paths++
    narBytes += info.narSize
    fileBytes += info.fileSize
  }
  return { paths, narBytes, fileBytes }
}

export function storedBytes(info: NarInfo): number {
  return info.fileSize + info.infoBytes
}

export type LastUsed = Record<string, string>

/** A missing or unreadable record counts as empty: every entry is then new today. */
export async function readLastUsed(dir: string): Promise<LastUsed> {
  return (await readJson<LastUsed>(path.join(dir, LAST_USED)).catch(() => null)) ?? {}
}

/** Entries of `used` are stamped today; entries never stamped (older qdc, copied in) count as new today. */
export function stampUsed(previous: LastUsed, entries: Map<string, NarInfo>, used: Set<string>, today: string): LastUsed {
  const next: LastUsed = {}
  for (const hash of [...entries.keys()].sort()) next[hash] = used.has(hash) || !previous[hash] ? today : previous[hash]
  return next
}

export async function writeLastUsed(dir: string, lastUsed: LastUsed): Promise<void> {
  await writeFileAtomicIfChanged(path.join(dir, LAST_USED), JSON.stringify(lastUsed, null, 0) + '\n')
}

interface PruneLimits {
  maxBytes: number
  maxAgeMs: number
  now: Date
}

/**
 * Which entries to drop: those unused for longer than maxAge, then least recently used (largest first on
 * a tie) until the cache fits maxBytes. Dropping a path drops every entry that refers to it, so what
 * stays is closed under references and Nix can substitute any of it from this cache alone.
 */
export function choosePrunable(entries: Map<string, NarInfo>, lastUsed: LastUsed, limits: PruneLimits): Set<string> {
  const dropped = new Set<string>()
  const referrers = referrersOf(entries)
  let kept = [...entries.values()].reduce((total, info) => total + storedBytes(info), 0)
  const drop = (hash: string): void => {
    const stack = [hash]
    while (stack.length > 0) {
      const next = stack.pop() as string
      if (dropped.has(next)) continue
      dropped.add(next)
      const info = entries.get(next)
      if (info) kept -= storedBytes(info)
      stack.push(...(referrers.get(next) ?? []))
    }
  }
  const oldest = new Date(limits.now.getTime() - limits.maxAgeMs).toISOString().slice(0, 10)
  for (const hash of entries.keys()) if ((lastUsed[hash] ?? '') < oldest) drop(hash)
  const byAge = [...entries.values()].sort(
    (a, b) => (lastUsed[a.hash] ?? '').localeCompare(lastUsed[b.hash] ?? '') || storedBytes(b) - storedBytes(a)
  )
  for (const info of byAge) {
    if (kept <= limits.maxBytes) break
    if (dropped.has(info.hash)) continue
    drop(info.hash)
  }
  return dropped
}

function referrersOf(entries: Map<string, NarInfo>): Map<string, string[]> {
  const referrers = new Map<string, string[]>()
  for (const info of entries.values()) {
    for (const reference of info.references) {
      const target = hashPartOf(reference)
      if (target === info.hash) continue
      const list = referrers.get(target)
      if (list) list.push(info.hash)
      else referrers.set(target, [info.hash])
    }
  }
  return referrers
}

/** Deletes the narinfos, then every NAR no remaining narinfo points at (two paths may share one NAR). */
export async function removeEntries(dir: string, entries: Map<string, NarInfo>, drop: Set<string>): Promise<void> {
  for (const hash of drop) await fs.rm(path.join(dir, `${hash}.narinfo`), { force: true })
  const wanted = new Set([...entries.values()].filter(info => !drop.has(info.hash)).map(info => path.normalize(info.url)))
  const nars = await fs.readdir(path.join(dir, 'nar')).catch(() => [] as string[])
  for (const name of nars) {
    const relative = path.join('nar', name)
    if (!wanted.has(relative)) await fs.rm(path.join(dir, relative), { force: true })
  }
}
