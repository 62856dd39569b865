import type { Readable } from 'node:stream'
import type { IdleWatch } from '../util/idle.js'
import type { FileSink } from './file-sink.js'

/** Bytes gathered per write (and per message to the hashing thread). */
const WRITE_BATCH = 4 * 1024 * 1024

/** The bytes arrived but are not the bytes promised: never retried past one fresh attempt. */
export class IntegrityError extends Error {}

export interface ReceiveOptions {
  sink: FileSink
  /** File offset of the body's first byte. */
  offset: number
  /** The offset the body must not go past: the end of the range asked for, or the file's size. */
  limit: number
  watch: IdleWatch
  /** Every body byte as it arrives, before any check: what the network carried. */
  onReceived: (bytes: number) => void
  /** For the error when the body runs past `limit`. */
  describe: () => string
}

export interface Received {
  /** The offset after the last byte written. */
  next: number
  /** Why the body stopped early, when the network is to blame (retry from `next`); else undefined. */
  error?: Error
}

/**
 * Writes one response body into the file from `offset`. Resolves when the body ended or broke (with
 * the network error, to be retried from `next`); rejects for anything else (too many bytes, a full
 * disk). Chunks are gathered into batches of WRITE_BATCH bytes; one batch is written while the next
 * arrives, and the stream pauses only when both are full or the hasher is far behind. `data` events
 * rather than an async iterator: a promise per small network chunk costs a third of the throughput.
 * What arrived before a network error is written before the error is returned, so a resume starts
 * exactly after it.
 */
export function receiveBody(body: Readable, options: ReceiveOptions): Promise<Received> {
  const { sink, watch } = options
  let position = options.offset
  const pending: Buffer[] = []
  let pendingBytes = 0
  let writing: Promise<void> = Promise.resolve()
  let settled = false
  return new Promise((resolve, reject) => {
    const giveUp = (error: unknown) => {
      if (settled) return
      settled = true
      body.destroy()
      void writing.catch(() => undefined).then(() => reject(error))
    }
    const flush = () => {
      if (pendingBytes === 0) return
      const chunks = pending.splice(0)
      const at = position
      const length = pendingBytes
      position += length
      pendingBytes = 0
      const previous = writing
      writing = previous.then(() => sink.write(at, chunks, length))
      writing.catch(giveUp)
      // Our own backpressure: not the server's stall, so the idle clock stops while we wait.
      body.pause()
      watch.hold()
      void previous
        .then(() => sink.ready())
        .then(() => {
          if (settled) return
          watch.release()
          body.resume()
        }, giveUp)
    }
    const finish = (networkError?: Error) => {
      if (settled) return
      flush()
      void writing.then(() => {
        if (settled) return
        settled = true
        resolve({ next: position, error: networkError })
      }, giveUp)
    }
    body.on('data', (chunk: Buffer) => {
      if (settled) return
      watch.touch()
      options.onReceived(chunk.length)
      if (position + pendingBytes + chunk.length > options.limit) {
        giveUp(new IntegrityError(`${options.describe()}: the server sent more than the ${options.limit - options.offset} bytes asked for`))
        return
      }
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes >= WRITE_BATCH) flush()
    })
    body.on('end', () => finish())
    body.on('error', error => finish(error))
  })
}
