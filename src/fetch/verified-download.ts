import { randomBytes } from 'node:crypto'
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises'
import * as path from 'node:path'
import type { Readable } from 'node:stream'
import { syncPath } from '../util/atomic.js'
import { type ExpectedDigest, MultiHasher } from './digest.js'
import { type Credentials, headerValue, type Reply, redact, send, statusError } from './http.js'
import { progressIntervalMs } from '../util/progress.js'
import { DEFAULT_RETRY, isRetryableStatus, retryDelayMs, type RetryPolicy } from './retry.js'

export interface VerifiedDownloadOptions {
  url: string
  credentials: Credentials
  /** Where the verified file lands; nothing appears there unless size and digest matched. */
  destination: string
  /** The temp file, on the same filesystem as `destination` so the final rename is atomic. */
  tempPath?: string
  /** Expected size; when unknown (a plain URL with only a sha256), the server's Content-Length. */
  size?: number
  digest: ExpectedDigest
  retry?: RetryPolicy
  /** Called with bytes written so far, at most every `progressIntervalMs`, and once at the end. */
  onProgress?: (received: number, total: number) => void
  progressIntervalMs?: number
}

export interface DownloadOutcome {
  /** Body bytes received, including any thrown away by a restart: what the network carried. */
  bytesTransferred: number
  /** Times a broken stream continued with `Range`. */
  resumes: number
  /** Times we started over from byte 0 (server ignored Range, or a digest mismatch). */
  restarts: number
}

/** The bytes arrived but are not the bytes promised: never retried past one fresh attempt. */
export class IntegrityError extends Error {}

/** A signed URL may expire while we retry; this many fresh resolutions per download. */
const MAX_RERESOLVES = 3
/** Bytes gathered per write. */
const WRITE_BATCH = 4 * 1024 * 1024
/** Written bytes between background flushes to disk, so the final fsync finds little left to write. */
const WRITEBACK_EVERY = 64 * 1024 * 1024
/** One more full attempt after a digest mismatch, in case a proxy or edge served bad bytes once. */
const INTEGRITY_RETRIES = 1

/**
 * Download `url` to `destination`, hashing while writing, resuming and retrying as needed, then
 * verify, fsync and rename. On any failure the temp file is removed and `destination` untouched.
 */
export async function downloadVerified(opts: VerifiedDownloadOptions): Promise<DownloadOutcome> {
  await mkdir(path.dirname(opts.destination), { recursive: true })
  const temp = opts.tempPath ?? `${opts.destination}.${randomBytes(4).toString('hex')}.incomplete`
  const handle = await open(temp, 'wx', 0o644)
  let handleOpen = true
  let job: Transfer | undefined
  try {
    job = new Transfer(opts, handle)
    for (let integrityRetries = INTEGRITY_RETRIES; ; integrityRetries--) {
      await job.fill()
      const bad = await job.hasher.mismatch()
      if (!bad) break
      const message = `${redact(opts.url)}: ${bad.name} mismatch, expected ${bad.expected}, got ${bad.actual}`
      if (integrityRetries === 0) throw new IntegrityError(message)
      await job.restart()
    }
    await job.writtenBack()
    await handle.sync()
    handleOpen = false
    await handle.close()
    await rename(temp, opts.destination)
    await syncPath(path.dirname(opts.destination))
    return job.outcome
  } catch (error) {
    if (handleOpen) {
      await job?.writtenBack().catch(() => undefined)
      await handle.close().catch(() => undefined)
    }
    await rm(temp, { force: true })
    throw error
  } finally {
    job?.hasher.close()
  }
}

/** The state of one download across its attempts. */
class Transfer {
  readonly hasher: MultiHasher
  readonly outcome: DownloadOutcome = { bytesTransferred: 0, resumes: 0, restarts: 0 }
  private written = 0
  /** Where to resume: the URL that last answered, so a resume skips the Hub's redirect. */
  private url: string
  private readonly policy: RetryPolicy
  private lastProgress = 0
  private lastReported = -1
  private size: number | undefined
  private writeback: Promise<void> = Promise.resolve()
  private writebackFailure: Error | undefined
  private writtenBackAt = 0

  constructor(
    private readonly opts: VerifiedDownloadOptions,
    private readonly handle: FileHandle
  ) {
    if (opts.size === undefined && opts.digest.gitSha1 !== undefined) throw new Error('a git blob id can only be checked with a known size')
    this.size = opts.size
    this.hasher = new MultiHasher(opts.digest, opts.size ?? 0)
    this.url = opts.url
    this.policy = opts.retry ?? DEFAULT_RETRY
  }

  /** Waits for the background flushes; a disk error in one of them fails the download here. */
  async writtenBack(): Promise<void> {
    await this.writeback
    if (this.writebackFailure !== undefined) throw this.writebackFailure
  }

  /** Starts flushing what is written so far while the download goes on; one flush at a time. */
  private startWriteback(): void {
    if (this.written - this.writtenBackAt < WRITEBACK_EVERY) return
    this.writtenBackAt = this.written
    this.writeback = this.writeback.then(() => this.handle.datasync()).catch(error => {
      this.writebackFailure ??= error as Error
    })
  }

  /** Back to byte 0 and to the original URL, so the next attempt is resolved afresh. */
  async restart(): Promise<void> {
    await this.handle.truncate(0)
    this.hasher.reset()
    this.written = 0
    this.writtenBackAt = 0
    this.url = this.opts.url
    this.outcome.restarts++
  }

  /** Attempts until `size` bytes are written, or the retry budget is spent. */
  async fill(): Promise<void> {
    let failures = 0
    let reResolves = 0
    const fail = async (error: Error, headers?: Record<string, string | string[] | undefined>) => {
      failures++
      if (failures >= this.policy.attempts) throw error
      await this.policy.sleep(retryDelayMs(this.policy, failures, headers))
    }
    while (this.size === undefined || this.written < this.size) {
      const before = this.written
      const reply = await send(this.url, this.opts.credentials, {
        // Decoded bytes would not match offsets for Range, nor Content-Length for the size check.
        'accept-encoding': 'identity',
        ...(this.written > 0 ? { range: `bytes=${this.written}-` } : {})
      }).catch((error: Error) => error)
      if (reply instanceof Error) {
        await fail(new Error(`${redact(this.url)}: ${reply.message}`, { cause: reply }))
        continue
      }
      const { statusCode: status, headers } = reply.response
      const elsewhere = new URL(reply.url).origin !== this.opts.credentials.origin
      if (status === 403 && elsewhere && reResolves < MAX_RERESOLVES) {
        // A signed CDN URL that expired: ask the origin for a fresh one.
        await reply.response.body.dump()
        reResolves++
        this.url = this.opts.url
        continue
      }
      if (isRetryableStatus(status)) {
        const error = await statusError(reply)
        await fail(error, headers)
        continue
      }
      if (status !== 200 && status !== 206) throw await statusError(reply)
      const encoding = headerValue(headers, 'content-encoding')
      if (encoding !== undefined && encoding !== 'identity') {
        await reply.response.body.dump()
        throw new Error(`${redact(reply.url)} answered with Content-Encoding ${encoding} although identity was asked for`)
      }
      if (status === 200 && this.written > 0) {
        // Range ignored: the body starts at byte 0 again.
        await this.restart()
      } else if (status === 206) {
        const start = Number(/^bytes (\d+)-/.exec(headerValue(headers, 'content-range') ?? '')?.[1])
        if (start !== this.written) {
          await reply.response.body.dump()
          throw new Error(`${redact(reply.url)} answered Range ${this.written}- with Content-Range ${headerValue(headers, 'content-range')}`)
        }
        this.outcome.resumes++
      }
      if (this.size === undefined) this.size = await this.sizeFrom(reply)
      this.url = reply.url
      const streamError = await this.consume(reply.response.body)
      if (this.written > before) failures = 0
      if (streamError) await fail(new Error(`${redact(reply.url)}: body broke at ${this.written} of ${this.size} bytes: ${streamError.message}`, { cause: streamError }))
      else if (this.written < this.size) await fail(new Error(`${redact(reply.url)}: body ended at ${this.written} of ${this.size} bytes`))
    }
    this.report(true)
  }

  /**
   * Writes the body at the current offset; resolves with a network error to retry, rejects with anything
   * else. Chunks are gathered into writes (and hashes) of WRITE_BATCH bytes; one batch is written while
   * the next one arrives, and the stream pauses only when both are full. `data` events rather than an
   * async iterator: a promise per small network chunk costs a third of the throughput. What arrived
   * before a network error is written before the error is returned, so a resume starts exactly after it.
   */
  private consume(body: Readable): Promise<Error | undefined> {
    const startedAt = this.written
    const pending: Buffer[] = []
    let pendingBytes = 0
    let accepted = 0
    let writing: Promise<void> = Promise.resolve()
    let settled = false
    return new Promise((resolve, reject) => {
      // Not the network's fault (too many bytes, a full disk): close the response and give up.
      const giveUp = (error: unknown) => {
        if (settled) return
        settled = true
        body.destroy()
        void writing.catch(() => undefined).then(() => reject(error))
      }
      const flush = () => {
        if (pendingBytes === 0) return
        const batch = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes)
        pending.length = 0
        pendingBytes = 0
        const previous = writing
        writing = previous.then(() => this.writeBatch(batch))
        writing.catch(giveUp)
        body.pause()
        void previous.then(() => settled || body.resume(), () => undefined)
      }
      const finish = (networkError?: Error) => {
        if (settled) return
        flush()
        void writing.then(() => {
          if (settled) return
          settled = true
          resolve(networkError)
        }, giveUp)
      }
      body.on('data', (chunk: Buffer) => {
        if (settled) return
        this.outcome.bytesTransferred += chunk.length
        if (startedAt + accepted + chunk.length > (this.size ?? 0)) {
          giveUp(new IntegrityError(`${redact(this.opts.url)}: server sent more than the expected ${this.size} bytes`))
          return
        }
        accepted += chunk.length
        pending.push(chunk)
        pendingBytes += chunk.length
        if (pendingBytes >= WRITE_BATCH) flush()
      })
      body.on('end', () => finish())
      body.on('error', error => finish(error))
    })
  }

  private async writeBatch(batch: Buffer): Promise<void> {
    for (let offset = 0; offset < batch.length; ) {
      offset += (await this.handle.write(batch, offset, batch.length - offset, this.written + offset)).bytesWritten
    }
    this.written += batch.length
    // Last: the hasher may move the batch to its thread (leaving it empty), where it hashes while the next batch arrives.
    this.hasher.update(batch)
    this.startWriteback()
    this.report(false)
  }

  /** The first full answer says how large the file is; without that nothing can be verified. */
  private async sizeFrom(reply: Reply): Promise<number> {
    const length = Number(headerValue(reply.response.headers, 'content-length'))
    if (reply.response.statusCode === 200 && Number.isSafeInteger(length) && length >= 0) return length
    await reply.response.body.dump()
    throw new Error(`${redact(reply.url)} did not say how large the file is (no Content-Length on a full answer)`)
  }

  private report(final: boolean): void {
    const now = Date.now()
    if (!this.opts.onProgress || (!final && now - this.lastProgress < (this.opts.progressIntervalMs ?? progressIntervalMs()))) return
    // The final line only when the last one did not already say it all.
    if (final && this.lastReported === this.written) return
    this.lastProgress = now
    this.lastReported = this.written
    this.opts.onProgress(this.written, this.size ?? 0)
  }
}
