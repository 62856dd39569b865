import { stat } from 'node:fs/promises'
import { digestFile, type HashSpec, StreamDigest } from '../util/hash-pool.js'

/**
 * What a file must hash to. The Hub publishes sha256 only for LFS files; regular files have just
 * their git blob id, so both kinds are needed, and a user pin can add a sha256 to a regular file.
 */
export interface ExpectedDigest {
  sha256?: string
  /** Git blob id: sha1 of `blob <size>\0` followed by the content. */
  gitSha1?: string
}

/**
 * Hashes a stream of known total size for every digest in `expected`, in one pass on a worker thread
 * (src/util/hash-pool.ts), so the download that feeds it is not slowed down by it.
 */
export class MultiHasher {
  private readonly names: (keyof ExpectedDigest)[]
  private readonly specs: HashSpec[]
  private readonly stream: StreamDigest

  constructor(
    private readonly expected: ExpectedDigest,
    size: number
  ) {
    ;({ names: this.names, specs: this.specs } = hashSpecs(expected, size))
    this.stream = new StreamDigest(this.specs)
  }

  /** Starts over, for a server that ignored our Range and resent the whole body. */
  reset(): void {
    this.stream.reset()
  }

  /** Takes the chunks: they may be moved to the hashing thread, so the caller must be done with them. */
  update(chunks: Uint8Array | readonly Uint8Array[]): void {
    this.stream.update(chunks)
  }

  /** Hashes `length` bytes of `file` from `position` next, read back from disk by the hashing thread. */
  updateFromFile(file: string, position: number, length: number): void {
    this.stream.updateFromFile(file, position, length)
  }

  /** Bytes handed over and not hashed yet. */
  get backlog(): number {
    return this.stream.backlog
  }

  /** Resolves once at most `limit` bytes wait to be hashed. */
  caughtUp(limit: number): Promise<void> {
    return this.stream.caughtUp(limit)
  }

  /** Releases the hashing thread; call once the download is done with this hasher, however it ended. */
  close(): void {
    this.stream.close()
  }

  /** At the end of a pass: the first digest that does not match, or undefined if all match. */
  async mismatch(): Promise<{ name: string; expected: string; actual: string } | undefined> {
    return firstMismatch(this.expected, this.names, await this.stream.digests())
  }
}

/** Hashes a local file on a worker thread: true if size and every digest match. */
export async function fileMatches(file: string, size: number, expected: ExpectedDigest): Promise<boolean> {
  return (await fileProblem(file, size, expected)) === null
}

/** What is wrong with a local file, in words, or null when its size and every digest match. */
export async function fileProblem(
  file: string,
  size: number,
  expected: ExpectedDigest,
  onProgress?: (bytes: number) => void
): Promise<string | null> {
  const info = await stat(file).catch(() => undefined)
  if (!info?.isFile()) return 'is missing or not a file'
  if (info.size !== size) return `is ${info.size} bytes, expected ${size}`
  const { names, specs } = hashSpecs(expected, size)
  const { digests, bytesRead } = await digestFile({ path: file }, size, specs, onProgress)
  if (bytesRead !== size) return `is ${bytesRead} bytes, expected ${size}`
  const bad = firstMismatch(expected, names, digests)
  return bad ? `${bad.name} is ${bad.actual}, expected ${bad.expected}` : null
}

function hashSpecs(expected: ExpectedDigest, size: number): { names: (keyof ExpectedDigest)[]; specs: HashSpec[] } {
  const names: (keyof ExpectedDigest)[] = []
  const specs: HashSpec[] = []
  if (expected.sha256 !== undefined) {
    names.push('sha256')
    specs.push({ algorithm: 'sha256' })
  }
  if (expected.gitSha1 !== undefined) {
    // The git header needs the final size up front; verifying it separately catches a lie.
    names.push('gitSha1')
    specs.push({ algorithm: 'sha1', prefix: `blob ${size}\0` })
  }
  return { names, specs }
}

function firstMismatch(expected: ExpectedDigest, names: (keyof ExpectedDigest)[], digests: string[]) {
  for (const [i, name] of names.entries()) {
    const want = (expected[name] as string).toLowerCase()
    if (digests[i] !== want) return { name: name === 'gitSha1' ? 'git-sha1' : 'sha256', expected: want, actual: digests[i] }
  }
  return undefined
}

/** `sha256:<hex>` when known, else `git-sha1:<hex>`: the strongest digest, for reports. */
export function describeDigest(expected: ExpectedDigest): string {
  return expected.sha256 !== undefined ? `sha256:${expected.sha256}` : `git-sha1:${expected.gitSha1 ?? ''}`
}
