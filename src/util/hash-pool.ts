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

parentPort.on('message', message => {
  switch (message.op) {
    case 'begin':
      streams.set(message.id, begin(message.specs))
      break
    case 'update':
      for (const hash of streams.get(message.id) || []) hash.update(new Uint8Array(message.chunk))
      break
    case 'digest':
      reply(message.id, () => {
        const hashes = streams.get(message.id)
        streams.delete(message.id)
        return hashes ? hashes.map(hash => hash.digest('hex')) : Promise.reject(new Error('digest of a stream that was not begun'))
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

  request<T>(slot: PoolWorker, id: number, message: object, onProgress?: (bytes: number) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (slot.failure) return reject(slot.failure)
      this.pending.set(id, { slot, resolve: resolve, reject, onProgress })
      slot.worker.postMessage({ ...message, id })
    })
  }

  private spawn(): PoolWorker {
    // No inherited flags: `--input-type=module` would make the CommonJS source above fail to start.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] })
    const slot: PoolWorker = { worker, load: 0 }
    worker.on('message', (message: { id: number; result?: unknown; error?: string; progress?: number }) => {
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
  }
}

let shared: HashPool | undefined

function pool(): HashPool {
  shared ??= new HashPool(Math.max(1, availableParallelism()))
  return shared
}

/**
 * Digests of bytes fed in order, computed on a worker thread. `update` only posts the bytes, so the
 * caller's next read or write overlaps the hashing; `digests` waits for the worker to catch up.
 */
export class StreamDigest {
  private readonly slot: PoolWorker
  private readonly id: number
  private readonly specs: HashSpec[]
  private closed = false

  constructor(specs: HashSpec[]) {
    this.specs = specs
    ;({ slot: this.slot, id: this.id } = pool().acquire())
    this.reset()
  }

  /** Takes the bytes: a chunk that owns its memory is moved to the worker and is empty afterwards. */
  update(chunk: Uint8Array): void {
    // A buffer that owns its whole memory moves to the worker without a copy; a slice of Node's shared
    // pool must be copied, since moving it would take the pool away from every other buffer.
    const ownsMemory = chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.byteLength && chunk.buffer instanceof ArrayBuffer
    const buffer = ownsMemory ? chunk.buffer : new Uint8Array(chunk).buffer
    this.slot.worker.postMessage({ op: 'update', id: this.id, chunk: buffer }, [buffer])
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
    this.slot.worker.postMessage({ op: 'end', id: this.id })
    pool().release(this.slot)
  }
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
    for (let offset = 0; offset < chunk.length; ) {
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
    return await pool().request<FileDigests>(slot, id, { op: 'file', ...source, size, specs, progress: onProgress !== undefined }, onProgress)
  } finally {
    pool().release(slot)
  }
}
