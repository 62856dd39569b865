/**
 * The S3 fixture (support/s3-server.ts: a throwaway Ceph cluster with radosgw) against the real AWS SDK v3,
 * configured as the s3 backend will be: path-style, checksums only when required. Each test pins an S3
 * behaviour the backend relies on (paging, multipart, create-only writes, 403 versus 404, an endpoint that
 * goes away and comes back), so a failure here says the server or the SDK changed, not our code.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CEPH_TOOLS, type S3Keys, type S3Server, readOnlyPolicy, startS3Server } from './support/s3-server.js'
import { describeWithTools } from './support/tools.js'

const MiB = 1024 * 1024
const execFileAsync = promisify(execFile)
const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BUCKET = 'qdc-fixture'
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/** Where a stray Ceph would write: nothing may appear there while the fixture runs. */
const SYSTEM_DIRS = ['/var/log/ceph', '/var/lib/ceph', '/var/run/ceph', '/run/ceph', '/etc/ceph']
const listings = () => Object.fromEntries(SYSTEM_DIRS.map(dir => [dir, fs.existsSync(dir) ? fs.readdirSync(dir).sort() : null]))
const tmpCephEntries = () =>
  fs
    .readdirSync(os.tmpdir())
    .filter(name => /ceph|rados/i.test(name))
    .sort()

let server: S3Server
let s3: S3Client
let work: string
let systemBefore: ReturnType<typeof listings>
let tmpBefore: string[]
let startupMs: number

async function body(s3client: S3Client, key: string, range?: string, bucket = BUCKET): Promise<Buffer> {
  const got = await s3client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }))
  return Buffer.from(await got.Body!.transformToByteArray())
}

/** The error an SDK call rejects with, as S3 names it: code (NoSuchKey, AccessDenied…) and HTTP status. */
async function s3Error(call: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await call
  } catch (error) {
    if (!(error instanceof S3ServiceException)) throw error
    return { name: error.name, status: error.$metadata.httpStatusCode }
  }
  throw new Error('expected the call to fail')
}

describeWithTools(CEPH_TOOLS)('a real S3 server: Ceph radosgw on loopback', () => {
  beforeAll(async () => {
    systemBefore = listings()
    tmpBefore = tmpCephEntries()
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-s3-test-'))
    const t0 = Date.now()
    server = await startS3Server()
    startupMs = Date.now() - t0
    console.log(
      `S3 fixture up in ${startupMs} ms (mon ${server.startup.monMs} ms, OSD up ${server.startup.osdUpMs} ms, signed request answered ${server.startup.gatewayMs} ms)`
    )
    s3 = server.client()
    await server.createBucket(BUCKET)
  })

  afterAll(async () => {
    s3?.destroy()
    await server?.close()
    if (work) fs.rmSync(work, { recursive: true, force: true })
  })

  test('starts in seconds, on loopback, with every file under its temp dir', async () => {
    expect(startupMs).toBeLessThan(30_000)
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`)
    const pids = server.pids()
    for (const pid of [pids.mon, pids.osd, pids.radosgw!]) expect(() => process.kill(pid, 0)).not.toThrow()
    expect(cephChildren().sort()).toEqual([`${pids.mon} ceph-mon`, `${pids.osd} ceph-osd`, `${pids.radosgw} radosgw`].sort())
    // The daemons' files are where the config puts them, and none went to the system's Ceph directories.
    for (const file of [
      'ceph.conf',
      'run/ceph-client.rgw.a.asok',
      'run/ceph-mon.a.asok',
      'run/mon.a.pid',
      'log/mon.a.log',
      'log/osd.0.log',
      'log/client.rgw.a.log',
      'osd/ceph-0/type'
    ]) {
      expect(fs.existsSync(path.join(server.dir, file))).toBe(true)
    }
    expect(fs.readFileSync(path.join(server.dir, 'osd/ceph-0/type'), 'utf8').trim()).toBe('memstore')
    expect(listings()).toEqual(systemBefore)
    // Every daemon listens on 127.0.0.1 only (the mon, the OSD's msgr2 ports, the gateway's HTTP port).
    const listening = [pids.mon, pids.osd, pids.radosgw!].map(listeningAddresses)
    for (const addresses of listening) expect(addresses.length).toBeGreaterThan(0)
    expect(listening.flat().filter(address => !address.startsWith('127.0.0.1:'))).toEqual([])
    expect(listening[2]).toEqual([`127.0.0.1:${server.port}`])
  })

  test('PutObject and GetObject: 1 byte and 5 MiB, from a Buffer and from streams', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small/one-byte', Body: Buffer.from('x') }))
    expect((await body(s3, 'small/one-byte')).toString()).toBe('x')

    const data = randomBytes(5 * MiB + 7)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small/buffer', Body: data }))
    expect(sha256(await body(s3, 'small/buffer'))).toBe(sha256(data))

    // A file stream: the SDK takes the length from the file. Without WHEN_REQUIRED it would send an
    // aws-chunked body with a CRC32 trailer, which radosgw 16 answers with 411 MissingContentLength.
    const file = path.join(work, 'upload.bin')
    fs.writeFileSync(file, data)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small/file-stream', Body: fs.createReadStream(file) }))
    expect(sha256(await body(s3, 'small/file-stream'))).toBe(sha256(data))

    // Any other stream needs its length given.
    const chunks = Array.from({ length: 5 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB)).concat(data.subarray(5 * MiB))
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small/readable', Body: Readable.from(chunks), ContentLength: data.length }))
    expect(sha256(await body(s3, 'small/readable'))).toBe(sha256(data))

    // The trap the setting avoids: with the SDK's default (WHEN_SUPPORTED) a stream body goes up
    // aws-chunked with a CRC32 trailer and no Content-Length, which radosgw 16 refuses.
    const byDefault = server.client(undefined, { requestChecksumCalculation: 'WHEN_SUPPORTED' })
    try {
      const refused = await s3Error(
        byDefault.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small/default-checksums', Body: fs.createReadStream(file) }))
      )
      expect(refused).toEqual({ name: 'MissingContentLength', status: 411 })
    } finally {
      byDefault.destroy()
    }

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'small/buffer' }))
    expect(head.ContentLength).toBe(data.length)
    expect(head.ETag).toBe(`"${createHash('md5').update(data).digest('hex')}"`)
  })

  test('ranged GET: 206 with Content-Range, suffix ranges too', async () => {
    const data = randomBytes(64 * 1024)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ranged', Body: data }))
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', Range: 'bytes=1000-1999' }))
    expect(got.$metadata.httpStatusCode).toBe(206)
    expect(got.ContentRange).toBe(`bytes 1000-1999/${data.length}`)
    expect(got.ContentLength).toBe(1000)
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data.subarray(1000, 2000))).toBe(true)
    expect((await body(s3, 'ranged', 'bytes=-10')).equals(data.subarray(-10))).toBe(true)
  })

  test('ListObjectsV2 pages over more than 1000 keys: MaxKeys and continuation tokens', async () => {
    const keys = Array.from({ length: 1010 }, (_, i) => `many/key-${String(i).padStart(5, '0')}`)
    const pending = [...keys]
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let key = pending.shift(); key !== undefined; key = pending.shift()) {
          await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(key) }))
        }
      })
    )
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'many-not-this', Body: Buffer.from('-') }))

    const pages = async (maxKeys: number | undefined) => {
      const sizes: number[] = []
      const listed: string[] = []
      let token: string | undefined
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/', MaxKeys: maxKeys, ContinuationToken: token })
        )
        sizes.push(page.KeyCount ?? 0)
        listed.push(...(page.Contents ?? []).map(object => object.Key!))
        expect(page.IsTruncated).toBe(page.NextContinuationToken !== undefined)
        token = page.NextContinuationToken
      } while (token !== undefined)
      return { sizes, listed }
    }
    // The server's cap is 1000 per page, as on AWS: a lookup that does not follow the token misses keys.
    const byDefault = await pages(undefined)
    expect(byDefault.sizes).toEqual([1000, 10])
    expect(byDefault.listed).toEqual(keys)
    const small = await pages(300)
    expect(small.sizes).toEqual([300, 300, 300, 110])
    expect(small.listed).toEqual(keys)
  })

  test('lib-storage multipart: 68 MiB in parallel 8 MiB parts, then a ranged read across a part boundary', async () => {
    const partSize = 8 * MiB
    const data = randomBytes(68 * MiB + 123)
    const client = server.client()
    let inFlight = 0
    let mostInFlight = 0
    client.middlewareStack.add(
      (next, context) => async args => {
        if (context.commandName !== 'UploadPartCommand') return next(args)
        mostInFlight = Math.max(mostInFlight, ++inFlight)
        try {
          return await next(args)
        } finally {
          inFlight--
        }
      },
      { step: 'initialize', name: 'countParts' }
    )
    const chunks = Array.from({ length: Math.ceil(data.length / MiB) }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB))
    const t0 = Date.now()
    const upload = new Upload({
      client,
      params: { Bucket: BUCKET, Key: 'big/multipart', Body: Readable.from(chunks) },
      partSize,
      queueSize: 4
    })
    const done = await upload.done()
    const seconds = (Date.now() - t0) / 1000
    console.log(
      `68 MiB multipart upload: ${(68 / seconds).toFixed(0)} MiB/s, ${mostInFlight} parts in flight at most, done() ETag ${JSON.stringify(done.ETag)}`
    )
    client.destroy()
    expect(mostInFlight).toBeGreaterThan(1)

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/multipart' }))
    expect(head.ContentLength).toBe(data.length)
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-9"$/)
    // radosgw 16 completes a multipart upload with an empty <ETag/>: only HeadObject has the real one.
    expect(['', head.ETag]).toContain(done.ETag ?? '')

    const boundary = 3 * partSize
    const across = await body(s3, 'big/multipart', `bytes=${boundary - 100}-${boundary + 99}`)
    expect(across.equals(data.subarray(boundary - 100, boundary + 100))).toBe(true)
    expect(sha256(await body(s3, 'big/multipart'))).toBe(sha256(data))
  })

  test('an aborted multipart upload leaves no upload listed, by hand and when lib-storage fails', async () => {
    const key = 'big/aborted'
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    for (const PartNumber of [1, 2]) {
      await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber, Body: randomBytes(5 * MiB) }))
    }
    const listed = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'big/' }))).Uploads ?? []
    expect((await listed()).map(upload => [upload.Key, upload.UploadId])).toEqual([[key, UploadId]])
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId }))
    expect(await listed()).toEqual([])
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))).status).toBe(404)

    // A source that fails after two parts: lib-storage aborts the upload it created (leavePartsOnError false).
    const failing = Readable.from(
      (async function* () {
        for (let i = 0; i < 12; i++) yield randomBytes(MiB)
        throw new Error('the archive could not be read')
      })()
    )
    let created = false
    const client = server.client()
    client.middlewareStack.add(
      (next, context) => async args => {
        if (context.commandName === 'CreateMultipartUploadCommand') created = true
        return next(args)
      },
      { step: 'initialize', name: 'seeCreate' }
    )
    const upload = new Upload({ client, params: { Bucket: BUCKET, Key: 'big/failed', Body: failing }, partSize: 5 * MiB, queueSize: 2 })
    await expect(upload.done()).rejects.toThrow('the archive could not be read')
    client.destroy()
    expect(created).toBe(true)
    expect(await listed()).toEqual([])
  })

  test('PutObject with IfNoneMatch "*": 412 on an existing key, exactly one winner among 10 creators', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'create-only/existing', Body: Buffer.from('first') }))
    const refused = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'create-only/existing', Body: Buffer.from('second'), IfNoneMatch: '*' }))
    )
    expect(refused).toEqual({ name: 'PreconditionFailed', status: 412 })
    expect((await body(s3, 'create-only/existing')).toString()).toBe('first')

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'create-only/raced', Body: Buffer.from(`writer ${i}`), IfNoneMatch: '*' }))
      )
    )
    const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []))
    expect(winners).toHaveLength(1)
    for (const result of results) {
      if (result.status === 'rejected') expect((result.reason as S3ServiceException).$metadata.httpStatusCode).toBe(412)
    }
    expect((await body(s3, 'create-only/raced')).toString()).toBe(`writer ${winners[0]}`)
  })

  test('a read-only bucket policy for a second user; a third user with no grant gets 403, not 404', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/entry', Body: Buffer.from('entry') }))
    const reader: S3Keys = await server.createUser('reader')
    const stranger: S3Keys = await server.createUser('stranger')
    expect(reader.accessKeyId).not.toBe(server.accessKeyId)
    const asReader = server.client(reader)
    const asStranger = server.client(stranger)
    try {
      // Before the policy the reader is a stranger too: the policy is what grants the read.
      expect(await s3Error(asReader.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/entry' })))).toEqual({
        name: 'AccessDenied',
        status: 403
      })
      await server.setBucketPolicy(BUCKET, readOnlyPolicy(BUCKET, ['reader']))

      expect((await body(asReader, 'shared/entry')).toString()).toBe('entry')
      const page = await asReader.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'shared/' }))
      expect(page.Contents?.map(object => object.Key)).toEqual(['shared/entry'])
      expect(await s3Error(asReader.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared/new', Body: Buffer.from('no') })))).toEqual({
        name: 'AccessDenied',
        status: 403
      })
      expect(await s3Error(asReader.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'shared/new' })))).toEqual({
        name: 'AccessDenied',
        status: 403
      })
      // With ListBucket granted, a missing key is a real miss.
      expect(await s3Error(asReader.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/missing' })))).toEqual({
        name: 'NoSuchKey',
        status: 404
      })

      expect(await s3Error(asStranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/entry' })))).toEqual({
        name: 'AccessDenied',
        status: 403
      })
      expect(await s3Error(asStranger.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toEqual({ name: 'AccessDenied', status: 403 })
      // HeadObject has no body, so the SDK names its errors by status alone.
      expect((await s3Error(asStranger.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'shared/entry' })))).status).toBe(403)
      // The owner asking for a key that is not there: 404 NoSuchKey, which a backend may call a miss.
      expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'shared/missing' })))).toEqual({
        name: 'NoSuchKey',
        status: 404
      })
    } finally {
      asReader.destroy()
      asStranger.destroy()
    }
  })

  test('a bucket that does not exist: NoSuchBucket', async () => {
    const missing = 'qdc-no-such-bucket'
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: missing, Key: 'k' })))).toEqual({ name: 'NoSuchBucket', status: 404 })
    expect(await s3Error(s3.send(new ListObjectsV2Command({ Bucket: missing })))).toEqual({ name: 'NoSuchBucket', status: 404 })
    expect(await s3Error(s3.send(new PutObjectCommand({ Bucket: missing, Key: 'k', Body: Buffer.from('x') })))).toEqual({
      name: 'NoSuchBucket',
      status: 404
    })
    expect((await s3Error(s3.send(new HeadBucketCommand({ Bucket: missing })))).status).toBe(404)
  })

  test('stopGateway: calls fail fast with a connection error, a download in flight breaks; startGateway: back on the same port', async () => {
    const data = randomBytes(32 * MiB)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outage/object', Body: data }))
    const quick = server.client(undefined, {
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 5000, throwOnRequestTimeout: true }
    })
    try {
      // A download under way: read the first bytes, then the gateway goes.
      const got = await quick.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outage/object' }))
      const stream = got.Body as Readable
      const received: Buffer[] = []
      const broken = new Promise<Error | null>(resolve => {
        stream.once('error', resolve)
        stream.once('end', () => resolve(null))
      })
      await new Promise(resolve => stream.once('readable', resolve))
      received.push(stream.read() as Buffer)
      const stoppedAt = Date.now()
      await server.stopGateway()
      console.log(`stopGateway took ${Date.now() - stoppedAt} ms`)
      expect(server.pids().radosgw).toBeNull()
      stream.on('data', chunk => received.push(chunk as Buffer))
      const error = await broken
      expect(error).not.toBeNull()
      expect(Buffer.concat(received).length).toBeLessThan(data.length)

      // Under jest the SDK flattens Node's connection error (another realm's Error) into a plain
      // Error('AWS SDK error wrapper for Error: connect ECONNREFUSED …'), losing `code`, and does not
      // retry it (aws-sdk-js-v3 #4273); the message still names it.
      const t0 = Date.now()
      await expect(quick.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'outage/object' }))).rejects.toThrow(/ECONNREFUSED/)
      expect(Date.now() - t0).toBeLessThan(5000)
      // Outside jest, as the action runs: `code` is kept, and the SDK retried it maxAttempts times.
      const outside = await sdkOutsideJest(server, 'outage/object', 3)
      expect(outside).toMatchObject({ code: 'ECONNREFUSED', attempts: 3 })
      expect(outside.ms).toBeLessThan(5000)

      // Something else on the port: startGateway reports radosgw's failure at once, with its log.
      const squatter = net.createServer(socket => socket.destroy())
      await new Promise<void>(resolve => squatter.listen(server.port, '127.0.0.1', resolve))
      try {
        const t1 = Date.now()
        // radosgw either exits with EADDRINUSE or logs the failure and serves nothing: both are caught.
        await expect(server.startGateway()).rejects.toThrow(
          /radosgw (could not start its HTTP frontend: .*Address already in use|exited \(98, EADDRINUSE\))[\s\S]*--- client\.rgw\.a\.log/
        )
        expect(Date.now() - t1).toBeLessThan(20_000)
        expect(server.pids().radosgw).toBeNull()
      } finally {
        await new Promise(resolve => squatter.close(resolve))
      }

      const restartedAt = Date.now()
      await server.startGateway()
      console.log(`startGateway took ${Date.now() - restartedAt} ms`)
      expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`)
      // The same client, the same endpoint: the data outlived the gateway (it lives in the OSD).
      expect(sha256(await body(quick, 'outage/object'))).toBe(sha256(data))
      await quick.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outage/after', Body: Buffer.from('back') }))
      expect((await body(s3, 'outage/after')).toString()).toBe('back')
    } finally {
      quick.destroy()
    }
  })

  test('freezeGateway: a stalled endpoint, which only a socket (idle) timeout ends; thawGateway: it answers again', async () => {
    const data = randomBytes(32 * MiB)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'stall/object', Body: data }))
    // socketTimeout: no byte for that long aborts the request, headers or body alike.
    const idle = server.client(undefined, { maxAttempts: 1, requestHandler: { connectionTimeout: 1000, socketTimeout: 1500 } })
    try {
      const got = await idle.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'stall/object' }))
      const stream = got.Body as Readable
      const received: Buffer[] = []
      const ended = new Promise<Error | null>(resolve => {
        stream.once('error', resolve)
        stream.once('end', () => resolve(null))
      })
      await new Promise(resolve => stream.once('readable', resolve))
      received.push(stream.read() as Buffer)
      server.freezeGateway()
      const frozenAt = Date.now()
      stream.on('data', chunk => received.push(chunk as Buffer))
      const error = await ended
      expect(error?.message).toMatch(/timed out after 1500 ms of inactivity/)
      expect(Buffer.concat(received).length).toBeLessThan(data.length)
      expect(Date.now() - frozenAt).toBeLessThan(10_000)

      // A new request: the kernel completes the connect, and then nothing comes.
      const t0 = Date.now()
      await expect(idle.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'stall/object' }))).rejects.toThrow(
        /timed out after 1500 ms of inactivity/
      )
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1400)
      expect(Date.now() - t0).toBeLessThan(10_000)

      server.thawGateway()
      const head = await idle.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'stall/object' }))
      expect(head.ContentLength).toBe(data.length)
    } finally {
      idle.destroy()
    }
  })

  test('close() stops every daemon by pid and leaves nothing behind', async () => {
    const pids = server.pids()
    expect(pids.radosgw).not.toBeNull()
    const t0 = Date.now()
    await server.close()
    console.log(`close took ${Date.now() - t0} ms`)
    for (const pid of [pids.mon, pids.osd, pids.radosgw!]) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/)
    expect(cephChildren()).toEqual([])
    expect(fs.existsSync(server.dir)).toBe(false)
    expect(listings()).toEqual(systemBefore)
    expect(tmpCephEntries()).toEqual(tmpBefore)
    await expect(connect('127.0.0.1', server.port)).rejects.toThrow(/ECONNREFUSED/)
    await server.close() // idempotent: afterAll calls it again
  })

  test('a cluster that cannot come up within the bound: one clear error, and nothing left running', async () => {
    const before = cephChildren()
    const t0 = Date.now()
    const failure = await startS3Server({ timeoutMs: 300 }).then(
      () => null,
      (error: Error) => error.message
    )
    expect(failure).toMatch(/^the S3 fixture \(Ceph \S+\) did not start: /)
    expect(Date.now() - t0).toBeLessThan(15_000)
    const dir = /\(Ceph (\S+)\)/.exec(failure!)![1]
    expect(fs.existsSync(dir)).toBe(false)
    expect(cephChildren()).toEqual(before)
    expect(listings()).toEqual(systemBefore)
  })
})

/** A HeadObject from a plain Node process (no jest realm), against a stopped gateway: how it fails. */
async function sdkOutsideJest(
  s3server: S3Server,
  key: string,
  maxAttempts: number
): Promise<{ code?: string; attempts?: number; ms: number }> {
  const script = `
    import { S3Client, HeadObjectCommand } from '@aws-sdk/client-s3'
    const [endpoint, region, accessKeyId, secretAccessKey, bucket, key, maxAttempts] = process.argv.slice(1)
    const s3 = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey },
      maxAttempts: Number(maxAttempts), requestHandler: { connectionTimeout: 1000, requestTimeout: 5000, throwOnRequestTimeout: true } })
    const t0 = Date.now()
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      console.log(JSON.stringify({ ms: Date.now() - t0 }))
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, attempts: error.$metadata?.attempts, ms: Date.now() - t0 }))
    }
  `
  const args = [s3server.endpoint, s3server.region, s3server.accessKeyId, s3server.secretAccessKey, BUCKET, key, String(maxAttempts)]
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: actionDir })
  return JSON.parse(stdout) as { code?: string; attempts?: number; ms: number }
}

function connect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: 2000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('timeout', () => {
      socket.destroy()
      reject(new Error('timeout'))
    })
    socket.once('error', reject)
  })
}

/** Ceph daemons that are children of this process (the fixture's), as `pid command`. */
function cephChildren(): string[] {
  return fs
    .readdirSync('/proc')
    .filter(entry => /^\d+$/.test(entry))
    .flatMap(pid => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
        const command = /\((.*)\)/.exec(stat)![1]
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        return parent === process.pid && /ceph|rados|setpriv/.test(command) ? [`${pid} ${command}`] : []
      } catch {
        return []
      }
    })
}

/** The TCP addresses (`ip:port`) a process listens on, from its socket fds and /proc/net/tcp{,6}. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set(
    fs.readdirSync(`/proc/${pid}/fd`).flatMap(fd => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]].filter(inode => inode !== undefined)
      } catch {
        return []
      }
    })
  )
  const addresses: string[] = []
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/)
      if (state !== '0A' || !inodes.has(inode)) continue
      const [hexAddress, hexPort] = local.split(':')
      const ip =
        hexAddress.length === 8
          ? (hexAddress.match(/../g) ?? [])
              .reverse()
              .map(byte => parseInt(byte, 16))
              .join('.')
          : `[${hexAddress}]`
      addresses.push(`${ip}:${parseInt(hexPort, 16)}`)
    }
  }
  return addresses.sort()
}
