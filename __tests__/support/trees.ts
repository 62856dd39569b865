/** Directory trees for store tests: made with every kind of member, and compared member by member. */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'

/** A whole-second mtime: GNU-format archives keep seconds. */
export const FIXED_TIME = new Date('2024-03-01T12:00:00Z')

export async function write(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, content, { mode })
  await fs.chmod(file, mode)
}

/** Files, a subdirectory, an executable, symlinks, an empty directory and a private directory. */
export async function makeTree(dir: string, flavour = 'a', payload = 50_000): Promise<void> {
  await write(path.join(dir, 'top.txt'), `top ${flavour}\n`)
  await write(path.join(dir, 'sub/deep/data.bin'), crypto.randomBytes(payload))
  await write(path.join(dir, 'sub/tool.sh'), '#!/bin/sh\necho hi\n', 0o750)
  await fs.mkdir(path.join(dir, 'empty'))
  await fs.symlink('sub/deep/data.bin', path.join(dir, 'to-data'))
  await fs.symlink('../top.txt', path.join(dir, 'sub/to-top'))
  await fs.chmod(path.join(dir, 'sub/deep'), 0o700)
  await fixTimes(dir)
}

export async function fixTimes(dir: string): Promise<void> {
  for (const entry of [...(await walk(dir)), dir]) {
    if (!(await fs.lstat(entry)).isSymbolicLink()) await fs.utimes(entry, FIXED_TIME, FIXED_TIME)
  }
}

/** Every member below dir, children before their directory. */
export async function walk(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    found.push(full)
    if (entry.isDirectory()) found.push(...(await walk(full)))
  }
  return found.reverse()
}

/** Everything a restore must reproduce: type, mode, mtime, content or link target. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {}
  for (const entry of [dir, ...(await walk(dir))]) {
    const name = path.relative(dir, entry) || '.'
    const stat = await fs.lstat(entry)
    const mode = (stat.mode & 0o7777).toString(8)
    if (stat.isSymbolicLink()) result[name] = `link -> ${await fs.readlink(entry)}`
    else if (stat.isDirectory()) result[name] = `dir ${mode} ${stat.mtime.toISOString()}`
    else
      result[name] = `file ${mode} ${stat.mtime.toISOString()} ${crypto
        .createHash('sha256')
        .update(await fs.readFile(entry))
        .digest('hex')}`
  }
  return result
}

export async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false
  )
}
