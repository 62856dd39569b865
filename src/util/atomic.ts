import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'

/** Temp file beside the target, fsync, rename, fsync the directory: readers see the old file or the new one. */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const temp = `${file}.${crypto.randomBytes(6).toString('hex')}.tmp`
  try {
    const handle = await fs.open(temp, 'wx', 0o644)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, file)
  } catch (error) {
    await fs.rm(temp, { force: true })
    throw error
  }
  await syncPath(path.dirname(file))
}

/**
 * Leaves a file that already holds `content` untouched: rewriting it would change its mtime, which
 * the byte ledger reads as new content to download and save again.
 */
export async function writeFileAtomicIfChanged(file: string, content: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => null)
  if (current !== content) await writeFileAtomic(file, content)
}

/** Flushes a file, or a directory's entries (after a rename into it), to disk. */
export async function syncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** null when the file does not exist; a file that exists but does not parse is an error worth seeing. */
export async function readJson<T>(file: string): Promise<T | null> {
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null
    throw error
  })
  return text === null ? null : (JSON.parse(text) as T)
}
