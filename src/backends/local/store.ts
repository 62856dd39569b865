import * as crypto from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { LedgerEntry } from '../../ledger.js'
import { formatBytes } from '../../report/format.js'
import { readJson, syncPath, writeFileAtomic } from '../../util/atomic.js'
import { stringifyError } from '../../util/errors.js'
import { digestFile } from '../../util/hash-pool.js'
import { progressIntervalMs, progressLog } from '../../util/progress.js'
import {
  CorruptArchiveError,
  extractToStaging,
  ignoreCode,
  moveIntoPlace,
  type PathKind,
  pathKind,
  type StagedRestore,
  tarCreateArgs,
  writeArchive
} from '../archive.js'
import {
  type ArchivePart,
  type ArchiveSpec,
  type CacheBackend,
  type DocumentStore,
  type Miss,
  missed,
  type RestoreResult,
  type SaveResult
} from '../backend.js'
import {
  archiveFileName,
  archiveFiles,
  entryBytes,
  type EntryCheck,
  type EntryInfo,
  entryInfo,
  type EntryMeta,
  identityOf,
  isKeyOrRevision,
  lookUpEntry,
  metaProblem,
  newEntryMeta,
  newSaveId,
  otherIdentityNote,
  sha256,
  STORE_FORMAT,
  type StoredPart,
  versionOf
} from '../entry-meta.js'
import { isReadOnlyError, withLock } from '../locks.js'
import type { ManagedStore } from '../managed.js'
import { appendHistory } from './history.js'
import { type PruneOptions, type PruneResult, pruneStore } from './prune.js'

/*
 * Store layout (everything on one filesystem, so every publish is a rename):
 *
 *   <root>/entries/<version>/<sha256(key)>/meta.json            the commit point of an entry
 *   <root>/entries/<version>/<sha256(key)>/<saveId>-<i>.tar.zst  one archive per part (archive.ts)
 *   <root>/tmp/                                                 archives being written
 *   <root>/locks/                                               proper-lockfile lock directories
 *
 * The version is the hash of the entry's identity (entry-meta.ts), which names no machine. Archive names
 * carry the save's random id, so a new save never overwrites an archive the current meta.json refers to;
 * the meta.json rename switches entries. Directories the store creates take the root's permission bits, so
 * a root made group-writable (setgid) for several runner users stays usable by all of them.
 */

const META_FILE = 'meta.json'
/** A save in flight keeps its temp file fresh; anything this old was left by a crash. */
const ORPHAN_AGE_MS = 60 * 60 * 1000

export type { EntryCheck, EntryInfo } from '../entry-meta.js'

export interface LocalStoreOptions {
  /** Where progress lines of long restores and the upkeep's lines go (the action's log). */
  log?: (line: string) => void
  /** What `maintain` prunes to after a job's saves. */
  pruning?: PruneOptions
}

interface StoredEntry {
  /** Names the entry's directory and its lock. */
  version: string
  keyHash: string
  meta: EntryMeta
}

interface StagedPart {
  part: StoredPart
  /** The temp file until publish renames it into the entry. */
  temp: string | null
}

export interface Orphan {
  file: string
  bytes: number
}

/** A directory store for self-hosted runners: entries addressed like GitHub's cache, never the network. */
export class LocalStore implements CacheBackend, ManagedStore {
  readonly name = 'local' as const
  readonly restoresInPlace = false
  private readonly root: string
  private readonly clock: () => number
  private readonly log: (line: string) => void
  private readonly pruning: PruneOptions
  private rootMode: number | undefined

  constructor(root: string, clock: () => number = Date.now, options: LocalStoreOptions = {}) {
    this.root = root
    this.clock = clock
    this.log = options.log ?? (() => undefined)
    this.pruning = options.pruning ?? {}
  }

  get label(): string {
    return this.root
  }

  async restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | Miss> {
    const identity = identityOf(spec)
    const version = versionOf(identity)
    const found = await this.lookup(version, key, restoreKeys)
    if (!found) return missed(await this.otherIdentity(identity, key))
    const opened = await this.openEntry(version, found.key)
    // Pruned between lookup and open: as good as a miss.
    if (!opened) return missed()
    const { meta, handles } = opened
    const staged: StagedRestore[] = []
    try {
      // The version covers the identity, but meta.json is data from the store: targets come from the spec.
      if (meta.format !== STORE_FORMAT || meta.parts.length !== spec.parts.length)
        throw corrupt(meta.key, `it does not describe ${spec.parts.length} part(s) in format ${STORE_FORMAT}`)
      // Every part is extracted (and so verified) into staging before any is moved in: an entry restores whole or not at all.
      for (const [index, part] of meta.parts.entries()) {
        const target = spec.parts[index]
        const progress = progressLog(`Restoring ${target.name}`, part.kind === 'missing' ? 0 : part.bytes, this.log)
        const stage = await extractPart(handles[index], part, target, meta.key, progress)
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
    const kinds = await Promise.all(spec.parts.map(part => pathKind(part.path)))
    if (kinds.every(kind => kind === 'missing')) {
      throw new Error(`nothing to save: none of these paths exists: ${spec.parts.map(part => part.path).join(', ')}`)
    }
    await this.makeDir(this.tmpDir)
    const saveId = newSaveId()
    const staged: StagedPart[] = []
    try {
      for (const [index, part] of spec.parts.entries()) {
        staged.push(await this.stagePart(part, kinds[index], spec.exclude, archiveFileName(saveId, index)))
      }
      const meta = newEntryMeta(
        spec,
        key,
        saveId,
        staged.map(({ part }) => part),
        this.clock()
      )
      await this.publish(meta, staged)
      return { archiveBytes: entryBytes(meta) }
    } finally {
      // Published temps were renamed away; these are the ones a failure left behind.
      await Promise.all(staged.flatMap(({ temp }) => (temp === null ? [] : [fs.rm(temp, { force: true })])))
    }
  }

  /** Every readable entry, most recently used first. */
  async listEntries(): Promise<EntryInfo[]> {
    const entries = await this.storedEntries()
    return entries.map(({ meta }) => entryInfo(meta)).sort((a, b) => b.lastUsed - a.lastUsed)
  }

  /**
   * Drops what was unused for longer than maxAgeMs, then the least recently used until the store fits
   * maxBytes: archive entries and in-place files alike (prune.ts).
   */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    return pruneStore(this, this.root, options, this.clock())
  }

  /** After a job's saves: prune to the configured limits and record the run's hits. A failure is a warning. */
  async maintain(entries: LedgerEntry[]): Promise<void> {
    await core.group('Prune local store', async () => {
      try {
        const pruned = await this.prune(this.pruning)
        const files = pruned.files.length > 0 ? ` and ${pruned.files.length} in-place file(s)` : ''
        this.log(`Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}${files}, ${formatBytes(pruned.bytes)}`)
        if (pruned.busyKinds.length > 0) this.log(`In use by another job, not pruned: ${pruned.busyKinds.join(', ')}`)
      } catch (error) {
        core.warning(`Pruning the local store failed: ${stringifyError(error)}`)
      }
    })
    await appendHistory(this.root, entries).catch(error =>
      core.warning(`Could not append to the store's run history: ${stringifyError(error)}`)
    )
  }

  /** Documents are files beside the entries: one per key, replaced atomically (the run history is a few KB). */
  readonly documents: DocumentStore = {
    read: async key => ((await readJson<{ key: string; document: unknown }>(this.documentFile(key))) ?? { document: null }).document,
    write: async (key, document) => {
      await this.makeDir(this.documentsDir)
      await writeFileAtomic(this.documentFile(key), JSON.stringify({ key, document }))
    }
  }

  /** Documents nobody wrote for longer than maxAgeMs: the history of a branch that is gone. */
  async sweepDocuments(maxAgeMs: number | undefined, dryRun: boolean): Promise<Orphan[]> {
    if (maxAgeMs === undefined) return []
    const stale = await oldFiles(await listDir(this.documentsDir), this.clock() - maxAgeMs)
    if (!dryRun) await Promise.all(stale.map(file => fs.rm(file.file, { force: true })))
    return stale
  }

  private get documentsDir(): string {
    return path.join(this.root, 'documents')
  }

  private documentFile(key: string): string {
    return path.join(this.documentsDir, `${sha256(key)}.json`)
  }

  /** Runs work holding the store-wide prune lock, so two prunes never race each other. */
  async withPruneLock<T>(work: () => Promise<T>): Promise<T> {
    await this.makeDir(this.locksDir)
    return withLock(path.join(this.locksDir, 'prune'), work)
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
    await this.makeDir(this.locksDir)
    return withLock(path.join(this.locksDir, `${version}-${keyHash}`), work)
  }

  /**
   * mkdir -p, giving every directory it creates the root's permission bits and fsyncing each new entry
   * into its parent. The root itself is created with the process's defaults.
   */
  private async makeDir(dir: string): Promise<void> {
    if (this.rootMode === undefined) {
      await fs.mkdir(this.root, { recursive: true })
      this.rootMode = (await fs.stat(this.root)).mode & 0o7777
    }
    const firstCreated = await fs.mkdir(dir, { recursive: true })
    if (firstCreated === undefined) return
    for (let created = dir; created.length >= firstCreated.length; created = path.dirname(created)) {
      await fs.chmod(created, this.rootMode)
      await syncPath(path.dirname(created))
    }
  }

  /** GitHub's rule (lookUpEntry); the entries of the version are read once, for all the restore keys. */
  private async lookup(version: string, key: string, restoreKeys: string[]): Promise<EntryMeta | undefined> {
    let candidates: Promise<EntryMeta[]> | undefined
    return lookUpEntry(
      key,
      restoreKeys,
      exact => readMeta(this.entryDir(version, sha256(exact)), exact),
      async prefix => {
        candidates ??= this.storedEntries(version).then(entries => entries.map(({ meta }) => meta))
        const matches = (await candidates).filter(meta => meta.key.startsWith(prefix))
        return matches.length > 0 ? newest(matches) : undefined
      }
    )
  }

  /**
   * After a miss: the newest entry of this key (or one of its revisions) stored under another version,
   * and what of its identity differs from the one looked for.
   */
  private async otherIdentity(wanted: ReturnType<typeof identityOf>, key: string): Promise<string | null> {
    const version = versionOf(wanted)
    const others = (await this.storedEntries()).filter(({ meta }) => meta.version !== version && isKeyOrRevision(meta.key, key))
    return otherIdentityNote(
      others.map(({ meta }) => meta),
      wanted
    )
  }

  /**
   * Reads meta.json and opens every archive under the entry lock: a concurrent publish or prune
   * may unlink the names afterwards, but open descriptors keep the inodes we are about to verify.
   * A store this user cannot write (another user's, or read-only) is read without the lock.
   */
  private async openEntry(version: string, key: string): Promise<{ meta: EntryMeta; handles: fs.FileHandle[] } | undefined> {
    const keyHash = sha256(key)
    const dir = this.entryDir(version, keyHash)
    const open = async () => {
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
    }
    try {
      return await this.withEntryLock(version, keyHash, open)
    } catch (error) {
      if (isReadOnlyError(error)) return open()
      throw error
    }
  }

  /** Best effort: a store this user may only read still restores, it just does not record the use. */
  private async markUsed(version: string, restored: EntryMeta): Promise<void> {
    const keyHash = sha256(restored.key)
    const dir = this.entryDir(version, keyHash)
    try {
      await this.withEntryLock(version, keyHash, async () => {
        const current = await readMeta(dir, restored.key)
        // A save replaced the entry while we extracted: its own lastUsed is newer anyway.
        if (current?.saveId !== restored.saveId) return
        await writeFileAtomic(path.join(dir, META_FILE), JSON.stringify({ ...current, lastUsed: this.clock() }))
      })
    } catch (error) {
      if (!isReadOnlyError(error)) throw error
      this.log(`Could not record the use of ${restored.key} (the store is not writable by this user): ${(error as Error).message}`)
    }
  }

  /** Archives one part into a temp file in the store, hashing the bytes on their way to disk. */
  private async stagePart(part: ArchivePart, kind: PathKind, exclude: string[], file: string): Promise<StagedPart> {
    if (kind === 'missing') return { part: { name: part.name, kind }, temp: null }
    const temp = path.join(this.tmpDir, `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`)
    try {
      const { sha256: digest, bytes } = await writeArchive(tarCreateArgs(part.path, kind, exclude), temp)
      return { part: { name: part.name, kind, file, sha256: digest, bytes }, temp }
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
      await this.makeDir(dir)
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
  async sweepOrphans(dryRun: boolean): Promise<Orphan[]> {
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

async function archivesProblem(dir: string, meta: EntryMeta): Promise<string | null> {
  for (const part of meta.parts) {
    if (part.kind === 'missing') continue
    const handle = await fs.open(path.join(dir, part.file), 'r').catch(() => null)
    if (!handle) return `archive for ${part.name} is missing`
    try {
      // One byte more than recorded, so an archive that grew is caught too.
      const { digests, bytesRead } = await digestFile({ fd: handle.fd }, part.bytes + 1, [{ algorithm: 'sha256' }])
      if (bytesRead !== part.bytes) return `archive for ${part.name} is ${bytesRead} bytes, ${part.bytes} were written`
      if (digests[0] !== part.sha256) return `archive for ${part.name} does not match its SHA-256`
    } finally {
      await handle.close()
    }
  }
  return null
}

function newest(metas: EntryMeta[]): EntryMeta {
  return metas.reduce((latest, meta) => (meta.created > latest.created ? meta : latest))
}

function corrupt(key: string, detail: string): Error {
  return new Error(`local cache entry "${key}" is corrupt: ${detail}`)
}

/**
 * The entry's meta.json, null when there is none. The store is writable by other jobs, so
 * everything later used as a file name or extraction plan is checked (entry-meta.ts). Format 1 parts,
 * named by the absolute path they were saved from, are read under that name.
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
  const problem = metaProblem(meta, path.basename(dir), path.basename(path.dirname(dir)))
  if (problem) throw corrupt(label, problem)
  if (meta.format === 1) meta.parts = meta.parts.map(part => ({ ...part, name: part.name ?? (part as { path?: string }).path ?? '?' }))
  return meta
}

async function openArchive(dir: string, part: StoredPart & { kind: 'tree' | 'file' }, key: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(path.join(dir, part.file), 'r')
  } catch (error) {
    throw corrupt(key, `archive for ${part.name} cannot be opened: ${(error as Error).message}`)
  }
}

/**
 * Extracts one part into staging; the caller moves the result into place only once every part extracted.
 * Nothing hashes the archive on the way: zstd checks the content against the frame's checksum as it
 * decompresses (archive.ts), so a flipped byte or a cut-off archive fails the extraction and never
 * touches the target, and the size recorded at save catches an archive that was cut or grew. An archive
 * whose frame carries no checksum (not one qdc wrote) is checked against its SHA-256 first, as before.
 * The SHA-256 stays for `qdc verify`, which reads the archives without extracting them.
 */
async function extractPart(
  handle: fs.FileHandle | undefined,
  part: StoredPart,
  target: ArchivePart,
  key: string,
  onProgress: (bytes: number) => void
): Promise<StagedRestore | null> {
  if (part.kind === 'missing' || !handle) return null
  const { size } = await handle.stat()
  if (size !== part.bytes) throw corrupt(key, `archive for ${part.name} is ${size} bytes, ${part.bytes} were written`)
  if (!(await hasContentChecksum(handle))) await checkSha256(handle, part, key)
  const following = followReads(handle.fd, onProgress)
  try {
    return await extractToStaging(handle.fd, part.kind, target.path)
  } catch (error) {
    if (error instanceof CorruptArchiveError) throw corrupt(key, `archive for ${part.name} ${error.message}`)
    throw new Error(`local cache entry "${key}" was not restored into ${target.path}: ${(error as Error).message}`, { cause: error })
  } finally {
    following.stop()
  }
}

/** zstd's frame magic number, little-endian, then the frame header descriptor; bit 2: content checksum. */
const ZSTD_MAGIC = 0xfd2fb528
const CONTENT_CHECKSUM_FLAG = 0b100

/** True when the archive's first zstd frame carries a checksum of its content. Reads at offset 0 without moving it. */
async function hasContentChecksum(handle: fs.FileHandle): Promise<boolean> {
  const header = Buffer.alloc(5)
  const { bytesRead } = await handle.read(header, 0, header.length, 0)
  return bytesRead === header.length && header.readUInt32LE(0) === ZSTD_MAGIC && (header[4] & CONTENT_CHECKSUM_FLAG) !== 0
}

async function checkSha256(handle: fs.FileHandle, part: StoredPart & { kind: 'tree' | 'file' }, key: string): Promise<void> {
  // Positioned reads leave the descriptor's offset at 0 for zstd, which reads the same open file.
  const { digests } = await digestFile({ fd: handle.fd }, part.bytes, [{ algorithm: 'sha256' }])
  if (digests[0] !== part.sha256) throw corrupt(key, `archive for ${part.name} does not match its SHA-256`)
}

/**
 * Reports how far zstd has read the archive: it reads through a copy of our descriptor, which shares the
 * file offset, and Linux shows that offset in /proc/self/fdinfo. Elsewhere there is simply no progress.
 */
function followReads(fd: number, onProgress: (bytes: number) => void): { stop: () => void } {
  let reported = 0
  const timer = setInterval(
    () => {
      const position = fileOffset(fd)
      if (position === null || position <= reported) return
      onProgress(position - reported)
      reported = position
    },
    Math.min(progressIntervalMs(), 1000)
  )
  timer.unref()
  return { stop: () => clearInterval(timer) }
}

function fileOffset(fd: number): number | null {
  try {
    const match = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
    return match ? Number(match[1]) : null
  } catch {
    return null
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
