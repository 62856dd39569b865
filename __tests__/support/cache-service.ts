/**
 * A local emulator of the GitHub Actions cache service as `@actions/cache` 6.x talks to it with
 * `ACTIONS_CACHE_SERVICE_V2` set: Twirp JSON RPCs on `ACTIONS_RESULTS_URL` for entry metadata, and
 * Azure Blob "signed URLs" for the archive bytes. Only node:http, so tests can run the real library
 * end to end, count every byte it moves and inject the failures GitHub's service produces.
 *
 * Protocol facts (docs/../github-cache.md §2.3, checked against node_modules/@actions/cache/lib):
 * - Twirp: `POST /twirp/github.actions.results.api.v1.CacheService/<Method>`, snake_case JSON, int64
 *   as strings. The client retries 5xx AND non-JSON bodies (3 s × 1.5^n), so every answer, errors
 *   included, is JSON `{"code","msg"}` — a plain-text error would cost a test ~30 s of retries.
 * - Upload: the Azure SDK's `BlockBlobClient.uploadFile` with a 128 MiB single-shot limit: one
 *   Put Blob below it, Put Block (64 MiB) + Put Block List above it. The SDK only accepts the URL
 *   as path-style (`/<account>/<container>/<blob>`) when the host is an IP or localhost.
 * - Download: the URL's host is not `*.blob.core.windows.net`, so the library uses one plain GET
 *   through @actions/http-client and checks only Content-Length. Ranges (`x-ms-range`, `Range`) are
 *   answered too, for the Azure SDK's `downloadToBuffer` that the library uses on Azure hosts, which
 *   tests call directly.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'

export const TWIRP_SERVICE_PATH = '/twirp/github.actions.results.api.v1.CacheService/'
export const TWIRP_METHODS = ['CreateCacheEntry', 'FinalizeCacheEntryUpload', 'GetCacheEntryDownloadURL'] as const
export type TwirpMethod = (typeof TWIRP_METHODS)[number]

/** The storage account/container of the Azurite-style path URLs we hand out. */
const ACCOUNT = 'devstoreaccount1'
const CONTAINER = 'cache'
const BLOB_PATH = `/${ACCOUNT}/${CONTAINER}/`
/** Echoed when the SDK sends none; the SDK only requires the header to be present. */
const DEFAULT_MS_VERSION = '2025-11-05'

export interface CacheEntry {
  /** The `entry_id` FinalizeCacheEntryUpload returns (what `saveCache` resolves to). */
  id: number
  key: string
  version: string
  sizeBytes: number
  /** Finalize order; the newest prefix match wins a lookup. */
  seq: number
  committedAt: Date
}

export type BlobOp = 'put-blob' | 'put-block' | 'put-block-list' | 'get-blob' | 'head-blob'

export interface RequestLogEntry {
  method: string
  path: string
  /** Raw query string including the leading `?` (e.g. `?comp=block&blockid=...&sig=...`). */
  query: string
  twirpMethod?: TwirpMethod
  blobOp?: BlobOp
  /** HTTP status sent; 0 when the socket was destroyed before a response (or still in flight). */
  status: number
  /** Body bytes received (uploads) or sent (downloads) for this request. */
  bytes: number
  /** performance.now() when the last body byte was received or sent, and when the response closed. */
  lastByteMs?: number
  closedMs?: number
}

/** A fault fires on the next `times` matching requests (forever when omitted), then clears itself. */
interface Countdown {
  times?: number
}

export interface Faults {
  /** Twirp `method` answers `status` (default 503, which the client retries) before succeeding. */
  twirpError?: Countdown & { method: TwirpMethod; status?: number; msg?: string }
  /** Twirp `method` answers 429 with `Retry-After` (the client does not retry 429). */
  rateLimit?: Countdown & { method: TwirpMethod; retryAfterSeconds: number }
  /** CreateCacheEntry answers 200 `{"ok":false,"message":...}` as if another job held the key. */
  createNotOk?: Countdown & { message: string }
  /** Downloads declare the full Content-Length, send only `afterBytes` of body, then close the socket. */
  truncateDownload?: Countdown & { afterBytes: number }
  /**
   * Downloads drip at `bytesPerSecond` (a restore slower than the upstream it saves a download from); only
   * those of entries whose key starts with `keyPrefix`, when given.
   */
  slowDownload?: Countdown & { bytesPerSecond: number; keyPrefix?: string }
  /**
   * Downloads send `afterBytes` of the body and then nothing, keeping the connection open until the client
   * gives up (the stall of actions/cache #1234); with `beforeHeaders`, not even the response headers.
   * Only those of entries whose key starts with `keyPrefix`, when given.
   */
  stallDownload?: Countdown & { afterBytes: number; beforeHeaders?: boolean; keyPrefix?: string }
  /**
   * Refuse writes where a read-only token can surface: `create-response` = 200 `ok:false` with a
   * `cache write denied:` message (what the library's CacheWriteDeniedError dispatch expects),
   * `twirp-403` = Twirp permission_denied on CreateCacheEntry, `blob-403` = Azure refuses the PUT.
   */
  denyWrites?: { via: 'create-response' | 'twirp-403' | 'blob-403'; message?: string }
  /** GetCacheEntryDownloadURL answers Twirp 403 `cache read denied: ...`. */
  denyReads?: { message?: string }
}

export interface CacheServiceOptions {
  /** Bearer token Twirp calls must carry (`ACTIONS_RUNTIME_TOKEN`). */
  token?: string
  /** Parent directory for the blob store; defaults to os.tmpdir(). */
  tmpRoot?: string
}

export interface CacheService {
  readonly url: string
  readonly port: number
  /** Directory holding uploaded blobs (removed by close()). */
  readonly blobDir: string
  /** Mutable at runtime; each fault removes itself when its countdown reaches zero. */
  faults: Faults
  readonly requests: RequestLogEntry[]
  readonly bytesUploaded: number
  readonly bytesDownloaded: number
  /** Committed entries, oldest first. */
  entries(): CacheEntry[]
  /** Zero the byte counters and clear the request log (entries and faults are kept). */
  resetCounters(): void
  /** Env vars that point the real @actions/cache at this emulator. */
  env(): Record<string, string>
  /** Stop listening and drop open sockets: new connections get ECONNREFUSED. */
  stop(): Promise<void>
  /** Listen again on the same port after stop(). */
  restart(): Promise<void>
  /** Stop and delete the blob store. */
  close(): Promise<void>
  /** The signed URL GetCacheEntryDownloadURL hands out for a committed entry. */
  downloadUrl(entryId: number): string
}

export async function startCacheService(opts: CacheServiceOptions = {}): Promise<CacheService> {
  const blobDir = await fs.mkdtemp(path.join(opts.tmpRoot ?? os.tmpdir(), 'cache-service-'))
  const service = new CacheServiceEmulator(blobDir, opts.token ?? 'emulator-runtime-token')
  await service.listen(0)
  return service
}

/** Thrown inside handlers to end the request with a protocol-shaped error. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

interface Reservation {
  id: number
  key: string
  version: string
  blobName: string
}

class CacheServiceEmulator implements CacheService {
  faults: Faults = {}
  readonly requests: RequestLogEntry[] = []
  bytesUploaded = 0
  bytesDownloaded = 0
  port = 0

  private readonly server: http.Server
  private readonly committed: CacheEntry[] = []
  /** Pending uploads by `version\0key`, plus the same objects by blob name for the Azure side. */
  private readonly reservations = new Map<string, Reservation>()
  private readonly reservationsByBlob = new Map<string, Reservation>()
  /** Blob name of each committed entry id. */
  private readonly blobOfEntry = new Map<number, string>()
  private nextId = 1
  private nextSeq = 1
  /** SAS signatures: upload URLs must not be usable for reads and vice versa. */
  private readonly writeSig = `w${randomBytes(8).toString('hex')}`
  private readonly readSig = `r${randomBytes(8).toString('hex')}`

  constructor(
    readonly blobDir: string,
    private readonly token: string
  ) {
    this.server = http.createServer((req, res) => void this.route(req, res))
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`
  }

  entries(): CacheEntry[] {
    return this.committed.map(e => ({ ...e }))
  }

  downloadUrl(entryId: number): string {
    const blobName = this.blobOfEntry.get(entryId)
    if (!blobName) throw new Error(`no committed entry ${entryId}`)
    return this.blobUrl(blobName, this.readSig, 'r')
  }

  resetCounters(): void {
    this.bytesUploaded = 0
    this.bytesDownloaded = 0
    this.requests.length = 0
  }

  env(): Record<string, string> {
    return {
      ACTIONS_CACHE_SERVICE_V2: 'true',
      // The client resolves `/twirp/...` against this with new URL(), so only the origin matters.
      ACTIONS_RESULTS_URL: this.url,
      ACTIONS_RUNTIME_TOKEN: this.token
    }
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.port = (this.server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    // Node's global agent keeps sockets alive; without this a pooled socket would keep working.
    this.server.closeAllConnections()
    await closed
  }

  async restart(): Promise<void> {
    if (!this.server.listening) await this.listen(this.port)
  }

  async close(): Promise<void> {
    await this.stop()
    await fs.rm(this.blobDir, { recursive: true, force: true })
  }

  // ---- routing ----------------------------------------------------------------------------------

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const entry: RequestLogEntry = { method: req.method ?? '', path: url.pathname, query: url.search, status: 0, bytes: 0 }
    this.requests.push(entry)
    // 'close' also covers responses cut short on purpose (truncateDownload): their status still counts.
    res.on('close', () => {
      entry.status = res.headersSent ? res.statusCode : 0
      entry.closedMs = performance.now()
    })
    // Only blob paths speak Azure (XML errors); everything else on the origin answers Twirp JSON.
    const isBlob = url.pathname.startsWith(BLOB_PATH)
    try {
      if (isBlob) await this.handleBlob(req, res, url, entry)
      else if (url.pathname.startsWith(TWIRP_SERVICE_PATH)) await this.handleTwirp(req, res, url, entry)
      else throw new HttpError(404, 'bad_route', `no handler for ${req.method} ${url.pathname}`)
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 'internal', String(error))
      if (res.headersSent) {
        res.destroy()
        return
      }
      // Answer errors only after the request body is consumed: replying mid-upload makes the
      // client see EPIPE/ECONNRESET instead of the status we mean to test.
      await drain(req)
      if (isBlob) sendStorageError(res, req, e.status, e.code, e.message)
      else sendTwirpError(res, e.status, e.code, e.message)
    }
  }

  // ---- Twirp --------------------------------------------------------------------------------------

  private async handleTwirp(req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry): Promise<void> {
    const method = url.pathname.slice(TWIRP_SERVICE_PATH.length)
    if (!isTwirpMethod(method)) throw new HttpError(404, 'bad_route', `unknown method ${method}`)
    entry.twirpMethod = method
    if (req.method !== 'POST') throw new HttpError(404, 'bad_route', `${req.method} is not POST`)
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      throw new HttpError(401, 'unauthenticated', 'missing or invalid runtime token')
    }
    const body = await readJson(req)
    this.injectTwirpFaults(method, res)
    if (res.writableEnded) return
    const reply =
      method === 'CreateCacheEntry'
        ? this.createEntry(body)
        : method === 'FinalizeCacheEntryUpload'
          ? await this.finalizeEntry(body)
          : this.getDownloadUrl(body)
    sendJson(res, 200, reply)
  }

  /** Applies the Twirp-level faults for `method`; ends `res` when one fires. */
  private injectTwirpFaults(method: TwirpMethod, res: http.ServerResponse): void {
    const { twirpError, rateLimit, denyWrites, denyReads } = this.faults
    if (twirpError?.method === method && this.fire('twirpError')) {
      const status = twirpError.status ?? 503
      return sendTwirpError(res, status, twirpCode(status), twirpError.msg ?? 'injected fault')
    }
    if (rateLimit?.method === method && this.fire('rateLimit')) {
      res.setHeader('Retry-After', String(rateLimit.retryAfterSeconds))
      return sendTwirpError(res, 429, 'resource_exhausted', 'cache entry creation rate limit exceeded')
    }
    if (method === 'CreateCacheEntry' && denyWrites?.via === 'twirp-403') {
      return sendTwirpError(res, 403, 'permission_denied', denyWrites.message ?? 'cache write denied: token is read-only')
    }
    if (method === 'GetCacheEntryDownloadURL' && denyReads) {
      return sendTwirpError(res, 403, 'permission_denied', denyReads.message ?? 'cache read denied: no readable scopes')
    }
  }

  private createEntry(body: Record<string, unknown>): object {
    const { key, version } = keyAndVersion(body)
    const f = this.faults
    if (f.denyWrites?.via === 'create-response') {
      return { ok: false, message: f.denyWrites.message ?? 'cache write denied: token is read-only' }
    }
    const notOk = f.createNotOk
    if (notOk && this.fire('createNotOk')) return { ok: false, message: notOk.message }
    if (this.committed.some(e => e.key === key && e.version === version)) {
      return { ok: false, message: `cache entry with key "${key}" and version ${version} already exists` }
    }
    // A second reservation for the same key/version replaces the first: the real service lets an
    // abandoned upload expire, and tests should not be wedged by a fault in an earlier case.
    const previous = this.reservations.get(reservationKey(key, version))
    if (previous) this.reservationsByBlob.delete(previous.blobName)
    const id = this.nextId++
    const reservation: Reservation = { id, key, version, blobName: `entry-${id}` }
    this.reservations.set(reservationKey(key, version), reservation)
    this.reservationsByBlob.set(reservation.blobName, reservation)
    return { ok: true, signed_upload_url: this.blobUrl(reservation.blobName, this.writeSig, 'cw') }
  }

  private async finalizeEntry(body: Record<string, unknown>): Promise<object> {
    const { key, version } = keyAndVersion(body)
    const sizeBytes = Number(body.size_bytes ?? body.sizeBytes ?? 0)
    const reservation = this.reservations.get(reservationKey(key, version))
    if (!reservation) return { ok: false, message: `no upload in progress for key "${key}"` }
    const actual = await fileSize(this.blobFile(reservation.blobName))
    if (actual === undefined) return { ok: false, message: `nothing was uploaded for key "${key}"` }
    if (actual !== sizeBytes) {
      return { ok: false, message: `size mismatch for key "${key}": finalize says ${sizeBytes}, blob has ${actual}` }
    }
    this.reservations.delete(reservationKey(key, version))
    this.reservationsByBlob.delete(reservation.blobName)
    this.committed.push({ id: reservation.id, key, version, sizeBytes, seq: this.nextSeq++, committedAt: new Date() })
    this.blobOfEntry.set(reservation.id, reservation.blobName)
    return { ok: true, entry_id: String(reservation.id) }
  }

  private getDownloadUrl(body: Record<string, unknown>): object {
    const { key, version } = keyAndVersion(body)
    const restoreKeys = (body.restore_keys ?? body.restoreKeys ?? []) as string[]
    const hit = this.lookup([key, ...restoreKeys], version)
    if (!hit) return { ok: false }
    const blobName = this.blobOfEntry.get(hit.id) as string
    return { ok: true, signed_download_url: this.blobUrl(blobName, this.readSig, 'r'), matched_key: hit.key }
  }

  /** GitHub's matching rule: per key in order, an exact match first, else the newest prefix match. */
  private lookup(keys: string[], version: string): CacheEntry | undefined {
    const candidates = this.committed.filter(e => e.version === version)
    for (const key of keys) {
      const exact = candidates.find(e => e.key === key)
      if (exact) return exact
      const prefixed = candidates.filter(e => e.key.startsWith(key)).sort((a, b) => b.seq - a.seq)
      if (prefixed.length > 0) return prefixed[0]
    }
    return undefined
  }

  // ---- Azure Blob ---------------------------------------------------------------------------------

  private async handleBlob(req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry): Promise<void> {
    const blobName = decodeURIComponent(url.pathname.slice(BLOB_PATH.length))
    const sig = url.searchParams.get('sig')
    const comp = url.searchParams.get('comp')
    if (req.method === 'PUT') {
      entry.blobOp = comp === 'block' ? 'put-block' : comp === 'blocklist' ? 'put-block-list' : 'put-blob'
      if (sig !== this.writeSig) throw new HttpError(403, 'AuthenticationFailed', 'signature not valid for writing')
      if (!this.reservationsByBlob.has(blobName)) {
        throw new HttpError(403, 'AuthorizationFailure', `no pending reservation for blob ${blobName}`)
      }
      if (this.faults.denyWrites?.via === 'blob-403') {
        throw new HttpError(403, 'AuthorizationPermissionMismatch', this.faults.denyWrites.message ?? 'write denied')
      }
      if (comp === null) return this.putBlob(req, res, blobName, entry)
      if (comp === 'block') return this.putBlock(req, res, blobName, url, entry)
      if (comp === 'blocklist') return this.putBlockList(req, res, blobName)
      throw new HttpError(400, 'UnsupportedQueryParameter', `comp=${comp} is not emulated`)
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      entry.blobOp = req.method === 'GET' ? 'get-blob' : 'head-blob'
      if (sig !== this.readSig) throw new HttpError(403, 'AuthenticationFailed', 'signature not valid for reading')
      return this.getBlob(req, res, blobName, entry)
    }
    throw new HttpError(405, 'UnsupportedHttpVerb', `${req.method} is not emulated`)
  }

  /** Put Blob: the whole archive in one request (archives up to the SDK's 128 MiB single-shot size). */
  private async putBlob(req: http.IncomingMessage, res: http.ServerResponse, blobName: string, entry: RequestLogEntry): Promise<void> {
    if (req.headers['x-ms-blob-type'] !== 'BlockBlob') {
      throw new HttpError(400, 'MissingRequiredHeader', 'x-ms-blob-type: BlockBlob is required')
    }
    await this.receiveFile(req, this.blobFile(blobName), entry)
    sendStorageCreated(res, req, { etag: true })
  }

  /** Put Block: one staged 64 MiB piece, kept in its own file until the block list commits it. */
  private async putBlock(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    blobName: string,
    url: URL,
    entry: RequestLogEntry
  ): Promise<void> {
    const blockId = url.searchParams.get('blockid')
    if (!blockId) throw new HttpError(400, 'MissingRequiredQueryParameter', 'blockid is required')
    await this.receiveFile(req, this.blockFile(blobName, blockId), entry)
    sendStorageCreated(res, req, { etag: false })
  }

  /** Put Block List: the blob becomes the listed blocks concatenated in list order. */
  private async putBlockList(req: http.IncomingMessage, res: http.ServerResponse, blobName: string): Promise<void> {
    const xml = (await readBody(req)).toString('utf8')
    const ids = [...xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map(m => m[2])
    if (ids.length === 0) throw new HttpError(400, 'InvalidBlockList', 'the block list is empty')
    const blocks = ids.map(id => this.blockFile(blobName, id))
    for (const block of blocks) {
      if ((await fileSize(block)) === undefined) throw new HttpError(400, 'InvalidBlockList', 'unknown block id')
    }
    const target = this.blobFile(blobName)
    const tmp = `${target}.${randomUUID()}.tmp`
    const out = createWriteStream(tmp)
    for (const block of blocks) await pipeline(createReadStream(block), out, { end: false })
    out.end()
    await finished(out)
    await fs.rename(tmp, target)
    await Promise.all([...new Set(blocks)].map(b => fs.rm(b, { force: true })))
    sendStorageCreated(res, req, { etag: true })
  }

  /** Get Blob: stream a committed blob, or cut it short when truncateDownload fires, or stall it. */
  private async getBlob(req: http.IncomingMessage, res: http.ServerResponse, blobName: string, entry: RequestLogEntry): Promise<void> {
    const file = this.blobFile(blobName)
    const size = this.isCommittedBlob(blobName) ? await fileSize(file) : undefined
    if (size === undefined) throw new HttpError(404, 'BlobNotFound', 'the specified blob does not exist')
    const key = this.keyOfBlob(blobName)
    const stall = this.faults.stallDownload
    const stalls = req.method === 'GET' && stall !== undefined && key.startsWith(stall.keyPrefix ?? '') && this.fire('stallDownload')
    if (stalls && stall.beforeHeaders) return this.holdOpen(req, res)
    // The Azure SDK's downloadToBuffer asks for ranges (x-ms-range); the library's own client for all of it.
    const range = byteRange(headerValue(req.headers['x-ms-range']) ?? headerValue(req.headers.range), size)
    const [start, end] = range ?? [0, size - 1]
    const length = size === 0 ? 0 : end - start + 1
    res.writeHead(range ? 206 : 200, {
      ...storageHeaders(req),
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(length),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
      'Accept-Ranges': 'bytes',
      'x-ms-blob-type': 'BlockBlob',
      ETag: etagOf(blobName),
      'Last-Modified': new Date().toUTCString()
    })
    if (req.method === 'HEAD' || length === 0) {
      res.end()
      return
    }
    const cut = this.faults.truncateDownload
    const afterBytes = stalls ? Math.min(stall.afterBytes, length) : cut ? Math.min(cut.afterBytes, length) : length
    const truncate = !stalls && cut !== undefined && this.fire('truncateDownload')
    const counter = countBytes(n => {
      this.bytesDownloaded += n
      entry.bytes += n
      entry.lastByteMs = performance.now()
    })
    if (stalls) {
      if (afterBytes > 0) await pipeline(createReadStream(file, { start, end: start + afterBytes - 1 }), counter, res, { end: false })
      return this.holdOpen(req, res)
    }
    const source = createReadStream(file, { start, end: truncate ? start + afterBytes - 1 : end })
    const slow = this.faults.slowDownload
    if (slow && key.startsWith(slow.keyPrefix ?? '') && this.fire('slowDownload')) {
      await pipeline(source, throttle(slow.bytesPerSecond), counter, res)
      return
    }
    if (!truncate) {
      await pipeline(source, counter, res)
      return
    }
    // Send the partial body, then end the connection while the client still waits for the rest of
    // the promised Content-Length. socket.end() flushes what was written before closing, so the
    // client receives exactly `afterBytes` and then sees the connection drop.
    await pipeline(source, counter, res, { end: false })
    res.socket?.end()
  }

  /** Sends nothing more and keeps the connection until the client closes it (or stop() drops it). */
  private async holdOpen(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume()
    await new Promise<void>(resolve => res.once('close', resolve))
  }

  // ---- blob store helpers -------------------------------------------------------------------------

  private keyOfBlob(blobName: string): string {
    const id = [...this.blobOfEntry].find(([, name]) => name === blobName)?.[0]
    return this.committed.find(e => e.id === id)?.key ?? ''
  }

  /** Streams a request body to `target` (via a temp file + rename) and counts it as uploaded. */
  private async receiveFile(req: http.IncomingMessage, target: string, entry: RequestLogEntry): Promise<void> {
    const tmp = `${target}.${randomUUID()}.tmp`
    const counter = countBytes(n => {
      this.bytesUploaded += n
      entry.bytes += n
      entry.lastByteMs = performance.now()
    })
    try {
      await pipeline(req, counter, createWriteStream(tmp))
      await fs.rename(tmp, target)
    } finally {
      await fs.rm(tmp, { force: true })
    }
  }

  private isCommittedBlob(blobName: string): boolean {
    return [...this.blobOfEntry.values()].includes(blobName)
  }

  private blobFile(blobName: string): string {
    return path.join(this.blobDir, `${safeName(blobName)}.blob`)
  }

  private blockFile(blobName: string, blockId: string): string {
    return path.join(this.blobDir, `${safeName(blobName)}.block-${createHash('sha256').update(blockId).digest('hex')}`)
  }

  private blobUrl(blobName: string, sig: string, permissions: string): string {
    const sas = new URLSearchParams({ sv: DEFAULT_MS_VERSION, sr: 'b', sp: permissions, sig })
    return `${this.url}${ACCOUNT}/${CONTAINER}/${encodeURIComponent(blobName)}?${sas.toString()}`
  }

  /** Consumes one firing of a fault; returns false (and clears it) when its countdown is spent. */
  private fire(name: 'twirpError' | 'rateLimit' | 'createNotOk' | 'truncateDownload' | 'slowDownload' | 'stallDownload'): boolean {
    const fault: Countdown | undefined = this.faults[name]
    if (!fault) return false
    if (fault.times === undefined) return true
    if (fault.times <= 0) {
      delete this.faults[name]
      return false
    }
    fault.times -= 1
    if (fault.times === 0) delete this.faults[name]
    return true
  }
}

// ---- free helpers -----------------------------------------------------------------------------------

function isTwirpMethod(name: string): name is TwirpMethod {
  return (TWIRP_METHODS as readonly string[]).includes(name)
}

function reservationKey(key: string, version: string): string {
  return `${version}\0${key}`
}

function keyAndVersion(body: Record<string, unknown>): { key: string; version: string } {
  const key = body.key
  const version = body.version
  if (typeof key !== 'string' || key === '' || typeof version !== 'string' || version === '') {
    throw new HttpError(400, 'invalid_argument', 'key and version are required')
  }
  return { key, version }
}

/** Twirp error codes for the HTTP statuses we inject (twirp spec, "Error codes"). */
function twirpCode(status: number): string {
  const codes: Record<number, string> = {
    400: 'invalid_argument',
    401: 'unauthenticated',
    403: 'permission_denied',
    404: 'not_found',
    429: 'resource_exhausted',
    500: 'internal',
    503: 'unavailable',
    504: 'deadline_exceeded'
  }
  return codes[status] ?? 'unknown'
}

function sendJson(res: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function sendTwirpError(res: http.ServerResponse, status: number, code: string, msg: string): void {
  sendJson(res, status, { code, msg })
}

/** Headers every Azure Storage response carries; the SDK's deserializers expect them. */
function storageHeaders(req: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    'x-ms-version': headerValue(req.headers['x-ms-version']) ?? DEFAULT_MS_VERSION,
    Date: new Date().toUTCString()
  }
  const clientRequestId = headerValue(req.headers['x-ms-client-request-id'])
  if (clientRequestId) headers['x-ms-client-request-id'] = clientRequestId
  return headers
}

function sendStorageCreated(res: http.ServerResponse, req: http.IncomingMessage, opts: { etag: boolean }): void {
  const headers: Record<string, string> = {
    ...storageHeaders(req),
    'x-ms-request-server-encrypted': 'true',
    'Content-Length': '0'
  }
  if (opts.etag) {
    headers.ETag = etagOf(randomUUID())
    headers['Last-Modified'] = new Date().toUTCString()
  }
  res.writeHead(201, headers)
  res.end()
}

/** Azure's error shape: `x-ms-error-code` plus an XML `<Error>` body the SDK parses into RestError. */
function sendStorageError(res: http.ServerResponse, req: http.IncomingMessage, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`
  res.writeHead(status, {
    ...storageHeaders(req),
    'x-ms-error-code': code,
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(xml)
  })
  res.end(req.method === 'HEAD' ? undefined : xml)
}

function etagOf(seed: string): string {
  return `"0x${createHash('sha256').update(seed).digest('hex').slice(0, 15).toUpperCase()}"`
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Blob names come from our own URLs, but keep anything path-like out of the blob directory. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_')
}

function countBytes(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length)
      callback(null, chunk)
    }
  })
}

async function readBody(req: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function readJson(req: Readable): Promise<Record<string, unknown>> {
  const text = (await readBody(req)).toString('utf8')
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text)
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // fall through to the Twirp "malformed" error below
  }
  throw new HttpError(400, 'malformed', 'request body is not a JSON object')
}

async function drain(req: http.IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return
  await new Promise<void>(resolve => {
    req
      .on('end', resolve)
      .on('error', () => resolve())
      .on('close', resolve)
    req.resume()
  })
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).size
  } catch {
    return undefined
  }
}

/** `bytes=A-B` (B optional) as inclusive offsets within `size`; null when absent or not one satisfiable range. */
function byteRange(header: string | undefined, size: number): [number, number] | null {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '')
  if (!match || size === 0) return null
  const start = Number(match[1])
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  return start <= end ? [start, end] : null
}

/** Passes bytes on at most `bytesPerSecond`, in 64 KiB steps. */
function throttle(bytesPerSecond: number): Transform {
  const step = 64 * 1024
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const pieces: Buffer[] = []
      for (let offset = 0; offset < chunk.length; offset += step) pieces.push(chunk.subarray(offset, offset + step))
      const next = (): void => {
        const piece = pieces.shift()
        if (!piece) return done()
        this.push(piece)
        setTimeout(next, (piece.length / bytesPerSecond) * 1000)
      }
      next()
    }
  })
}
