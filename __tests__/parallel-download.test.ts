/**
 * Parallel ranged downloads and idle timeouts, over real HTTP on 127.0.0.1 into real files: the
 * generic range server (support/range-server.ts) for the transport, the mini Hub for what only the
 * Hub does (its token, its CDN on another origin, signed URLs that expire). Every request and byte
 * is counted by the fixtures, not by the downloader.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { downloadRepo } from '../src/fetch/huggingface/download.js'
import { getJson } from '../src/fetch/http.js'
import type { RetryPolicy } from '../src/fetch/retry.js'
import { downloadVerified, type VerifiedDownloadOptions } from '../src/fetch/verified-download.js'
import { type Hub, startHub } from './support/hub.js'
import { type RangeRequest, type RangeServer, startRangeServer } from './support/range-server.js'

const KiB = 1024
const MiB = 1024 * KiB
const RANGE = 256 * KiB
const content = randomBytes(3 * MiB + 12_345)
const sha256 = createHash('sha256').update(content).digest('hex')
/** The ranges a 4-connection download of `content` asks for, in file order. */
const ranges = Array.from(
  { length: Math.ceil(content.length / RANGE) },
  (_, i) => `bytes=${i * RANGE}-${Math.min((i + 1) * RANGE, content.length) - 1}`
)

let server: RangeServer
let dir: string
let sleeps: number[]
const retry: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 10, sleep: async ms => void sleeps.push(ms) }

beforeAll(async () => {
  server = await startRangeServer({ source: content })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-parallel-'))
})

afterAll(async () => {
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

afterEach(() => {
  server.faults = {}
  server.requests.length = 0
  sleeps = []
})

let count = 0
function options(extra: Partial<VerifiedDownloadOptions> = {}): VerifiedDownloadOptions {
  return {
    url: server.url,
    credentials: { origin: new URL(server.url).origin },
    destination: path.join(dir, `out-${++count}`, 'file.bin'),
    size: content.length,
    digest: { sha256 },
    retry,
    connections: 4,
    parallelThreshold: MiB,
    rangeSize: RANGE,
    label: 'file.bin',
    ...extra
  }
}

function published(destination: string): Buffer {
  return fs.readFileSync(destination)
}

/** Everything in the destination's directory: only the published file, never a temp file. */
function filesBeside(destination: string): string[] {
  return fs.existsSync(path.dirname(destination)) ? fs.readdirSync(path.dirname(destination)) : []
}

/** Most requests in flight at once, from the fixture's arrival and close times. */
function peakConcurrency(requests: RangeRequest[]): number {
  const events = requests
    .flatMap(r => [
      [r.startedAt, 1],
      [r.closedAt ?? Infinity, -1]
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let peak = 0
  for (const [, delta] of events) peak = Math.max(peak, (now += delta))
  return peak
}

function requestsFor(range: string): number {
  return server.requests.filter(r => r.range === range).length
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(outcome).toBeInstanceOf(Error)
  return outcome as Error
}

describe('parallel ranges', () => {
  test('a large file comes down in ranges over 4 connections, byte-identical and verified', async () => {
    const opts = options()
    const outcome = await downloadVerified(opts)
    expect(published(opts.destination).equals(content)).toBe(true)
    expect(filesBeside(opts.destination)).toEqual(['file.bin'])
    // Each range asked for exactly once, all answered 206, on at least 4 connections (how many run at
    // once shows only through a rate cap: see the test below).
    expect(server.requests.map(r => r.range).sort()).toEqual([...ranges].sort())
    expect(server.requests.every(r => r.status === 206)).toBe(true)
    expect(new Set(server.requests.map(r => r.connection)).size).toBeGreaterThanOrEqual(4)
    expect(outcome).toMatchObject({ bytesTransferred: content.length, ranges: ranges.length, restarts: 0 })
  })

  test('ranges that finish out of order are hashed in file order, from memory or read back from disk', async () => {
    // The first range stalls once, so every later range is written long before it.
    for (const reorderMemory of [64 * MiB, 0]) {
      server.faults = { stall: { range: ranges[0], times: 1, afterBytes: 1000 } }
      const opts = options({ idleTimeoutMs: 300, reorderMemory })
      await downloadVerified(opts)
      expect(published(opts.destination).equals(content)).toBe(true)
      const first = server.requests.filter(r => r.range?.endsWith(`-${RANGE - 1}`))
      expect(first.map(r => r.range)).toEqual([ranges[0], `bytes=1000-${RANGE - 1}`])
      // Every other range was complete before the first one's retry began.
      const retryStart = server.requests.indexOf(first[1])
      expect(server.requests.slice(0, retryStart).filter(r => r.complete).length).toBe(ranges.length - 1)
      server.requests.length = 0
    }
  })

  test('a range that fails is retried on its own; the others are asked for once', async () => {
    server.faults = { status: { status: 503, range: ranges[5], times: 1 }, drop: { range: ranges[9], times: 1, afterBytes: 100 * KiB } }
    const opts = options()
    await downloadVerified(opts)
    expect(published(opts.destination).equals(content)).toBe(true)
    expect(requestsFor(ranges[5])).toBe(2)
    // A broken range resumes where it broke (what arrived before the reset), not from its start.
    const ninthEnd = ranges[9].split('-')[1]
    const ninth = server.requests.filter(r => r.range?.endsWith(`-${ninthEnd}`)).map(r => r.range)
    expect(ninth).toHaveLength(2)
    expect(ninth[0]).toBe(ranges[9])
    const resumedAt = Number(/=(\d+)-/.exec(ninth[1] as string)?.[1])
    expect(resumedAt).toBeGreaterThan(9 * RANGE)
    expect(resumedAt).toBeLessThanOrEqual(9 * RANGE + 100 * KiB)
    for (const range of ranges.filter((_, i) => i !== 5 && i !== 9)) expect(requestsFor(range)).toBe(1)
    expect(sleeps).toHaveLength(2)
  })

  test('a server that ignores Range is read as one stream from its first answer', async () => {
    server.faults = { ignoreRange: {} }
    const opts = options()
    const outcome = await downloadVerified(opts)
    expect(published(opts.destination).equals(content)).toBe(true)
    expect(server.requests.map(r => [r.range, r.status])).toEqual([[ranges[0], 200]])
    expect(outcome).toMatchObject({ bytesTransferred: content.length, ranges: 0 })
  })

  test('a later range answered 200 cuts the others and one stream finishes from the hashed frontier', async () => {
    server.faults = { ignoreRange: { range: ranges[6], times: 1 } }
    const opts = options()
    const outcome = await downloadVerified(opts)
    expect(published(opts.destination).equals(content)).toBe(true)
    const single = server.requests.filter(r => r.range !== undefined && /^bytes=\d+-$/.test(r.range))
    expect(single).toHaveLength(1)
    const resumedAt = Number(/=(\d+)-/.exec(single[0].range as string)?.[1])
    expect(resumedAt % RANGE).toBe(0)
    expect(resumedAt).toBeLessThanOrEqual(6 * RANGE)
    expect(single[0].status).toBe(206)
    expect(outcome.restarts).toBe(0)
  })

  test('a CDN that refuses ranges with 403 even from fresh URLs is read as one stream', async () => {
    // The origin the credentials name is elsewhere, so this server is "the CDN": a 403 means re-resolve.
    server.faults = { status: { status: 403, range: ranges[2] } }
    const opts = options({ credentials: { origin: 'http://hub.invalid' } })
    await downloadVerified(opts)
    expect(published(opts.destination).equals(content)).toBe(true)
    // Three fresh URLs, each refused, then one stream from the hashed frontier.
    expect(requestsFor(ranges[2])).toBe(4)
    const single = server.requests.filter(r => r.range !== undefined && /^bytes=\d+-$/.test(r.range))
    expect(single.map(r => r.status)).toEqual([206])
    expect(Number(/=(\d+)-/.exec(single[0].range as string)?.[1])).toBeLessThanOrEqual(2 * RANGE)

    // Refused from the first range on: one plain stream from byte 0.
    server.requests.length = 0
    server.faults = { status: { status: 403, range: ranges[0] } }
    const first = options({ credentials: { origin: 'http://hub.invalid' } })
    await downloadVerified(first)
    expect(published(first.destination).equals(content)).toBe(true)
    expect(server.requests.map(r => [r.range, r.status])).toEqual([...Array(4).fill([ranges[0], 403]), [undefined, 200]])
  })

  test('a size unknown up front is learnt from the first range; a small file needs that one request', async () => {
    const small = options({ size: undefined })
    await downloadVerified(small)
    expect(published(small.destination).equals(content)).toBe(true)
    expect(server.requests.filter(r => r.range === ranges[0])).toHaveLength(1)
    expect(server.requests).toHaveLength(ranges.length)
    server.requests.length = 0
    const one = options({ size: undefined, rangeSize: 8 * MiB })
    await downloadVerified(one)
    expect(server.requests.map(r => [r.range, r.status])).toEqual([[`bytes=0-${8 * MiB - 1}`, 206]])
  })

  test('a wrong digest publishes nothing and leaves no temp file', async () => {
    const wrong = 'ab'.repeat(32)
    const opts = options({ digest: { sha256: wrong } })
    const error = await rejection(downloadVerified(opts))
    expect(error.message).toBe(`file.bin: sha256 mismatch, expected ${wrong}, got ${sha256}`)
    expect(fs.existsSync(opts.destination)).toBe(false)
    expect(filesBeside(opts.destination)).toEqual([])
    // One fresh pass after the first mismatch, each in ranges.
    expect(server.requests).toHaveLength(2 * ranges.length)
  })
})

describe('per-connection rate caps', () => {
  test('through a cap on each connection (not on the client), 4 connections beat one stream by far', async () => {
    const body = randomBytes(2 * MiB)
    const capped = await startRangeServer({ source: body, bytesPerSecondPerConnection: MiB })
    const fetch = async (connections: number) => {
      const started = performance.now()
      const destination = path.join(dir, `capped-${connections}`, 'file.bin')
      await downloadVerified({
        ...options({ connections }),
        url: capped.url,
        credentials: { origin: new URL(capped.url).origin },
        destination,
        size: body.length,
        digest: { sha256: createHash('sha256').update(body).digest('hex') }
      })
      expect(fs.readFileSync(destination).equals(body)).toBe(true)
      return performance.now() - started
    }
    try {
      const single = await fetch(1)
      const parallel = await fetch(4)
      // One connection cannot beat its cap (2 MiB at 1 MiB/s, less a 20 ms burst).
      expect(single).toBeGreaterThan(1900)
      expect(single / parallel).toBeGreaterThan(2.5)
      expect(peakConcurrency(capped.requests)).toBe(4)
    } finally {
      await capped.close()
    }
  })
})

describe('idle timeouts', () => {
  test('a stalled range is cut after idle-timeout and resumed; the download completes', async () => {
    server.faults = { stall: { range: ranges[3], times: 1, afterBytes: 10 * KiB } }
    const opts = options({ idleTimeoutMs: 300 })
    const started = performance.now()
    await downloadVerified(opts)
    expect(performance.now() - started).toBeGreaterThanOrEqual(300)
    expect(published(opts.destination).equals(content)).toBe(true)
    const stalled = server.requests.find(r => r.range === ranges[3])
    expect(stalled).toMatchObject({ bytes: 10 * KiB, complete: false })
    // Cut within idle-timeout plus 1 s of its last byte.
    const cutAfter = (stalled?.closedAt as number) - (stalled?.lastByteAt as number)
    expect(cutAfter).toBeGreaterThanOrEqual(290)
    expect(cutAfter).toBeLessThan(1300)
  })

  test('a stream that never sends a byte is retried, then gives up with one line naming host, file and range', async () => {
    server.faults = { stall: { afterBytes: 0 } }
    const opts = options({ idleTimeoutMs: 200, connections: 1 })
    const error = await rejection(downloadVerified(opts))
    const host = new URL(server.url).host
    expect(error.message).toBe(
      `file.bin: ${host}, bytes 0-${content.length - 1} of ${content.length}: no byte for 0.2 s; gave up after 3 tries`
    )
    expect(error.message).not.toContain('\n')
    expect(server.requests).toHaveLength(retry.attempts)
    expect(server.requests.every(r => r.complete === false)).toBe(true)
    expect(filesBeside(opts.destination)).toEqual([])
  })

  test('in ranges, the give-up line names the range that stalled', async () => {
    server.faults = { stall: { range: ranges[2], afterBytes: 0 } }
    const error = await rejection(downloadVerified(options({ idleTimeoutMs: 200 })))
    expect(error.message).toBe(
      `file.bin: ${new URL(server.url).host}, ${ranges[2].replace('=', ' ')} of ${content.length}: no byte for 0.2 s; gave up after 3 tries`
    )
    expect(requestsFor(ranges[2])).toBe(retry.attempts)
  })

  test('a Hub API call that never answers is cut, retried, and names the request', async () => {
    const silent = http.createServer(() => undefined)
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
    try {
      const error = await rejection(
        getJson(`${base}/api/models/acme/x/tree/main?recursive=true`, { origin: base }, { ...retry, attempts: 2 }, 200)
      )
      expect(error.message).toBe(
        `127.0.0.1:${(silent.address() as AddressInfo).port} (GET /api/models/acme/x/tree/main): no byte for 0.2 s`
      )
    } finally {
      silent.closeAllConnections()
      await new Promise(resolve => silent.close(resolve))
    }
  })
})

describe('through the Hub and its CDN', () => {
  const MODEL = 'acme/large-model'
  const COMMIT = createHash('sha1').update('large').digest('hex')
  const TOKEN = 'hf_parallel_reader'
  const weights = randomBytes(2 * MiB + 777)
  const weightsSha = createHash('sha256').update(weights).digest('hex')
  const cdnRange = (i: number) => `bytes=${i * RANGE}-${Math.min((i + 1) * RANGE, weights.length) - 1}`
  let hub: Hub

  beforeAll(async () => {
    hub = await startHub({
      repos: [
        {
          id: MODEL,
          access: 'private',
          refs: { main: COMMIT },
          commits: { [COMMIT]: [{ path: 'model.safetensors', bytes: weights, lfs: true }] }
        }
      ],
      tokens: { [TOKEN]: [MODEL] }
    })
  })

  afterAll(async () => {
    await hub.close()
  })

  afterEach(() => {
    hub.faults = {}
    hub.resetCounters()
  })

  const fetchModel = (cacheDir: string) =>
    downloadRepo(
      { repo: MODEL },
      { endpoint: hub.url, cacheDir, token: TOKEN, retry, connections: 4, parallelThreshold: MiB, rangeSize: RANGE, lockWaitMs: 1000 }
    )
  const cdn = () => hub.requests.filter(r => r.origin === 'cdn')

  test('the token reaches the Hub only, never the CDN, with every range', async () => {
    const result = await fetchModel(path.join(dir, 'hub-token'))
    expect(
      createHash('sha256')
        .update(fs.readFileSync(path.join(result.snapshot, 'model.safetensors')))
        .digest('hex')
    ).toBe(weightsSha)
    expect(cdn().length).toBe(Math.ceil(weights.length / RANGE))
    expect(cdn().every(r => r.status === 206 && !r.authorization)).toBe(true)
    expect(hub.requests.filter(r => r.origin === 'hub').every(r => r.authorization)).toBe(true)
    // One resolution: the ranges go straight to the signed URL it gave.
    expect(hub.requests.filter(r => r.path.includes('/resolve/'))).toHaveLength(1)
    expect(result.bytesDownloaded).toBe(weights.length)
  })

  test('a signed URL that expires mid-way is re-resolved at the Hub and the rest continues', async () => {
    hub.faults.cdn = { expired: { range: cdnRange(4), times: 1 } }
    const result = await fetchModel(path.join(dir, 'hub-expired'))
    expect(
      createHash('sha256')
        .update(fs.readFileSync(path.join(result.snapshot, 'model.safetensors')))
        .digest('hex')
    ).toBe(weightsSha)
    expect(
      cdn()
        .filter(r => r.range === cdnRange(4))
        .map(r => r.status)
    ).toEqual([403, 206])
    expect(hub.requests.filter(r => r.path.includes('/resolve/'))).toHaveLength(2)
    expect(cdn().some(r => r.authorization)).toBe(false)
    expect(sleeps).toEqual([])
  })

  test('a CDN stream that stalls is cut and resumed from where it stopped', async () => {
    hub.faults.cdn = { stall: { range: cdnRange(2), times: 1, afterBytes: 64 * KiB } }
    const result = await downloadRepo(
      { repo: MODEL },
      {
        endpoint: hub.url,
        cacheDir: path.join(dir, 'hub-stall'),
        token: TOKEN,
        retry,
        connections: 4,
        parallelThreshold: MiB,
        rangeSize: RANGE,
        idleTimeoutMs: 300
      }
    )
    expect(result.files).toMatchObject([{ source: 'downloaded', verified: true }])
    const end = cdnRange(2).split('-')[1]
    expect(
      cdn()
        .filter(r => r.range?.endsWith(`-${end}`))
        .map(r => [r.range, r.complete])
    ).toEqual([
      [cdnRange(2), false],
      [`bytes=${2 * RANGE + 64 * KiB}-${end}`, true]
    ])
  })
})
