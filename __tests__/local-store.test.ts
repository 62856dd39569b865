import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import lockfile from 'proper-lockfile'
import type { ArchiveSpec } from '../src/backends/backend.js'
import { kindOfEntry } from '../src/cli/store.js'
import { LocalStore } from '../src/backends/local/store.js'
import type { CachePlan } from '../src/kinds/kind.js'
import { restoreOne } from '../src/restore/restore.js'
import { captureLog } from '../src/util/capture.js'

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
/** A whole-second mtime: GNU-format archives keep seconds. */
const FIXED_TIME = new Date('2024-03-01T12:00:00Z')

let base: string
let storeDir: string

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-local-'))
  storeDir = path.join(base, 'store')
})

afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true })
})

/** Parts named by their absolute spelling: enough to tell one set of paths from another. */
function spec(paths: string[], exclude: string[] = []): ArchiveSpec {
  return { parts: paths.map(p => ({ origin: 'spelled' as const, name: p, path: p })), exclude }
}

async function write(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, content, { mode })
  await fs.chmod(file, mode)
}

/** Files, a subdirectory, an executable, inside symlinks, an empty directory and two never-archive files. */
async function makeTree(dir: string, flavour = 'a'): Promise<void> {
  await write(path.join(dir, 'top.txt'), `top ${flavour}\n`)
  await write(path.join(dir, 'sub/deep/data.bin'), crypto.randomBytes(50_000))
  await write(path.join(dir, 'sub/tool.sh'), '#!/bin/sh\necho hi\n', 0o750)
  await write(path.join(dir, 'sub/.locks'), 'lock')
  await write(path.join(dir, 'sub/deep/model.incomplete'), 'partial')
  await fs.mkdir(path.join(dir, 'empty'))
  await fs.symlink('sub/deep/data.bin', path.join(dir, 'to-data'))
  await fs.symlink('../top.txt', path.join(dir, 'sub/to-top'))
  await fs.chmod(path.join(dir, 'sub/deep'), 0o700)
  await fixTimes(dir)
}

async function fixTimes(dir: string): Promise<void> {
  for (const entry of [...(await walk(dir)), dir]) {
    if (!(await fs.lstat(entry)).isSymbolicLink()) await fs.utimes(entry, FIXED_TIME, FIXED_TIME)
  }
}

async function walk(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    found.push(full)
    if (entry.isDirectory()) found.push(...(await walk(full)))
  }
  // Children first, so a directory's mtime is set after its contents.
  return found.reverse()
}

/** Everything a restore must reproduce: type, mode, mtime, content or link target. */
async function snapshot(dir: string, skip: RegExp | null = null): Promise<Record<string, string>> {
  const result: Record<string, string> = {}
  for (const entry of [dir, ...(await walk(dir))]) {
    const name = path.relative(dir, entry) || '.'
    if (skip?.test(name)) continue
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

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false
  )
}

/** The one entry directory in the store (tests that use it save one key). */
async function onlyEntryDir(): Promise<string> {
  const versions = await fs.readdir(path.join(storeDir, 'entries'))
  expect(versions).toHaveLength(1)
  const keys = await fs.readdir(path.join(storeDir, 'entries', versions[0]))
  expect(keys).toHaveLength(1)
  return path.join(storeDir, 'entries', versions[0], keys[0])
}

interface StoredMeta {
  parts: Array<{ file: string; sha256: string; bytes: number }>
}

async function readMeta(entryDir: string): Promise<StoredMeta> {
  return JSON.parse(await fs.readFile(path.join(entryDir, 'meta.json'), 'utf8')) as StoredMeta
}

async function firstArchive(entryDir: string): Promise<string> {
  return path.join(entryDir, (await readMeta(entryDir)).parts[0].file)
}

async function replaceFile(file: string, content: Buffer): Promise<void> {
  await fs.rm(file)
  await fs.writeFile(file, content)
}

describe('round trip', () => {
  test('restores several paths with files, subdirectories, symlinks, empty dirs, modes and mtimes', async () => {
    const one = path.join(base, 'work/one')
    const two = path.join(base, 'work/two')
    const single = path.join(base, 'work/config.json')
    await makeTree(one, 'one')
    await makeTree(two, 'two')
    await write(single, '{"a":1}', 0o600)
    await fs.utimes(single, FIXED_TIME, FIXED_TIME)
    const excluded = /(^|\/)(\.locks|[^/]*\.incomplete)$/
    const before = [await snapshot(one, excluded), await snapshot(two, excluded), await fs.stat(single)]
    const store = new LocalStore(storeDir)
    const theSpec = spec([one, two, single], ['.locks', '*.incomplete'])

    const saved = await store.save(theSpec, 'k1')
    await fs.rm(path.join(base, 'work'), { recursive: true })
    const restored = await store.restore(theSpec, 'k1', [])

    expect(saved.archiveBytes).toBeGreaterThan(0)
    expect(restored).toEqual({ matchedKey: 'k1', archiveBytes: saved.archiveBytes })
    expect(await snapshot(one)).toEqual(before[0])
    expect(await snapshot(two)).toEqual(before[1])
    const singleAfter = await fs.stat(single)
    expect([singleAfter.mode & 0o777, singleAfter.mtimeMs]).toEqual([0o600, FIXED_TIME.getTime()])
    expect(await fs.readFile(single, 'utf8')).toBe('{"a":1}')
  })

  test('a long restore logs progress lines at the rate QDC_PROGRESS_INTERVAL_MS sets', async () => {
    const data = path.join(base, 'work/big')
    await fs.mkdir(data, { recursive: true })
    await fs.writeFile(path.join(data, 'blob'), crypto.randomBytes(24 * 1024 * 1024))
    const theSpec = spec([data])
    await new LocalStore(storeDir).save(theSpec, 'progress')
    await fs.rm(data, { recursive: true })
    const lines: string[] = []
    const saved = process.env.QDC_PROGRESS_INTERVAL_MS
    process.env.QDC_PROGRESS_INTERVAL_MS = '1'
    try {
      await new LocalStore(storeDir, Date.now, { log: line => lines.push(line) }).restore(theSpec, 'progress', [])
    } finally {
      if (saved === undefined) delete process.env.QDC_PROGRESS_INTERVAL_MS
      else process.env.QDC_PROGRESS_INTERVAL_MS = saved
    }
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines)
      expect(line).toMatch(new RegExp(`^Restoring ${data}: \\d+% [\\d.]+ [KMG]?i?B of 24\\.0 MiB, [\\d.]+ [KMG]?i?B/s$`))
  })

  test('exclude patterns are honoured at every depth', async () => {
    const dir = path.join(base, 'work/dir')
    await makeTree(dir)
    const store = new LocalStore(storeDir)
    const theSpec = spec([dir], ['.locks', '*.incomplete'])

    await store.save(theSpec, 'k')
    await fs.rm(dir, { recursive: true })
    await store.restore(theSpec, 'k', [])

    expect(await exists(path.join(dir, 'sub/.locks'))).toBe(false)
    expect(await exists(path.join(dir, 'sub/deep/model.incomplete'))).toBe(false)
    expect(await exists(path.join(dir, 'sub/deep/data.bin'))).toBe(true)
  })

  test('a missing path is skipped and stays missing; all missing is an error', async () => {
    const present = path.join(base, 'work/present')
    const absent = path.join(base, 'work/absent')
    await makeTree(present)
    const store = new LocalStore(storeDir)

    await store.save(spec([present, absent]), 'k')
    await fs.rm(present, { recursive: true })
    const restored = await store.restore(spec([present, absent]), 'k', [])

    expect(restored?.matchedKey).toBe('k')
    expect(await exists(path.join(present, 'top.txt'))).toBe(true)
    expect(await exists(absent)).toBe(false)
    await expect(store.save(spec([absent]), 'k2')).rejects.toThrow(/none of these paths exists/)
  })
})

describe('lookup', () => {
  async function saveWith(store: LocalStore, dir: string, key: string): Promise<void> {
    await fs.rm(dir, { recursive: true, force: true })
    await write(path.join(dir, 'which'), key)
    await store.save(spec([dir]), key)
  }

  async function restoredKey(store: LocalStore, dir: string, key: string, restoreKeys: string[]): Promise<string | undefined> {
    await fs.rm(dir, { recursive: true, force: true })
    const result = await store.restore(spec([dir]), key, restoreKeys)
    if (result.matchedKey) expect(await fs.readFile(path.join(dir, 'which'), 'utf8')).toBe(result.matchedKey)
    return result.matchedKey ?? undefined
  }

  test('exact key first, then the newest entry for each restore-key prefix in order', async () => {
    let now = Date.now()
    const store = new LocalStore(storeDir, () => now)
    const dir = path.join(base, 'work/dir')
    for (const key of ['deps-linux-1', 'deps-linux-3', 'deps-linux-2', 'other-1']) {
      await saveWith(store, dir, key)
      now += 1000
    }

    expect(await restoredKey(store, dir, 'deps-linux-1', ['deps-'])).toBe('deps-linux-1')
    expect(await restoredKey(store, dir, 'deps-linux-9', ['deps-linux-'])).toBe('deps-linux-2')
    expect(await restoredKey(store, dir, 'deps-linux-9', ['nothing-', 'other-', 'deps-'])).toBe('other-1')
    expect(await restoredKey(store, dir, 'deps-linux-9', ['nothing-'])).toBeUndefined()
    expect(await restoredKey(store, dir, 'deps-linux-9', [])).toBeUndefined()
  })

  test('another set of paths is another identity: a miss that says what differs; exclude patterns are not identity', async () => {
    const store = new LocalStore(storeDir)
    const dir = path.join(base, 'work/dir')
    const other = path.join(base, 'work/other')
    await saveWith(store, dir, 'k')

    expect(await store.restore(spec([dir, other]), 'k', ['k'])).toEqual({
      matchedKey: null,
      otherIdentity: `The store holds k under another identity, so it does not match: its paths differ: it lacks '${other}'.`
    })
    expect(await store.restore(spec([dir], ['*.tmp']), 'k', ['k'])).toEqual(expect.objectContaining({ matchedKey: 'k' }))
    expect(await store.restore(spec([dir]), 'k', [])).toEqual(expect.objectContaining({ matchedKey: 'k' }))
  })
})

describe('entries of store format 1 (before portable entries)', () => {
  /** What an earlier qdc wrote: parts named by the absolute path of the machine that saved them. */
  async function legacyEntry(key: string, dir: string, lastUsed: number): Promise<string> {
    const store = new LocalStore(storeDir)
    await write(path.join(dir, 'f'), 'old')
    await store.save(spec([dir]), key)
    const entryDir = await onlyEntryDir()
    const meta = JSON.parse(await fs.readFile(path.join(entryDir, 'meta.json'), 'utf8'))
    const version = crypto
      .createHash('sha256')
      .update(JSON.stringify({ format: 1, paths: [dir], exclude: [] }))
      .digest('hex')
    const legacy = {
      format: 1,
      key,
      version,
      saveId: meta.saveId,
      created: lastUsed,
      lastUsed,
      parts: meta.parts.map(({ name, ...part }: { name: string }) => ({ ...part, path: name }))
    }
    const legacyDir = path.join(storeDir, 'entries', version, path.basename(entryDir))
    await fs.mkdir(legacyDir, { recursive: true })
    for (const name of await fs.readdir(entryDir)) await fs.rename(path.join(entryDir, name), path.join(legacyDir, name))
    await fs.rm(path.dirname(entryDir), { recursive: true })
    await fs.writeFile(path.join(legacyDir, 'meta.json'), JSON.stringify(legacy))
    return legacyDir
  }

  test('miss once, saying why; still listed, verified and pruned', async () => {
    const dir = path.join(base, 'work/old')
    const now = Date.now()
    await legacyEntry('old-key', dir, now - 40 * DAY)
    const store = new LocalStore(storeDir, () => now)

    const miss = await store.restore(spec([dir]), 'old-key', [])
    expect(miss.matchedKey).toBeNull()
    expect(miss).toMatchObject({
      otherIdentity: expect.stringMatching(
        /^The store holds old-key under another identity, so it does not match: it was saved in store format 1 \(before entries were portable/
      )
    })
    expect((await store.listEntries()).map(e => e.key)).toEqual(['old-key'])
    expect(await store.verifyEntries()).toEqual([expect.objectContaining({ key: 'old-key', problem: null })])
    const pruned = await store.prune({ maxAgeMs: 30 * DAY })
    expect(pruned.entries.map(e => e.key)).toEqual(['old-key'])
    expect(await store.listEntries()).toEqual([])
  })
})

describe('integrity', () => {
  async function savedEntry(): Promise<{ store: LocalStore; dir: string; archive: string }> {
    const dir = path.join(base, 'work/dir')
    await makeTree(dir)
    const store = new LocalStore(storeDir)
    await store.save(spec([dir]), 'k')
    await fs.rm(dir, { recursive: true })
    return { store, dir, archive: await firstArchive(await onlyEntryDir()) }
  }

  /** What the restore says when zstd refuses an archive: its own words, whatever its version prints. */
  const doesNotDecompress = /"k" is corrupt: archive for \S+ does not decompress \(zstd: .+\)/

  /** Records an archive's new size and digest in meta.json, as a save that wrote it so would have. */
  async function recordArchive(index: number, archive: string): Promise<void> {
    const entryDir = await onlyEntryDir()
    const meta = (await readMeta(entryDir)) as StoredMeta & Record<string, unknown>
    const bytes = await fs.readFile(archive)
    meta.parts[index].bytes = bytes.length
    meta.parts[index].sha256 = crypto.createHash('sha256').update(bytes).digest('hex')
    await fs.writeFile(path.join(entryDir, 'meta.json'), JSON.stringify(meta))
  }

  test('a flipped byte is refused by zstd and nothing is extracted', async () => {
    const { store, dir, archive } = await savedEntry()
    const bytes = await fs.readFile(archive)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff
    await replaceFile(archive, bytes)

    await expect(store.restore(spec([dir]), 'k', [])).rejects.toThrow(doesNotDecompress)
    expect(await exists(dir)).toBe(false)
    expect((await fs.readdir(path.join(base, 'work'))).filter(name => name.includes('qdc-restore'))).toEqual([])
  })

  test('wherever a byte flips, the restore refuses the archive or brings back exactly what was saved', async () => {
    const { store, dir, archive } = await savedEntry()
    const pristine = await fs.readFile(archive)
    // The content as saved, from an intact restore.
    await store.restore(spec([dir]), 'k', [])
    const saved = await snapshot(dir)
    await fs.rm(dir, { recursive: true })
    // Spread over the archive (frame header, blocks, the checksum at the end), the last bytes every one.
    const positions = [
      ...Array.from({ length: 30 }, (_, i) => Math.floor((i * pristine.length) / 30)),
      ...Array.from({ length: 12 }, (_, i) => pristine.length - 1 - i)
    ]
    let refused = 0
    for (const position of positions) {
      const bytes = Buffer.from(pristine)
      bytes[position] ^= 0x10
      await replaceFile(archive, bytes)
      const outcome = await store.restore(spec([dir]), 'k', []).then(
        () => 'restored',
        (error: Error) => error.message
      )
      if (outcome === 'restored') {
        // A flip zstd cannot see changes nothing it decompresses (a spare bit): the content must be exact.
        expect(await snapshot(dir)).toEqual(saved)
        await fs.rm(dir, { recursive: true })
      } else {
        // A flip in the frame header's checksum flag leaves a frame without a checksum: the SHA-256 refuses it.
        expect(outcome).toMatch(/"k" is corrupt: archive for \S+ (does not decompress \(zstd: .+\)|does not match its SHA-256)$/)
        expect(await exists(dir)).toBe(false)
        refused++
      }
    }
    expect(refused).toBeGreaterThan(positions.length * 0.9)
  })

  test('a flipped byte in the frame checksum itself is refused', async () => {
    const { store, dir, archive } = await savedEntry()
    const bytes = await fs.readFile(archive)
    // The last 4 bytes of a zstd frame with a content checksum are the checksum.
    bytes[bytes.length - 2] ^= 0x01
    await replaceFile(archive, bytes)

    await expect(store.restore(spec([dir]), 'k', [])).rejects.toThrow(doesNotDecompress)
    expect(await exists(dir)).toBe(false)
  })

  test('an entry restores whole or not at all: a corrupt second path keeps the first one out too', async () => {
    const one = path.join(base, 'work/one')
    const two = path.join(base, 'work/two')
    await makeTree(one, 'one')
    await makeTree(two, 'two')
    const store = new LocalStore(storeDir)
    await store.save(spec([one, two]), 'k')
    await fs.rm(one, { recursive: true })
    await fs.rm(two, { recursive: true })
    const entryDir = await onlyEntryDir()
    const second = path.join(entryDir, (await readMeta(entryDir)).parts[1].file)
    const bytes = await fs.readFile(second)
    bytes[bytes.length - 20] ^= 0xff
    await replaceFile(second, bytes)

    await expect(store.restore(spec([one, two]), 'k', [])).rejects.toThrow(doesNotDecompress)
    expect(await exists(one)).toBe(false)
    expect(await exists(two)).toBe(false)
    expect((await fs.readdir(path.join(base, 'work'))).filter(name => name.includes('qdc-restore'))).toEqual([])
  })

  test('an archive shorter than recorded is refused before it is read, and nothing is extracted', async () => {
    const { store, dir, archive } = await savedEntry()
    await fs.truncate(archive, (await fs.stat(archive)).size - 100)

    await expect(store.restore(spec([dir]), 'k', [])).rejects.toThrow(/"k" is corrupt: .* bytes/)
    expect(await exists(dir)).toBe(false)
  })

  test('an archive cut short with its size recorded as cut is refused by zstd, and nothing is extracted', async () => {
    const { store, dir, archive } = await savedEntry()
    await fs.truncate(archive, (await fs.stat(archive)).size - 100)
    await recordArchive(0, archive)

    await expect(store.restore(spec([dir]), 'k', [])).rejects.toThrow(doesNotDecompress)
    expect(await exists(dir)).toBe(false)
  })

  test('an archive whose frame carries no checksum is checked against its SHA-256 instead', async () => {
    const { store, dir, archive } = await savedEntry()
    const plain = spawnSync('bash', ['-c', `zstd -dc < '${archive}' | zstd -q -c --no-check`], { maxBuffer: 1 << 26 })
    expect(plain.status).toBe(0)
    await replaceFile(archive, plain.stdout)
    await recordArchive(0, archive)
    const bytes = Buffer.from(plain.stdout)
    bytes[Math.floor(bytes.length / 2)] ^= 0xff

    await replaceFile(archive, bytes)
    await expect(store.restore(spec([dir]), 'k', [])).rejects.toThrow(/"k" is corrupt: archive for \S+ does not match its SHA-256/)
    expect(await exists(dir)).toBe(false)
    await replaceFile(archive, plain.stdout)
    await expect(store.restore(spec([dir]), 'k', [])).resolves.toMatchObject({ matchedKey: 'k' })
    expect(await exists(path.join(dir, 'sub/deep/data.bin'))).toBe(true)
  })

  test.each([
    ['a flipped byte', (bytes: Buffer) => ((bytes[Math.floor(bytes.length / 3)] ^= 0xff), bytes)],
    ['a cut-off archive', (bytes: Buffer) => bytes.subarray(0, bytes.length - 100)]
  ])('to the restore phase, %s is a miss with a warning and the target stays as it was', async (_, damage) => {
    const { store, dir, archive } = await savedEntry()
    await replaceFile(archive, damage(await fs.readFile(archive)))
    await recordArchive(0, archive)
    const plan: CachePlan = {
      kind: 'custom',
      spec: spec([dir]),
      key: 'k',
      restoreKeys: [],
      keyParts: [],
      notes: [],
      inPlace: false,
      env: {}
    }
    const snapshotDir = await fs.mkdtemp(path.join(base, 'snap-'))

    const { result, lines } = await captureLog(() => restoreOne(plan, store, { read: true, write: true, reason: 'test' }, snapshotDir))

    expect(result.entry).toMatchObject({
      hit: 'miss',
      restoredBytes: 0,
      problems: [expect.stringMatching(/^restore failed, continuing without cache: .*does not decompress/)]
    })
    expect(lines.filter(line => line.startsWith('::warning::'))).toEqual([
      expect.stringMatching(/^::warning::custom: restore failed, continuing without cache: local cache entry "k" is corrupt/)
    ])
    expect(await exists(dir)).toBe(false)
  })

  test('unreadable metadata is reported as corrupt', async () => {
    const { store, dir } = await savedEntry()
    await fs.writeFile(path.join(await onlyEntryDir(), 'meta.json'), '{"format":1,')

    await expect(store.restore(spec([dir]), 'k', [])).rejects.toThrow(/"k" is corrupt/)
  })
})

/** Minimal tar writer, so tests can craft what GNU tar would never produce. */
function tarHeader(name: string, type: string, size = 0, linkName = ''): Buffer {
  const block = Buffer.alloc(512)
  const field = (text: string, offset: number, length: number) => block.write(text, offset, length, 'latin1')
  const number = (value: number, offset: number, length: number) => field(value.toString(8).padStart(length - 1, '0'), offset, length)
  field(name, 0, 100)
  number(type === '5' ? 0o755 : 0o644, 100, 8)
  number(0, 108, 8)
  number(0, 116, 8)
  number(size, 124, 12)
  number(Math.floor(FIXED_TIME.getTime() / 1000), 136, 12)
  field(type, 156, 1)
  field(linkName, 157, 100)
  field('ustar\u000000', 257, 8)
  field('        ', 148, 8)
  const sum = block.reduce((total, byte) => total + byte, 0)
  field(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8)
  return block
}

function member(name: string, type: string, options: { data?: string; linkName?: string } = {}): Buffer {
  const data = Buffer.from(options.data ?? '', 'latin1')
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512)
  return Buffer.concat([tarHeader(name, type, data.length, options.linkName), data, padding])
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let length = body.length + 1
  while (`${length}${body}`.length !== length) length++
  return `${length}${body}`
}

function zstdCompress(tar: Buffer): Buffer {
  const result = spawnSync('zstd', ['-q', '-c'], { input: Buffer.concat([tar, Buffer.alloc(1024)]) })
  expect(result.status).toBe(0)
  return result.stdout
}

describe('archives that try to write outside their target', () => {
  let outside: string
  let target: string
  let store: LocalStore

  beforeEach(async () => {
    outside = path.join(base, 'outside')
    target = path.join(base, 'work/target')
    await write(path.join(outside, 'secret'), 'secret')
    await write(path.join(target, 'placeholder'), 'x')
    store = new LocalStore(storeDir)
    await store.save(spec([target]), 'k')
    await fs.rm(target, { recursive: true })
  })

  /** What someone who can write the store does: swap the archive and record its digest. */
  async function plant(members: Buffer[]): Promise<void> {
    const entryDir = await onlyEntryDir()
    const meta = (await readMeta(entryDir)) as StoredMeta & Record<string, unknown>
    const archive = zstdCompress(Buffer.concat(members))
    await replaceFile(path.join(entryDir, meta.parts[0].file), archive)
    meta.parts[0].sha256 = crypto.createHash('sha256').update(archive).digest('hex')
    meta.parts[0].bytes = archive.length
    await fs.writeFile(path.join(entryDir, 'meta.json'), JSON.stringify(meta))
  }

  async function expectOutsideUntouched(): Promise<void> {
    expect(await fs.readdir(outside)).toEqual(['secret'])
    const secret = await fs.stat(path.join(outside, 'secret'))
    expect([await fs.readFile(path.join(outside, 'secret'), 'utf8'), secret.nlink]).toEqual(['secret', 1])
  }

  const relativeOutside = '../../outside'
  const cases: Array<[string, () => Buffer[], RegExp]> = [
    [
      'an absolute name',
      () => [member('./', '5'), member(`${outside}/evil`, '0', { data: 'pwned' })],
      /Removing leading `\/' from member names/
    ],
    [
      'a leading ..',
      () => [member('./', '5'), member(`${relativeOutside}/evil`, '0', { data: 'pwned' })],
      /Removing leading `\.\.\/\.\.\/' from member names/
    ],
    [
      'a .. in the middle',
      () => [member('./', '5'), member('./sub/', '5'), member(`./sub/../${relativeOutside}/evil`, '0', { data: 'x' })],
      /Removing leading `\.\/sub\/\.\.\/\.\.\/\.\.\/' from member names/
    ],
    [
      'a write through a symlink member pointing outside',
      () => [member('./', '5'), member('./link', '2', { linkName: outside }), member('./link/evil', '0', { data: 'pwned' })],
      /\.\/link\/evil: Cannot open: Not a directory/
    ],
    [
      'a hard link to an absolute path outside',
      () => [member('./', '5'), member('./h', '1', { linkName: `${outside}/secret` })],
      /Removing leading `\/' from hard link targets/
    ],
    [
      'a hard link climbing out with ..',
      () => [member('./', '5'), member('./h', '1', { linkName: `${relativeOutside}/secret` })],
      /Removing leading `\.\.\/\.\.\/' from hard link targets/
    ],
    [
      'a hard link to a file the archive never had',
      () => [member('./', '5'), member('./h', '1', { linkName: 'etc/passwd' })],
      /Cannot hard link to .etc\/passwd.: No such file or directory/
    ],
    [
      'a pax path override climbing out',
      () => [
        member('./', '5'),
        member('./PaxHeaders/evil', 'x', { data: paxRecord('path', `${relativeOutside}/evil`) }),
        member('./harmless', '0', { data: 'pwned' })
      ],
      /Removing leading `\.\.\/\.\.\/' from member names/
    ],
    [
      'a GNU long name climbing out',
      () => [
        member('./', '5'),
        member('././@LongLink', 'L', { data: `${relativeOutside}/evil\u0000` }),
        member('./harmless', '0', { data: 'x' })
      ],
      /Removing leading `\.\.\/\.\.\/' from member names/
    ],
    [
      'a sparse member (its real name hides in GNU.sparse.name)',
      () => [
        member('./', '5'),
        member('./PaxHeaders/s', 'x', { data: paxRecord('GNU.sparse.name', `${relativeOutside}/evil`) }),
        member('./s', '0')
      ],
      /Removing leading `\.\.\/\.\.\/' from member names/
    ]
  ]

  test.each(cases)('refuses %s and writes nothing outside', async (_, members, reason) => {
    await plant(members())

    const restore = store.restore(spec([target]), 'k', [])

    await expect(restore).rejects.toThrow(/refused entry/)
    await expect(restore).rejects.toThrow(reason)
    expect(await exists(target)).toBe(false)
    await expectOutsideUntouched()
    expect(await exists(path.join(target, 'evil'))).toBe(false)
  })

  test('a symlink member later redeclared as a directory never leads outside: refused, or a plain directory', async () => {
    await plant([
      member('./', '5'),
      member('./link', '2', { linkName: outside }),
      member('./link/', '5'),
      member('./link/evil', '0', { data: 'x' })
    ])

    // GNU tar makes a link to an absolute target last, from a placeholder file; the directory replaces the
    // placeholder, and whether tar then notices (same inode reused: "Cannot unlink") or silently drops the
    // link depends on the filesystem's inode numbers. Either way nothing is written outside.
    const outcome = await store.restore(spec([target]), 'k', []).then(
      () => 'restored',
      (error: Error) => error.message
    )
    if (outcome === 'restored') {
      expect((await fs.lstat(path.join(target, 'link'))).isDirectory()).toBe(true)
      expect(await fs.readFile(path.join(target, 'link/evil'), 'utf8')).toBe('x')
    } else {
      expect(outcome).toMatch(/refused entry: .*\.\/link: Cannot unlink: Is a directory/)
      expect(await exists(target)).toBe(false)
    }
    await expectOutsideUntouched()
    expect(await fs.readdir(outside)).toEqual(['secret'])
  })

  test('refuses a header with a bad checksum rather than let tar resynchronise', async () => {
    const bad = member('./f', '0', { data: 'x' })
    bad[0] ^= 1
    await plant([member('./', '5'), bad])

    await expect(store.restore(spec([target]), 'k', [])).rejects.toThrow(
      /refused entry: tar: (Skipping to next header|This does not look like a tar archive)/
    )
  })

  test('a symlink already on disk is replaced by the directory member, not written through', async () => {
    await fs.mkdir(target, { recursive: true })
    await fs.symlink(outside, path.join(target, 'link'))
    await plant([member('./', '5'), member('./link/', '5'), member('./link/evil', '0', { data: 'inside' })])

    await store.restore(spec([target]), 'k', [])

    await expectOutsideUntouched()
    expect((await fs.lstat(path.join(target, 'link'))).isDirectory()).toBe(true)
    expect(await fs.readFile(path.join(target, 'link/evil'), 'utf8')).toBe('inside')
  })

  test('symlinks pointing outside are kept as links when nothing is written through them', async () => {
    await plant([member('./', '5'), member('./abs', '2', { linkName: '/usr/bin/env' }), member('./file', '0', { data: 'x' })])

    await store.restore(spec([target]), 'k', [])

    expect(await fs.readlink(path.join(target, 'abs'))).toBe('/usr/bin/env')
  })
})

/** Runs a save in another Node process, loading src/ through the scripts' own TypeScript hooks. */
async function saveInChild(root: string, theSpec: ArchiveSpec, key: string): Promise<void> {
  const script = `
    await import(${JSON.stringify(new URL('../scripts/load-ts.ts', import.meta.url).href)})
    const { LocalStore } = await import(${JSON.stringify(new URL('../src/backends/local/store.ts', import.meta.url).href)})
    const [root, spec, key] = JSON.parse(process.argv[1])
    await new LocalStore(root).save(spec, key)
  `
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, JSON.stringify([root, theSpec, key])], {
    stdio: ['ignore', 'inherit', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`child save failed: ${stderr}`)
}

describe('concurrency', () => {
  test('concurrent saves of one key from several processes leave one valid entry', async () => {
    const dir = path.join(base, 'work/dir')
    await makeTree(dir)
    for (let i = 0; i < 40; i++) await write(path.join(dir, `bulk/${i}.bin`), crypto.randomBytes(100_000))
    await fixTimes(dir)
    const before = await snapshot(dir)
    const store = new LocalStore(storeDir)
    const theSpec = spec([dir])

    await Promise.all([
      saveInChild(storeDir, theSpec, 'shared'),
      saveInChild(storeDir, theSpec, 'shared'),
      store.save(theSpec, 'shared'),
      store.save(theSpec, 'shared')
    ])
    await fs.rm(dir, { recursive: true })
    const restored = await store.restore(theSpec, 'shared', [])

    expect(restored?.matchedKey).toBe('shared')
    expect(await snapshot(dir)).toEqual(before)
    expect((await store.listEntries()).map(entry => entry.key)).toEqual(['shared'])
    const entryDir = await onlyEntryDir()
    const archives = (await readMeta(entryDir)).parts.map(part => part.file)
    // Each publish removed the archives of the entry it replaced: nothing is left unreferenced.
    expect((await fs.readdir(entryDir)).sort()).toEqual(['meta.json', ...archives].sort())
    expect(await fs.readdir(path.join(storeDir, 'tmp'))).toEqual([])
    expect(await fs.readdir(path.join(storeDir, 'locks'))).toEqual([])
  })

  test('a publish waits for a live lock and takes over a stale one', async () => {
    const dir = path.join(base, 'work/dir')
    await makeTree(dir)
    const store = new LocalStore(storeDir)
    await store.save(spec([dir]), 'k')
    const entryDir = await onlyEntryDir()
    const lockPath = path.join(storeDir, 'locks', `${path.basename(path.dirname(entryDir))}-${path.basename(entryDir)}`)

    const release = await lockfile.lock(lockPath, { realpath: false })
    let finished = false
    const waiting = store.save(spec([dir]), 'k').then(() => (finished = true))
    await new Promise(resolve => setTimeout(resolve, 1500))
    expect(finished).toBe(false)
    await release()
    await waiting

    // A holder that died: its lock directory stays, its mtime stops moving.
    await fs.mkdir(`${lockPath}.lock`)
    const longAgo = new Date(Date.now() - 60_000)
    await fs.utimes(`${lockPath}.lock`, longAgo, longAgo)
    await store.save(spec([dir]), 'k')
    expect(await exists(`${lockPath}.lock`)).toBe(false)
  })
})

describe('crash leftovers and prune', () => {
  test('leftovers of a crashed save do not affect lookup and are removed by prune once old', async () => {
    const dir = path.join(base, 'work/dir')
    await makeTree(dir)
    const store = new LocalStore(storeDir)
    await store.save(spec([dir]), 'k')
    const entryDir = await onlyEntryDir()
    const leftovers = [
      path.join(storeDir, 'tmp', '0123456789abcdef-0.tar.zst.0a0b0c0d.tmp'),
      path.join(entryDir, 'fedcba9876543210-0.tar.zst'),
      path.join(entryDir, 'meta.json.a1b2c3d4e5f6.tmp')
    ]
    for (const file of leftovers) await write(file, 'half written')

    await fs.rm(dir, { recursive: true })
    expect((await store.restore(spec([dir]), 'k', []))?.matchedKey).toBe('k')
    expect(await store.prune()).toMatchObject({ entries: [], bytes: 0, orphans: [] })
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR)
    for (const file of leftovers) await fs.utimes(file, twoHoursAgo, twoHoursAgo)
    const dryRun = await store.prune({ dryRun: true })
    expect(await Promise.all(leftovers.map(exists))).toEqual([true, true, true])
    const pruned = await store.prune()

    expect([...pruned.orphans].sort()).toEqual(leftovers.map(file => path.relative(storeDir, file)).sort())
    expect(dryRun).toEqual(pruned)
    expect(pruned.bytes).toBe(3 * 'half written'.length)
    expect(await Promise.all(leftovers.map(exists))).toEqual([false, false, false])
    await fs.rm(dir, { recursive: true })
    expect((await store.restore(spec([dir]), 'k', []))?.matchedKey).toBe('k')
  })

  async function threeEntries(): Promise<{ store: LocalStore; advance: (ms: number) => void; dir: string }> {
    let now = Date.now()
    const store = new LocalStore(storeDir, () => now)
    const dir = path.join(base, 'work/dir')
    await makeTree(dir)
    for (const key of ['old', 'middle', 'new']) {
      await store.save(spec([dir]), key)
      now += DAY
    }
    return { store, advance: ms => (now += ms), dir }
  }

  test('prune by age removes entries unused for longer than maxAge; a dry run removes nothing', async () => {
    const { store } = await threeEntries()
    const everything = await store.listEntries()

    const dryRun = await store.prune({ maxAgeMs: 1.5 * DAY, dryRun: true })
    expect(await store.listEntries()).toEqual(everything)
    const pruned = await store.prune({ maxAgeMs: 1.5 * DAY })

    expect(pruned.entries.map(entry => entry.key).sort()).toEqual(['middle', 'old'])
    expect(dryRun).toEqual(pruned)
    expect(pruned.bytes).toBe(everything.filter(entry => entry.key !== 'new').reduce((sum, entry) => sum + entry.bytes, 0))
    expect((await store.listEntries()).map(entry => entry.key)).toEqual(['new'])
  })

  test('prune by size removes the least recently used first; a restore counts as a use', async () => {
    const { store, advance, dir } = await threeEntries()
    await store.restore(spec([dir]), 'old', [])
    advance(1000)
    const sizes = Object.fromEntries((await store.listEntries()).map(entry => [entry.key, entry.bytes]))

    const dryRun = await store.prune({ maxBytes: sizes.old + sizes.new, dryRun: true })
    expect((await store.listEntries()).length).toBe(3)
    const pruned = await store.prune({ maxBytes: sizes.old + sizes.new })

    expect(pruned.entries.map(entry => entry.key)).toEqual(['middle'])
    expect(dryRun).toEqual(pruned)
    expect((await store.listEntries()).map(entry => entry.key)).toEqual(['old', 'new'])
    expect(await store.restore(spec([dir]), 'middle', [])).toMatchObject({ matchedKey: null })
  })

  test('listEntries reports key, version, bytes and times', async () => {
    const { store } = await threeEntries()

    const entries = await store.listEntries()

    expect(entries.map(entry => entry.key)).toEqual(['new', 'middle', 'old'])
    expect(entries[0]).toEqual({
      key: 'new',
      version: expect.stringMatching(/^[0-9a-f]{64}$/),
      bytes: expect.any(Number),
      created: entries[0].lastUsed,
      lastUsed: expect.any(Number)
    })
    expect(entries[0].created - entries[2].created).toBe(2 * DAY)
  })

  test('the kind a save names is recorded, so a custom key that looks like a preset one is not mistaken for it', async () => {
    const data = path.join(base, 'work/kinds')
    await write(path.join(data, 'f'), 'x')
    const store = new LocalStore(path.join(base, 'kinds-store'))
    await store.save({ ...spec([data]), kind: 'custom' }, 'build-pip-v1-lookalike')
    await store.save({ ...spec([data]), kind: 'pip' }, 'qdc-pip-v1-Linux')
    await store.save(spec([data]), 'old-nix-v1-unrecorded')
    const byKey = Object.fromEntries((await store.listEntries()).map(entry => [entry.key, kindOfEntry(entry)]))
    expect(byKey).toEqual({ 'build-pip-v1-lookalike': 'custom', 'qdc-pip-v1-Linux': 'pip', 'old-nix-v1-unrecorded': 'nix' })
    expect((await store.verifyEntries()).map(check => check.kind).sort()).toEqual(['custom', 'pip', undefined].sort())
    expect((await store.verifyEntries(entry => kindOfEntry(entry) === 'pip')).map(check => check.key)).toEqual(['qdc-pip-v1-Linux'])
  })
})

describe('documents (the run history the summary compares with)', () => {
  test('written whole, read back by key, and pruned by the age rule like entries', async () => {
    const store = new LocalStore(storeDir)
    await store.documents.write('history-main', { format: 1, runs: [1, 2] })
    await store.documents.write('history-main', { format: 1, runs: [1, 2, 3] })
    expect(await store.documents.read('history-main')).toEqual({ format: 1, runs: [1, 2, 3] })
    expect(await store.documents.read('history-other')).toBeNull()
    expect(await store.listEntries()).toEqual([])
    const [file] = await fs.readdir(path.join(storeDir, 'documents'))
    const old = new Date(Date.now() - 40 * DAY)
    await fs.utimes(path.join(storeDir, 'documents', file), old, old)
    const pruned = await store.prune({ maxAgeMs: 30 * DAY })
    expect(pruned.orphans).toEqual([path.join('documents', file)])
    expect(await store.documents.read('history-main')).toBeNull()
  })
})
