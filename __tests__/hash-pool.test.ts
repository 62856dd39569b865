import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { digestFile, StreamDigest } from '../src/util/hash-pool.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let dir: string

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-hash-'))
})

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const sha256 = (data: Uint8Array) => crypto.createHash('sha256').update(data).digest('hex')
const gitBlobId = (data: Uint8Array) => crypto.createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex')

test('a stream fed in pieces gives the sha256 and the git blob id of the whole', async () => {
  const data = crypto.randomBytes(9 * 1024 * 1024 + 17)
  const stream = new StreamDigest([{ algorithm: 'sha256' }, { algorithm: 'sha1', prefix: `blob ${data.length}\0` }])
  try {
    // A large chunk that owns its memory (moved), then slices of it (copied).
    const copy = Buffer.from(data)
    stream.update(copy.subarray(0, 1000))
    stream.update(Buffer.from(copy.subarray(1000, 5 * 1024 * 1024)))
    stream.update(copy.subarray(5 * 1024 * 1024))
    expect(await stream.digests()).toEqual([sha256(data), gitBlobId(data)])
  } finally {
    stream.close()
  }
})

test('a slice of Node’s shared buffer pool is copied, not moved: its neighbours stay intact', async () => {
  const small = Buffer.from('tiny') // pooled: byteOffset inside an 8 KiB shared ArrayBuffer
  const neighbour = Buffer.from('neighbour')
  expect(small.buffer).toBe(neighbour.buffer)
  const stream = new StreamDigest([{ algorithm: 'sha256' }])
  try {
    stream.update(small)
    expect(await stream.digests()).toEqual([sha256(Buffer.from('tiny'))])
    expect(neighbour.toString()).toBe('neighbour')
    expect(small.toString()).toBe('tiny')
  } finally {
    stream.close()
  }
})

test('reset starts over, and a stream can be digested again after a reset', async () => {
  const stream = new StreamDigest([{ algorithm: 'sha256' }])
  try {
    stream.update(Buffer.from('wrong bytes that a server sent before ignoring Range'))
    stream.reset()
    stream.update(Buffer.from('right'))
    expect(await stream.digests()).toEqual([sha256(Buffer.from('right'))])
    stream.reset()
    stream.update(Buffer.from('again'))
    expect(await stream.digests()).toEqual([sha256(Buffer.from('again'))])
  } finally {
    stream.close()
  }
})

test('a batch of chunks is moved in one message; slices in it are copied; the backlog drains to zero', async () => {
  const owned = [Buffer.from(crypto.randomBytes(300_000)), Buffer.from(crypto.randomBytes(200_000))]
  const copies = owned.map(b => Buffer.from(b))
  const header = Buffer.from(crypto.randomBytes(1000))
  const slice = header.subarray(10, 500)
  const expected = sha256(Buffer.concat([...copies, slice]))
  const stream = new StreamDigest([{ algorithm: 'sha256' }])
  try {
    stream.update([...owned, slice])
    expect(stream.backlog).toBe(500_000 + 490)
    // Moved: the caller's buffers are empty now. The slice was copied: its buffer is intact.
    expect(owned.map(b => b.length)).toEqual([0, 0])
    expect(header.length).toBe(1000)
    await stream.caughtUp(0)
    expect(stream.backlog).toBe(0)
    expect(await stream.digests()).toEqual([expected])
  } finally {
    stream.close()
  }
})

test('bytes read back from a file hash in order with bytes from memory', async () => {
  const data = crypto.randomBytes(9 * 1024 * 1024 + 5)
  const file = path.join(dir, 'partly-on-disk')
  fs.writeFileSync(file, data)
  const stream = new StreamDigest([{ algorithm: 'sha256' }])
  try {
    stream.update(Buffer.from(data.subarray(0, 1000)))
    stream.updateFromFile(file, 1000, 5 * 1024 * 1024)
    stream.update(Buffer.from(data.subarray(1000 + 5 * 1024 * 1024)))
    expect(await stream.digests()).toEqual([sha256(data)])
  } finally {
    stream.close()
  }
})

test('a read-back that fails is reported at the digest, and the worker goes on serving others', async () => {
  const broken = new StreamDigest([{ algorithm: 'sha256' }])
  const other = new StreamDigest([{ algorithm: 'sha256' }])
  try {
    broken.updateFromFile(path.join(dir, 'gone'), 0, 10)
    await expect(broken.digests()).rejects.toThrow(/ENOENT.*gone/)
    fs.writeFileSync(path.join(dir, 'short'), 'abc')
    broken.reset()
    broken.updateFromFile(path.join(dir, 'short'), 0, 10)
    await expect(broken.digests()).rejects.toThrow(/short ended at 3/)
    other.update(Buffer.from('fine'))
    expect(await other.digests()).toEqual([sha256(Buffer.from('fine'))])
  } finally {
    broken.close()
    other.close()
  }
})

test('digestFile hashes by path and by descriptor without moving the descriptor, and reports a short file', async () => {
  const data = crypto.randomBytes(6 * 1024 * 1024 + 3)
  const file = path.join(dir, 'blob')
  fs.writeFileSync(file, data)
  expect(await digestFile({ path: file }, data.length, [{ algorithm: 'sha256' }])).toEqual({
    digests: [sha256(data)],
    bytesRead: data.length
  })
  const fd = fs.openSync(file, 'r')
  try {
    const result = await digestFile({ fd }, 100, [{ algorithm: 'sha256' }])
    expect(result).toEqual({ digests: [sha256(data.subarray(0, 100))], bytesRead: 100 })
    const firstBytes = Buffer.alloc(4)
    fs.readSync(fd, firstBytes, 0, 4, null)
    expect(firstBytes).toEqual(data.subarray(0, 4))
  } finally {
    fs.closeSync(fd)
  }
  const short = await digestFile({ path: file }, data.length + 10, [{ algorithm: 'sha256' }])
  expect(short.bytesRead).toBe(data.length)
})

test('a file that cannot be read is an error naming it, not a hang', async () => {
  await expect(digestFile({ path: path.join(dir, 'absent') }, 10, [{ algorithm: 'sha256' }])).rejects.toThrow(/ENOENT.*absent/)
})

test('several files at once all get their own right digest', async () => {
  const files = Array.from({ length: 6 }, (_, i) => {
    const data = crypto.randomBytes(1024 * 1024 + i)
    const file = path.join(dir, `part${i}`)
    fs.writeFileSync(file, data)
    return { file, data }
  })
  const results = await Promise.all(files.map(({ file, data }) => digestFile({ path: file }, data.length, [{ algorithm: 'sha256' }])))
  expect(results.map(r => r.digests[0])).toEqual(files.map(({ data }) => sha256(data)))
})

test('idle workers do not keep a process alive once its streams are closed', () => {
  const script = `
    import { StreamDigest } from ${JSON.stringify(path.join(actionDir, 'src/util/hash-pool.ts'))}
    const stream = new StreamDigest([{ algorithm: 'sha256' }])
    stream.update(Buffer.from('x'))
    console.log((await stream.digests())[0])
    stream.close()
  `
  const node = path.join(actionDir, 'node_modules/node/bin/node')
  const child = spawnSync(fs.existsSync(node) ? node : process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000
  })
  expect(child.stderr).toBe('')
  expect(child.stdout.trim()).toBe(sha256(Buffer.from('x')))
  expect(child.status).toBe(0)
})
