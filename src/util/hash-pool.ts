import { AsyncResource } from 'node:async_hooks'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

/** A digest to compute: the algorithm and bytes hashed before the content (a git blob's header). */
export interface HashSpec {
  algorithm: 'sha256' | 'sha1'
  prefix?: string
}

export interface FileDigests {
  /** Hex digests, in the order of the specs. */
  digests: string[]
  /** Bytes hashed: short of the size asked for when the file is. */
  bytesRead: number
}

/**
 * Hashing runs in worker threads so it overlaps the network, disk and tar work on the main thread and
 * so several files use several cores. The source is plain JavaScript started with `eval` because the
 * action ships as one bundled file per entry point, with no separate worker file to point at.
 */
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads')
const crypto = require('node:crypto')
const fs = require('node:fs')
const READ_CHUNK = 4 * 1024 * 1024
const streams = new Map()

function begin(specs) {
  return specs.map(spec => {
    const hash = crypto.createHash(spec.algorithm)
    if (spec.prefix) hash.update(spec.prefix)
    return hash
  })
}

function readAt(fd, buffer, length, position) {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))))
}

// Two buffers: the next read runs on libuv's pool while this thread hashes the previous one.
async function hashFile(message) {
  const fd = message.path === undefined ? message.fd : fs.openSync(message.path, 'r')
  try {
    const hashes = begin(message.specs)
    const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)]
    const next = (index, position) =>
      position < message.size ? readAt(fd, buffers[index], Math.min(READ_CHUNK, message.size - position), position) : Promise.resolve(0)
    let position = 0
    let index = 0
    let reading = next(index, position)
    for (;;) {
      const bytesRead = await reading
      if (bytesRead === 0) break
      const current = buffers[index].subarray(0, bytesRead)
      position += bytesRead
      index ^= 1
      reading = next(index, position)
      for (const hash of hashes) hash.update(current)
      if (message.progress) parentPort.postMessage({ id: message.id, progress: bytesRead })
    }
    return { digests: hashes.map(hash => hash.digest('hex')), bytesRead: position }
  } finally {
    if (message.path !== undefined) fs.closeSync(fd)
  }
}

function reply(id, work) {
  Promise.resolve()
    .then(work)
    .then(
      result => parentPort.postMessage({ id, result }),
      error => parentPort.postMessage({ id, error: error && error.message ? error.message : String(error) })
    )
}

// A stream whose file read failed keeps the reason and reports it at its digest, instead of throwing
// here: an exception would kill the worker and every other stream it serves.
function failStream(stream, error) {
  if (stream.failure === undefined) stream.failure = error && error.message ? error.message : String(error)
}

// Bytes already on disk, read back in order (out-of-order ranges of a parallel download).
const readBuffer = Buffer.allocUnsafe(READ_CHUNK)
function hashFileRange(stream, file, position, length) {
  const fd = fs.openSync(file, 'r')
  try {
    for (let done = 0; done < length; ) {
      const bytesRead = fs.readSync(fd, readBuffer, 0, Math.min(READ_CHUNK, length - done), position + done)
      if (bytesRead === 0) throw new Error(file + ' ended at ' + (position + done) + ', before the ' + length + ' bytes from ' + position + ' to hash')
      const current = readBuffer.subarray(0, bytesRead)
      for (const hash of stream.hashes) hash.update(current)
      done += bytesRead
    }
  } finally {
    fs.closeSync(fd)
  }
}

parentPort.on('message', message => {
  const stream = streams.get(message.id)
  switch (message.op) {
    case 'begin':
      streams.set(message.id, { hashes: begin(message.specs) })
      break
    case 'update':
      if (stream) for (const chunk of message.chunks) for (const hash of stream.hashes) hash.update(new Uint8Array(chunk))
      parentPort.postMessage({ id: message.id, hashed: message.bytes })
      break
    case 'update-from-file':
      if (stream && stream.failure === undefined) {
        try {
          hashFileRange(stream, message.path, message.position, message.length)
        } catch (error) {
          failStream(stream, error)
        }
      }
      parentPort.postMessage({ id: message.id, hashed: message.length })
      break
    case 'digest':
      reply(message.id, () => {
        streams.delete(message.id)
        if (!stream) return Promise.reject(new Error('digest of a stream that was not begun'))
        if (stream.failure !== undefined) return Promise.reject(new Error(stream.failure))
        return stream.hashes.map(hash => hash.digest('hex'))
      })
      break
    case 'end':
      streams.delete(message.id)
      break
    case 'file':
      reply(message.id, () => hashFile(message))
      break
  }
})
`

interface Pending {
  slot: PoolWorker
  resolve(value: unknown): void
  reject(error: Error): void
  onProgress?: (bytes: number) => void
}

/** What a stream hears from its worker: bytes hashed, or that the worker died. */
interface StreamListener {
  hashed(bytes: number): void
  failed(error: Error): void
}

interface PoolWorker {
  worker: Worker
  /** Streams open and file jobs outstanding: the worker keeps the process alive only while this is above 0. */
  load: number
  /** Why the worker died, once it has. */
  failure?: Error
}

/** Workers start on demand, up to one per core, and never keep the process alive when idle. */
class HashPool {
  private readonly workers: PoolWorker[] = []
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<number, StreamListener & { slot: PoolWorker }>()
  private nextId = 1
  private readonly size: number

  constructor(size: number) {
    this.size = size
  }

  acquire(): { slot: PoolWorker; id: number } {
    let slot = this.workers.reduce<PoolWorker | undefined>((best, w) => (best === undefined || w.load < best.load ? w : best), undefined)
    if (slot === undefined || (slot.load > 0 && this.workers.length < this.size)) slot = this.spawn()
    if (slot.load++ === 0) slot.worker.ref()
    return { slot, id: this.nextId++ }
  }

  release(slot: PoolWorker): void {
    if (--slot.load === 0) slot.worker.unref()
  }

  listen(slot: PoolWorker, id: number, listener: StreamListener): void {
    this.listeners.set(id, { ...listener, slot })
  }

  unlisten(id: number): void {
    this.listeners.delete(id)
  }

  request<T>(slot: PoolWorker, id: number, message: object, onProgress?: (bytes: number) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (slot.failure) return reject(slot.failure)
      // The worker's messages arrive in the context that started it; a progress line belongs to the caller's
      // (its kind's log group, see capture.ts).
      this.pending.set(id, { slot, resolve: resolve, reject, onProgress: onProgress && AsyncResource.bind(onProgress) })
      slot.worker.postMessage({ ...message, id })
    })
  }

  private spawn(): PoolWorker {
    // No inherited flags: `--input-type=module` would make the CommonJS source above fail to start.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] })
    const slot: PoolWorker = { worker, load: 0 }
    worker.on('message', (message: { id: number; result?: unknown; error?: string; progress?: number; hashed?: number }) => {
      if (message.hashed !== undefined) return this.listeners.get(message.id)?.hashed(message.hashed)
      const waiting = this.pending.get(message.id)
      if (message.progress !== undefined) return waiting?.onProgress?.(message.progress)
      this.pending.delete(message.id)
      if (message.error !== undefined) waiting?.reject(new Error(message.error))
      else waiting?.resolve(message.result)
    })
    worker.on('error', (error: Error) => this.failAll(slot, error))
    worker.on('exit', code => this.failAll(slot, new Error(`hashing worker exited with code ${code}`)))
    worker.unref()
    this.workers.push(slot)
    return slot
  }

  /** A dead worker fails what it held (the caller reports it) and is replaced on the next request. */
  private failAll(slot: PoolWorker, error: Error): void {
    slot.failure ??= error
    if (this.workers.includes(slot)) this.workers.splice(this.workers.indexOf(slot), 1)
    for (const [id, waiting] of this.pending) {
      if (waiting.slot !== slot) continue
      this.pending.delete(id)
      waiting.reject(slot.failure)
    }
    for (const [id, listener] of this.listeners) {
      if (listener.slot !== slot) continue
      this.listeners.delete(id)
      listener.failed(slot.failure)
    }
  }
}

let shared: HashPool | undefined

function pool(): HashPool {
  shared ??= new HashPool(Math.max(1, availableParallelism()))
  return shared
}

/**
 * Digests of bytes fed in order, computed on a worker thread. `update` only posts the bytes, so the
 * caller's next read or write overlaps the hashing; `digests` waits for the worker to catch up. The
 * worker acknowledges what it has hashed, so a fast producer can wait (`caughtUp`) instead of queueing
 * a whole file in the worker's inbox.
 */
export class StreamDigest {
  private readonly slot: PoolWorker
  private readonly id: number
  private readonly specs: HashSpec[]
  private closed = false
  /** Bytes posted and not yet acknowledged. */
  private queued = 0
  private failure: Error | undefined
  private waiters: { limit: number; resolve(): void; reject(error: Error): void }[] = []

  constructor(specs: HashSpec[]) {
    this.specs = specs
    ;({ slot: this.slot, id: this.id } = pool().acquire())
    pool().listen(this.slot, this.id, { hashed: bytes => this.acknowledged(bytes), failed: error => this.workerFailed(error) })
    this.reset()
  }

  /** Bytes handed over and not yet hashed. */
  get backlog(): number {
    return this.queued
  }

  /**
   * Takes the bytes, in order: every chunk that owns its memory is moved to the worker and is empty
   * afterwards. A slice of a larger buffer (Node's shared pool, a socket read holding headers too) is
   * copied, since moving it would take the memory away from whatever else lives in that buffer.
   */
  update(chunks: Uint8Array | readonly Uint8Array[]): void {
    const list = chunks instanceof Uint8Array ? [chunks] : chunks
    const buffers = list.map(chunk => (ownsMemory(chunk) ? (chunk.buffer as ArrayBuffer) : new Uint8Array(chunk).buffer))
    const bytes = list.reduce((sum, chunk) => sum + chunk.byteLength, 0)
    this.queued += bytes
    this.slot.worker.postMessage({ op: 'update', id: this.id, chunks: buffers, bytes }, buffers)
  }

  /** Hashes `length` bytes of `file` from `position` next, read back by the worker (bytes not kept in memory). */
  updateFromFile(file: string, position: number, length: number): void {
    this.queued += length
    this.slot.worker.postMessage({ op: 'update-from-file', id: this.id, path: file, position, length })
  }

  /** Resolves once at most `limit` bytes wait to be hashed; rejects if the worker died. */
  caughtUp(limit: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.queued <= limit) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ limit, resolve, reject }))
  }

  /** Starts over: at the beginning, after `digests`, or when a server ignored Range and resent the whole body. */
  reset(): void {
    this.slot.worker.postMessage({ op: 'begin', id: this.id, specs: this.specs })
  }

  /** Hex digests in the order of the specs, once the worker has caught up; `reset` starts a new pass. */
  digests(): Promise<string[]> {
    return pool().request<string[]>(this.slot, this.id, { op: 'digest' })
  }

  /** Gives the worker back; every StreamDigest must be closed, or its worker keeps the process alive. */
  close(): void {
    if (this.closed) return
    this.closed = true
    pool().unlisten(this.id)
    this.workerFailed(new Error('the hash stream was closed'))
    this.slot.worker.postMessage({ op: 'end', id: this.id })
    pool().release(this.slot)
  }

  private acknowledged(bytes: number): void {
    this.queued -= bytes
    const ready = this.waiters.filter(w => this.queued <= w.limit)
    this.waiters = this.waiters.filter(w => this.queued > w.limit)
    for (const waiter of ready) waiter.resolve()
  }

  private workerFailed(error: Error): void {
    this.failure ??= error
    for (const waiter of this.waiters.splice(0)) waiter.reject(error)
  }
}

/** True when `chunk` spans its whole ArrayBuffer, which can then be moved to another thread as is. */
function ownsMemory(chunk: Uint8Array): boolean {
  return chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.byteLength && chunk.buffer instanceof ArrayBuffer
}

/** Bytes a CopyingDigest hands its worker at a time: a few messages per MiB-sized transfer, not one per socket read. */
const COPY_BATCH = 4 * 1024 * 1024

/**
 * A StreamDigest for bytes the caller still needs after hashing them (they go on to tar or to an upload):
 * they are copied into batches the digest may take, so the caller's buffers are never moved away.
 */
export class CopyingDigest {
  private readonly digest: StreamDigest
  private batch = Buffer.allocUnsafeSlow(COPY_BATCH)
  private used = 0

  constructor(specs: HashSpec[]) {
    this.digest = new StreamDigest(specs)
  }

  update(chunk: Uint8Array): void {
    for (let offset = 0; offset < chunk.length;) {
      const taken = Math.min(chunk.length - offset, this.batch.length - this.used)
      this.batch.set(chunk.subarray(offset, offset + taken), this.used)
      offset += taken
      this.used += taken
      if (this.used === this.batch.length) this.flush()
    }
  }

  async digests(): Promise<string[]> {
    if (this.used > 0) this.flush()
    return this.digest.digests()
  }

  close(): void {
    this.digest.close()
  }

  private flush(): void {
    // A whole batch owns its memory and moves; a partial one is copied once more by StreamDigest.
    this.digest.update(this.used === this.batch.length ? this.batch : this.batch.subarray(0, this.used))
    this.batch = Buffer.allocUnsafeSlow(COPY_BATCH)
    this.used = 0
  }
}

/**
 * Hashes the first `size` bytes of a file on a worker thread, by path or by an open descriptor (read
 * with positioned reads, so another reader of the same descriptor, such as tar on stdin, is not moved).
 * `onProgress` gets the bytes of each chunk as it is hashed.
 */
export async function digestFile(
  source: { path: string } | { fd: number },
  size: number,
  specs: HashSpec[],
  onProgress?: (bytes: number) => void
): Promise<FileDigests> {
  const { slot, id } = pool().acquire()
  try {
    return await pool().request<FileDigests>(
      slot,
      id,
      { op: 'file', ...source, size, specs, progress: onProgress !== undefined },
      onProgress
    )
  } finally {
    pool().release(slot)
  }
}
