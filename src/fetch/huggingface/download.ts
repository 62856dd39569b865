import { lstat } from 'node:fs/promises'
import type { FetchedFile } from '../../ledger.js'
import { describeDigest, type ExpectedDigest, fileMatches } from '../digest.js'
import { DEFAULT_RETRY, type RetryPolicy } from '../retry.js'
import { downloadVerified, type TransferSettings } from '../verified-download.js'
import { explainHubError, type HubContext, listFiles, resolveCommit, type TreeFile } from './api.js'
import { exists, RepoCache } from './cache.js'
import { selectedBy } from './glob.js'
import { progressText } from '../../util/progress.js'
import { COMMIT, displayName, parseRepoRef, type RepoRef } from './repo.js'

export interface HfRepoRequest {
  /** `org/name[@revision]` or `datasets/org/name[@revision]`. */
  repo: string
  /** Repo-path globs (`*`, `?`, `**`); none selects every file. */
  globs?: string[]
  /** Repo path → sha256 the file must also have: the only way to pin a regular file to sha256. */
  pins?: Record<string, string>
}

export interface HfDownloadOptions extends TransferSettings {
  /** Hub base URL, e.g. `https://huggingface.co` (or HF_ENDPOINT). */
  endpoint: string
  /** The hub cache root (HF_HUB_CACHE). */
  cacheDir: string
  token?: string
  /** Called with the token before anything else, so the runner masks it (core.setSecret). */
  mask?: (secret: string) => void
  log?: (line: string) => void
  /** Files downloading at once; default 4. */
  concurrency?: number
  /** Symlink snapshots to blobs (default), or copy (HF_HUB_DISABLE_SYMLINKS). */
  symlinks?: boolean
  retry?: RetryPolicy
  /** Minimum time between progress lines of one file; default 10 s. */
  progressIntervalMs?: number
  /** How long to wait for another writer's `.locks/` file before going ahead; default 30 s. */
  lockWaitMs?: number
}

/** One verified file, in the shape the ledger records (digest: sha256 when known, else git-sha1). */
export type HfFileResult = FetchedFile

export interface HfRepoResult {
  repo: string
  revision: string
  commit: string
  /** `snapshots/<commit>`: what `from_pretrained(path)` can load. */
  snapshot: string
  files: HfFileResult[]
  /** File body bytes received, including any discarded by a restart. */
  bytesDownloaded: number
  /** Sizes of the files served from the cache. */
  bytesReused: number
}

/** A selected file with everything needed to fetch and verify it. */
interface Planned {
  path: string
  size: number
  /** Blob name in the cache: sha256 for LFS files, git blob id otherwise (huggingface_hub's etag). */
  etag: string
  digest: ExpectedDigest
}

/**
 * Brings `request.repo` at one commit into the hub cache: resolve the revision once, list the
 * commit's files, reuse what verifies, download the rest (verified before publishing), link the
 * snapshot and write the ref.
 */
export async function downloadRepo(request: HfRepoRequest, options: HfDownloadOptions): Promise<HfRepoResult> {
  if (options.token !== undefined) options.mask?.(options.token)
  const ref = parseRepoRef(request.repo)
  const endpoint = options.endpoint.replace(/\/+$/, '')
  const hub: HubContext = {
    endpoint,
    credentials: { token: options.token, origin: new URL(endpoint).origin },
    retry: options.retry ?? DEFAULT_RETRY,
    idleTimeoutMs: options.idleTimeoutMs
  }
  const cache = new RepoCache(options.cacheDir, ref)
  const commit = await resolveCommit(hub, ref)
  const listing = await fileListing(hub, ref, cache, commit)
  const plan = planFiles(ref, listing, request)

  const result: HfRepoResult = {
    repo: displayName(ref),
    revision: ref.revision,
    commit,
    snapshot: cache.snapshot(commit),
    files: [],
    bytesDownloaded: 0,
    bytesReused: 0
  }
  const fetchOne = async (file: Planned) => {
    const { source, bytes } = await ensureFile({ hub, ref, cache, commit, file, options })
    result.files.push({ repo: result.repo, path: file.path, size: file.size, digest: describeDigest(file.digest), source, verified: true })
    if (source === 'cache') result.bytesReused += file.size
    result.bytesDownloaded += bytes
  }
  await forEachBounded(plan, options.concurrency ?? 4, fetchOne)
  await cache.ensureSnapshot(commit)
  await cache.writeRef(ref.revision, commit)
  result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return result
}

/**
 * The commit's full listing. For a revision given as a commit, a listing stored by an earlier run
 * is used as is, so a warm pinned run makes no request at all; this trusts the restored cache's
 * `trees/` as much as its blobs (a sha256 pin is the defence against a poisoned cache). A branch
 * or tag costs one revision call anyway, and the listing is fetched fresh with it.
 */
async function fileListing(hub: HubContext, ref: RepoRef, cache: RepoCache, commit: string): Promise<TreeFile[]> {
  const stored = COMMIT.test(ref.revision) ? await cache.readTree(commit) : undefined
  if (stored) return stored
  const files = await listFiles(hub, ref, commit)
  await cache.writeTree(commit, files)
  return files
}

function planFiles(ref: RepoRef, listing: TreeFile[], request: HfRepoRequest): Planned[] {
  const selected = listing.filter(f => selectedBy(request.globs ?? [])(f.path))
  const pins = new Map(Object.entries(request.pins ?? {}).map(([p, h]) => [p, h.toLowerCase()]))
  for (const [p, hex] of pins) {
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${displayName(ref)}: pin for ${p} is not a sha256 (64 hex): ${hex}`)
    if (!selected.some(f => f.path === p))
      throw new Error(`${displayName(ref)}@${ref.revision}: pinned file ${p} is not among the selected files`)
  }
  return selected.map(f => {
    const pin = pins.get(f.path)
    if (f.lfs) {
      // The Hub states this file's sha256; a pin that disagrees cannot be satisfied by any download.
      if (pin !== undefined && pin !== f.lfs.oid) {
        throw new Error(`${displayName(ref)}@${ref.revision}: ${f.path} is pinned to sha256 ${pin} but the Hub has sha256 ${f.lfs.oid}`)
      }
      return { path: f.path, size: f.lfs.size, etag: f.lfs.oid, digest: { sha256: f.lfs.oid } }
    }
    return { path: f.path, size: f.size, etag: f.oid, digest: { gitSha1: f.oid, ...(pin ? { sha256: pin } : {}) } }
  })
}

interface FileJob {
  hub: HubContext
  ref: RepoRef
  cache: RepoCache
  commit: string
  file: Planned
  options: HfDownloadOptions
}

/** Reuse a verified cached copy, else download; `bytes` is what came over the network. */
async function ensureFile(job: FileJob): Promise<{ source: HfFileResult['source']; bytes: number }> {
  const { cache, commit, file, options } = job
  const symlinks = options.symlinks ?? true
  if (await cachedCopyVerifies(job)) return { source: 'cache', bytes: 0 }
  const damaged = (await exists(cache.blob(file.etag))) || (await exists(cache.snapshot(commit, file.path)))
  const release = await cache.lock(file.etag, options.lockWaitMs ?? 30_000)
  try {
    // Another writer (a concurrent file with the same content, or Python) may have finished it.
    if (!damaged && (await fileMatches(cache.blob(file.etag), file.size, file.digest))) {
      await cache.link(commit, file.path, file.etag, symlinks)
      return { source: 'cache', bytes: 0 }
    }
    const outcome = await downloadVerified({
      url: resolveUrl(job),
      credentials: job.hub.credentials,
      destination: cache.blob(file.etag),
      tempPath: cache.incomplete(file.etag),
      size: file.size,
      digest: file.digest,
      label: `${displayName(job.ref)}: ${file.path}`,
      connections: options.connections,
      idleTimeoutMs: options.idleTimeoutMs,
      parallelThreshold: options.parallelThreshold,
      rangeSize: options.rangeSize,
      retry: job.hub.retry,
      progressIntervalMs: options.progressIntervalMs,
      onProgress: progressLogger(job)
    }).catch((error: unknown) => {
      throw explainHubError(error, job.ref, job.hub, file.path)
    })
    await cache.link(commit, file.path, file.etag, symlinks)
    return { source: damaged ? 'repaired' : 'downloaded', bytes: outcome.bytesTransferred }
  } finally {
    await release()
  }
}

/**
 * A copy in the snapshot (copy mode) or the blob its link points to, checked for size and every
 * digest: a restored cache is not trusted by its file names alone.
 */
async function cachedCopyVerifies(job: FileJob): Promise<boolean> {
  const { cache, commit, file } = job
  const pointer = cache.snapshot(commit, file.path)
  const pointerIsCopy = (await lstat(pointer).catch(() => undefined))?.isFile() ?? false
  if (pointerIsCopy && (await fileMatches(pointer, file.size, file.digest))) return true
  if (!(await fileMatches(cache.blob(file.etag), file.size, file.digest))) return false
  await cache.link(commit, file.path, file.etag, job.options.symlinks ?? true)
  return true
}

function resolveUrl({ hub, ref, commit, file }: FileJob): string {
  const prefix = ref.type === 'dataset' ? 'datasets/' : ''
  return `${hub.endpoint}/${prefix}${ref.id}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`
}

/** `org/name: path: 42% 504.0 MiB of 1.17 GiB, 85.3 MiB/s`, through options.log (the caller picks the rate). */
function progressLogger({ ref, file, options }: FileJob): ((received: number, total: number) => void) | undefined {
  const log = options.log
  if (!log) return undefined
  const started = Date.now()
  return (received, total) => log(progressText(`${displayName(ref)}: ${file.path}`, received, total, started))
}

/** Runs `fn` over `items`, at most `limit` at once; stops starting new ones after the first failure. */
async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const errors: unknown[] = []
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (error) {
        failed = true
        errors.push(error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (errors.length > 0) throw errors[0]
}
