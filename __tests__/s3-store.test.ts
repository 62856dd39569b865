/**
 * The s3 backend against a real S3 server (Ceph radosgw on loopback, support/s3-server.ts), in process:
 * round trips from 1 byte to more than 256 MiB (multipart up, parallel ranges down), lookup and pagination
 * over more than 1000 candidates, atomic publishing under concurrent saves from two processes (and on a
 * server that ignores If-None-Match), integrity (a corrupted and a truncated archive object), and the faults:
 * 403 on read, read-only credentials (a bucket policy), a missing bucket, the gateway stopped or stalled
 * mid-transfer, throttling and 5xx (through a proxy, which radosgw 16 cannot be made to produce).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client
} from '@aws-sdk/client-s3'
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ReadOnlyStoreError, type ArchiveSpec } from '../src/backends/backend.js'
import { identityOf, versionOf } from '../src/backends/entry-meta.js'
import { encodeKey } from '../src/backends/s3/layout.js'
import { S3Store, type S3StoreOptions } from '../src/backends/s3/store.js'
import type { S3Settings } from '../src/config/s3.js'
import { CEPH_TOOLS, readOnlyPolicy, type S3Keys, type S3Server, startS3Server } from './support/s3-server.js'
import { type S3Proxy, startS3Proxy } from './support/s3-proxy.js'
import { describeWithTools } from './support/tools.js'
import { exists, fixTimes, makeTree, snapshot } from './support/trees.js'

const MiB = 1024 * 1024
const HOUR = 3_600_000
const BUCKET = 'qdc-store'
const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

let server: S3Server
let admin: S3Client
let base: string
let admins: S3Keys
const stores: S3Store[] = []

function settings(overrides: Partial<S3Settings> = {}): S3Settings {
  return {
    bucket: BUCKET,
    prefix: 'qdc/',
    endpoint: server.endpoint,
    region: null,
    forcePathStyle: true,
    idleTimeoutMs: 5000,
    maxAgeMs: null,
    maxBytes: null,
    ...overrides
  }
}

/**
 * A store whose credentials come from the SDK's default chain, as the action's do: the environment holds
 * `keys` while the chain resolves them.
 */
async function storeAs(keys: S3Keys, overrides: Partial<S3Settings> = {}, options: S3StoreOptions = {}): Promise<S3Store> {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
  process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey
  try {
    const store = new S3Store(settings(overrides), options)
    await (await store.client()).config.credentials()
    stores.push(store)
    return store
  } finally {
    restoreEnv('AWS_ACCESS_KEY_ID', saved.id)
    restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret)
  }
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}

function spec(dirs: string[], kind = 'custom'): ArchiveSpec {
  return { parts: dirs.map(dir => ({ origin: 'spelled' as const, name: path.basename(dir), path: dir })), exclude: [], kind }
}

function versionOfSpec(dirs: string[]): string {
  return versionOf(identityOf(spec(dirs)))
}

async function listNames(prefix: string, client: S3Client = admin): Promise<string[]> {
  const names: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }))
    names.push(...(page.Contents ?? []).map(object => object.Key!))
    token = page.NextContinuationToken
  } while (token)
  return names
}

async function objectBytes(name: string): Promise<Buffer> {
  const got = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: name }))
  return Buffer.from(await got.Body!.transformToByteArray())
}

async function manifestOf(
  key: string,
  version: string
): Promise<{ saveId: string; parts: Array<{ file: string; bytes: number; sha256: string }> }> {
  return JSON.parse((await objectBytes(`qdc/manifests/${encodeKey(key)}/${version}`)).toString())
}

/** Counts the store's SDK calls by command, and the most of each in flight at once; `on` runs when one starts. */
async function watch(store: S3Store, on: (command: string, input: Record<string, unknown>) => void = () => undefined) {
  const calls: Record<string, number> = {}
  const mostInFlight: Record<string, number> = {}
  const inFlight: Record<string, number> = {}
  const client = await store.client()
  client.middlewareStack.add(
    (next, context) => async args => {
      const command = context.commandName ?? '?'
      calls[command] = (calls[command] ?? 0) + 1
      inFlight[command] = (inFlight[command] ?? 0) + 1
      mostInFlight[command] = Math.max(mostInFlight[command] ?? 0, inFlight[command])
      on(command, args.input as Record<string, unknown>)
      try {
        return await next(args)
      } finally {
        inFlight[command]--
      }
    },
    { step: 'initialize', name: `watch-${Math.random()}` }
  )
  return { calls, mostInFlight }
}

/** A directory of one file of `bytes` random (incompressible) bytes. */
async function randomDir(dir: string, bytes: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true })
  const handle = await fs.open(path.join(dir, 'payload.bin'), 'w')
  for (let written = 0; written < bytes; written += 16 * MiB) await handle.write(crypto.randomBytes(Math.min(16 * MiB, bytes - written)))
  await handle.close()
}

/** Compared as digests: jest's toEqual walks a Buffer byte by byte (minutes for a few MiB). */
async function sha256File(file: string): Promise<string> {
  return crypto
    .createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex')
}

async function stagingLeftovers(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter(name => name.includes('qdc-restore'))
}

describeWithTools(CEPH_TOOLS)('the s3 backend on a real radosgw', () => {
  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-s3-store-'))
    server = await startS3Server({ memoryBytes: 4 * 1024 ** 3 })
    admins = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }
    admin = server.client()
    await server.createBucket(BUCKET)
  })

  afterAll(async () => {
    for (const store of stores) await store.close()
    admin?.destroy()
    await server?.close()
    if (base) await fs.rm(base, { recursive: true, force: true })
  })

  describe('round trips', () => {
    test('a tree with subdirectories, symlinks, modes and mtimes, and a 1-byte file, restore as saved', async () => {
      const store = await storeAs(admins)
      const tree = path.join(base, 'rt/tree')
      const one = path.join(base, 'rt/one')
      await makeTree(tree)
      await fs.mkdir(one, { recursive: true })
      await fs.writeFile(path.join(one, 'b'), 'x')
      await fixTimes(one)
      const before = { tree: await snapshot(tree), one: await snapshot(one) }
      const saved = await store.save(spec([tree, one]), 'rt~r1-1')
      expect(saved.archiveBytes).toBeGreaterThan(0)
      expect(saved.transferMs).toBeGreaterThan(0)
      await fs.rm(path.join(base, 'rt'), { recursive: true })

      const restored = await store.restore(spec([tree, one]), 'rt', ['rt~r'])
      expect(restored).toMatchObject({ matchedKey: 'rt~r1-1', archiveBytes: saved.archiveBytes })
      expect({ tree: await snapshot(tree), one: await snapshot(one) }).toEqual(before)
      // The layout: one manifest, one archive per part, and the restore's use marker.
      const version = versionOfSpec([tree, one])
      expect((await listNames('qdc/')).sort()).toEqual(
        [
          `qdc/archives/rt!7Er1-1/${version}/${(await manifestOf('rt~r1-1', version)).parts[0].file}`,
          `qdc/archives/rt!7Er1-1/${version}/${(await manifestOf('rt~r1-1', version)).parts[1].file}`,
          `qdc/manifests/rt!7Er1-1/${version}`,
          `qdc/used/rt!7Er1-1/${version}`
        ].sort()
      )
    })

    test('more than 256 MiB: parallel multipart parts up, parallel ranged GETs down, verified', async () => {
      const store = await storeAs(admins)
      const watched = await watch(store)
      // What the signer was told about each part's payload: archives go up unsigned (our SHA-256 covers them).
      const payloadHashes = new Set<string>()
      ;(await store.client()).middlewareStack.add(
        (next, context) => async args => {
          if (context.commandName === 'UploadPartCommand')
            payloadHashes.add((args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'])
          return next(args)
        },
        { step: 'finalizeRequest', name: 'payloadHashes' }
      )
      const big = path.join(base, 'big/data')
      await randomDir(big, 300 * MiB)
      const digest = await sha256File(path.join(big, 'payload.bin'))
      const saved = await store.save(spec([big]), 'big~r1-1')
      expect(saved.archiveBytes).toBeGreaterThan(300 * MiB)
      expect(watched.calls.UploadPartCommand).toBeGreaterThanOrEqual(18)
      expect(watched.mostInFlight.UploadPartCommand).toBeGreaterThan(1)
      expect(watched.calls.PutObjectCommand).toBe(1) // the manifest only: the archive went up in parts
      expect([...payloadHashes]).toEqual(['UNSIGNED-PAYLOAD'])
      const version = versionOfSpec([big])
      const [part] = (await manifestOf('big~r1-1', version)).parts
      const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `qdc/archives/big!7Er1-1/${version}/${part.file}` }))
      expect(head.ETag).toMatch(/-\d+"$/)
      expect(head.ContentLength).toBe(part.bytes)
      await fs.rm(big, { recursive: true })

      const restored = await store.restore(spec([big]), 'big', ['big~r'])
      expect(restored.matchedKey).toBe('big~r1-1')
      console.log(
        `300 MiB: saved in ${Math.round(saved.transferMs!)} ms, restored in ${Math.round((restored as { transferMs: number }).transferMs)} ms`
      )
      expect(watched.calls.GetObjectCommand).toBeGreaterThanOrEqual(Math.ceil(part.bytes / (16 * MiB)))
      expect(watched.mostInFlight.GetObjectCommand).toBeGreaterThan(1)
      expect(await sha256File(path.join(big, 'payload.bin'))).toBe(digest)
      await fs.rm(big, { recursive: true })
    })
  })

  describe('lookup', () => {
    test('the exact key first, then per restore key the newest entry it prefixes; same version only', async () => {
      const store = await storeAs(admins)
      const dir = path.join(base, 'lookup/d')
      await makeTree(dir, 'old')
      await store.save(spec([dir]), 'lk-a~r1-1')
      await fs.rm(dir, { recursive: true })
      await makeTree(dir, 'new')
      await store.save(spec([dir]), 'lk-b~r2-1')
      // The same keys under another identity (another set of parts): never restored by this spec.
      const other = path.join(base, 'lookup/other')
      await makeTree(other, 'other')
      await store.save(spec([dir, other]), 'lk-c~r3-1')

      await fs.rm(dir, { recursive: true })
      expect(await store.restore(spec([dir]), 'lk-a~r1-1', ['lk-'])).toMatchObject({ matchedKey: 'lk-a~r1-1' })
      expect(await fs.readFile(path.join(dir, 'top.txt'), 'utf8')).toBe('top old\n')
      expect(await store.restore(spec([dir]), 'lk-z', ['lk-a', 'lk-'])).toMatchObject({ matchedKey: 'lk-a~r1-1' })
      expect(await store.restore(spec([dir]), 'lk-z', ['lk-'])).toMatchObject({ matchedKey: 'lk-b~r2-1' })
      expect(await fs.readFile(path.join(dir, 'top.txt'), 'utf8')).toBe('top new\n')
      expect(await store.restore(spec([dir]), 'lk-z', ['nothing-'])).toEqual({ matchedKey: null, otherIdentity: null })
      // A miss on a key the bucket holds under another identity says what differs.
      expect(await store.restore(spec([dir]), 'lk-c', ['lk-c~r'])).toEqual({
        matchedKey: null,
        otherIdentity: "The store holds lk-c~r3-1 under another identity, so it does not match: its paths differ: it also holds 'other'."
      })
    })

    test('restore keys with more than 1000 candidates: the listing is followed page after page', async () => {
      const store = await storeAs(admins)
      const watched = await watch(store)
      const dir = path.join(base, 'pages/d')
      await makeTree(dir, 'target')
      const version = versionOfSpec([dir])
      await store.save(spec([dir]), 'template')
      const template = await manifestOf('template', version)
      // 1004 older candidates, sorted before the newest one: a lookup that stops at the first page picks one of them.
      const keys = Array.from({ length: 1004 }, (_, i) => `page-${String(i).padStart(4, '0')}`)
      const pending = [...keys]
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let key = pending.shift(); key !== undefined; key = pending.shift()) {
            const meta = { ...template, key, saveId: crypto.randomBytes(8).toString('hex') }
            await admin.send(
              new PutObjectCommand({ Bucket: BUCKET, Key: `qdc/manifests/${encodeKey(key)}/${version}`, Body: JSON.stringify(meta) })
            )
          }
        })
      )
      await new Promise(resolve => setTimeout(resolve, 20))
      await store.save(spec([dir]), 'page-9999')
      await fs.rm(dir, { recursive: true })
      const lists = watched.calls.ListObjectsV2Command ?? 0

      expect(await store.restore(spec([dir]), 'page-none', ['page-'])).toMatchObject({ matchedKey: 'page-9999' })
      expect(await fs.readFile(path.join(dir, 'top.txt'), 'utf8')).toBe('top target\n')
      expect(watched.calls.ListObjectsV2Command - lists).toBe(2)
    })
  })

  describe('integrity', () => {
    async function savedEntry(key: string) {
      const store = await storeAs(admins)
      const dir = path.join(base, `integrity/${key}`)
      await makeTree(dir, key, 400_000)
      await store.save(spec([dir]), key)
      await fs.rm(dir, { recursive: true })
      const version = versionOfSpec([dir])
      const archive = `qdc/archives/${key}/${version}/${(await manifestOf(key, version)).parts[0].file}`
      return { store, dir, archive }
    }

    test('a corrupted archive object is a miss with a warning, and nothing is extracted', async () => {
      const { store, dir, archive } = await savedEntry('corrupted')
      const bytes = await objectBytes(archive)
      bytes[Math.floor(bytes.length / 2)] ^= 0xff
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: archive, Body: bytes }))

      await expect(store.restore(spec([dir]), 'corrupted', [])).rejects.toThrow(
        's3 cache entry "corrupted" is corrupt: archive for corrupted does not match its SHA-256'
      )
      expect(await exists(dir)).toBe(false)
      expect(await stagingLeftovers(path.dirname(dir))).toEqual([])
    })

    test('a truncated archive object is a miss with a warning, and nothing is extracted', async () => {
      const { store, dir, archive } = await savedEntry('truncated')
      const bytes = await objectBytes(archive)
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: archive, Body: bytes.subarray(0, bytes.length - 1000) }))

      await expect(store.restore(spec([dir]), 'truncated', [])).rejects.toThrow(
        `s3 cache entry "truncated" is corrupt: archive for truncated is ${bytes.length - 1000} bytes, ${bytes.length} were written`
      )
      expect(await exists(dir)).toBe(false)
      expect(await stagingLeftovers(path.dirname(dir))).toEqual([])
    })

    test('verifyEntries finds the corrupt entries and removeCorrupt deletes them', async () => {
      const store = await storeAs(admins)
      const checks = await store.verifyEntries(entry => ['corrupted', 'truncated', 'rt~r1-1'].includes(entry.key))
      expect(Object.fromEntries(checks.map(check => [check.key, check.problem]))).toEqual({
        corrupted: 'archive for corrupted does not match its SHA-256',
        truncated: expect.stringMatching(/^archive for truncated is \d+ bytes, \d+ were written$/),
        'rt~r1-1': null
      })
      for (const check of checks.filter(c => c.problem !== null)) await store.removeCorrupt(check)
      expect(await listNames('qdc/manifests/corrupted/')).toEqual([])
      expect(await listNames('qdc/archives/truncated/')).toEqual([])
    })
  })

  describe('concurrent saves of one key', () => {
    /** A save from its own process, started when the test says go, so that both find no entry and race. */
    function saveInChild(dir: string, key: string) {
      const script = `
        await import('./scripts/load-ts.ts')
        const { S3Store } = await import('./src/backends/s3/store.ts')
        const [settings, dir, key] = process.argv.slice(1)
        const log = []
        const store = new S3Store(JSON.parse(settings), { log: line => log.push(line) })
        await (await store.client()).config.credentials()
        console.log('ready')
        await new Promise(resolve => process.stdin.once('data', resolve))
        const spec = { parts: [{ origin: 'spelled', name: 'race', path: dir }], exclude: [], kind: 'custom' }
        const result = await store.save(spec, key)
        console.log(JSON.stringify({ result, log }))
        await store.close()
        process.exit(0)
      `
      const env = { ...process.env, AWS_ACCESS_KEY_ID: admins.accessKeyId, AWS_SECRET_ACCESS_KEY: admins.secretAccessKey }
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(settings()), dir, key], {
        cwd: actionDir,
        env,
        stdio: ['pipe', 'pipe', 'pipe']
      })
      let out = ''
      let err = ''
      child.stdout.on('data', chunk => (out += chunk))
      child.stderr.on('data', chunk => (err += chunk))
      const ready = new Promise<void>(resolve => child.stdout.on('data', () => out.includes('ready') && resolve()))
      const done = new Promise<{ code: number | null; out: string; err: string }>(resolve =>
        child.on('close', code => resolve({ code, out, err }))
      )
      return { ready, go: () => child.stdin.write('go\n'), done }
    }

    test('two processes saving one key at once: both succeed, one consistent entry stands, the loser leaves nothing', async () => {
      const dirs = ['a', 'b'].map(name => path.join(base, `race-${name}`, 'race'))
      for (const [i, dir] of dirs.entries()) {
        await fs.mkdir(dir, { recursive: true })
        await fs.writeFile(path.join(dir, 'who'), `writer ${i}\n`)
        await fs.writeFile(path.join(dir, 'payload'), crypto.randomBytes(24 * MiB))
      }
      const children = dirs.map(dir => saveInChild(dir, 'raced~r7-1'))
      await Promise.all(children.map(child => child.ready))
      for (const child of children) child.go()
      const results = await Promise.all(children.map(child => child.done))
      for (const result of results) expect([result.code, result.err]).toEqual([0, ''])
      const outcomes = results.map(result => JSON.parse(result.out.split('\n').find(line => line.startsWith('{'))!))
      // Both raced to the manifest (neither found the other's entry first), and one of them lost.
      expect(outcomes.map(o => o.log.some((line: string) => line.includes('in the store already')))).toEqual([false, false])
      expect(outcomes.filter(o => o.log.some((line: string) => line.includes('published raced~r7-1 at the same time')))).toHaveLength(1)

      const version = versionOf(identityOf({ parts: [{ origin: 'spelled', name: 'race', path: dirs[0] }], exclude: [] }))
      const manifest = await manifestOf('raced~r7-1', version)
      expect(await listNames(`qdc/archives/raced!7Er7-1/${version}/`)).toEqual([
        `qdc/archives/raced!7Er7-1/${version}/${manifest.parts[0].file}`
      ])
      const store = await storeAs(admins)
      const target = path.join(base, 'race-restored', 'race')
      const restoreSpec = { parts: [{ origin: 'spelled' as const, name: 'race', path: target }], exclude: [] }
      expect(await store.restore(restoreSpec, 'raced~r7-1', [])).toMatchObject({ matchedKey: 'raced~r7-1' })
      const who = await fs.readFile(path.join(target, 'who'), 'utf8')
      const winner = Number(/writer (\d)/.exec(who)![1])
      expect(await sha256File(path.join(target, 'payload'))).toBe(await sha256File(path.join(dirs[winner], 'payload')))
    })

    test('on a server that ignores If-None-Match the manifest read back still leaves one consistent entry', async () => {
      // The condition never reaches the server: it behaves exactly like one that ignores it.
      const ignoring = async () => {
        const store = await storeAs(admins)
        ;(await store.client()).middlewareStack.add(
          next => async args => {
            delete (args.input as { IfNoneMatch?: string }).IfNoneMatch
            return next(args)
          },
          { step: 'initialize', name: 'ignoreIfNoneMatch' }
        )
        return store
      }
      const [one, two] = [await ignoring(), await ignoring()]
      const dirs = ['x', 'y'].map(name => path.join(base, `ignore-${name}`, 'ignored'))
      for (const [i, dir] of dirs.entries()) {
        await fs.mkdir(dir, { recursive: true })
        await fs.writeFile(path.join(dir, 'who'), `writer ${i}\n`)
        await fs.writeFile(path.join(dir, 'payload'), crypto.randomBytes(8 * MiB))
      }
      const saves = await Promise.all([one.save(spec([dirs[0]]), 'ignored~r1-1'), two.save(spec([dirs[1]]), 'ignored~r1-1')])
      expect(saves.every(save => (save.archiveBytes ?? 0) > 0)).toBe(true)
      const target = path.join(base, 'ignore-restored', 'ignored')
      expect(await one.restore(spec([target]), 'ignored~r1-1', [])).toMatchObject({ matchedKey: 'ignored~r1-1' })
      const winner = Number(/writer (\d)/.exec(await fs.readFile(path.join(target, 'who'), 'utf8'))![1])
      expect(await sha256File(path.join(target, 'payload'))).toBe(await sha256File(path.join(dirs[winner], 'payload')))
    })

    test('a key saved already is left as it is: entries are never replaced', async () => {
      const logs: string[] = []
      const store = await storeAs(admins, {}, { log: line => logs.push(line) })
      const dir = path.join(base, 'rt-again/tree')
      await makeTree(dir)
      const watched = await watch(store)
      await store.save(spec([dir]), 'twice~r1-1')
      const before = await listNames('qdc/archives/twice!7Er1-1/')
      expect(await store.save(spec([dir]), 'twice~r1-1')).toEqual({ archiveBytes: 0 })
      expect(await listNames('qdc/archives/twice!7Er1-1/')).toEqual(before)
      expect(logs).toContain('twice~r1-1 is in the store already (another job saved it); entries are never replaced.')
      expect(watched.calls.UploadPartCommand ?? 0).toBe(0)
    })
  })

  describe('credentials and buckets', () => {
    let reader: S3Keys
    let stranger: S3Keys

    beforeAll(async () => {
      reader = await server.createUser('reader')
      stranger = await server.createUser('stranger')
      await server.setBucketPolicy(BUCKET, readOnlyPolicy(BUCKET, ['reader']))
    })

    test('read-only credentials (a bucket policy): restore works; save is one read-only refusal, not "not found"', async () => {
      const logs: string[] = []
      const store = await storeAs(reader, {}, { log: line => logs.push(line) })
      const dir = path.join(base, 'reader/tree')
      expect(await store.restore(spec([path.join(base, 'rt/tree'), path.join(base, 'rt/one')]), 'rt', ['rt~r'])).toMatchObject({
        matchedKey: 'rt~r1-1'
      })
      expect(logs.filter(line => line.startsWith('Could not record the use of rt~r1-1: access denied (403'))).toHaveLength(1)

      await makeTree(dir)
      const before = await listNames('qdc/')
      const first = await store.save(spec([dir]), 'reader~r1-1').catch((error: unknown) => error)
      expect(first).toBeInstanceOf(ReadOnlyStoreError)
      expect((first as ReadOnlyStoreError).message).toMatch(
        /^read-only credentials: s3:\/\/qdc-store\/qdc\/ at http:\S+ refuses writes from them \(access denied \(403 AccessDenied\)\); restores still work, nothing is saved$/
      )
      expect((first as ReadOnlyStoreError).firstInJob).toBe(true)
      const second = await store.save(spec([dir]), 'reader~r2-1').catch((error: unknown) => error)
      expect([second instanceof ReadOnlyStoreError, (second as ReadOnlyStoreError).firstInJob]).toEqual([true, false])
      expect(await listNames('qdc/')).toEqual(before)
      expect(await listMultipartUploads()).toEqual([])
    })

    test('a 403 on read is access denied, not a miss', async () => {
      const store = await storeAs(stranger)
      await expect(store.restore(spec([path.join(base, 'rt/tree')]), 'rt', ['rt~r'])).rejects.toThrow(
        /^s3:\/\/qdc-store\/qdc\/ at \S+: reading the manifest of rt: access denied \(403 AccessDenied\)$/
      )
    })

    test('a bucket that does not exist: restore and save fail saying so', async () => {
      const store = await storeAs(admins, { bucket: 'qdc-no-such-bucket' })
      const dir = path.join(base, 'rt/tree')
      await expect(store.restore(spec([dir]), 'rt', ['rt~r'])).rejects.toThrow(/the bucket does not exist \(404 NoSuchBucket\)/)
      await expect(store.save(spec([dir]), 'rt~r9-1')).rejects.toThrow(/the bucket does not exist \(404 NoSuchBucket\)/)
    })

    test('no credentials anywhere in the chain: one line that says where it looked', async () => {
      const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, home: process.env.HOME }
      delete process.env.AWS_ACCESS_KEY_ID
      delete process.env.AWS_SECRET_ACCESS_KEY
      process.env.HOME = base
      process.env.AWS_EC2_METADATA_DISABLED = 'true'
      try {
        const store = new S3Store(settings())
        stores.push(store)
        await expect(store.restore(spec([path.join(base, 'rt/tree')]), 'rt', [])).rejects.toThrow(
          /resolving the AWS credentials: no AWS credentials: the SDK found none in AWS_ACCESS_KEY_ID/
        )
      } finally {
        restoreEnv('AWS_ACCESS_KEY_ID', saved.id)
        restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret)
        restoreEnv('HOME', saved.home)
        delete process.env.AWS_EC2_METADATA_DISABLED
      }
    })
  })

  describe('the gateway going away', () => {
    async function bigEntry(key: string, bytes = 64 * MiB) {
      const store = await storeAs(admins)
      const dir = path.join(base, `outage/${key}`)
      await randomDir(dir, bytes)
      await store.save(spec([dir]), key)
      await fs.rm(dir, { recursive: true })
      return dir
    }

    test('radosgw stopped mid-restore: the restore fails fast, nothing is extracted', async () => {
      const dir = await bigEntry('stopped-restore')
      let stopping: Promise<void> | undefined
      const store = await storeAs(admins)
      await watch(store, command => {
        if (command === 'GetObjectCommand' && !stopping)
          stopping = new Promise(resolve => setTimeout(resolve, 50)).then(() => server.stopGateway())
      })
      try {
        const t0 = Date.now()
        await expect(store.restore(spec([dir]), 'stopped-restore', [])).rejects.toThrow(
          /cannot reach the server|ECONNREFUSED|ECONNRESET|socket hang up|ended after/
        )
        expect(Date.now() - t0).toBeLessThan(20_000)
        expect(await exists(dir)).toBe(false)
        expect(await stagingLeftovers(path.dirname(dir))).toEqual([])
      } finally {
        await stopping
        await server.startGateway()
      }
    })

    test('radosgw stopped mid-save: no entry appears; the prune after it removes the archives and aborts the upload', async () => {
      const dir = path.join(base, 'outage/stopped-save')
      await randomDir(dir, 96 * MiB)
      let stopping: Promise<void> | undefined
      const store = await storeAs(admins)
      await watch(store, command => {
        if (command === 'UploadPartCommand' && !stopping) stopping = server.stopGateway()
      })
      try {
        await expect(store.save(spec([dir]), 'stopped-save~r1-1')).rejects.toThrow(
          /cannot reach the server|ECONNREFUSED|ECONNRESET|socket hang up/
        )
      } finally {
        await stopping
        await server.startGateway()
      }
      const version = versionOfSpec([dir])
      expect(await listNames(`qdc/manifests/stopped-save!7Er1-1/`)).toEqual([])
      const fresh = await storeAs(admins)
      expect(await fresh.restore(spec([dir]), 'stopped-save', ['stopped-save~r'])).toEqual({ matchedKey: null, otherIdentity: null })

      // The gateway was gone when lib-storage tried to abort its upload: that is what the sweep is for.
      expect(await listMultipartUploads()).toEqual([expect.stringMatching(/^qdc\/archives\/stopped-save!7Er1-1\//)])
      const soon = await storeAs(admins, {}, { clock: () => Date.now() + 2 * HOUR })
      await soon.prune({})
      expect(await listMultipartUploads()).toHaveLength(1)
      // A day later the upload lifecycle gives up on it: the sweep aborts the multipart upload left behind.
      const later = await storeAs(admins, {}, { clock: () => Date.now() + 25 * HOUR })
      const pruned = await later.prune({})
      expect(pruned.entries).toEqual([])
      expect(await listMultipartUploads()).toEqual([])
      expect(await listNames(`qdc/archives/stopped-save!7Er1-1/${version}/`)).toEqual([])
    })

    test('a stall mid-restore (no bytes for s3-idle-timeout): aborted, retried, then a miss within about twice the timeout; later calls fail at once', async () => {
      const dir = await bigEntry('stalled-restore')
      const store = await storeAs(admins, { idleTimeoutMs: 1500 })
      let frozen = false
      await watch(store, command => {
        if (command === 'GetObjectCommand' && !frozen) {
          frozen = true
          setTimeout(() => server.freezeGateway(), 30)
        }
      })
      try {
        const t0 = Date.now()
        await expect(store.restore(spec([dir]), 'stalled-restore', [])).rejects.toThrow(
          'the endpoint stalled: no byte for 1.5 s (s3-idle-timeout), twice; not trying it again in this step'
        )
        const ms = Date.now() - t0
        console.log(`stalled restore ended after ${ms} ms`)
        expect(ms).toBeGreaterThanOrEqual(2 * 1500)
        expect(ms).toBeLessThan(12_000)
        expect(await exists(dir)).toBe(false)
        const t1 = Date.now()
        await expect(store.restore(spec([dir]), 'stalled-restore', [])).rejects.toThrow('the endpoint stalled')
        expect(Date.now() - t1).toBeLessThan(500)
      } finally {
        server.thawGateway()
      }
    })

    test('a stall mid-save: the upload is given up within about twice the timeout, and no entry appears', async () => {
      const dir = path.join(base, 'outage/stalled-save')
      await randomDir(dir, 64 * MiB)
      const store = await storeAs(admins, { idleTimeoutMs: 1500 })
      let frozen = false
      await watch(store, command => {
        if (command === 'UploadPartCommand' && !frozen) {
          frozen = true
          server.freezeGateway()
        }
      })
      try {
        const t0 = Date.now()
        await expect(store.save(spec([dir]), 'stalled-save~r1-1')).rejects.toThrow(
          'the endpoint stalled: no byte for 1.5 s (s3-idle-timeout), twice'
        )
        const ms = Date.now() - t0
        console.log(`stalled save ended after ${ms} ms`)
        // Each of the two attempts is idle only once the socket buffers are full (several MiB on loopback),
        // which takes about one timeout more: ~6 s here.
        expect(ms).toBeGreaterThanOrEqual(2 * 1500)
        expect(ms).toBeLessThan(15_000)
      } finally {
        server.thawGateway()
      }
      expect(await listNames('qdc/manifests/stalled-save!7Er1-1/')).toEqual([])
    })

    test('a stall that clears within the retry: the restore completes', async () => {
      const dir = await bigEntry('stall-clears', 32 * MiB)
      const store = await storeAs(admins, { idleTimeoutMs: 1500 })
      let frozen = false
      await watch(store, command => {
        if (command === 'GetObjectCommand' && !frozen) {
          frozen = true
          setTimeout(() => server.freezeGateway(), 30)
          setTimeout(() => server.thawGateway(), 2100)
        }
      })
      const t0 = Date.now()
      expect(await store.restore(spec([dir]), 'stall-clears', [])).toMatchObject({ matchedKey: 'stall-clears' })
      expect(Date.now() - t0).toBeGreaterThan(1500)
      expect((await fs.stat(path.join(dir, 'payload.bin'))).size).toBe(32 * MiB)
    })
  })

  describe('throttling and server errors (through a proxy)', () => {
    let proxy: S3Proxy | undefined

    afterAll(async () => {
      await proxy?.close()
    })

    test('503 SlowDown on every other request: the SDK backs off and save and restore both complete', async () => {
      proxy = await startS3Proxy(server.endpoint, (_, n) =>
        n % 2 === 0 ? { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } : null
      )
      const store = await storeAs(admins, { endpoint: proxy.endpoint })
      const dir = path.join(base, 'throttled/tree')
      await randomDir(dir, 40 * MiB)
      const saved = await store.save(spec([dir]), 'throttled~r1-1')
      await fs.rm(dir, { recursive: true })
      expect(await store.restore(spec([dir]), 'throttled', ['throttled~r'])).toMatchObject({
        matchedKey: 'throttled~r1-1',
        archiveBytes: saved.archiveBytes
      })
      expect(proxy.injected).toBeGreaterThan(3)
      await proxy.close()
      proxy = undefined
    })

    test('a server that keeps answering 500: a warning-worthy error within seconds, not a hang', async () => {
      proxy = await startS3Proxy(server.endpoint, () => ({
        status: 500,
        code: 'InternalError',
        message: 'We encountered an internal error.'
      }))
      const store = await storeAs(admins, { endpoint: proxy.endpoint })
      const t0 = Date.now()
      await expect(store.restore(spec([path.join(base, 'rt/tree')]), 'rt', ['rt~r'])).rejects.toThrow(
        /reading the manifest of rt: server error \(500 InternalError\): We encountered an internal error\./
      )
      expect(Date.now() - t0).toBeLessThan(15_000)
      expect(proxy.injected).toBe(5)
    })

    test('503 SlowDown that never ends: throttled, said as such', async () => {
      await proxy?.close()
      proxy = await startS3Proxy(server.endpoint, () => ({ status: 503, code: 'SlowDown' }))
      const store = await storeAs(admins, { endpoint: proxy.endpoint })
      await expect(store.restore(spec([path.join(base, 'rt/tree')]), 'rt', ['rt~r'])).rejects.toThrow(
        /the server kept throttling requests after backing off \(503 SlowDown\)/
      )
    })
  })

  describe('management', () => {
    test('prune by age and by size: unused longest first, a restore counts as a use; leftovers of crashed saves go too', async () => {
      const prefix = 'managed/'
      const store = await storeAs(admins, { prefix })
      const dirs = ['one', 'two', 'three'].map(name => path.join(base, 'managed', name))
      for (const [i, dir] of dirs.entries()) {
        await randomDir(dir, (i + 1) * MiB)
        await store.save(spec([dir]), `m${i}~r1-1`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      // m0 is the oldest save but restored since: a use.
      await store.restore(spec([dirs[0]]), `m0`, ['m0~r'])
      // A crashed save's archive (no manifest), two hours old by the store's clock.
      await admin.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `${prefix}archives/crashed/${versionOfSpec([dirs[0]])}/0123456789abcdef-0.tar.zst`,
          Body: 'partial'
        })
      )

      const later = await storeAs(admins, { prefix }, { clock: () => Date.now() + 2 * HOUR })
      const dry = await later.prune({ maxBytes: 2.5 * MiB, dryRun: true })
      expect(dry.entries.map(entry => entry.key)).toEqual(['m1~r1-1', 'm2~r1-1'])
      expect(dry.orphans).toEqual([`${prefix}archives/crashed/${versionOfSpec([dirs[0]])}/0123456789abcdef-0.tar.zst`])
      expect((await later.listEntries()).map(entry => entry.key)).toEqual(['m0~r1-1', 'm2~r1-1', 'm1~r1-1'])

      const pruned = await later.prune({ maxAgeMs: HOUR })
      expect(pruned.entries).toHaveLength(3)
      expect(await listNames(prefix)).toEqual([])
    })

    test('documents: one object per key beside the entries, replaced whole, never listed as entries, gone with the age rule', async () => {
      const prefix = 'documents/'
      const store = await storeAs(admins, { prefix })
      const key = `qdc-history-v1-workflow-job-${'b'.repeat(1200)}`
      expect(await store.documents.read(key)).toBeNull()
      await store.documents.write(key, { runs: [1] })
      await store.documents.write(key, { runs: [1, 2] })
      expect(await store.documents.read(key)).toEqual({ runs: [1, 2] })
      expect(await listNames(prefix)).toEqual([expect.stringMatching(/^documents\/documents\/[0-9a-f]{64}\.json$/)])
      expect(await store.listEntries()).toEqual([])

      const later = await storeAs(admins, { prefix }, { clock: () => Date.now() + 2 * HOUR })
      expect((await later.prune({ maxAgeMs: 3 * HOUR })).orphans).toEqual([])
      expect((await later.prune({ maxAgeMs: HOUR })).orphans).toEqual([expect.stringMatching(/^documents\/documents\//)])
      expect(await listNames(prefix)).toEqual([])
    })

    test('removeEntries deletes what it is asked to, manifest first', async () => {
      const prefix = 'clear/'
      const store = await storeAs(admins, { prefix })
      const dir = path.join(base, 'clear/d')
      await makeTree(dir)
      await store.save(spec([dir], 'pip'), 'keep~r1-1')
      await store.save(spec([dir], 'custom'), 'drop~r1-1')
      expect((await store.removeEntries(entry => entry.kind === 'custom')).map(entry => entry.key)).toEqual(['drop~r1-1'])
      expect((await store.listEntries()).map(entry => [entry.key, entry.kind])).toEqual([['keep~r1-1', 'pip']])
      expect((await listNames(prefix)).filter(name => name.includes('drop'))).toEqual([])
    })
  })
})

async function listMultipartUploads(): Promise<string[]> {
  const page = await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))
  return (page.Uploads ?? []).map(upload => upload.Key!)
}
