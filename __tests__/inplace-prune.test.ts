import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { LocalStore } from '../src/backends/local/store.js'
import { inPlaceDir } from '../src/inplace/layout.js'
import { pruneStore } from '../src/backends/local/prune.js'

const DAY = 86_400_000
let root: string

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-inplace-prune-'))
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function aged(file: string, ms: number): void {
  const when = new Date(Date.now() - ms)
  fs.lutimesSync(file, when, when)
}

test('pruning a hub blob also removes the snapshot links to it and the folders left empty', async () => {
  const hub = inPlaceDir(root, 'huggingface')
  const repo = path.join(hub, 'models--org--tiny')
  const blob = path.join(repo, 'blobs', 'a'.repeat(64))
  const kept = path.join(repo, 'blobs', 'b'.repeat(64))
  const snapshot = path.join(repo, 'snapshots', 'c'.repeat(40))
  fs.mkdirSync(path.join(snapshot, 'sub'), { recursive: true })
  fs.mkdirSync(path.join(repo, 'refs'), { recursive: true })
  fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true })
  fs.writeFileSync(blob, Buffer.alloc(4096, 1))
  fs.writeFileSync(kept, Buffer.alloc(100, 2))
  fs.writeFileSync(path.join(repo, 'refs', 'main'), 'c'.repeat(40))
  fs.symlinkSync(path.join('..', '..', '..', 'blobs', 'a'.repeat(64)), path.join(snapshot, 'sub', 'model.bin'))
  fs.symlinkSync(path.join('..', '..', 'blobs', 'b'.repeat(64)), path.join(snapshot, 'config.json'))
  aged(blob, 60 * DAY)

  const result = await pruneStore(new LocalStore(root), root, { maxAgeMs: 30 * DAY }, Date.now())

  expect(result.files.map(f => f.file)).toEqual([blob])
  expect(fs.existsSync(blob)).toBe(false)
  // The link to the pruned blob and its now empty folder are gone; the other link and blob stay.
  expect(fs.existsSync(path.join(snapshot, 'sub'))).toBe(false)
  expect(fs.readFileSync(path.join(snapshot, 'config.json')).length).toBe(100)
  expect(fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8')).toBe('c'.repeat(40))
  expect(fs.existsSync(hub)).toBe(true)
})

test('a dry run removes nothing, links included', async () => {
  const pip = inPlaceDir(root, 'pip')
  fs.mkdirSync(path.join(pip, 'http'), { recursive: true })
  const old = path.join(pip, 'http', 'old')
  fs.writeFileSync(old, 'x')
  aged(old, 60 * DAY)
  const result = await pruneStore(new LocalStore(root), root, { maxAgeMs: 30 * DAY, dryRun: true }, Date.now())
  expect(result.files.map(f => f.file)).toEqual([old])
  expect(fs.existsSync(old)).toBe(true)
})
