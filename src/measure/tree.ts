import * as crypto from 'node:crypto'
import type { Stats } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'

/** Size and modification time of every file (and symlink) below a kind's paths, by absolute path. */
export type TreeSnapshot = Record<string, [size: number, mtimeMs: number]>

/** Walks the paths without following symlinks, skipping what the kind never archives. */
export async function snapshotTree(paths: string[], exclude: string[]): Promise<TreeSnapshot> {
  const snapshot: TreeSnapshot = {}
  await walkFiles(paths, exclude, (file, stat) => (snapshot[file] = [stat.size, Math.trunc(stat.mtimeMs)]))
  return snapshot
}

/** Every file and symlink below the roots (not following links), but names matching `exclude`, in order. */
export async function walkFiles(roots: string[], exclude: string[], visit: (file: string, stat: Stats) => void): Promise<void> {
  const excluded = exclude.map(globToRegExp)
  const walk = async (entry: string): Promise<void> => {
    if (excluded.some(pattern => pattern.test(path.basename(entry)))) return
    const stat = await fs.lstat(entry).catch(() => null)
    if (!stat) return
    if (!stat.isDirectory()) return visit(entry, stat)
    const names = await fs.readdir(entry).catch(() => [] as string[])
    for (const name of names) await walk(path.join(entry, name))
  }
  for (const root of roots) await walk(root)
}

/** tar's --exclude wildcards as used by kinds: `*` and `?` within a name. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

export function totalBytes(snapshot: TreeSnapshot): number {
  return Object.values(snapshot).reduce((sum, [size]) => sum + size, 0)
}

/** Identifies the content cheaply: a rewritten file changes size or mtime, and tar restores both. */
export function fingerprint(snapshot: TreeSnapshot): string {
  const hash = crypto.createHash('sha256')
  for (const file of Object.keys(snapshot).sort()) {
    const [size, mtime] = snapshot[file]
    hash.update(`${file}\0${size}\0${mtime}\n`)
  }
  return hash.digest('hex')
}

/** Files of `later` that are absent from `earlier` or differ from it. */
export function changedSince(earlier: TreeSnapshot, later: TreeSnapshot): TreeSnapshot {
  const changed: TreeSnapshot = {}
  for (const [file, entry] of Object.entries(later)) {
    const before = earlier[file]
    if (!before || before[0] !== entry[0] || before[1] !== entry[1]) changed[file] = entry
  }
  return changed
}

/** Files of `subset` still present, unchanged, in `later`. */
export function unchangedIn(subset: TreeSnapshot, later: TreeSnapshot): TreeSnapshot {
  const kept: TreeSnapshot = {}
  for (const [file, entry] of Object.entries(subset)) {
    const now = later[file]
    if (now && now[0] === entry[0] && now[1] === entry[1]) kept[file] = entry
  }
  return kept
}
