import { PassThrough, type Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { CopyingDigest } from '../../util/hash-pool.js'
import { type ArchiveDigest, ArchiveMismatch } from '../archive.js'
import type { Sdk, StallGuard } from './client.js'
import { faultKind, faultOf, isTransient, S3Fault } from './faults.js'

/** How a download is cut up: ranges of `rangeSize` bytes, `concurrency` of them in flight (and at most in memory). */
export interface RangePlan {
  rangeSize: number
  concurrency: number
}

export interface DownloadContext {
  s3: S3Client
  sdk: Sdk
  guard: StallGuard
  bucket: string
}

/** Further attempts for a range whose body broke off (reset, cut short); a stalled body gets one (StallGuard). */
const RANGE_RETRIES = 2
const RETRY_DELAY_MS = 250

/** One range's bytes as they arrive, until the reader takes them. */
class RangeFetch {
  /** Received and not yet handed on. */
  chunks: Buffer[] = []
  received = 0
  done = false
  error: Error | undefined = undefined
  private wake: (() => void) | null = null

  constructor(
    readonly first: number,
    readonly last: number
  ) {}

  get length(): number {
    return this.last - this.first + 1
  }

  notify(): void {
    this.wake?.()
    this.wake = null
  }

  /** Resolves at the next chunk, the end, or a failure. */
  next(): Promise<void> {
    return new Promise(resolve => (this.wake = resolve))
  }
}

/**
 * One object's bytes, in order, over parallel ranged GETs: `concurrency` ranges stream at once, each on its
 * own connection. The earliest one's bytes are handed on as they arrive; the others keep theirs until it
 * is their turn, so the reader (tar, the hash) sees one steady stream and no more than `concurrency` ranges
 * sit in memory. Every response must say the object is `size` bytes long (Content-Range): an object that
 * is shorter, longer or replaced is an ArchiveMismatch, never extracted. A range whose connection breaks
 * resumes where it stopped; stopping early (`return`) aborts what is in flight.
 */
export async function* objectChunks(context: DownloadContext, name: string, size: number, plan: RangePlan): AsyncGenerator<Buffer> {
  const count = Math.max(1, Math.ceil(size / plan.rangeSize))
  const stop = new AbortController()
  const signal = AbortSignal.any([stop.signal, context.guard.signal])
  const fetches = new Map<number, RangeFetch>()
  const start = (index: number) => {
    const fetch = new RangeFetch(index * plan.rangeSize, Math.min(size, (index + 1) * plan.rangeSize) - 1)
    fetches.set(index, fetch)
    void fillRange(context, name, size, fetch, signal)
  }
  try {
    for (let index = 0; index < Math.min(count, plan.concurrency); index++) start(index)
    for (let index = 0; index < count; index++) {
      const fetch = fetches.get(index)!
      for (;;) {
        // Chunks that arrived while the reader was busy come first, also when the range has ended since.
        if (fetch.chunks.length > 0) {
          const ready = fetch.chunks
          fetch.chunks = []
          for (const chunk of ready) yield chunk
          continue
        }
        if (fetch.error !== undefined) throw fetch.error
        if (fetch.done) break
        await fetch.next()
      }
      fetches.delete(index)
      if (index + plan.concurrency < count) start(index + plan.concurrency)
    }
  } finally {
    stop.abort()
  }
}

/** Streams `fetch`'s range into it, resuming after a broken connection; never throws (the reader sees `error`). */
async function fillRange(context: DownloadContext, name: string, size: number, fetch: RangeFetch, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const from = fetch.first + fetch.received
    try {
      await streamRange(context, name, size, from, fetch, signal)
      if (fetch.received !== fetch.length)
        throw new S3Fault('connection', `${name}: the response ended after ${fetch.received} of ${fetch.length} bytes`)
      fetch.done = true
      break
    } catch (error) {
      const what = `GetObject ${name} bytes ${from}-${fetch.last}`
      if (signal.aborted) {
        fetch.error = signal.reason instanceof S3Fault ? signal.reason : faultOf(error, what)
        break
      }
      if (error instanceof ArchiveMismatch || !isTransient(error) || attempt >= RANGE_RETRIES) {
        fetch.error = error instanceof ArchiveMismatch ? error : faultOf(error, what)
        break
      }
      // A stalled body is retried once; a second stall trips the guard, which aborts every transfer.
      if (faultKind(error) === 'stalled' && !context.guard.bodyStalled(`${name}:${fetch.first}`)) {
        fetch.error = context.guard.tripped ?? faultOf(error, what)
        break
      }
      await new Promise(resolve => setTimeout(resolve, RETRY_DELAY_MS * (attempt + 1)))
    }
  }
  fetch.notify()
}

async function streamRange(
  context: DownloadContext,
  name: string,
  size: number,
  from: number,
  fetch: RangeFetch,
  signal: AbortSignal
): Promise<void> {
  let response
  try {
    response = await context.s3.send(
      new context.sdk.GetObjectCommand({ Bucket: context.bucket, Key: name, Range: `bytes=${from}-${fetch.last}` }),
      { abortSignal: signal }
    )
  } catch (error) {
    // A range that starts beyond the end: the object is shorter than the manifest says.
    if (faultKind(error) === 'range') throw new ArchiveMismatch(`is shorter than the ${size} bytes that were written`)
    throw error
  }
  const body = response.Body as Readable
  const total = totalSize(response.ContentRange, response.ContentLength, from)
  if (total !== size) {
    body.destroy()
    throw new ArchiveMismatch(`is ${total ?? 'an unknown number of'} bytes, ${size} were written`)
  }
  // 'data' events rather than an async iterator, which costs a promise per socket read (measurably slower).
  await new Promise<void>((resolve, reject) => {
    body.on('data', (chunk: Buffer) => {
      fetch.chunks.push(chunk)
      fetch.received += chunk.length
      fetch.notify()
    })
    body.once('error', reject)
    body.once('end', resolve)
  })
}

/**
 * The object's size from `Content-Range: bytes a-b/total`; a server that ignored the range and sent the whole
 * object (no Content-Range) is taken at its Content-Length only when the range started at 0 anyway.
 */
function totalSize(contentRange: string | undefined, contentLength: number | undefined, first: number): number | undefined {
  const total = /\/(\d+)\s*$/.exec(contentRange ?? '')?.[1]
  if (total !== undefined) return Number(total)
  return first === 0 ? contentLength : undefined
}

/**
 * The digest of an object's bytes, hashed on a worker thread as they come; `sink` gets every chunk after it
 * was handed to the hasher, and is awaited (backpressure).
 */
export async function digestChunks(
  chunks: AsyncIterable<Buffer>,
  sink: (chunk: Buffer) => Promise<void> | void = () => undefined,
  onProgress: (bytes: number) => void = () => undefined
): Promise<ArchiveDigest> {
  const digest = new CopyingDigest([{ algorithm: 'sha256' }])
  try {
    let bytes = 0
    for await (const chunk of chunks) {
      digest.update(chunk)
      bytes += chunk.length
      await sink(chunk)
      onProgress(chunk.length)
    }
    return { sha256: (await digest.digests())[0], bytes }
  } finally {
    digest.close()
  }
}

/**
 * An object's bytes as a stream (for tar) and their digest. When the reader gives up early (tar refused the
 * archive), the rest is still read and hashed, so that a corrupt archive is reported as one, not as tar's
 * complaint about it.
 */
export function verifiedObjectStream(
  chunks: AsyncIterable<Buffer>,
  onProgress?: (bytes: number) => void
): { stream: Readable; hashed: Promise<ArchiveDigest> } {
  const stream = new PassThrough({ highWaterMark: 4 * 1024 * 1024 })
  const write = (chunk: Buffer) => (stream.destroyed || stream.write(chunk) ? undefined : drained(stream))
  const hashed = digestChunks(chunks, write, onProgress).then(
    digest => (stream.end(), digest),
    (error: Error) => {
      // Cut short, not failed: `hashed` carries the reason, and nobody may be listening for 'error' yet.
      stream.destroy()
      throw error
    }
  )
  return { stream, hashed }
}

/** Resolves when the stream wants more, or is gone (its reader stopped). */
function drained(stream: PassThrough): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.once('drain', done)
    stream.once('close', done)
  })
}
