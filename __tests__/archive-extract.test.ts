/**
 * extractVerified, the one way the local and s3 stores restore a part: zstd and tar fed from a stream that
 * stops early (before extraction began, or midway) end at once with the reader's reason, never hang, and
 * leave no staging directory; bytes that do not match the manifest are refused before tar's complaint.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import { ArchiveMismatch, extractVerified } from '../src/backends/archive.js'

let base: string
let archive: Buffer
let expected: { sha256: string; bytes: number }

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-extract-'))
  await fs.mkdir(path.join(base, 'src'))
  await fs.writeFile(path.join(base, 'src', 'data.bin'), crypto.randomBytes(3 * 1024 * 1024))
  archive = spawnSync('tar', ['--format=gnu', '--use-compress-program=zstd', '-cf', '-', '-C', path.join(base, 'src'), '.'], {
    maxBuffer: 64 * 1024 * 1024
  }).stdout
  expected = { sha256: crypto.createHash('sha256').update(archive).digest('hex'), bytes: archive.length }
})

afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true })
})

const leftovers = async () => (await fs.readdir(base)).filter(name => name.includes('qdc-restore'))

test("a stream cut short before extraction started ends it with the reader's reason, at once", async () => {
  const stream = new PassThrough()
  stream.destroy()
  const t0 = Date.now()
  await expect(
    extractVerified(stream, Promise.reject(new Error('the download broke')), expected, 'tree', path.join(base, 'out'))
  ).rejects.toThrow('the download broke')
  expect(Date.now() - t0).toBeLessThan(5000)
  expect(await leftovers()).toEqual([])
})

test('a stream cut midway ends it too', async () => {
  const stream = new PassThrough()
  const hashed = new Promise<{ sha256: string; bytes: number }>((_, reject) => {
    stream.write(archive.subarray(0, archive.length / 2))
    setTimeout(() => {
      stream.destroy()
      reject(new Error('the connection was reset'))
    }, 50)
  })
  await expect(extractVerified(stream, hashed, expected, 'tree', path.join(base, 'out'))).rejects.toThrow('the connection was reset')
  expect(await leftovers()).toEqual([])
})

test("bytes that are not the manifest's are an ArchiveMismatch, even where tar would have extracted them", async () => {
  const stream = new PassThrough()
  stream.end(archive)
  const wrong = { ...expected, sha256: '0'.repeat(64) }
  const result = extractVerified(stream, Promise.resolve(expected), wrong, 'tree', path.join(base, 'out'))
  await expect(result).rejects.toBeInstanceOf(ArchiveMismatch)
  await expect(result).rejects.toThrow('does not match its SHA-256')
  expect(await leftovers()).toEqual([])
})

test('a whole archive extracts into staging, moved nowhere yet', async () => {
  const stream = new PassThrough()
  stream.end(archive)
  const staged = await extractVerified(stream, Promise.resolve(expected), expected, 'tree', path.join(base, 'out'))
  expect((await fs.stat(path.join(staged.restored, 'data.bin'))).size).toBe(3 * 1024 * 1024)
  await fs.rm(staged.staging, { recursive: true })
})
