import * as fs from 'node:fs/promises'
import * as core from '@actions/core'
import type { S3Client } from '@aws-sdk/client-s3'
import { describeS3Store, type S3Settings } from '../../config/s3.js'
import type { LedgerEntry } from '../../ledger.js'
import { formatBytes } from '../../report/format.js'
import { stringifyError } from '../../util/errors.js'
import { forEachLimited } from '../../util/limit.js'
import { progressLog } from '../../util/progress.js'
import {
  ArchiveMismatch,
  ExtractionFailed,
  extractVerified,
  moveIntoPlace,
  type PathKind,
  pathKind,
  type StagedRestore,
  tarCreateArgs,
  tarOutput
} from '../archive.js'
import {
  type ArchivePart,
  type ArchiveSpec,
  type CacheBackend,
  type DocumentStore,
  type Miss,
  missed,
  ReadOnlyStoreError,
  type RestoreResult,
  type SaveResult
} from '../backend.js'
import {
  archiveFileName,
  archiveFiles,
  entryBytes,
  type EntryCheck,
  type EntryIdentity,
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
import { chooseToPrune, type PruneOptions, type PruneResult } from '../local/prune.js'
import type { ManagedStore } from '../managed.js'
import { Bucket, type ListedObject, SMALL_CALLS } from './bucket.js'
import { digestChunks, objectChunks, type RangePlan, verifiedObjectStream } from './download.js'
import { faultKind, faultOf, reasonOf, S3Fault } from './faults.js'
import { type EntryName, S3Layout } from './layout.js'
import { type PartPlan, uploadArchive } from './upload.js'

/*
 * The fleet store: entries in an S3-compatible bucket, with the local store's semantics (layout.ts has the
 * object names). Lookup is GitHub's rule over a listing; a save uploads its archives under names no other
 * save uses and then creates the manifest with If-None-Match: *, the commit point; the manifest is read
 * back, so a save knows whether its entry is the one that stands also on a server that ignores the
 * condition. Every archive's SHA-256 and size are in the manifest and checked while it downloads.
 */

const MiB = 1024 * 1024
const DEFAULT_PARTS: PartPlan = { partSize: 16 * MiB, queueSize: 4 }
const DEFAULT_RANGES: RangePlan = { rangeSize: 16 * MiB, concurrency: 4 }
/** An object no manifest refers to and this old was left by a crashed save (or a loser of a race): swept. */
const ORPHAN_AGE_MS = 60 * 60 * 1000
/** A multipart upload still open after this long belongs to no running save: aborted. */
const STALE_UPLOAD_AGE_MS = 24 * 60 * 60 * 1000

export interface S3StoreOptions {
  /** Where progress lines and the upkeep's lines go (the action's log). */
  log?: (line: string) => void
  /** Masks a secret before anything can log it: core.setSecret in the action; `qdc` logs none. */
  mask?: (secret: string) => void
  clock?: () => number
  parts?: PartPlan
  ranges?: RangePlan
}

interface Candidate extends EntryName {
  modified: number
}

interface StoredEntry {
  meta: EntryMeta
  /** The later of its save and its last restore (the `used/` marker). */
  lastUsed: number
}

interface StoredEntries {
  entries: StoredEntry[]
  /** Manifests that do not read: reported by verify, swept by prune once old. */
  unreadable: Array<{ object: ListedObject; name: EntryName; problem: string }>
}

export class S3Store implements CacheBackend, ManagedStore {
  readonly name = 's3' as const
  readonly restoresInPlace = false
  readonly label: string
  readonly layout: S3Layout
  private readonly settings: S3Settings
  private readonly log: (line: string) => void
  private readonly bucket: Bucket
  private readonly clock: () => number
  private readonly parts: PartPlan
  private readonly ranges: RangePlan
  /** Why writes are refused, once a write got 403: later saves say so without trying. */
  private writeRefusal: string | null = null

  constructor(settings: S3Settings, options: S3StoreOptions = {}) {
    this.settings = settings
    this.label = describeS3Store(settings)
    this.layout = new S3Layout(settings.prefix)
    this.log = options.log ?? (() => undefined)
    this.bucket = new Bucket(settings, options.mask ?? (() => undefined))
    this.clock = options.clock ?? Date.now
    this.parts = options.parts ?? DEFAULT_PARTS
    this.ranges = options.ranges ?? DEFAULT_RANGES
  }

  /** The SDK client this store built from its settings (tests watch its requests). */
  client(): Promise<S3Client> {
    return this.bucket.client()
  }

  /** Lets the process exit: the client's keep-alive sockets would hold it. */
  close(): Promise<void> {
    return this.bucket.close()
  }

  async restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | Miss> {
    return this.named(async () => {
      const identity = identityOf(spec)
      const version = versionOf(identity)
      const found = await lookUpEntry(
        key,
        restoreKeys,
        exact => this.readManifest(exact, version),
        prefix => this.newestStartingWith(prefix, version)
      )
      if (!found) return missed(await this.otherIdentity(identity, key))
      // The version covers the identity, but the manifest is data from the bucket: targets come from the spec.
      if (found.format !== STORE_FORMAT || found.parts.length !== spec.parts.length)
        throw corrupt(found.key, `it does not describe ${spec.parts.length} part(s) in format ${STORE_FORMAT}`)
      const started = performance.now()
      const staged: StagedRestore[] = []
      try {
        // Every part is downloaded, verified and staged before any is moved in: an entry restores whole or not at all.
        for (const [index, part] of found.parts.entries()) {
          const stage = await this.restorePart(found, part, spec.parts[index])
          if (stage) staged.push(stage)
        }
        for (const { restored, target } of staged) await moveIntoPlace(restored, target)
      } finally {
        await Promise.all(staged.map(({ staging }) => fs.rm(staging, { recursive: true, force: true })))
      }
      const transferMs = performance.now() - started
      await this.markUsed(found)
      return { matchedKey: found.key, archiveBytes: entryBytes(found), transferMs }
    })
  }

  async save(spec: ArchiveSpec, key: string): Promise<SaveResult> {
    if (this.writeRefusal) throw new ReadOnlyStoreError(this.writeRefusal, false)
    const tooLong = this.layout.keyProblem(key)
    if (tooLong) throw new Error(`${this.label}: cannot save ${key}: ${tooLong}`)
    const kinds = await Promise.all(spec.parts.map(part => pathKind(part.path)))
    if (kinds.every(kind => kind === 'missing')) {
      throw new Error(`nothing to save: none of these paths exists: ${spec.parts.map(part => part.path).join(', ')}`)
    }
    return this.named(async () => {
      const version = versionOf(identityOf(spec))
      // Entries are immutable: one that another job (or an earlier attempt of this one) published stands.
      if (await this.bucket.exists(this.layout.manifest(key, version), `looking for ${key}`)) {
        this.log(`${key} is in the store already (another job saved it); entries are never replaced.`)
        return { archiveBytes: 0 }
      }
      const saveId = newSaveId()
      const uploaded: string[] = []
      const started = performance.now()
      try {
        const parts: StoredPart[] = []
        for (const [index, part] of spec.parts.entries()) {
          parts.push(await this.savePart(part, kinds[index], spec.exclude, key, version, archiveFileName(saveId, index), uploaded))
        }
        const meta = newEntryMeta(spec, key, saveId, parts, this.clock())
        const transferMs = performance.now() - started
        if (!(await this.publish(meta))) {
          await this.bucket.removeObjects(uploaded)
          this.log(`Another job published ${key} at the same time; its entry stands, this save's archives were removed.`)
        }
        return { archiveBytes: entryBytes(meta), transferMs }
      } catch (error) {
        // Nothing half-written stays: no manifest was created, and the archives go (an unreachable server
        // leaves them to the orphan sweep).
        await this.bucket.removeObjects(uploaded).catch(() => undefined)
        throw this.refusedWrite(error) ?? error
      }
    })
  }

  /** After a job's saves: prune to s3-max-age and s3-max-size when either is set. Never throws. */
  async maintain(_entries: LedgerEntry[]): Promise<void> {
    const { maxAgeMs, maxBytes } = this.settings
    if (maxAgeMs === null && maxBytes === null) return
    await core.group('Prune s3 store', async () => {
      if (this.writeRefusal) return this.log('Not pruning: these credentials are read-only.')
      try {
        const pruned = await this.prune({ maxAgeMs: maxAgeMs ?? undefined, maxBytes: maxBytes ?? undefined })
        const orphans = pruned.orphans.length > 0 ? ` and ${pruned.orphans.length} leftover object(s) of crashed saves` : ''
        this.log(
          `Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}${orphans}, ${formatBytes(pruned.bytes)}; ${formatBytes(pruned.remainingBytes)} remain`
        )
      } catch (error) {
        core.warning(`Pruning the S3 store failed: ${stringifyError(error)}`)
      }
    })
  }

  /** Documents are objects of their own beside the entries, one per key, replaced whole (the run history is a few KB). */
  readonly documents: DocumentStore = {
    read: key =>
      this.named(async () => {
        const text = await this.bucket.getText(this.layout.document(key), `reading the document ${key}`)
        return text === null ? null : (JSON.parse(text) as { document: unknown }).document
      }),
    write: (key, document) =>
      this.named(() => this.bucket.put(this.layout.document(key), JSON.stringify({ key, document }), `writing the document ${key}`))
  }

  async listEntries(): Promise<EntryInfo[]> {
    return this.named(async () => {
      const { entries } = await this.storedEntries()
      return entries.map(infoOf).sort((a, b) => b.lastUsed - a.lastUsed)
    })
  }

  /** The local store's policy (chooseToPrune) over the bucket's entries, then the leftovers of crashed saves. */
  async prune(options: PruneOptions = {}): Promise<PruneResult> {
    return this.named(async () => {
      const stored = await this.storedEntries()
      const items = stored.entries.map(entry => ({ lastUsed: entry.lastUsed, bytes: entryBytes(entry.meta), entry }))
      const doomed = chooseToPrune(items, options, this.clock())
      const removed: EntryInfo[] = []
      for (const { entry } of doomed) if (options.dryRun || (await this.removeEntry(entry))) removed.push(infoOf(entry))
      const orphans = [
        ...(await this.sweepOrphans(options.dryRun ?? false, stored)),
        ...(await this.sweepDocuments(options.maxAgeMs, options.dryRun ?? false))
      ]
      const freed = removed.reduce((sum, entry) => sum + entry.bytes, 0)
      return {
        entries: removed,
        files: [],
        orphans: orphans.map(orphan => orphan.name),
        bytes: freed + orphans.reduce((sum, orphan) => sum + orphan.size, 0),
        busyKinds: [],
        remainingBytes: items.reduce((sum, item) => sum + item.bytes, 0) - freed
      }
    })
  }

  async removeEntries(chosen: (entry: EntryInfo) => boolean): Promise<EntryInfo[]> {
    return this.named(async () => {
      const removed: EntryInfo[] = []
      for (const entry of (await this.storedEntries()).entries) {
        if (chosen(infoOf(entry)) && (await this.removeEntry(entry))) removed.push(infoOf(entry))
      }
      return removed
    })
  }

  /** Downloads and re-hashes the archives of the entries `wanted` picks; a manifest that does not read is reported by its name. */
  async verifyEntries(wanted: (entry: { key: string; kind?: string }) => boolean = () => true): Promise<EntryCheck[]> {
    return this.named(async () => {
      const { entries, unreadable } = await this.storedEntries()
      const checks: EntryCheck[] = unreadable
        .filter(bad => wanted({ key: bad.object.name }))
        .map(bad => ({ key: bad.object.name, bytes: 0, problem: bad.problem }))
      for (const { meta } of entries) {
        if (wanted(meta))
          checks.push({ key: meta.key, kind: meta.kind, bytes: entryBytes(meta), problem: await this.archivesProblem(meta) })
      }
      return checks
    })
  }

  /** Removes what verifyEntries found corrupt: every version of the key, or the manifest named. */
  async removeCorrupt(check: EntryCheck): Promise<void> {
    await this.named(async () => {
      const named = this.layout.parseManifest(check.key)
      const targets: EntryName[] = named ? [named] : []
      if (!named) {
        for await (const object of this.bucket.list(this.layout.manifestsStartingWith(check.key))) {
          const entry = this.layout.parseManifest(object.name)
          if (entry?.key === check.key) targets.push(entry)
        }
      }
      for (const target of targets) await this.removeEntryObjects(target)
    })
  }

  // ---- restore ----

  /**
   * The manifest of `key` in `version`, null when there is none. The bucket is written by other jobs, so
   * everything later used as an object name or an extraction plan is checked (entry-meta.ts).
   */
  private async readManifest(key: string, version: string): Promise<EntryMeta | null> {
    const text = await this.bucket.getText(this.layout.manifest(key, version), `reading the manifest of ${key}`)
    if (text === null) return null
    let meta: EntryMeta
    try {
      meta = JSON.parse(text) as EntryMeta
    } catch (error) {
      throw corrupt(key, `unreadable manifest: ${(error as Error).message}`)
    }
    const problem = metaProblem(meta, sha256(key), version)
    if (problem) throw corrupt(key, problem)
    return meta
  }

  /**
   * The newest entry of `version` whose key starts with `prefix`: the server lists exactly those (layout.ts),
   * every page of them. Newest by the server's LastModified (one clock for every host); a tie is settled by
   * the manifests' own creation times. One corrupt manifest does not hide the others.
   */
  private async newestStartingWith(prefix: string, version: string): Promise<EntryMeta | undefined> {
    const candidates: Candidate[] = []
    for await (const object of this.bucket.list(this.layout.manifestsStartingWith(prefix))) {
      const entry = this.layout.parseManifest(object.name)
      if (entry && entry.version === version && entry.key.startsWith(prefix)) candidates.push({ ...entry, modified: object.modified })
    }
    candidates.sort((a, b) => b.modified - a.modified)
    while (candidates.length > 0) {
      const tied = candidates.splice(0, candidates.filter(candidate => candidate.modified === candidates[0].modified).length)
      const metas = await Promise.all(
        tied.map(candidate =>
          this.readManifest(candidate.key, version).catch((error: Error) => (this.log(`Skipped: ${error.message}`), null))
        )
      )
      const readable = metas.filter(meta => meta !== null)
      if (readable.length > 0) return readable.reduce((latest, meta) => (meta.created > latest.created ? meta : latest))
    }
    return undefined
  }

  /** After a miss: whether the key (or a revision) is in the bucket under another identity, and what differs. */
  private async otherIdentity(wanted: EntryIdentity, key: string): Promise<string | null> {
    const version = versionOf(wanted)
    try {
      const others: Candidate[] = []
      for await (const object of this.bucket.list(this.layout.manifestsStartingWith(key))) {
        const entry = this.layout.parseManifest(object.name)
        if (entry && entry.version !== version && isKeyOrRevision(entry.key, key)) others.push({ ...entry, modified: object.modified })
      }
      const newest = others.sort((a, b) => b.modified - a.modified)[0]
      const meta = newest ? await this.readManifest(newest.key, newest.version) : null
      return otherIdentityNote(meta ? [meta] : [], wanted)
    } catch {
      // Only an explanation: the miss stands without it.
      return null
    }
  }

  /** Downloads one part's archive into staging, hashing it as it streams (archive.ts extractVerified). */
  private async restorePart(meta: EntryMeta, part: StoredPart, target: ArchivePart): Promise<StagedRestore | null> {
    if (part.kind === 'missing') return null
    const connection = await this.bucket.ready()
    const name = this.layout.archive(meta.key, meta.version, part.file)
    const progress = progressLog(`Restoring ${target.name}`, part.bytes, this.log)
    const chunks = objectChunks({ ...connection, bucket: this.settings.bucket }, name, part.bytes, this.ranges)
    const { stream, hashed } = verifiedObjectStream(chunks, progress)
    try {
      return await extractVerified(stream, hashed, part, part.kind, target.path)
    } catch (error) {
      if (error instanceof ArchiveMismatch) throw corrupt(meta.key, `archive for ${part.name} ${error.message}`)
      if (faultKind(error) === 'not-found') throw corrupt(meta.key, `archive for ${part.name} is missing`)
      if (error instanceof ExtractionFailed)
        throw new Error(`s3 cache entry "${meta.key}" was not restored into ${target.path}: ${error.message}`, { cause: error })
      throw connection.guard.tripped ?? faultOf(error, `downloading ${name}`)
    }
  }

  /** Best effort: credentials that may only read still restore; pruning by age then counts from the save. */
  private async markUsed(meta: EntryMeta): Promise<void> {
    try {
      await this.bucket.put(this.layout.used(meta.key, meta.version), '', `recording the use of ${meta.key}`)
    } catch (error) {
      this.log(`Could not record the use of ${meta.key}: ${reasonOf(error)}`)
    }
  }

  // ---- save ----

  /** Archives one part with tar and uploads it as tar makes it; records the upload for cleanup first. */
  private async savePart(
    part: ArchivePart,
    kind: PathKind,
    exclude: string[],
    key: string,
    version: string,
    file: string,
    uploaded: string[]
  ): Promise<StoredPart> {
    if (kind === 'missing') return { name: part.name, kind }
    const connection = await this.bucket.ready()
    const name = this.layout.archive(key, version, file)
    uploaded.push(name)
    const tar = tarOutput(tarCreateArgs(part.path, kind, exclude))
    const progress = progressLog(`Uploading ${part.name}`, undefined, this.log)
    try {
      const { sha256: digest, bytes } = await uploadArchive(
        { ...connection, bucket: this.settings.bucket },
        name,
        tar,
        this.parts,
        progress
      )
      return { name: part.name, kind, file, sha256: digest, bytes }
    } catch (error) {
      throw connection.guard.tripped ?? faultOf(error, `uploading ${name}`)
    }
  }

  /**
   * Creates the manifest, the commit point, create-only; true when it is the one that stands. It is read back
   * either way: a 412 may be our own earlier attempt (an SDK retry), and a server that ignores If-None-Match
   * lets a rival overwrite ours. A loser's archives were never referenced, so removing them is safe.
   */
  private async publish(meta: EntryMeta): Promise<boolean> {
    try {
      await this.bucket.put(
        this.layout.manifest(meta.key, meta.version),
        JSON.stringify(meta),
        `publishing the manifest of ${meta.key}`,
        true
      )
    } catch (error) {
      if (faultKind(error) !== 'precondition') throw error
    }
    const standing = await this.readManifest(meta.key, meta.version)
    if (!standing) throw new Error(`the manifest of ${meta.key} did not read back after it was written`)
    return standing.saveId === meta.saveId
  }

  /** A 403 on a write from credentials that could read (the lookup before it worked): read-only credentials. */
  private refusedWrite(error: unknown): ReadOnlyStoreError | null {
    if (faultKind(error) !== 'access-denied') return null
    this.writeRefusal = `read-only credentials: ${this.label} refuses writes from them (${reasonOf(error)}); restores still work, nothing is saved`
    return new ReadOnlyStoreError(this.writeRefusal, true)
  }

  // ---- management ----

  /** Every manifest, read (in parallel), with its last use from the `used/` markers. */
  private async storedEntries(): Promise<StoredEntries> {
    const used = new Map<string, number>()
    for await (const object of this.bucket.list(this.layout.usedRoot)) {
      const entry = this.layout.parseUsed(object.name)
      if (entry) used.set(entryId(entry), object.modified)
    }
    const manifests: Array<{ object: ListedObject; name: EntryName }> = []
    for await (const object of this.bucket.list(this.layout.manifestsRoot)) {
      const name = this.layout.parseManifest(object.name)
      if (name) manifests.push({ object, name })
    }
    const stored: StoredEntries = { entries: [], unreadable: [] }
    await forEachLimited(manifests, SMALL_CALLS, async ({ object, name }) => {
      try {
        const meta = await this.readManifest(name.key, name.version)
        if (meta) stored.entries.push({ meta, lastUsed: Math.max(meta.lastUsed, used.get(entryId(name)) ?? 0) })
      } catch (error) {
        if (error instanceof S3Fault) throw error
        stored.unreadable.push({ object, name, problem: (error as Error).message })
      }
    })
    return stored
  }

  /** The manifest goes first (the commit point), then the archives: a crash midway leaves orphans, never a half entry. */
  private async removeEntry(entry: StoredEntry): Promise<boolean> {
    const current = await this.readManifest(entry.meta.key, entry.meta.version).catch(() => null)
    // Saved afresh since it was chosen: the new entry is not the one the policy condemned.
    if (current?.saveId !== entry.meta.saveId) return false
    await this.bucket.delete(this.layout.manifest(entry.meta.key, entry.meta.version))
    await this.bucket.removeObjects(archiveFiles(entry.meta).map(file => this.layout.archive(entry.meta.key, entry.meta.version, file)))
    await this.bucket.delete(this.layout.used(entry.meta.key, entry.meta.version))
    return true
  }

  /** Everything of one key and version, whatever its manifest says (it may not read). */
  private async removeEntryObjects(entry: EntryName): Promise<void> {
    await this.bucket.delete(this.layout.manifest(entry.key, entry.version))
    const archives: string[] = []
    for await (const object of this.bucket.list(`${this.layout.archive(entry.key, entry.version, '')}`)) archives.push(object.name)
    await this.bucket.removeObjects(archives)
    await this.bucket.delete(this.layout.used(entry.key, entry.version))
  }

  /**
   * Leftovers older than an hour: archives no readable manifest refers to (a crashed save, the loser of a
   * race), manifests that do not read, markers of entries that are gone; and multipart uploads open for a
   * day, which no running save owns (the upload of a save whose endpoint went away).
   */
  private async sweepOrphans(dryRun: boolean, stored: StoredEntries): Promise<ListedObject[]> {
    const now = this.clock()
    const cutoff = now - ORPHAN_AGE_MS
    const live = new Set(
      stored.entries.flatMap(({ meta }) => archiveFiles(meta).map(file => this.layout.archive(meta.key, meta.version, file)))
    )
    const entries = new Set(stored.entries.map(({ meta }) => entryId(meta)))
    const orphans: ListedObject[] = stored.unreadable.map(bad => bad.object).filter(object => object.modified < cutoff)
    for await (const object of this.bucket.list(this.layout.archivesRoot))
      if (!live.has(object.name) && object.modified < cutoff) orphans.push(object)
    for await (const object of this.bucket.list(this.layout.usedRoot)) {
      const entry = this.layout.parseUsed(object.name)
      if (entry && !entries.has(entryId(entry)) && object.modified < cutoff) orphans.push(object)
    }
    if (!dryRun) await this.bucket.removeObjects(orphans.map(orphan => orphan.name))
    const uploads = await this.bucket.staleUploads(this.layout.archivesRoot, now - STALE_UPLOAD_AGE_MS)
    if (!dryRun) await forEachLimited(uploads, SMALL_CALLS, upload => this.bucket.abortUpload(upload.name, upload.uploadId))
    return [
      ...orphans,
      ...uploads.map(upload => ({ name: `${upload.name} (unfinished multipart upload)`, size: 0, modified: upload.modified }))
    ]
  }

  /** Documents nobody wrote for longer than maxAgeMs: the history of a branch that is gone. */
  private async sweepDocuments(maxAgeMs: number | undefined, dryRun: boolean): Promise<ListedObject[]> {
    if (maxAgeMs === undefined) return []
    const cutoff = this.clock() - maxAgeMs
    const stale: ListedObject[] = []
    for await (const object of this.bucket.list(this.layout.documentsRoot)) if (object.modified < cutoff) stale.push(object)
    if (!dryRun) await this.bucket.removeObjects(stale.map(object => object.name))
    return stale
  }

  private async archivesProblem(meta: EntryMeta): Promise<string | null> {
    const connection = await this.bucket.ready()
    for (const part of meta.parts) {
      if (part.kind === 'missing') continue
      const name = this.layout.archive(meta.key, meta.version, part.file)
      try {
        const digest = await digestChunks(objectChunks({ ...connection, bucket: this.settings.bucket }, name, part.bytes, this.ranges))
        if (digest.bytes !== part.bytes) return `archive for ${part.name} is ${digest.bytes} bytes, ${part.bytes} were written`
        if (digest.sha256 !== part.sha256) return `archive for ${part.name} does not match its SHA-256`
      } catch (error) {
        if (error instanceof ArchiveMismatch) return `archive for ${part.name} ${error.message}`
        if (faultKind(error) === 'not-found') return `archive for ${part.name} is missing`
        throw connection.guard.tripped ?? faultOf(error, `downloading ${name}`)
      }
    }
    return null
  }

  /** Errors leave the store naming it: `s3://bucket/prefix/: reading the manifest of k: access denied (403 AccessDenied)`. */
  private async named<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof S3Fault) throw new S3Fault(error.kind, `${this.label}: ${error.message}`, error.status, error.reason)
      throw error
    }
  }
}

function corrupt(key: string, detail: string): Error {
  return new Error(`s3 cache entry "${key}" is corrupt: ${detail}`)
}

function infoOf(entry: StoredEntry): EntryInfo {
  return { ...entryInfo(entry.meta), lastUsed: entry.lastUsed }
}

function entryId(entry: { key: string; version: string }): string {
  return `${entry.version}/${entry.key}`
}
