import type { FileHandle } from 'node:fs/promises'
import type { InOrderHasher } from './in-order-hasher.js'

/** Written bytes between background flushes to disk, so the final fsync finds little left to write. */
const WRITEBACK_EVERY = 64 * 1024 * 1024
/** Bytes that may wait for the hashing thread before bodies pause: bounds memory when the CPU is busy. */
const HASH_BACKLOG = 32 * 1024 * 1024

/**
 * The temp file of one download: positioned writes from any number of connections, each batch
 * handed to the in-order hasher once it is on disk, and a background flush every WRITEBACK_EVERY
 * bytes. A batch is written as the list of network chunks it arrived in (writev), never gathered into
 * one buffer first: that copy, and the fresh memory it needs, cost more than the hashing did.
 */
export class FileSink {
  /** Bytes written in this pass, by every connection. */
  written = 0
  private sinceWriteback = 0
  private writeback: Promise<void> = Promise.resolve()
  private writebackFailure: Error | undefined

  constructor(
    private readonly handle: FileHandle,
    readonly hasher: InOrderHasher,
    private readonly onWritten: () => void
  ) {}

  /** Writes `chunks` (`length` bytes) at `offset`, then gives them to the hasher, which may move them. */
  async write(offset: number, chunks: Buffer[], length: number): Promise<void> {
    await writeAll(this.handle, chunks, offset, length)
    this.written += length
    this.hasher.written(offset, length, chunks)
    this.startWriteback(length)
    this.onWritten()
  }

  /** Resolves when the hashing thread is close enough behind for bodies to go on. */
  ready(): Promise<void> {
    return this.hasher.caughtUp(HASH_BACKLOG)
  }

  /** Empties the file for a pass from byte 0. */
  async truncate(): Promise<void> {
    await this.writtenBack()
    await this.handle.truncate(0)
    this.written = 0
    this.sinceWriteback = 0
  }

  /** Waits for the background flushes; a disk error in one of them fails the download here. */
  async writtenBack(): Promise<void> {
    await this.writeback
    if (this.writebackFailure !== undefined) throw this.writebackFailure
  }

  /** Starts flushing what is written so far while the download goes on; one flush at a time. */
  private startWriteback(length: number): void {
    this.sinceWriteback += length
    if (this.sinceWriteback < WRITEBACK_EVERY) return
    this.sinceWriteback = 0
    this.writeback = this.writeback
      .then(() => this.handle.datasync())
      .catch((error: unknown) => {
        this.writebackFailure ??= error as Error
      })
  }
}

/** writev until all `length` bytes are down: a write may take only part of them. */
async function writeAll(handle: FileHandle, chunks: Buffer[], position: number, length: number): Promise<void> {
  let done = (await handle.writev(chunks, position)).bytesWritten
  while (done < length) done += (await handle.writev(after(chunks, done), position + done)).bytesWritten
}

/** Views of `chunks` past their first `skip` bytes. */
function after(chunks: Buffer[], skip: number): Buffer[] {
  const rest: Buffer[] = []
  for (const chunk of chunks) {
    if (skip >= chunk.length) skip -= chunk.length
    else {
      rest.push(skip > 0 ? chunk.subarray(skip) : chunk)
      skip = 0
    }
  }
  return rest
}
