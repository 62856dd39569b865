import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, open, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises'
import * as path from 'node:path'
import { readJson, writeFileAtomicIfChanged } from '../../util/atomic.js'
import type { TreeFile } from './api.js'
import type { RepoRef } from './repo.js'
import { isRunning } from '../../util/process.js'

/**
 * One repo's folder in the hub cache, laid out exactly as huggingface_hub writes it (reference
 * §1.2), so Python and transformers find our files offline:
 * `blobs/<etag>`, `snapshots/<commit>/<path>` → relative symlink, `refs/<revision>` = commit.
 */
export class RepoCache {
  readonly folder: string
  readonly dir: string

  constructor(
    readonly root: string,
    ref: Pick<RepoRef, 'type' | 'id'>
  ) {
    this.folder = `${ref.type}s--${ref.id.replace('/', '--')}`
    this.dir = path.join(root, this.folder)
  }

  blob(etag: string): string {
    return path.join(this.dir, 'blobs', etag)
  }

  /** huggingface_hub ≥1.18 temp name: unique per writer, so concurrent writers never share bytes. */
  incomplete(etag: string): string {
    return `${this.blob(etag)}.${randomBytes(4).toString('hex')}.incomplete`
  }

  snapshot(commit: string, repoPath = ''): string {
    return path.join(this.dir, 'snapshots', commit, ...repoPath.split('/').filter(Boolean))
  }

  /** Creates the snapshot folder even when no file was selected: a ref to a missing snapshot is "corrupted". */
  async ensureSnapshot(commit: string): Promise<void> {
    await mkdir(this.snapshot(commit), { recursive: true })
  }

  /** `refs/<revision>` (nested for `refs/pr/1`), 40 hex and no newline: Python reads it without strip. */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return
    await writeFileAtomicIfChanged(path.join(this.dir, 'refs', ...revision.split('/')), commit)
  }

  /**
   * Points `snapshots/<commit>/<path>` at the blob with a relative symlink (survives moving the
   * cache), replaced atomically. Where symlinks are refused (Windows without privilege, some
   * filesystems) or disabled, a verified copy takes its place, as huggingface_hub does.
   */
  async link(commit: string, repoPath: string, etag: string, symlinks: boolean): Promise<void> {
    const pointer = this.snapshot(commit, repoPath)
    const target = path.relative(path.dirname(pointer), this.blob(etag))
    await mkdir(path.dirname(pointer), { recursive: true })
    if ((await readlink(pointer).catch(() => undefined)) === target) return
    const temp = `${pointer}.${randomBytes(4).toString('hex')}.tmp`
    try {
      if (symlinks) {
        try {
          await symlink(target, temp)
        } catch {
          await copyFile(this.blob(etag), temp)
        }
      } else {
        await copyFile(this.blob(etag), temp)
      }
      await rename(temp, pointer)
    } finally {
      await rm(temp, { force: true })
    }
  }

  /**
   * The full tree listing of `commit`, in huggingface_hub ≥1.22's `trees/<commit>.json` format:
   * Python uses it to detect incomplete snapshots offline, we use it to skip the API on warm runs.
   */
  async writeTree(commit: string, files: TreeFile[]): Promise<void> {
    const entries = files.map(
      f => [f.path, { size: f.size, blob_id: f.oid, ...(f.lfs ? { lfs_sha256: f.lfs.oid, lfs_size: f.lfs.size } : {}) }] as const
    )
    await writeFileAtomicIfChanged(this.treeFile(commit), JSON.stringify({ format_version: 1, files: Object.fromEntries(entries) }))
  }

  /** The stored listing, or undefined when absent or in a format we do not know. */
  async readTree(commit: string): Promise<TreeFile[] | undefined> {
    type Stored = {
      format_version?: unknown
      files?: Record<string, { size: number; blob_id: string; lfs_sha256?: string; lfs_size?: number }>
    }
    const stored = await readJson<Stored>(this.treeFile(commit)).catch(() => null)
    if (stored?.format_version !== 1 || typeof stored.files !== 'object' || stored.files === null) return undefined
    return Object.entries(stored.files).map(([p, f]) => ({
      path: p,
      size: f.size,
      oid: f.blob_id,
      ...(f.lfs_sha256 !== undefined ? { lfs: { oid: f.lfs_sha256, size: f.lfs_size ?? f.size } } : {})
    }))
  }

  private treeFile(commit: string): string {
    return path.join(this.dir, 'trees', `${commit}.json`)
  }

  /**
   * `.locks/<repo folder>/<etag>.lock`, the path huggingface_hub locks. We take it by exclusive
   * create (SoftFileLock-style) and delete it on release. Python's flock-based lock leaves its
   * file behind, which we cannot tell from a held lock, so after `waitMs` we go ahead anyway:
   * the lock only avoids duplicate downloads. Correctness never rests on it (unique temp names,
   * verify before an atomic rename, identical content under one name). Our lock files hold our
   * pid, so one left by a killed run of ours is taken over at once.
   */
  async lock(etag: string, waitMs: number): Promise<() => Promise<void>> {
    const file = path.join(this.root, '.locks', this.folder, `${etag}.lock`)
    await mkdir(path.dirname(file), { recursive: true })
    const deadline = Date.now() + waitMs
    for (;;) {
      try {
        const handle = await open(file, 'wx', 0o664)
        await handle.writeFile(String(process.pid))
        await handle.close()
        return () => rm(file, { force: true })
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      if (await ownerIsGone(file)) {
        await rm(file, { force: true })
        continue
      }
      if (Date.now() >= deadline) return async () => undefined
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
}

/** True for a lock file naming a pid that no longer runs (ours, killed); Python's are empty. */
async function ownerIsGone(lockFile: string): Promise<boolean> {
  const content = await readFile(lockFile, 'utf8').catch(() => '')
  return /^\d+$/.test(content) && !isRunning(Number(content))
}

/** True when something (file, link, even a broken link) exists at `p`. */
export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    async () => (await readlink(p).catch(() => undefined)) !== undefined
  )
}
