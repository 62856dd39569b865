import { PassThrough, type Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { StreamDigest } from '../../util/hash-pool.js'
import { type ArchiveDigest, ArchiveMismatch } from '../archive.js'
import type { Sdk } from './client.js'
import type { StallGuard } from './client.js'
import { faultKind, faultOf, isTransient, S3Fault } from './faults.js'

/** How a download is cut up: ranges of `rangeSize` bytes, `concurrency` of them in flight (and in memory). */
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

/**
 * One object's bytes, in order, fetched as parallel ranged GETs: the next `concurrency` ranges are in flight
 * while the earliest is handed on, so a large archive comes down over several connections and no more than
 * `concurrency` ranges sit in memory. Every response must say the object is `size` bytes long (Content-Range):
 * an object that is shorter, longer or replaced is an ArchiveMismatch, never extracted. A range whose
 * connection breaks is fetched again; stopping early (`return`) aborts what is in flight.
 */
export async function* objectRanges(context: DownloadContext, name: string, size: number, plan: RangePlan): AsyncGenerator<Buffer[]> {
  const count = Math.max(1, Math.ceil(size / plan.rangeSize))
  const stop = new AbortController()
  const signal = AbortSignal.any([stop.signal, context.guard.signal])
  const inFlight = new Map<number, Promise<Buffer[]>>()
  const start = (index: number) => {
    const fetched = fetchRange(context, name, size, index * plan.rangeSize, Math.min(size, (index + 1) * plan.rangeSize) - 1, signal)
    // Awaited in order below; a failure of a later range must not count as unhandled meanwhile.
    fetched.catch(() => undefined)
    inFlight.set(index, fetched)
  }
  try {
    for (let next = 0; next < Math.min(count, plan.concurrency); next++) start(next)
    for (let index = 0; index < count; index++) {
      const chunks = await inFlight.get(index)!
      inFlight.delete(index)
      if (index + plan.concurrency < count) start(index + plan.concurrency)
      yield chunks
    }
  } finally {
    stop.abort()
  }
}

/** `bytes=first-last` of an object of `size` bytes, with the retries a broken connection deserves. */
async function fetchRange(context: DownloadContext, name: string, size: number, first: number, last: number, signal: AbortSignal): Promise<Buffer[]> {
  const what = `GetObject ${name} bytes ${first}-${last}`
  for (let attempt = 0; ; attempt++) {
    try {
      return await readRange(context, name, size, first, last, signal)
    } catch (error) {
      if (signal.aborted) throw signal.reason instanceof S3Fault ? signal.reason : faultOf(error, what)
      if (error instanceof ArchiveMismatch || !isTransient(error) || attempt >= RANGE_RETRIES) throw error instanceof ArchiveMismatch ? error : faultOf(error, what)
      // A stalled body is retried once; a second stall trips the guard, which aborts every transfer.
      if (faultKind(error) === 'stalled' && !context.guard.bodyStalled(`${name}:${first}`)) throw context.guard.tripped!
      await new Promise(resolve => setTimeout(resolve, RETRY_DELAY_MS * (attempt + 1)))
    }
  }
}

async function readRange(context: DownloadContext, name: string, size: number, first: number, last: number, signal: AbortSignal): Promise<Buffer[]> {
  let response
  try {
    response = await context.s3.send(new context.sdk.GetObjectCommand({ Bucket: context.bucket, Key: name, Range: `bytes=${first}-${last}` }), { abortSignal: signal })
  } catch (error) {
    // A range that starts beyond the end: the object is shorter than the manifest says.
    if (faultKind(error) === 'range') throw new ArchiveMismatch(`is shorter than the ${size} bytes that were written`)
    throw error
  }
  const total = totalSize(response.ContentRange, response.ContentLength, first)
  if (total !== size) {
    ;(response.Body as Readable | undefined)?.destroy()
    throw new ArchiveMismatch(`is ${total ?? 'an unknown number of'} bytes, ${size} were written`)
  }
  const chunks: Buffer[] = []
  let received = 0
  for await (const chunk of response.Body as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    received += chunk.length
  }
  // The server said how long the range is; a connection that ended before that is a broken one.
  if (received !== last - first + 1) throw new S3Fault('connection', `${name}: the response ended after ${received} of ${last - first + 1} bytes`)
  return chunks
}

/**
 * The object's size from `Content-Range: bytes a-b/total`; a server that ignored the range and sent the whole
 * object (no Content-Range) is taken at its Content-Length only when the range was the whole object anyway.
 */
function totalSize(contentRange: string | undefined, contentLength: number | undefined, first: number): number | undefined {
  const total = /\/(\d+)\s*$/.exec(contentRange ?? '')?.[1]
  if (total !== undefined) return Number(total)
  return first === 0 ? contentLength : undefined
}

/**
 * The digest of an object's bytes, hashed on a worker thread range by range; `sink` gets each range's chunks
 * in order after they were handed to the hasher.
 */
export async function digestRanges(
  ranges: AsyncIterable<Buffer[]>,
  sink: (chunks: Buffer[]) => Promise<void> = async () => undefined,
  onProgress: (bytes: number) => void = () => undefined
): Promise<ArchiveDigest> {
  const digest = new StreamDigest([{ algorithm: 'sha256' }])
  try {
    let bytes = 0
    for await (const chunks of ranges) {
      // One copy for the worker, which takes the memory it is given; the originals go to the sink.
      const copy = Buffer.concat(chunks)
      bytes += copy.length
      digest.update(copy)
      await sink(chunks)
      onProgress(chunks.reduce((sum, chunk) => sum + chunk.length, 0))
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
export function verifiedObjectStream(ranges: AsyncIterable<Buffer[]>, onProgress?: (bytes: number) => void): { stream: Readable; hashed: Promise<ArchiveDigest> } {
  const stream = new PassThrough({ highWaterMark: 4 * 1024 * 1024 })
  const write = async (chunks: Buffer[]) => {
    for (const chunk of chunks) if (!stream.destroyed && !stream.write(chunk)) await drained(stream)
  }
  const hashed = digestRanges(ranges, write, onProgress).then(
    digest => (stream.end(), digest),
    (error: Error) => {
      stream.destroy(error)
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
