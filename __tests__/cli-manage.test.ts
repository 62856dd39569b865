/**
 * `qdc stats`, `prune` and `clear` on a store holding archive entries (saved by `qdc run`) and
 * in-place files: the age rule, the size cap across both, --dry-run deleting nothing, and clear
 * refusing without --yes when not on a terminal.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { assertBuilt, cleanEnv, qdc } from './support/qdc.js'

const MiB = 1024 * 1024
const DAY = 86_400_000
let root: string
let store: string
let env: Record<string, string>
let nix: string

beforeAll(async () => {
  assertBuilt()
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-cli-manage-'))
  store = path.join(root, 'store')
  env = cleanEnv(path.join(root, 'home'))
  for (const key of ['old-data', 'new-data']) {
    const data = path.join(root, key)
    fs.mkdirSync(data)
    fs.writeFileSync(path.join(data, 'payload'), crypto.randomBytes(MiB))
    const config = path.join(root, `${key}.yml`)
    fs.writeFileSync(config, `paths: ${data}\nkey: ${key}\nbackend: local\nlocal-dir: ${store}\n`)
    const saved = await qdc(['run', '--config', config, '--quiet', '--', 'true'], { env, cwd: root })
    expect(saved.code).toBe(0)
  }
  ageEntry('old-data', 40 * DAY)
  nix = path.join(store, 'in-place', 'nix')
  fs.mkdirSync(nix, { recursive: true })
  for (const [name, age] of [
    ['old.bin', 40 * DAY],
    ['mid.bin', 5 * DAY],
    ['new.bin', DAY / 24]
  ] as const) {
    fs.writeFileSync(path.join(nix, name), crypto.randomBytes(MiB))
    const when = new Date(Date.now() - age)
    fs.utimesSync(path.join(nix, name), when, when)
  }
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** Rewrites the entry's last use, as if nobody had restored it for `ms`. */
function ageEntry(keyStart: string, ms: number): void {
  for (const meta of metaFiles()) {
    const content = JSON.parse(fs.readFileSync(meta, 'utf8'))
    if (!content.key.startsWith(keyStart)) continue
    content.lastUsed = Date.now() - ms
    fs.writeFileSync(meta, JSON.stringify(content))
  }
}

function metaFiles(): string[] {
  const entries = path.join(store, 'entries')
  if (!fs.existsSync(entries)) return []
  return fs
    .readdirSync(entries)
    .flatMap(version => fs.readdirSync(path.join(entries, version)).map(key => path.join(entries, version, key, 'meta.json')))
    .filter(f => fs.existsSync(f))
}

function storedKeys(): string[] {
  return metaFiles()
    .map(f => JSON.parse(fs.readFileSync(f, 'utf8')).key.split('~r')[0])
    .sort()
}

function nixFiles(): string[] {
  return fs.existsSync(nix) ? fs.readdirSync(nix).sort() : []
}

async function statsJson() {
  const result = await qdc(['stats', '--store', store, '--json'], { env })
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as { kinds: Array<{ kind: string; store: string; items: number; bytes: number; recentHits: string[] }> }
}

async function pruneJson(args: string[]) {
  const result = await qdc(['prune', '--store', store, '--json', ...args], { env })
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as { entries: Array<{ key: string }>; files: Array<{ file: string }>; bytes: number; dryRun: boolean }
}

describe('stats', () => {
  test('per kind and store: entries, files, bytes and the runs recorded', async () => {
    const { kinds } = await statsJson()
    const custom = kinds.find(k => k.kind === 'custom' && k.store === 'archive')!
    expect(custom.items).toBe(2)
    expect(custom.bytes).toBeGreaterThan(2 * MiB)
    expect(custom.recentHits).toEqual(['miss', 'miss'])
    expect(kinds.find(k => k.kind === 'nix' && k.store === 'in-place')).toMatchObject({ items: 3, bytes: 3 * MiB })
    const human = await qdc(['stats', '--store', store], { env })
    expect(human.stdout).toMatch(/^custom +archive +2 entries +2\.\d+ MiB/m)
    expect(human.stdout).toMatch(/^nix +in-place +3 files +3\.00 MiB/m)
  })
})

describe('prune', () => {
  test('--dry-run names what the age rule would remove and deletes nothing', async () => {
    const result = await pruneJson(['--max-age', '30d', '--max-size', '1T', '--dry-run'])
    expect(result.dryRun).toBe(true)
    expect(result.entries.map(e => e.key.split('~r')[0])).toEqual(['old-data'])
    expect(result.files.map(f => path.basename(f.file))).toEqual(['old.bin'])
    expect(storedKeys()).toEqual(['new-data', 'old-data'])
    expect(nixFiles()).toEqual(['mid.bin', 'new.bin', 'old.bin'])
  })

  test('the age rule removes what was unused for longer, archive entries and files alike', async () => {
    const result = await pruneJson(['--max-age', '30d', '--max-size', '1T'])
    expect(result.entries.map(e => e.key.split('~r')[0])).toEqual(['old-data'])
    expect(storedKeys()).toEqual(['new-data'])
    expect(nixFiles()).toEqual(['mid.bin', 'new.bin'])
  })

  test('the size cap removes the least recently used first, whatever kind of item it is', async () => {
    const { kinds } = await statsJson()
    const entryBytes = kinds.find(k => k.kind === 'custom')!.bytes
    // Room for the entry and one file: the 5-day-old file goes, the hour-old one and the entry stay.
    const first = await pruneJson(['--max-age', '30d', '--max-size', String(entryBytes + MiB + 1000)])
    expect(first.files.map(f => path.basename(f.file))).toEqual(['mid.bin'])
    expect(first.entries).toEqual([])
    expect(nixFiles()).toEqual(['new.bin'])
    // Room for the entry alone: the file, older than the entry's last use, goes.
    const second = await pruneJson(['--max-age', '30d', '--max-size', String(entryBytes)])
    expect(second.files.map(f => path.basename(f.file))).toEqual(['new.bin'])
    expect(storedKeys()).toEqual(['new-data'])
  })
})

describe('clear', () => {
  test('refuses without --yes when not attached to a terminal, and deletes nothing', async () => {
    fs.writeFileSync(path.join(nix, 'kept.bin'), 'x')
    const result = await qdc(['clear', '--store', store], { env })
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe('qdc: clear: refusing to delete without --yes when not attached to a terminal')
    expect(storedKeys()).toEqual(['new-data'])
    expect(nixFiles()).toEqual(['kept.bin'])
  })

  test('KIND --yes deletes that kind only; without KIND everything', async () => {
    const custom = await qdc(['clear', 'custom', '--yes', '--store', store], { env })
    expect(custom.code).toBe(0)
    expect(storedKeys()).toEqual([])
    expect(nixFiles()).toEqual(['kept.bin'])
    const all = await qdc(['clear', '--yes', '--store', store], { env })
    expect(all.code).toBe(0)
    expect(nixFiles()).toEqual([])
  })
})
