import { randomBytes } from 'node:crypto'
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises'
import * as path from 'node:path'
import { syncPath } from '../util/atomic.js'
import { DEFAULT_IDLE_TIMEOUT_MS, IdleWatch } from '../util/idle.js'
import { progressIntervalMs } from '../util/progress.js'
import type { ExpectedDigest } from './digest.js'
import { FileSink } from './file-sink.js'
import { type Headers, headerValue } from './headers.js'
import { type Credentials, HttpStatusError, type Reply, redact, send, statusError } from './http.js'
import { InOrderHasher } from './in-order-hasher.js'
import { IntegrityError, receiveBody } from './receive.js'
import { Attempts, DEFAULT_RETRY, isRetryableStatus, type RetryPolicy } from './retry.js'

export { IntegrityError } from './receive.js'

/** How one file's transfer is run: the `download-connections` and `idle-timeout` inputs. */
export interface TransferSettings {
  /** Connections for one large file, each fetching its own ranges; 1 = one stream. Default 4. */
  connections?: number
  /** A request that brings no byte for this long is cut and retried; default 60 s. */
  idleTimeoutMs?: number
  /** Files at least this large are fetched in ranges over `connections`; default 64 MiB. */
  parallelThreshold?: number
  /** Bytes per ranged request; default 16 MiB. The unit of a retry, and of what waits in memory to be hashed. */
  rangeSize?: number
}

export interface VerifiedDownloadOptions extends TransferSettings {
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
  /** What is downloaded, for messages (`org/name: model.safetensors`); default the URL without its query. */
  label?: string
  /** Bytes of ranges that arrived ahead of the hash kept in memory; the rest is read back from the temp file. Default 64 MiB. */
  reorderMemory?: number
}

export interface DownloadOutcome {
  /** Body bytes received, including any thrown away by a restart: what the network carried. */
  bytesTransferred: number
  /** Times a broken single stream continued with `Range` (a broken range's retry counts in `ranges`). */
  resumes: number
  /** Times we started over from byte 0 (server ignored Range, or a digest mismatch). */
  restarts: number
  /** Ranged requests that carried bytes of a parallel download; 0 for one stream. */
  ranges: number
}

export const DEFAULT_CONNECTIONS = 4
export const DEFAULT_PARALLEL_THRESHOLD = 64 * 1024 * 1024
const DEFAULT_RANGE_SIZE = 16 * 1024 * 1024
/** A signed URL may expire while we retry; this many fresh resolutions per download. */
const MAX_RERESOLVES = 3
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
    job = new Transfer(opts, handle, temp)
    for (let integrityRetries = INTEGRITY_RETRIES; ; integrityRetries--) {
      await job.fill()
      const bad = await job.mismatch()
      if (!bad) break
      const message = `${job.label}: ${bad.name} mismatch, expected ${bad.expected}, got ${bad.actual}`
      if (integrityRetries === 0) throw new IntegrityError(message)
      await job.restart()
    }
    await job.sink.writtenBack()
    await job.checkFileSize()
    await handle.sync()
    handleOpen = false
    await handle.close()
    await rename(temp, opts.destination)
    await syncPath(path.dirname(opts.destination))
    return job.outcome
  } catch (error) {
    if (handleOpen) {
      await job?.sink.writtenBack().catch(() => undefined)
      await handle.close().catch(() => undefined)
    }
    await rm(temp, { force: true })
    throw error
  } finally {
    job?.hasher.close()
  }
}

/** Part of the file one request loop is responsible for. */
interface Span {
  /** The next byte to fetch. */
  next: number
  /** The last byte (inclusive); undefined until the size is known, for a single stream. */
  last?: number
}

/**
 * `ranges`: one of several fixed ranges; a 200 answer means the server ignores Range, and the whole
 * download falls back to one stream. `stream`: the single stream; a 200 answer to its resume means
 * start again from byte 0 with that body.
 */
type SpanMode = 'ranges' | 'stream'

/** A response carrying file bytes: `start` and `end` (inclusive) say which. */
interface BodyAnswer {
  kind: 'body'
  reply: Reply
  start: number
  end: number
  watch: IdleWatch
}

/** What one request came to, short of a body: try again at once (a fresh URL), or count a failure. */
type Setback = { kind: 'again' } | { kind: 'failed'; error: Error; headers?: Headers }

/** Thrown inside the parallel path when a server answers a ranged request with the whole file, or refuses ranges. */
class RangeIgnored extends Error {}

/** The state of one download across its attempts and connections. */
class Transfer {
  readonly hasher: InOrderHasher
  readonly sink: FileSink
  readonly outcome: DownloadOutcome = { bytesTransferred: 0, resumes: 0, restarts: 0, ranges: 0 }
  readonly label: string
  private size: number | undefined
  /** Where bytes come from now: the URL that last answered, so a resume or a range skips the Hub's redirect. */
  private url: string
  /** Bumped on each re-resolution, so connections that all hit the same expired URL resolve it once. */
  private urlGeneration = 0
  private reResolves = 0
  /** The span whose next request fetches a fresh URL from the origin; the others wait for it. */
  private resolving: { span: Span; done: Promise<void>; finish: () => void } | undefined
  private readonly policy: RetryPolicy
  private readonly idleMs: number
  /** Live requests, so a failed range can cut its siblings at once. */
  private readonly watches = new Set<IdleWatch>()
  private cancelled: Error | undefined
  private wakeOnCancel: (() => void)[] = []
  private lastProgress = 0
  private lastReported = -1

  constructor(
    private readonly opts: VerifiedDownloadOptions,
    private readonly handle: FileHandle,
    temp: string
  ) {
    if (opts.size === undefined && opts.digest.gitSha1 !== undefined) throw new Error('a git blob id can only be checked with a known size')
    this.size = opts.size
    this.url = opts.url
    this.label = opts.label ?? redact(opts.url)
    this.policy = opts.retry ?? DEFAULT_RETRY
    this.idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    this.hasher = new InOrderHasher(opts.digest, opts.size ?? 0, temp, opts.reorderMemory)
    this.sink = new FileSink(handle, this.hasher, () => this.report(false))
  }

  /** Fetches every byte once, in ranges when the file is large enough and the server allows. */
  async fill(): Promise<void> {
    if (this.size === 0) return this.report(true)
    const rest = this.wantsRanges() ? await this.fillInRanges() : undefined
    if (rest !== 'complete') await this.fetchSpan({ next: this.hasher.frontier, last: this.lastByte() }, 'stream', rest)
    this.report(true)
  }

  async mismatch(): Promise<{ name: string; expected: string; actual: string } | undefined> {
    return this.hasher.mismatch(this.size ?? 0)
  }

  /** Back to byte 0 and to the original URL, so the next attempt is resolved afresh. */
  async restart(): Promise<void> {
    await this.sink.truncate()
    this.hasher.reset()
    this.url = this.opts.url
    this.urlGeneration++
    this.cancelled = undefined
    this.outcome.restarts++
  }

  /** The hash saw `size` bytes in order; the file must hold exactly those. */
  async checkFileSize(): Promise<void> {
    const { size } = await this.handle.stat()
    if (size !== this.size) throw new Error(`${this.label}: the temp file holds ${size} bytes, expected ${this.size}`)
  }

  private wantsRanges(): boolean {
    const connections = this.opts.connections ?? DEFAULT_CONNECTIONS
    return connections > 1 && (this.size === undefined || this.size >= (this.opts.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD))
  }

  private lastByte(): number | undefined {
    return this.size === undefined ? undefined : this.size - 1
  }

  // ---- the parallel path ------------------------------------------------------------------------

  /**
   * The first range is asked for alone: its answer tells whether the server honours Range (206) and,
   * when we did not know it, how large the file is. Then the remaining ranges are shared by
   * `connections` loops, each taking the next range when it finished one. Returns 'complete', or the
   * answer to continue as a single stream with: the first request's 200 (the server ignores Range),
   * or undefined after a later range got a 200, or 403s even from fresh URLs (continue from the
   * hashed frontier).
   */
  private async fillInRanges(): Promise<'complete' | BodyAnswer | undefined> {
    const rangeSize = this.opts.rangeSize ?? DEFAULT_RANGE_SIZE
    const first: Span = { next: 0, last: Math.min(rangeSize, this.size ?? rangeSize) - 1 }
    const answer = await this.firstAnswer(first).catch((error: unknown) => {
      if (error instanceof RangeIgnored) return undefined
      throw error
    })
    if (answer === undefined) return this.fallBackToOneStream()
    if (answer.reply.response.statusCode === 200) return answer
    const size = this.size as number
    first.last = Math.min(first.last as number, size - 1)
    const queue = planRanges(first.last + 1, size, rangeSize)
    const connections =
      size >= (this.opts.parallelThreshold ?? DEFAULT_PARALLEL_THRESHOLD) ? (this.opts.connections ?? DEFAULT_CONNECTIONS) : 1
    const connection = async (start?: { span: Span; answer: BodyAnswer }) => {
      if (start) await this.fetchSpan(start.span, 'ranges', start.answer)
      for (let span = queue.shift(); span !== undefined; span = queue.shift()) await this.fetchSpan(span, 'ranges')
    }
    const loops = [
      connection({ span: first, answer }),
      ...Array.from({ length: Math.min(connections, queue.length + 1) - 1 }, () => connection())
    ]
    const failure = await this.firstFailure(loops)
    if (failure === undefined) return 'complete'
    if (!(failure instanceof RangeIgnored)) throw failure
    return this.fallBackToOneStream()
  }

  /**
   * Everything up to the hashed frontier is written and hashed; a single stream redoes the rest,
   * from a fresh URL and with its own re-resolutions.
   */
  private fallBackToOneStream(): undefined {
    this.cancelled = undefined
    this.url = this.opts.url
    this.urlGeneration++
    this.reResolves = 0
    this.hasher.discardAhead()
    this.sink.written = this.hasher.frontier
    return undefined
  }

  /** The first range's answer, retried like any request, its watch still running for the body. */
  private async firstAnswer(span: Span): Promise<BodyAnswer> {
    const attempts = new Attempts(this.policy)
    for (;;) {
      const outcome = await this.ask(span, 'ranges')
      if (outcome.kind === 'body') return outcome
      await this.setback(attempts, outcome)
    }
  }

  /**
   * Waits for every connection loop; on the first failure the others are cut at once (their bytes so
   * far are written before they stop, so nothing writes after we return). The first error is the one
   * reported, not the cancellations it caused.
   */
  private async firstFailure(loops: Promise<void>[]): Promise<Error | undefined> {
    let first: Error | undefined
    await Promise.all(
      loops.map(loop =>
        loop.catch((error: Error) => {
          first ??= error
          this.cancel(error)
        })
      )
    )
    return first
  }

  private cancel(reason: Error): void {
    this.cancelled ??= reason
    for (const watch of this.watches) watch.abort(new Error('cancelled: another range failed'))
    for (const wake of this.wakeOnCancel.splice(0)) wake()
    this.resolving?.finish()
    this.resolving = undefined
  }

  // ---- one span, retried on its own ---------------------------------------------------------------

  /** Fetches `span` to its end, resuming after breaks and retrying per the policy on its own. */
  private async fetchSpan(span: Span, mode: SpanMode, first?: BodyAnswer): Promise<void> {
    const attempts = new Attempts(this.policy)
    while (span.last === undefined || span.next <= span.last) {
      if (this.cancelled) throw this.cancelled
      const outcome = first ?? (await this.ask(span, mode))
      first = undefined
      if (outcome.kind === 'again') continue
      if (outcome.kind === 'failed') {
        await this.setback(attempts, outcome)
        continue
      }
      try {
        const before = span.next
        const broke = await this.take(span, mode, outcome)
        if (span.next > before) attempts.progressed()
        if (broke) await this.setback(attempts, { kind: 'failed', error: broke })
      } finally {
        this.forget(outcome.watch)
      }
    }
  }

  /** Writes one answer's body into the span; returns why it stopped short, if the network is to blame. */
  private async take(span: Span, mode: SpanMode, answer: BodyAnswer): Promise<Error | undefined> {
    if (mode === 'ranges' && answer.reply.response.statusCode !== 206) {
      // A 200 to a ranged request: this server (or this edge of it) sends whole files only.
      answer.watch.abort(new Error('range ignored'))
      await answer.reply.response.body.dump().catch(() => undefined)
      throw new RangeIgnored(`${this.label}: ${new URL(answer.reply.url).host} ignored Range`)
    }
    if (answer.start !== span.next) {
      // A 200 to a single stream's resume: the whole file again, from byte 0.
      await this.startOver()
      span.next = 0
    } else if (mode === 'ranges') {
      this.outcome.ranges++
    } else if (span.next > 0) {
      this.outcome.resumes++
    }
    span.last ??= this.lastByte()
    const received = await receiveBody(answer.reply.response.body, {
      sink: this.sink,
      offset: span.next,
      limit: answer.end + 1,
      watch: answer.watch,
      onReceived: bytes => (this.outcome.bytesTransferred += bytes),
      describe: () => this.describe(answer.reply.url, span)
    })
    span.next = received.next
    if (received.error) return this.streamError(received.error, answer.reply.url, span)
    if (span.next <= answer.end)
      return new Error(`${this.describe(answer.reply.url, span)}: body ended at byte ${span.next}, before ${answer.end + 1}`)
    return undefined
  }

  /** A single stream's server ignored Range: empty the file and hash from byte 0. */
  private async startOver(): Promise<void> {
    await this.sink.truncate()
    this.hasher.reset()
    this.outcome.restarts++
  }

  /**
   * One request for the span's bytes: a body answer, or a setback to retry. Anything that no retry
   * can fix (a 404, a wrong Content-Range, a size other than promised) throws.
   */
  private async ask(span: Span, mode: SpanMode): Promise<BodyAnswer | Setback> {
    if (this.resolving && this.resolving.span !== span) await this.resolving.done
    if (this.cancelled) return { kind: 'failed', error: this.cancelled }
    const resolving = this.resolving?.span === span ? this.resolving : undefined
    try {
      return await this.askOnce(span, mode)
    } finally {
      // This request went to the origin for everyone: whatever it came to, the others go on.
      if (resolving) {
        resolving.finish()
        if (this.resolving === resolving) this.resolving = undefined
      }
    }
  }

  private async askOnce(span: Span, mode: SpanMode): Promise<BodyAnswer | Setback> {
    const url = this.url
    const generation = this.urlGeneration
    const watch = this.watch(() => this.describe(url, span))
    const range = mode === 'ranges' ? `bytes=${span.next}-${span.last ?? ''}` : span.next > 0 ? `bytes=${span.next}-` : undefined
    let reply: Reply
    try {
      reply = await send(
        url,
        this.opts.credentials,
        // Decoded bytes would not match offsets for Range, nor Content-Length for the size check.
        { 'accept-encoding': 'identity', ...(range ? { range } : {}) },
        { signal: watch.signal, onResponse: () => watch.touch(), idleTimeoutMs: this.idleMs }
      )
    } catch (error) {
      this.forget(watch)
      return { kind: 'failed', error: this.streamError(error as Error, url, span) }
    }
    try {
      const answer = await this.classify(reply, span, mode, generation, watch)
      if (answer.kind !== 'body') this.forget(watch)
      return answer
    } catch (error) {
      this.forget(watch)
      throw error
    }
  }

  private async classify(reply: Reply, span: Span, mode: SpanMode, generation: number, watch: IdleWatch): Promise<BodyAnswer | Setback> {
    const { statusCode: status, headers } = reply.response
    const elsewhere = new URL(reply.url).origin !== this.opts.credentials.origin
    if (status === 403 && elsewhere) {
      // A signed CDN URL that expired: ask the origin for a fresh one.
      if (this.reResolve(generation, span)) {
        await reply.response.body.dump()
        return { kind: 'again' }
      }
      // Fresh URLs refused too: some CDNs refuse several connections to one file. One stream then.
      if (mode === 'ranges') {
        await reply.response.body.dump()
        throw new RangeIgnored(`${this.label}: ${new URL(reply.url).host} refused ranged requests with HTTP 403`)
      }
    }
    if (isRetryableStatus(status)) return { kind: 'failed', error: await statusError(reply), headers }
    if (status !== 200 && status !== 206) throw await statusError(reply)
    const encoding = headerValue(headers, 'content-encoding')
    if (encoding !== undefined && encoding !== 'identity') {
      await reply.response.body.dump()
      throw new Error(`${redact(reply.url)} answered with Content-Encoding ${encoding} although identity was asked for`)
    }
    const { start, end } = status === 206 ? await this.partialExtent(reply, span) : await this.fullExtent(reply)
    if (generation === this.urlGeneration) this.url = reply.url
    return { kind: 'body', reply, start, end, watch }
  }

  /** Which bytes a 206 carries, checked against what was asked; learns the size if it was unknown. */
  private async partialExtent(reply: Reply, span: Span): Promise<{ start: number; end: number }> {
    const contentRange = headerValue(reply.response.headers, 'content-range') ?? ''
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange.trim())
    const [start, end] = [Number(match?.[1]), Number(match?.[2])]
    const total = match?.[3] === '*' ? undefined : Number(match?.[3])
    if (!match || start !== span.next || (span.last !== undefined && end > span.last)) {
      await reply.response.body.dump()
      throw new Error(`${redact(reply.url)} answered Range ${span.next}-${span.last ?? ''} with Content-Range ${contentRange}`)
    }
    await this.learnSize(reply, total)
    return { start, end: Math.min(end, (this.size as number) - 1) }
  }

  /** A 200 carries the whole file: its Content-Length is the size. */
  private async fullExtent(reply: Reply): Promise<{ start: number; end: number }> {
    const length = Number(headerValue(reply.response.headers, 'content-length'))
    await this.learnSize(reply, Number.isSafeInteger(length) && length >= 0 ? length : undefined)
    return { start: 0, end: (this.size as number) - 1 }
  }

  /** The first answer says how large the file is; without that nothing can be verified. A later one must agree. */
  private async learnSize(reply: Reply, total: number | undefined): Promise<void> {
    if (this.size === undefined && total === undefined) {
      await reply.response.body.dump()
      throw new Error(`${redact(reply.url)} did not say how large the file is (no Content-Length on a full answer)`)
    }
    if (this.size !== undefined && total !== undefined && total !== this.size) {
      await reply.response.body.dump()
      throw new IntegrityError(`${this.label}: ${redact(reply.url)} says the file is ${total} bytes, expected ${this.size}`)
    }
    this.size ??= total
  }

  /**
   * True when a 403 from the CDN should send us back to the origin for a fresh signed URL. This
   * span's next request fetches it; the other connections wait for that one answer instead of each
   * asking the origin (the Hub's "resolvers" rate limit is per IP, shared by the whole runner).
   */
  private reResolve(generation: number, span: Span): boolean {
    // Another connection already re-resolved since this request left: just use the new URL.
    if (generation !== this.urlGeneration) return true
    if (this.reResolves >= MAX_RERESOLVES) return false
    this.reResolves++
    this.urlGeneration++
    this.url = this.opts.url
    let finish: () => void = () => undefined
    const done = new Promise<void>(resolve => (finish = resolve))
    this.resolving = { span, done, finish }
    return true
  }

  /** Counts a failure of one span: past the policy's attempts it gives up with that span's error. */
  private async setback(attempts: Attempts, setback: Setback): Promise<void> {
    if (setback.kind === 'again') return
    if (this.cancelled) throw this.cancelled
    const delay = attempts.failed(setback.headers)
    if (delay === undefined) throw giveUp(setback.error, attempts.tries)
    await this.sleepUnlessCancelled(delay)
  }

  private async sleepUnlessCancelled(ms: number): Promise<void> {
    let wake: () => void = () => undefined
    const cancelled = new Promise<void>(resolve => (wake = resolve))
    this.wakeOnCancel.push(wake)
    try {
      await Promise.race([this.policy.sleep(ms), cancelled])
    } finally {
      this.wakeOnCancel = this.wakeOnCancel.filter(w => w !== wake)
    }
    if (this.cancelled) throw this.cancelled
  }

  private watch(describe: () => string): IdleWatch {
    const watch = new IdleWatch(this.idleMs, describe)
    this.watches.add(watch)
    return watch
  }

  private forget(watch: IdleWatch): void {
    watch.stop()
    this.watches.delete(watch)
  }

  /** A network error with the connection it happened on; a stall already names it. */
  private streamError(error: Error, url: string, span: Span): Error {
    if (this.cancelled) return this.cancelled
    if (error.name === 'IdleTimeoutError') return error
    return new Error(`${this.describe(url, span)}: ${error.message}`, { cause: error })
  }

  /** `org/name: model.safetensors: 127.0.0.1:8080, bytes 16777216-33554431 of 1073741824` */
  private describe(url: string, span: Span): string {
    const of = this.size === undefined ? '' : ` of ${this.size}`
    return `${this.label}: ${new URL(url).host}, bytes ${span.next}-${span.last ?? ''}${of}`
  }

  private report(final: boolean): void {
    const now = Date.now()
    if (!this.opts.onProgress || (!final && now - this.lastProgress < (this.opts.progressIntervalMs ?? progressIntervalMs()))) return
    // The final line only when the last one did not already say it all.
    if (final && this.lastReported === this.sink.written) return
    this.lastProgress = now
    this.lastReported = this.sink.written
    this.opts.onProgress(this.sink.written, this.size ?? 0)
  }
}

/** Ranges of `rangeSize` bytes covering [from, size). */
function planRanges(from: number, size: number, rangeSize: number): Span[] {
  const spans: Span[] = []
  for (let next = from; next < size; next += rangeSize) spans.push({ next, last: Math.min(next + rangeSize, size) - 1 })
  return spans
}

/** The error a span gives up with: a status error as is (the Hub explains its own), else saying how often we tried. */
function giveUp(error: Error, tries: number): Error {
  if (error instanceof HttpStatusError) return error
  return new Error(`${error.message}; gave up after ${tries} tries`, { cause: error })
}
