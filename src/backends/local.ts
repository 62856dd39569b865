import { spawn, type ChildProcess } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import lockfile from 'proper-lockfile'
import { readJson, syncPath, writeFileAtomic } from '../util/atomic.js'
import { digestFile } from '../util/hash-pool.js'
import { progressLog } from '../util/progress.js'
import type { ArchiveSpec, CacheBackend, RestoreResult, SaveResult } from './backend.js'

/*
 * Store layout (everything on one filesystem, so every publish is a rename):
 *
 *   <root>/entries/<version>/<sha256(key)>/meta.json          the commit point of an entry
 *   <root>/entries/<version>/<sha256(key)>/<saveId>-<i>.tar.zst  one archive per spec path
 *   <root>/tmp/                                             archives being written
 *   <root>/locks/                                           proper-lockfile lock directories
 *
 * One archive per spec path, made with `tar -C <path> .`, so every member is relative to the
 * directory it is extracted into: there is no index prefix to strip or trust, tar's own refusal of
 * names that leave the directory applies as is, and a path that is missing at save time simply has
 * no archive. Archive names carry the save's random id, so a new save never
 * overwrites an archive the current meta.json refers to; the meta.json rename switches entries.
 */

/** Part of the entry version: bump when the layout or archive format changes so old entries miss. */
const STORE_FORMAT = 1
const META_FILE = 'meta.json'
const ARCHIVE_NAME = /^[0-9a-f]{16}-\d+\.tar\.zst$/
/** A save in flight keeps its temp file fresh; anything this old was left by a crash. */
const ORPHAN_AGE_MS = 60 * 60 * 1000
/** A publish holds an entry lock for a few renames; waiting up to about a minute covers a busy host. */
const LOCK_RETRIES = { retries: 60, factor: 1.3, minTimeout: 50, maxTimeout: 2000 }

type StoredPart =
  | { path: string; kind: 'missing' }
  | { path: string; kind: 'tree' | 'file'; file: string; sha256: string; bytes: number }

interface EntryMeta {
  format: number
  key: string
  version: string
  saveId: string
  /** Milliseconds since the epoch. */
  created: number
  lastUsed: number
  parts: StoredPart[]
  /** The cache kind saved (entries written before it was recorded have none). */
  kind?: string
}

export interface EntryInfo {
  key: string
  kind?: string
  version: string
  /** Compressed bytes of the entry's archives. */
  bytes: number
  /** Milliseconds since the epoch. */
  created: number
  lastUsed: number
}

export interface PruneOptions {
  maxAgeMs?: number
  maxBytes?: number
  dryRun?: boolean
}

export interface PruneResult {
  /** The entries removed (or, on a dry run, that would be). */
  entries: EntryInfo[]
  /** Bytes freed: the entries' archives plus the orphans. */
  bytes: number
  /** Store-relative paths of leftovers from crashed saves. */
  orphans: string[]
}

interface StoredEntry {
  /** Names the entry's directory and its lock. */
  version: string
  keyHash: string
  meta: EntryMeta
}

/** A directory store for self-hosted runners: entries addressed like GitHub's cache, never the network. */
export class LocalStore implements CacheBackend {
  readonly name = 'local' as const
  private readonly root: string
  private readonly clock: () => number
  /** Where progress lines of long restores go (the action's log). */
  private readonly log: (line: string) => void

  constructor(root: string, clock: () => number = Date.now, log: (line: string) => void = () => undefined) {
    this.root = root
    this.clock = clock
    this.log = log
  }

  async restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | undefined> {
    const version = specVersion(spec)
    const found = await this.lookup(version, key, restoreKeys)
    if (!found) return undefined
    const opened = await this.openEntry(version, found.key)
    // Pruned between lookup and open: as good as a miss.
    if (!opened) return undefined
    const { meta, handles } = opened
    const staged: StagedRestore[] = []
    try {
      checkPartsMatch(meta, spec)
      // Every part is verified and staged before any is moved in: an entry restores whole or not at all.
      for (const [index, part] of meta.parts.entries()) {
        const progress = progressLog(`Restoring ${spec.paths[index]}`, part.kind === 'missing' ? 0 : part.bytes, this.log)
        const stage = await extractPart(handles[index], part, spec.paths[index], meta.key, progress)
        if (stage) staged.push(stage)
      }
      for (const { restored, target } of staged) await moveIntoPlace(restored, target)
    } finally {
      await Promise.all(handles.map(handle => handle?.close()))
      await Promise.all(staged.map(({ staging }) => fs.rm(staging, { recursive: true, force: true })))
    }
    await this.markUsed(version, meta)
    return { matchedKey: meta.key, archiveBytes: entryBytes(meta) }
  }

  async save(spec: ArchiveSpec, key: string): Promise<SaveResult> {
    const kinds = await Promise.all(spec.paths.map(pathKind))
    if (kinds.every(kind => kind === 'missing')) {
      throw new Error(`nothing to save: none of these paths exists: ${spec.paths.join(', ')}`)
    }
    await fs.mkdir(this.tmpDir, { recursive: true })
    const saveId = crypto.randomBytes(8).toString('hex')
    const staged: StagedPart[] = []
    try {
      for (const [index, target] of spec.paths.entries()) {
        staged.push(await this.stagePart(target, kinds[index], spec.exclude, `${saveId}-${index}.tar.zst`))
      }
      const now = this.clock()
      const meta: EntryMeta = {
        format: STORE_FORMAT,
        key,
        version: specVersion(spec),
        saveId,
        created: now,
        lastUsed: now,
        parts: staged.map(({ part }) => part),
        ...(spec.kind ? { kind: spec.kind } : {})
      }
      await this.publish(meta, staged)
      return { archiveBytes: entryBytes(meta) }
    } finally {
      // Published temps were renamed away; these are the ones a failure left behind.
      await Promise.all(staged.map(({ temp }) => temp && fs.rm(temp, { force: true })))
    }
  }

  /** Every readable entry, most recently used first. */
  async listEntries(): Promise<EntryInfo[]> {
    const entries = await this.storedEntries()
    return entries.map(({ meta }) => entryInfo(meta)).sort((a, b) => b.lastUsed - a.lastUsed)
  }

  /** Drops entries unused for longer than maxAgeMs, then the least recently used until the store fits maxBytes. */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    await fs.mkdir(this.locksDir, { recursive: true })
    return withLock(path.join(this.locksDir, 'prune'), async () => {
      const doomed = chooseEntriesToPrune(await this.storedEntries(), options, this.clock())
      const removed: EntryInfo[] = []
      for (const entry of doomed) {
        if (options.dryRun || (await this.removeEntry(entry))) removed.push(entryInfo(entry.meta))
      }
      const orphans = await this.sweepOrphans(options.dryRun ?? false)
      const bytes = [...removed, ...orphans].reduce((sum, item) => sum + item.bytes, 0)
      return { entries: removed, bytes, orphans: orphans.map(orphan => path.relative(this.root, orphan.file)) }
    })
  }

  /** Removes every entry `chosen` picks (qdc clear); returns what went. */
  async removeEntries(chosen: (entry: EntryInfo) => boolean): Promise<EntryInfo[]> {
    const removed: EntryInfo[] = []
    for (const entry of await this.storedEntries()) {
      const info = entryInfo(entry.meta)
      if (chosen(info) && (await this.removeEntry(entry))) removed.push(info)
    }
    return removed
  }

  /**
   * Re-hashes the archives of the entries `wanted` picks (by key and recorded kind) against their
   * meta.json (qdc verify); the others are not read. An entry whose meta.json does not read is
   * reported by its directory.
   */
  async verifyEntries(wanted: (entry: { key: string; kind?: string }) => boolean = () => true): Promise<EntryCheck[]> {
    const checks: EntryCheck[] = []
    for (const { version, keyHash } of await this.entryDirs()) {
      const dir = this.entryDir(version, keyHash)
      const meta = await readMeta(dir).catch((error: Error) => error)
      if (meta === null) continue
      if (meta instanceof Error) {
        const key = path.relative(this.root, dir)
        if (wanted({ key })) checks.push({ key, bytes: 0, problem: meta.message })
        continue
      }
      if (!wanted(meta)) continue
      checks.push({ key: meta.key, kind: meta.kind, bytes: entryBytes(meta), problem: await archivesProblem(dir, meta) })
    }
    return checks
  }

  /** Removes an entry verifyEntries found corrupt, by key or by directory. */
  async removeCorrupt(check: EntryCheck): Promise<void> {
    const dirs = await this.entryDirs()
    for (const { version, keyHash } of dirs) {
      const dir = this.entryDir(version, keyHash)
      if (keyHash !== sha256(check.key) && path.relative(this.root, dir) !== check.key) continue
      await this.withEntryLock(version, keyHash, () => fs.rm(dir, { recursive: true, force: true }))
    }
  }

  private get entriesDir(): string {
    return path.join(this.root, 'entries')
  }

  private get tmpDir(): string {
    return path.join(this.root, 'tmp')
  }

  private get locksDir(): string {
    return path.join(this.root, 'locks')
  }

  private entryDir(version: string, keyHash: string): string {
    return path.join(this.entriesDir, version, keyHash)
  }

  /** Lock names come from directory names, so prune can lock an entry whose meta.json is unreadable. */
  private async withEntryLock<T>(version: string, keyHash: string, work: (assertHeld: () => void) => Promise<T>): Promise<T> {
    await fs.mkdir(this.locksDir, { recursive: true })
    return withLock(path.join(this.locksDir, `${version}-${keyHash}`), work)
  }

  /** GitHub's rule: the exact key, else per restore key in order the newest entry it prefixes; same version only. */
  private async lookup(version: string, key: string, restoreKeys: string[]): Promise<EntryMeta | undefined> {
    const exact = await readMeta(this.entryDir(version, sha256(key)), key)
    if (exact) return exact
    if (restoreKeys.length === 0) return undefined
    const candidates = (await this.storedEntries(version)).map(({ meta }) => meta)
    for (const prefix of restoreKeys) {
      const matches = candidates.filter(meta => meta.key.startsWith(prefix))
      if (matches.length > 0) return matches.reduce((newest, meta) => (meta.created > newest.created ? meta : newest))
    }
    return undefined
  }

  /**
   * Reads meta.json and opens every archive under the entry lock: a concurrent publish or prune
   * may unlink the names afterwards, but open descriptors keep the inodes we are about to verify.
   */
  private async openEntry(version: string, key: string): Promise<{ meta: EntryMeta; handles: fs.FileHandle[] } | undefined> {
    const keyHash = sha256(key)
    const dir = this.entryDir(version, keyHash)
    return this.withEntryLock(version, keyHash, async () => {
      const meta = await readMeta(dir, key)
      if (!meta) return undefined
      // Indexed like meta.parts; a missing path has no archive and no handle.
      const handles: fs.FileHandle[] = []
      try {
        for (const [index, part] of meta.parts.entries()) {
          if (part.kind !== 'missing') handles[index] = await openArchive(dir, part, key)
        }
      } catch (error) {
        await Promise.all(handles.map(handle => handle?.close()))
        throw error
      }
      return { meta, handles }
    })
  }

  private async markUsed(version: string, restored: EntryMeta): Promise<void> {
    const keyHash = sha256(restored.key)
    const dir = this.entryDir(version, keyHash)
    await this.withEntryLock(version, keyHash, async () => {
      const current = await readMeta(dir, restored.key)
      // A save replaced the entry while we extracted: its own lastUsed is newer anyway.
      if (current?.saveId !== restored.saveId) return
      await writeFileAtomic(path.join(dir, META_FILE), JSON.stringify({ ...current, lastUsed: this.clock() }))
    })
  }

  /** Archives one path into a temp file in the store, hashing the bytes on their way to disk. */
  private async stagePart(target: string, kind: PathKind, exclude: string[], file: string): Promise<StagedPart> {
    if (kind === 'missing') return { part: { path: target, kind }, temp: null }
    const temp = path.join(this.tmpDir, `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`)
    try {
      const { sha256: digest, bytes } = await writeArchive(tarCreateArgs(target, kind, exclude), temp)
      return { part: { path: target, kind, file, sha256: digest, bytes }, temp }
    } catch (error) {
      await fs.rm(temp, { force: true })
      throw error
    }
  }

  /** Renames the archives in, then meta.json (the commit point); the entry it replaced loses its archives last. */
  private async publish(meta: EntryMeta, staged: StagedPart[]): Promise<void> {
    const keyHash = sha256(meta.key)
    const dir = this.entryDir(meta.version, keyHash)
    await this.withEntryLock(meta.version, keyHash, async assertHeld => {
      await makeDirDurably(dir)
      const previous = await readMeta(dir, meta.key).catch(() => null)
      for (const item of staged) {
        if (item.temp === null || item.part.kind === 'missing') continue
        await fs.rename(item.temp, path.join(dir, item.part.file))
        item.temp = null
      }
      await syncPath(dir)
      assertHeld()
      await writeFileAtomic(path.join(dir, META_FILE), JSON.stringify(meta))
      if (previous) await removeArchives(dir, previous)
    })
  }

  /** meta.json goes first, so a crash midway leaves orphan archives for the sweep, never a half entry. */
  private async removeEntry(entry: StoredEntry): Promise<boolean> {
    const dir = this.entryDir(entry.version, entry.keyHash)
    return this.withEntryLock(entry.version, entry.keyHash, async () => {
      const current = await readMeta(dir, entry.meta.key).catch(() => null)
      // Republished since we chose it: the fresh entry is not the one the policy condemned.
      if (current?.saveId !== entry.meta.saveId) return false
      await fs.rm(path.join(dir, META_FILE))
      await syncPath(dir)
      await removeArchives(dir, current)
      await fs.rmdir(dir).catch(ignoreCode('ENOTEMPTY'))
      return true
    })
  }

  /** Temp files and unreferenced archives older than an hour: what crashed saves and prunes leave. */
  private async sweepOrphans(dryRun: boolean): Promise<Orphan[]> {
    const cutoff = this.clock() - ORPHAN_AGE_MS
    const orphans = await oldFiles(await listDir(this.tmpDir), cutoff)
    if (!dryRun) await Promise.all(orphans.map(orphan => fs.rm(orphan.file, { force: true })))
    for (const { version, keyHash } of await this.entryDirs()) {
      orphans.push(...(await this.sweepEntryDir(version, keyHash, cutoff, dryRun)))
    }
    return orphans
  }

  private async sweepEntryDir(version: string, keyHash: string, cutoff: number, dryRun: boolean): Promise<Orphan[]> {
    const dir = this.entryDir(version, keyHash)
    return this.withEntryLock(version, keyHash, async () => {
      const meta = await readMeta(dir).catch(() => null)
      const referenced = new Set([META_FILE, ...(meta ? archiveFiles(meta) : [])])
      // An unreadable meta.json can never be restored; once old it is an orphan like the rest.
      const unreferenced = (await listDir(dir)).filter(file => !referenced.has(path.basename(file)) || !meta)
      const orphans = await oldFiles(unreferenced, cutoff)
      if (dryRun) return orphans
      await Promise.all(orphans.map(orphan => fs.rm(orphan.file, { force: true })))
      if (!meta) await fs.rmdir(dir).catch(ignoreCode('ENOTEMPTY', 'ENOENT'))
      return orphans
    })
  }

  private async entryDirs(version?: string): Promise<Array<{ version: string; keyHash: string }>> {
    const versions = version ? [version] : await fs.readdir(this.entriesDir).catch(ignoreCode('ENOENT'))
    const dirs: Array<{ version: string; keyHash: string }> = []
    for (const v of versions ?? []) {
      const keyHashes = await fs.readdir(path.join(this.entriesDir, v)).catch(ignoreCode('ENOENT'))
      for (const keyHash of keyHashes ?? []) dirs.push({ version: v, keyHash })
    }
    return dirs
  }

  /** Entries whose meta.json reads; one corrupt entry must not hide the others from lookup or prune. */
  private async storedEntries(version?: string): Promise<StoredEntry[]> {
    const entries: StoredEntry[] = []
    for (const dir of await this.entryDirs(version)) {
      const meta = await readMeta(this.entryDir(dir.version, dir.keyHash)).catch(() => null)
      if (meta) entries.push({ ...dir, meta })
    }
    return entries
  }
}

export interface EntryCheck {
  key: string
  kind?: string
  bytes: number
  /** null when every archive matches its recorded size and SHA-256. */
  problem: string | null
}

async function archivesProblem(dir: string, meta: EntryMeta): Promise<string | null> {
  for (const part of meta.parts) {
    if (part.kind === 'missing') continue
    const handle = await fs.open(path.join(dir, part.file), 'r').catch(() => null)
    if (!handle) return `archive for ${part.path} is missing`
    try {
      // One byte more than recorded, so an archive that grew is caught too.
      const { digests, bytesRead } = await digestFile({ fd: handle.fd }, part.bytes + 1, [{ algorithm: 'sha256' }])
      if (bytesRead !== part.bytes) return `archive for ${part.path} is ${bytesRead} bytes, ${part.bytes} were written`
      if (digests[0] !== part.sha256) return `archive for ${part.path} does not match its SHA-256`
    } finally {
      await handle.close()
    }
  }
  return null
}

/** A verified part waiting in its staging directory to be moved into its target. */
interface StagedRestore {
  staging: string
  restored: string
  target: string
}

interface StagedPart {
  part: StoredPart
  /** The temp file until publish renames it into the entry. */
  temp: string | null
}

type PathKind = 'tree' | 'file' | 'missing'

interface Orphan {
  file: string
  bytes: number
}

/** GitHub's notion too: the same key with another set of paths is another entry. */
function specVersion(spec: ArchiveSpec): string {
  return sha256(JSON.stringify({ format: STORE_FORMAT, paths: spec.paths, exclude: spec.exclude }))
}

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex')
}

function entryBytes(meta: EntryMeta): number {
  return meta.parts.reduce((sum, part) => sum + (part.kind === 'missing' ? 0 : part.bytes), 0)
}

function entryInfo(meta: EntryMeta): EntryInfo {
  return { key: meta.key, kind: meta.kind, version: meta.version, bytes: entryBytes(meta), created: meta.created, lastUsed: meta.lastUsed }
}

function archiveFiles(meta: EntryMeta): string[] {
  return meta.parts.flatMap(part => (part.kind === 'missing' ? [] : [part.file]))
}

function corrupt(key: string, detail: string): Error {
  return new Error(`local cache entry "${key}" is corrupt: ${detail}`)
}

/** Age policy first, then least recently used until the rest fits. */
function chooseEntriesToPrune(entries: StoredEntry[], options: PruneOptions, now: number): StoredEntry[] {
  const byLastUse = [...entries].sort((a, b) => a.meta.lastUsed - b.meta.lastUsed)
  const { maxAgeMs, maxBytes } = options
  const expired = new Set(maxAgeMs === undefined ? [] : byLastUse.filter(entry => now - entry.meta.lastUsed > maxAgeMs))
  const kept = byLastUse.filter(entry => !expired.has(entry))
  let total = kept.reduce((sum, entry) => sum + entryBytes(entry.meta), 0)
  const evicted: StoredEntry[] = []
  for (const entry of kept) {
    if (maxBytes === undefined || total <= maxBytes) break
    evicted.push(entry)
    total -= entryBytes(entry.meta)
  }
  return [...expired, ...evicted]
}

/**
 * The entry's meta.json, null when there is none. The store is writable by other jobs, so
 * everything later used as a file name or extraction plan is checked here.
 */
async function readMeta(dir: string, label = dir): Promise<EntryMeta | null> {
  const file = path.join(dir, META_FILE)
  let meta: EntryMeta | null
  try {
    meta = await readJson<EntryMeta>(file)
  } catch (error) {
    throw corrupt(label, `unreadable ${META_FILE}: ${(error as Error).message}`)
  }
  if (meta === null) return null
  const problem = metaProblem(meta, dir)
  if (problem) throw corrupt(label, problem)
  return meta
}

function metaProblem(meta: EntryMeta, dir: string): string | null {
  if (meta.format !== STORE_FORMAT) return `unknown format ${String(meta.format)}`
  // Lookup by prefix reads key and version from meta.json; they must name the directory it sits in.
  if (typeof meta.key !== 'string' || sha256(meta.key) !== path.basename(dir)) return 'key does not match its directory'
  if (meta.version !== path.basename(path.dirname(dir))) return 'version does not match its directory'
  if (!Number.isFinite(meta.created) || !Number.isFinite(meta.lastUsed)) return 'bad timestamps'
  if (!Array.isArray(meta.parts)) return 'no parts'
  for (const part of meta.parts) {
    if (part.kind === 'missing') continue
    if (part.kind !== 'tree' && part.kind !== 'file') return `unknown part kind ${String(part.kind)}`
    if (!ARCHIVE_NAME.test(part.file)) return `bad archive name ${JSON.stringify(part.file)}`
    if (!/^[0-9a-f]{64}$/.test(part.sha256) || !Number.isSafeInteger(part.bytes)) return `bad digest or size for ${part.file}`
  }
  return null
}

/** The version covers the paths, but meta.json is data from the store: extraction targets come from the spec. */
function checkPartsMatch(meta: EntryMeta, spec: ArchiveSpec): void {
  if (meta.parts.length !== spec.paths.length) throw corrupt(meta.key, `${meta.parts.length} parts for ${spec.paths.length} paths`)
}

async function openArchive(dir: string, part: StoredPart & { kind: 'tree' | 'file' }, key: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(path.join(dir, part.file), 'r')
  } catch (error) {
    throw corrupt(key, `archive for ${part.path} cannot be opened: ${(error as Error).message}`)
  }
}

async function pathKind(target: string): Promise<PathKind> {
  try {
    return (await fs.stat(target)).isDirectory() ? 'tree' : 'file'
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw error
  }
}

/** A directory's members are `./...` relative to it; a file is archived from its parent under its own name. */
function tarCreateArgs(target: string, kind: 'tree' | 'file', exclude: string[]): string[] {
  const [directory, member] = kind === 'tree' ? [target, '.'] : [path.dirname(target), path.basename(target)]
  return [
    '--format=gnu',
    '--use-compress-program=zstd -T0',
    '-cf',
    '-',
    ...exclude.map(pattern => `--exclude=${pattern}`),
    '-C',
    directory,
    member
  ]
}

async function writeArchive(tarArgs: string[], temp: string): Promise<{ sha256: string; bytes: number }> {
  const handle = await fs.open(temp, 'wx', 0o444)
  try {
    const tar = spawn('tar', tarArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: tarEnv() })
    const exited = exitOf(tar, 'tar -c')
    const hash = crypto.createHash('sha256')
    let bytes = 0
    for await (const chunk of tar.stdout as AsyncIterable<Buffer>) {
      hash.update(chunk)
      bytes += chunk.length
      // write() may take less than the whole chunk.
      for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset)).bytesWritten
    }
    await exited
    await handle.sync()
    return { sha256: hash.digest('hex'), bytes }
  } finally {
    await handle.close()
  }
}

/**
 * Extracts into a staging directory beside the target while hashing the same open file. The caller
 * moves the result into place only once every part verified: a corrupt or hostile archive never
 * touches the target, and a failed restore leaves nothing half written. GNU tar (no -P) already
 * refuses absolute names, `..` and writes through symlinks; a warning that it rewrote a name, or any
 * error, refuses the whole archive.
 */
async function extractPart(
  handle: fs.FileHandle | undefined,
  part: StoredPart,
  target: string,
  key: string,
  onProgress: (bytes: number) => void
): Promise<StagedRestore | null> {
  if (part.kind === 'missing' || !handle) return null
  const { size } = await handle.stat()
  if (size !== part.bytes) throw corrupt(key, `archive for ${part.path} is ${size} bytes, ${part.bytes} were written`)
  const staging = await makeStaging(target)
  try {
    const [digest, tarProblem] = await Promise.all([hashHandle(handle, size, onProgress), untar(handle, staging)])
    if (digest !== part.sha256) throw corrupt(key, `archive for ${part.path} does not match its SHA-256`)
    if (tarProblem) throw new Error(`local cache entry "${key}" was not restored into ${target}: refused entry: ${tarProblem}`)
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true })
    throw error
  }
  const restored = part.kind === 'tree' ? staging : path.join(staging, path.basename(target))
  return { staging, restored, target }
}

/** Beside the target, so moving the result into place is a rename on the same filesystem. */
async function makeStaging(target: string): Promise<string> {
  await fs.mkdir(path.dirname(target), { recursive: true })
  return fs.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.qdc-restore-`))
}

/** Positioned reads leave the descriptor's offset at 0 for tar, which reads the same inode through stdin. */
async function hashHandle(handle: fs.FileHandle, size: number, onProgress: (bytes: number) => void): Promise<string> {
  const { digests } = await digestFile({ fd: handle.fd }, size, [{ algorithm: 'sha256' }], onProgress)
  return digests[0]
}

/** GNU tar's warnings that it rewrote or skipped a name that pointed outside the directory. */
const ESCAPE_WARNINGS = /Removing leading|contains '\.\.'|Skipping to next header|Cannot (open|hard link|create)/

/** null when tar extracted everything as archived, else what it complained about. */
async function untar(handle: fs.FileHandle, directory: string): Promise<string | null> {
  // -p: modes exactly as saved rather than filtered through the job's umask.
  const args = ['--use-compress-program=zstd', '--warning=no-timestamp', '--warning=no-unknown-keyword', '-xpf', '-', '-C', directory]
  const tar = spawn('tar', args, { stdio: [handle.fd, 'ignore', 'pipe'], env: tarEnv() })
  let stderr = ''
  tar.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
  const code = await new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject)
    tar.once('close', resolve)
  })
  const complaint = stderr.split('\n').find(line => ESCAPE_WARNINGS.test(line)) ?? stderr.trim().split('\n')[0]
  if (code !== 0) return complaint || `tar exited with ${code}`
  return ESCAPE_WARNINGS.test(stderr) ? complaint : null
}

/**
 * Renames what was extracted into the target, merging with what is already there: same-named
 * files are replaced (atomically, one rename each), directories merged, and anything on disk that is
 * not a directory (a symlink included) is replaced rather than followed.
 */
async function moveIntoPlace(source: string, target: string): Promise<void> {
  const existing = await fs.lstat(target).catch(ignoreCode('ENOENT'))
  const incoming = await fs.lstat(source)
  if (existing?.isDirectory() && incoming.isDirectory()) {
    for (const name of await fs.readdir(source)) await moveIntoPlace(path.join(source, name), path.join(target, name))
    return
  }
  // rename() replaces a file or symlink atomically, but neither puts a directory over a non-directory
  // nor the other way round; fs.rm on a symlink removes the link, never what it points to.
  if (existing && (existing.isDirectory() || incoming.isDirectory())) await fs.rm(target, { recursive: true, force: true })
  await fs.rename(source, target)
}

/** A user's TAR_OPTIONS (say, --absolute-names) would change what our archives mean. */
function tarEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.TAR_OPTIONS
  return env
}

function exitOf(child: ChildProcess, what: string): Promise<void> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000)
  })
  return handled(
    new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => {
        if (code === 0) resolve()
        else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`))
      })
    })
  )
}

/** An exit can fail while the caller still streams; it awaits the promise later, so no unhandled rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined)
  return promise
}

async function makeDirDurably(dir: string): Promise<void> {
  const firstCreated = await fs.mkdir(dir, { recursive: true })
  if (firstCreated === undefined) return
  for (let created = dir; created.length >= firstCreated.length; created = path.dirname(created)) {
    await syncPath(path.dirname(created))
  }
}

async function removeArchives(dir: string, meta: EntryMeta): Promise<void> {
  await Promise.all(archiveFiles(meta).map(file => fs.rm(path.join(dir, file), { force: true })))
}

async function listDir(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(ignoreCode('ENOENT'))
  return (names ?? []).map(name => path.join(dir, name))
}

async function oldFiles(files: string[], cutoff: number): Promise<Orphan[]> {
  const orphans: Orphan[] = []
  for (const file of files) {
    const stat = await fs.lstat(file).catch(ignoreCode('ENOENT'))
    if (stat?.isFile() && stat.mtimeMs < cutoff) orphans.push({ file, bytes: stat.size })
  }
  return orphans
}

function ignoreCode(...codes: string[]): (error: NodeJS.ErrnoException) => undefined {
  return error => {
    if (!codes.includes(error.code ?? '')) throw error
    return undefined
  }
}

/**
 * Runs work holding a proper-lockfile lock; a holder that died leaves a lock that goes stale
 * (its mtime stops being refreshed) and is taken over. Losing the lock midway makes
 * assertHeld throw, so the caller does not commit under someone else's feet.
 */
async function withLock<T>(lockPath: string, work: (assertHeld: () => void) => Promise<T>): Promise<T> {
  let lost: Error | undefined
  const release = await lockfile.lock(lockPath, {
    realpath: false,
    retries: LOCK_RETRIES,
    onCompromised: error => {
      lost = error
    }
  })
  try {
    return await work(() => {
      if (lost) throw new Error(`lost the lock ${lockPath}: ${lost.message}`)
    })
  } finally {
    // A compromised lock counts as released already; releasing again would only throw.
    if (!lost) await release()
  }
}
