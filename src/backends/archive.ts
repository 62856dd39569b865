import { spawn, type ChildProcess } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { finished as streamFinished, type Readable } from 'node:stream'

/*
 * The archives of the stores qdc owns (local, and any object store): one zstd tar per part, made with
 * `tar -C <part> .`, so every member is relative to the directory it is extracted into. Nothing in an
 * archive names the machine it was made on, and tar's own refusal of names that leave the directory
 * applies as is. Extraction goes into a staging directory beside the target and is moved into place only
 * once every part of the entry extracted cleanly: a corrupt or hostile archive never touches the target.
 */

/** The compression every archive is written with: part of an entry's identity. */
export const ARCHIVE_COMPRESSION = 'zstd'

export type PathKind = 'tree' | 'file' | 'missing'

export async function pathKind(target: string): Promise<PathKind> {
  try {
    return (await fs.stat(target)).isDirectory() ? 'tree' : 'file'
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw error
  }
}

/** A directory's members are `./...` relative to it; a file is archived from its parent under its own name. */
export function tarCreateArgs(target: string, kind: 'tree' | 'file', exclude: string[]): string[] {
  const [directory, member] = kind === 'tree' ? [target, '.'] : [path.dirname(target), path.basename(target)]
  return [
    '--format=gnu',
    '--use-compress-program=zstd -T0',
    '-cf',
    '-',
    ...exclude.map(pattern => `--exclude=${pattern}`),
    '-C',
    directory,
    member
  ]
}

/** A running `tar -c`: its archive as a stream, and its exit (rejects with tar's complaint). */
export interface TarOutput {
  stdout: AsyncIterable<Buffer>
  exited: Promise<void>
  /** Ends tar early, when whoever reads the archive has given up. */
  stop(): void
}

/** Starts tar with `tarArgs` (from tarCreateArgs): the stores write, hash or upload its output as it comes. */
export function tarOutput(tarArgs: string[]): TarOutput {
  const tar = spawn('tar', tarArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: tarEnv() })
  return { stdout: tar.stdout as AsyncIterable<Buffer>, exited: exitOf(tar, 'tar -c'), stop: () => tar.kill('SIGTERM') }
}

/** Writes tar's output to a new read-only file, hashing the bytes on their way to disk; fsynced. */
export async function writeArchive(tarArgs: string[], temp: string): Promise<{ sha256: string; bytes: number }> {
  const handle = await fs.open(temp, 'wx', 0o444)
  const tar = tarOutput(tarArgs)
  try {
    const hash = crypto.createHash('sha256')
    let bytes = 0
    for await (const chunk of tar.stdout) {
      hash.update(chunk)
      bytes += chunk.length
      // write() may take less than the whole chunk.
      for (let offset = 0; offset < chunk.length;) offset += (await handle.write(chunk, offset)).bytesWritten
    }
    await tar.exited
    await handle.sync()
    return { sha256: hash.digest('hex'), bytes }
  } catch (error) {
    tar.stop()
    throw error
  } finally {
    await handle.close()
  }
}

/** An extracted part waiting in its staging directory to be moved into its target. */
export interface StagedRestore {
  staging: string
  /** What moves into the target: the staging directory itself for a tree, the file inside it for a file. */
  restored: string
  target: string
}

/**
 * The archive itself failed to decompress: zstd refused its frames (a flipped byte fails the frame's
 * content checksum, a cut-off archive ends inside a frame). Not tar refusing what the archive holds.
 */
export class CorruptArchiveError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CorruptArchiveError'
  }
}

/**
 * Extracts one archive (a file descriptor read from its current offset, or a stream) into a fresh staging
 * directory beside `target`. A failure removes the staging directory and throws with tar's complaint, or a
 * CorruptArchiveError with zstd's.
 */
export async function extractToStaging(input: number | Readable, kind: 'tree' | 'file', target: string): Promise<StagedRestore> {
  const staging = await makeStaging(target)
  try {
    const problem = await untar(input, staging)
    if (problem) throw new Error(`refused entry: ${problem}`)
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true })
    throw error
  }
  return { staging, restored: kind === 'tree' ? staging : path.join(staging, path.basename(target)), target }
}

/** Beside the target, so moving the result into place is a rename on the same filesystem. */
async function makeStaging(target: string): Promise<string> {
  await fs.mkdir(path.dirname(target), { recursive: true })
  return fs.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.qdc-restore-`))
}

/** GNU tar's warnings that it rewrote or skipped a name that pointed outside the directory. */
const ESCAPE_WARNINGS = /Removing leading|contains '\.\.'|Skipping to next header|Cannot (open|hard link|create)/

/**
 * null when tar extracted everything as archived, else what it complained about. GNU tar (no -P) refuses
 * absolute names, `..` and writes through symlinks; a warning that it rewrote a name refuses the archive.
 * -p keeps modes exactly as saved rather than filtered through the job's umask; --no-same-owner makes the
 * restoring user the owner of everything, so an entry saved by root restores for an unprivileged user and
 * the other way round, and a root without CAP_CHOWN (a user namespace, a container) never fails to chown.
 *
 * zstd runs as our own child, its output going to tar through an OS pipe that Node never reads, rather than
 * as tar's `-I zstd`: its exit status is then its own verdict on the archive. It verifies the frame's
 * checksum of the content (XXH64) at the end of the frame, so a flipped byte fails it even when tar already
 * took every member; the staging directory is removed and nothing reaches the target. Given a descriptor,
 * zstd reads the file itself (`tar -I zstd -f -` forks a helper that copies the archive into the
 * decompressor through one more pipe: about 0.4 s of CPU per 480 MiB on a 2-core runner).
 */
async function untar(input: number | Readable, directory: string): Promise<string | null> {
  const zstd = spawn('zstd', ['-d', '-c', '-q'], { stdio: [typeof input === 'number' ? input : 'pipe', 'pipe', 'pipe'] })
  const decompressed = outcomeOf(zstd)
  const args = ['--warning=no-timestamp', '--warning=no-unknown-keyword', '--no-same-owner', '-xpf', '-', '-C', directory]
  const tar = spawn('tar', args, { stdio: [zstd.stdout!, 'ignore', 'pipe'], env: tarEnv() })
  // tar has its own copy of the pipe's end now: ours would see zstd's output first, and keep it open.
  zstd.stdout!.destroy()
  if (typeof input !== 'number') {
    // A stream that stops early (failed or destroyed, also before we got here) cuts zstd's input: zstd then
    // reports a truncated frame instead of waiting for bytes that never come.
    streamFinished(input, error => error && zstd.stdin?.destroy())
    zstd.stdin!.once('error', () => input.destroy())
    input.pipe(zstd.stdin!)
  }
  const [unpacked, extracted] = await Promise.all([decompressed, outcomeOf(tar)])
  // Whoever feeds the stream must not wait for a reader that is gone (zstd or tar stopped early on a bad archive).
  if (typeof input !== 'number') input.destroy()
  // A zstd that exited on its own with a failure refused the archive; one killed (by SIGPIPE) only saw tar
  // stop reading, and tar says why.
  if (unpacked.code !== 0 && unpacked.signal === null)
    throw new CorruptArchiveError(`does not decompress (zstd: ${firstLineOf(unpacked.stderr) || `exit ${unpacked.code}`})`)
  const complaint = extracted.stderr.split('\n').find(line => ESCAPE_WARNINGS.test(line)) ?? firstLineOf(extracted.stderr)
  if (extracted.code !== 0) return complaint || `tar exited with ${extracted.signal ?? extracted.code}`
  if (unpacked.signal !== null) return `zstd was stopped by ${unpacked.signal} before the end of the archive`
  return ESCAPE_WARNINGS.test(extracted.stderr) ? complaint : null
}

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  /** The last 4000 characters. */
  stderr: string
}

/** How a child ended, with what it wrote to stderr; rejects only when it could not be started. */
function outcomeOf(child: ChildProcess): Promise<Outcome> {
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)))
  return handled(
    new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, signal) => resolve({ code, signal, stderr }))
    })
  )
}

function firstLineOf(text: string): string {
  return text.trim().split('\n')[0].trim()
}

/** An archive's size and SHA-256, as the manifest records them and as the bytes read turned out. */
export interface ArchiveDigest {
  sha256: string
  bytes: number
}

/** The bytes read are not the archive the manifest describes; the message says how (`is N bytes, M were written`). */
export class ArchiveMismatch extends Error {}

/** tar refused or failed on bytes that did match the manifest; the message is tar's complaint. */
export class ExtractionFailed extends Error {}

/**
 * The one way a store qdc owns restores a part: extract into staging while the same bytes are hashed
 * (`hashed` settles once all of them were), and hand the staged result back only when size and digest match
 * the manifest. Otherwise staging is removed and the error says what was wrong, the bytes before tar's
 * complaint (a truncated or altered archive makes tar fail too): `hashed`'s own failure (the read or the
 * download broke), then ArchiveMismatch, then ExtractionFailed.
 */
export async function extractVerified(
  input: number | Readable,
  hashed: Promise<ArchiveDigest>,
  expected: ArchiveDigest,
  kind: 'tree' | 'file',
  target: string
): Promise<StagedRestore> {
  const [digest, extracted] = await Promise.allSettled([hashed, extractToStaging(input, kind, target)])
  const stage = extracted.status === 'fulfilled' ? extracted.value : null
  try {
    if (digest.status === 'rejected') throw digest.reason
    if (digest.value.bytes !== expected.bytes) throw new ArchiveMismatch(`is ${digest.value.bytes} bytes, ${expected.bytes} were written`)
    if (digest.value.sha256 !== expected.sha256) throw new ArchiveMismatch('does not match its SHA-256')
    if (extracted.status === 'rejected') throw new ExtractionFailed((extracted.reason as Error).message)
  } catch (error) {
    if (stage) await fs.rm(stage.staging, { recursive: true, force: true })
    throw error
  }
  return stage!
}

/**
 * Renames what was extracted into the target, merging with what is already there: same-named
 * files are replaced (atomically, one rename each), directories merged, and anything on disk that is
 * not a directory (a symlink included) is replaced rather than followed.
 */
export async function moveIntoPlace(source: string, target: string): Promise<void> {
  const existing = await fs.lstat(target).catch(ignoreCode('ENOENT'))
  const incoming = await fs.lstat(source)
  if (existing?.isDirectory() && incoming.isDirectory()) {
    for (const name of await fs.readdir(source)) await moveIntoPlace(path.join(source, name), path.join(target, name))
    return
  }
  // rename() replaces a file or symlink atomically, but neither puts a directory over a non-directory
  // nor the other way round; fs.rm on a symlink removes the link, never what it points to.
  if (existing && (existing.isDirectory() || incoming.isDirectory())) await fs.rm(target, { recursive: true, force: true })
  await fs.rename(source, target)
}

/** A user's TAR_OPTIONS (say, --absolute-names) would change what our archives mean. */
function tarEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.TAR_OPTIONS
  return env
}

function exitOf(child: ChildProcess, what: string): Promise<void> {
  return handled(
    outcomeOf(child).then(({ code, signal, stderr }) => {
      if (code !== 0) throw new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`)
    })
  )
}

/** An exit can fail while the caller still streams; it awaits the promise later, so no unhandled rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined)
  return promise
}

export function ignoreCode(...codes: string[]): (error: NodeJS.ErrnoException) => undefined {
  return error => {
    if (!codes.includes(error.code ?? '')) throw error
    return undefined
  }
}
