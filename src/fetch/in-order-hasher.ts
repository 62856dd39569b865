import { type ExpectedDigest, MultiHasher } from './digest.js'

/**
 * Out-of-order bytes kept in memory until the hash reaches them; past this, they are read back from
 * the temp file instead. With 16 MiB ranges over 4 connections the ranges ahead of the slowest one
 * usually fit, so the common case hashes the received buffers themselves and reads nothing back.
 */
const DEFAULT_REORDER_MEMORY = 64 * 1024 * 1024

interface WrittenAhead {
  length: number
  /** The bytes, or null when they were not kept and must be read back from the file. */
  chunks: Buffer[] | null
}

/**
 * Feeds a hash the file's bytes in file order while they are written in any order (ranges that
 * complete out of order). A write at the hashed frontier is hashed at once from its own buffers
 * (moved to the hashing thread, not copied); a write ahead of it waits, in memory up to
 * `reorderMemory` and on disk beyond, until the frontier reaches it. Memory stays bounded however far
 * one slow connection lags, and no fast connection is held back for the sake of the hash.
 */
export class InOrderHasher {
  private readonly hasher: MultiHasher
  private hashedUpTo = 0
  /** Written ranges past the frontier, by offset. */
  private readonly ahead = new Map<number, WrittenAhead>()
  private heldBytes = 0

  constructor(
    digest: ExpectedDigest,
    size: number,
    /** The temp file, for bytes read back. */
    private readonly file: string,
    private readonly reorderMemory = DEFAULT_REORDER_MEMORY
  ) {
    this.hasher = new MultiHasher(digest, size)
  }

  /** Bytes from 0 that are written and handed to the hash: where a single stream can resume. */
  get frontier(): number {
    return this.hashedUpTo
  }

  /** Bytes [offset, offset + length) are on disk in `chunks`, which are taken (they may be moved). */
  written(offset: number, length: number, chunks: Buffer[]): void {
    if (offset !== this.hashedUpTo) {
      this.holdAhead(offset, length, chunks)
      return
    }
    this.hasher.update(chunks)
    this.hashedUpTo += length
    this.drainAhead()
  }

  /** Resolves once at most `limit` bytes wait for the hashing thread. */
  caughtUp(limit: number): Promise<void> {
    return this.hasher.caughtUp(limit)
  }

  /** Forgets what was written past the frontier: a single stream will write those bytes again. */
  discardAhead(): void {
    this.ahead.clear()
    this.heldBytes = 0
  }

  /** Back to byte 0. */
  reset(): void {
    this.discardAhead()
    this.hashedUpTo = 0
    this.hasher.reset()
  }

  /** Once every one of `size` bytes is written: the first digest that does not match, if any. */
  async mismatch(size: number): Promise<{ name: string; expected: string; actual: string } | undefined> {
    if (this.hashedUpTo !== size || this.ahead.size > 0)
      throw new Error(`hashed ${this.hashedUpTo} contiguous bytes of ${size}: a range is missing`)
    return this.hasher.mismatch()
  }

  close(): void {
    this.hasher.close()
  }

  private holdAhead(offset: number, length: number, chunks: Buffer[]): void {
    const keep = this.heldBytes + length <= this.reorderMemory
    if (keep) this.heldBytes += length
    this.ahead.set(offset, { length, chunks: keep ? chunks : null })
  }

  private drainAhead(): void {
    for (let next = this.ahead.get(this.hashedUpTo); next !== undefined; next = this.ahead.get(this.hashedUpTo)) {
      this.ahead.delete(this.hashedUpTo)
      if (next.chunks) {
        this.heldBytes -= next.length
        this.hasher.update(next.chunks)
      } else {
        this.hasher.updateFromFile(this.file, this.hashedUpTo, next.length)
      }
      this.hashedUpTo += next.length
    }
  }
}
