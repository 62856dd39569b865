/**
 * The real @actions/cache 6.x (v2 protocol: Twirp + Azure Blob SDK, real tar + zstd) against the
 * local emulator in support/cache-service.ts: round trips with byte accounting, GitHub's key
 * matching, and what the library returns and logs for each service failure.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as cache from '@actions/cache'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { startCacheService, TWIRP_SERVICE_PATH, type CacheService } from './support/cache-service.js'

const MiB = 1024 * 1024
/** uploadCacheArchiveSDK: `maxSingleShotSize: 128 MiB`, then 64 MiB blocks (saveCacheV2 forces the chunk size). */
const SINGLE_SHOT_LIMIT = 128 * MiB
const BLOCK_SIZE = 64 * MiB

let service: CacheService
let root: string
let workspace: string
let runnerTemp: string
const envBefore = { ...process.env }
/** Everything @actions/core and tar wrote to stdout during the current test. */
let stdout: string[] = []

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'cache-service-test-'))
  workspace = path.join(root, 'workspace')
  runnerTemp = path.join(root, 'runner-temp')
  await fs.mkdir(workspace)
  await fs.mkdir(runnerTemp)
  service = await startCacheService({ tmpRoot: root })
  // The library reads all of these at call time (config.ts, cacheUtils.ts), so setting them here,
  // after import, is enough. GITHUB_SERVER_URL must not point at a GHES host (that forces v1), and
  // ACTIONS_CACHE_MODE=read/none would skip the calls we want to observe.
  Object.assign(process.env, service.env(), {
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    GITHUB_REF: 'refs/heads/main'
  })
  for (const name of ['GITHUB_SERVER_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_CACHE_MODE', 'RUNNER_DEBUG']) {
    delete process.env[name]
  }
})

afterAll(async () => {
  await service?.close()
  if (root) await fs.rm(root, { recursive: true, force: true })
  for (const name of Object.keys(process.env)) if (!(name in envBefore)) delete process.env[name]
  Object.assign(process.env, envBefore)
})

beforeEach(() => {
  service.faults = {}
  service.resetCounters()
  stdout = []
  // @actions/core logs through process.stdout.write (`::warning::`, `::error::`, plain info).
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk))
    return true
  })
})

afterEach(async () => {
  jest.restoreAllMocks()
  // Opt-in transcript of what the library logged per test, for checking messages by eye.
  const transcript = process.env.CACHE_SERVICE_TEST_LOG
  if (transcript) await fs.appendFile(transcript, `\n===== ${expect.getState().currentTestName}\n${stdout.join('')}`)
})

// ---- helpers -------------------------------------------------------------------------------------

/** Undo @actions/core's workflow-command escaping (%, \r, \n) so messages read as written. */
function unescapeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** Everything logged in this test, decoded (info lines, `::debug::`, `::warning::`, tar output). */
function logText(): string {
  return unescapeCommand(stdout.join(''))
}

/** The messages of `::warning::`/`::error::` commands (core escapes newlines, so one per line). */
function commandLines(command: 'warning' | 'error'): string[] {
  const prefix = `::${command}::`
  return stdout
    .join('')
    .split(os.EOL)
    .filter(line => line.startsWith(prefix))
    .map(line => unescapeCommand(line.slice(prefix.length)))
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let left = bytes; left > 0; left -= MiB) yield randomBytes(Math.min(MiB, left))
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file))
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/** Relative path → sha256 of every file under `dir`. */
async function treeHashes(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {}
  for (const name of (await fs.readdir(dir, { recursive: true })).sort()) {
    const file = path.join(dir, name)
    if ((await fs.stat(file)).isFile()) result[name] = await sha256File(file)
  }
  return result
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false
  )
}

/** Archives the library left anywhere under RUNNER_TEMP (it should unlink them in `finally`). */
async function leftoverArchives(): Promise<string[]> {
  const names = await fs.readdir(runnerTemp, { recursive: true })
  return names.filter(n => n.endsWith('.tzst') || n.endsWith('.tgz'))
}

function twirpCalls(method: string): { status: number }[] {
  return service.requests.filter(r => r.path === `${TWIRP_SERVICE_PATH}${method}`)
}

/** A directory in the workspace with one random payload file and a small nested file. */
async function makeCacheDir(name: string, payloadBytes: number): Promise<string> {
  const dir = path.join(workspace, name)
  await fs.rm(dir, { recursive: true, force: true })
  await writeRandomFile(path.join(dir, 'payload.bin'), payloadBytes)
  await fs.mkdir(path.join(dir, 'nested'))
  await fs.writeFile(path.join(dir, 'nested', 'note.txt'), `${name}\n`)
  return dir
}

/** Saves a fresh directory as setup for a test, then clears the counters, log and captured output. */
async function saveFresh(name: string, key: string, payloadBytes = 1024): Promise<{ dir: string; id: number }> {
  const dir = await makeCacheDir(name, payloadBytes)
  const id = await cache.saveCache([dir], key)
  expect(id).toBeGreaterThan(0)
  service.resetCounters()
  stdout = []
  return { dir, id }
}

// ---- round trips ---------------------------------------------------------------------------------

describe('round trips through the real library', () => {
  test.each([
    ['1 B', 'rt-1b', 1],
    ['2 MiB', 'rt-2mib', 2 * MiB],
    ['130 MiB', 'rt-130mib', 130 * MiB]
  ])('%s: save, wipe, restore gives identical files and exact byte counts', async (_label, name, size) => {
    const dir = await makeCacheDir(name, size)
    const before = await treeHashes(dir)
    const key = `roundtrip-${name}`

    const id = await cache.saveCache([dir], key)

    const entry = service.entries().find(e => e.key === key)
    expect(entry).toBeDefined()
    expect(id).toBe(entry?.id)
    const archiveBytes = entry?.sizeBytes ?? -1
    // Finalize carried the archive size and the emulator checked it against the stored blob;
    // the upload counter must match it byte for byte (no retried or duplicated blocks).
    expect(service.bytesUploaded).toBe(archiveBytes)
    const blobPuts = service.requests.filter(r => r.method === 'PUT')
    const blocks = blobPuts.filter(r => r.query.includes('comp=block&'))
    const blockLists = blobPuts.filter(r => r.query.includes('comp=blocklist'))
    if (archiveBytes > SINGLE_SHOT_LIMIT) {
      expect(blocks).toHaveLength(Math.ceil(archiveBytes / BLOCK_SIZE))
      expect(blockLists).toHaveLength(1)
      expect(blobPuts).toHaveLength(blocks.length + 1)
      expect(blocks.reduce((n, r) => n + r.bytes, 0)).toBe(archiveBytes)
    } else {
      expect(blobPuts).toHaveLength(1)
      expect(blobPuts[0].blobOp).toBe('put-blob')
      expect(blobPuts[0].bytes).toBe(archiveBytes)
    }
    if (size > SINGLE_SHOT_LIMIT) expect(archiveBytes).toBeGreaterThan(SINGLE_SHOT_LIMIT)
    expect(blobPuts.every(r => r.status === 201)).toBe(true)

    await fs.rm(dir, { recursive: true })
    service.resetCounters()
    stdout = []

    await expect(cache.restoreCache([dir], key)).resolves.toBe(key)

    expect(await treeHashes(dir)).toEqual(before)
    expect(service.bytesDownloaded).toBe(archiveBytes)
    expect(logText()).toContain(`Cache hit for: ${key}`)
    expect(logText()).toContain(`Cache Size: ~${Math.round(archiveBytes / MiB)} MB (${archiveBytes} B)`)
    expect(service.requests.map(r => r.twirpMethod ?? r.blobOp)).toEqual(['GetCacheEntryDownloadURL', 'get-blob'])
    expect(await leftoverArchives()).toEqual([])
    await fs.rm(dir, { recursive: true })
  })
})

// ---- key matching --------------------------------------------------------------------------------

describe('key matching', () => {
  test('restore keys fall back to the newest prefix match; an exact key beats a newer prefix match', async () => {
    const dir = path.join(workspace, 'prefix')
    const hashes: Record<string, Record<string, string>> = {}
    for (const suffix of ['a', 'b', 'c']) {
      await makeCacheDir('prefix', 4096)
      hashes[suffix] = await treeHashes(dir)
      await expect(cache.saveCache([dir], `deps-${suffix}`)).resolves.toBeGreaterThan(0)
    }
    // A newer entry under the same prefix but another version (other paths) must be invisible.
    await saveFresh('prefix-other-path', 'deps-z')

    await fs.rm(dir, { recursive: true })
    await expect(cache.restoreCache([dir], 'deps-missing', ['nomatch-', 'deps-'])).resolves.toBe('deps-c')
    expect(await treeHashes(dir)).toEqual(hashes.c)
    expect(logText()).toContain('Cache hit for restore-key: deps-c')

    await fs.rm(dir, { recursive: true })
    await expect(cache.restoreCache([dir], 'deps-a', ['deps-'])).resolves.toBe('deps-a')
    expect(await treeHashes(dir)).toEqual(hashes.a)

    // The primary key is prefix-matched too (GitHub docs, "Matching a cache key").
    await fs.rm(dir, { recursive: true })
    await expect(cache.restoreCache([dir], 'deps-')).resolves.toBe('deps-c')
    expect(await treeHashes(dir)).toEqual(hashes.c)
  })

  test('a miss (unknown key, or known key under another version) returns undefined quietly', async () => {
    await saveFresh('versioned', 'versioned-key')
    const otherPaths = [path.join(workspace, 'versioned'), path.join(workspace, 'extra')]

    await expect(cache.restoreCache(otherPaths, 'versioned-key')).resolves.toBeUndefined()
    await expect(cache.restoreCache([path.join(workspace, 'versioned')], 'no-such-key')).resolves.toBeUndefined()

    expect(twirpCalls('GetCacheEntryDownloadURL').map(c => c.status)).toEqual([200, 200])
    expect(service.requests.some(r => r.blobOp === 'get-blob')).toBe(false)
    expect(commandLines('warning')).toEqual([])
    expect(logText()).toContain('Cache not found for version')
  })

  test('saving a key that already exists returns -1 through the ReserveCacheError path', async () => {
    const { dir } = await saveFresh('dup', 'dup-key')

    await expect(cache.saveCache([dir], 'dup-key')).resolves.toBe(-1)

    expect(commandLines('warning')).toEqual([expect.stringContaining('Cache reservation failed: cache entry with key "dup-key"')])
    expect(logText()).toContain('Failed to save: Unable to reserve cache with key dup-key, another job may be creating this cache.')
    expect(service.requests.some(r => r.method === 'PUT')).toBe(false)
    expect(service.entries().filter(e => e.key === 'dup-key')).toHaveLength(1)
  })
})

// ---- faults --------------------------------------------------------------------------------------

describe('service faults: the library never throws, and returns a miss or -1', () => {
  test('503 twice on GetCacheEntryDownloadURL is retried (3 s, then 4.5-6.75 s) and the restore succeeds', async () => {
    const { dir } = await saveFresh('retry-503', 'retry-503')
    const before = await treeHashes(dir)
    await fs.rm(dir, { recursive: true })
    service.faults.twirpError = { method: 'GetCacheEntryDownloadURL', status: 503, times: 2 }

    const started = Date.now()
    await expect(cache.restoreCache([dir], 'retry-503')).resolves.toBe('retry-503')

    expect(Date.now() - started).toBeGreaterThanOrEqual(7400) // 3000 + at least 4500 ms, minus timer slack
    expect(twirpCalls('GetCacheEntryDownloadURL').map(c => c.status)).toEqual([503, 503, 200])
    expect(logText()).toContain(
      'Attempt 1 of 5 failed with error: Failed request: (503) Service Unavailable: injected fault. Retrying request in 3000 ms...'
    )
    expect(logText()).toContain('Attempt 2 of 5 failed with error: Failed request: (503) Service Unavailable: injected fault.')
    expect(commandLines('warning')).toEqual([])
    expect(commandLines('error')).toEqual([])
    expect(await treeHashes(dir)).toEqual(before)
    expect(service.faults.twirpError).toBeUndefined()
  }, 30_000)

  test('429 with Retry-After on CreateCacheEntry: not retried, save returns -1, logged as a reserve failure', async () => {
    const dir = await makeCacheDir('rate-limited', 1024)
    service.faults.rateLimit = { method: 'CreateCacheEntry', retryAfterSeconds: 60 }

    await expect(cache.saveCache([dir], 'rate-limited')).resolves.toBe(-1)

    expect(twirpCalls('CreateCacheEntry').map(c => c.status)).toEqual([429])
    expect(commandLines('warning')).toEqual(["You've hit a rate limit, your rate limit will reset in 60 seconds"])
    // RateLimitError is swallowed by saveCacheV2's reserve try/catch and re-thrown as ReserveCacheError.
    expect(logText()).toContain('Failed to save: Unable to reserve cache with key rate-limited, another job may be creating this cache.')
    expect(logText()).toContain(
      'Failed to reserve cache: Error: Failed to CreateCacheEntry: Rate limited: Failed request: (429) Too Many Requests: cache entry creation rate limit exceeded'
    )
    expect(service.requests.some(r => r.method === 'PUT')).toBe(false)
    expect(service.entries().some(e => e.key === 'rate-limited')).toBe(false)
    expect(await leftoverArchives()).toEqual([])
  })

  test('connection refused: restore returns undefined, save returns -1, no retries', async () => {
    const { dir } = await saveFresh('refused', 'refused')
    await service.stop()
    try {
      await expect(cache.restoreCache([dir], 'refused')).resolves.toBeUndefined()
      const restoreWarnings = commandLines('warning')
      expect(restoreWarnings).toHaveLength(1)
      expect(restoreWarnings[0]).toMatch(
        /^Failed to restore: Failed to GetCacheEntryDownloadURL: Unable to make request: ECONNREFUSED\nIf you are using self-hosted runners/
      )

      stdout = []
      await expect(cache.saveCache([dir], 'refused-save')).resolves.toBe(-1)
      // NetworkError from CreateCacheEntry is also re-labelled as "another job may be creating this cache".
      expect(commandLines('warning')).toEqual([])
      expect(logText()).toContain('Failed to save: Unable to reserve cache with key refused-save, another job may be creating this cache.')
      expect(logText()).toContain('Failed to CreateCacheEntry: Unable to make request: ECONNREFUSED')
      expect(logText()).not.toContain('Retrying request')
    } finally {
      await service.restart()
    }
    expect(service.requests).toHaveLength(0) // nothing reached the emulator while it was stopped
    await expect(cache.restoreCache([dir], 'refused')).resolves.toBe('refused')
  })

  test('ok:false from CreateCacheEntry: save returns -1, warns the service message, then works again', async () => {
    const dir = await makeCacheDir('not-ok', 1024)
    service.faults.createNotOk = { message: 'entry is being created by another job', times: 1 }

    await expect(cache.saveCache([dir], 'not-ok')).resolves.toBe(-1)

    expect(commandLines('warning')).toEqual(['Cache reservation failed: entry is being created by another job'])
    expect(logText()).toContain('Failed to save: Unable to reserve cache with key not-ok, another job may be creating this cache.')
    expect(service.requests.some(r => r.method === 'PUT')).toBe(false)
    expect(service.faults.createNotOk).toBeUndefined()
    await expect(cache.saveCache([dir], 'not-ok')).resolves.toBeGreaterThan(0)
  })

  test('truncated download: restore returns undefined, deletes the partial archive, extracts nothing', async () => {
    const { dir } = await saveFresh('truncated', 'truncated', 2 * MiB)
    const archiveBytes = service.entries().find(e => e.key === 'truncated')?.sizeBytes ?? 0
    await fs.rm(dir, { recursive: true })
    service.faults.truncateDownload = { afterBytes: MiB, times: 1 }

    await expect(cache.restoreCache([dir], 'truncated')).resolves.toBeUndefined()

    expect(service.bytesDownloaded).toBe(MiB)
    expect(service.bytesDownloaded).toBeLessThan(archiveBytes)
    expect(commandLines('warning')).toEqual(['Failed to restore: aborted'])
    expect(commandLines('error')).toEqual([])
    expect(logText()).not.toContain('Cache restored successfully')
    expect(await exists(dir)).toBe(false)
    expect(await leftoverArchives()).toEqual([])

    // The entry itself is intact: the next restore (fault spent) succeeds.
    await expect(cache.restoreCache([dir], 'truncated')).resolves.toBe('truncated')
    expect(await exists(path.join(dir, 'payload.bin'))).toBe(true)
  })

  test('write denied in the CreateCacheEntry response: save returns -1 with one warning', async () => {
    const dir = await makeCacheDir('deny-create', 1024)
    service.faults.denyWrites = { via: 'create-response', message: 'cache write denied: token is read-only' }

    await expect(cache.saveCache([dir], 'deny-create')).resolves.toBe(-1)

    // CacheWriteDeniedError: the inner "Cache reservation failed" warning is suppressed.
    expect(commandLines('warning')).toEqual([
      'Failed to save: Unable to reserve cache with key deny-create. More details: cache write denied: token is read-only'
    ])
    expect(service.requests.some(r => r.method === 'PUT')).toBe(false)
  })

  test('write denied as Twirp 403: not retried, save returns -1, only an info line', async () => {
    const dir = await makeCacheDir('deny-403', 1024)
    service.faults.denyWrites = { via: 'twirp-403', message: 'cache write denied: token is read-only' }

    await expect(cache.saveCache([dir], 'deny-403')).resolves.toBe(-1)

    expect(twirpCalls('CreateCacheEntry').map(c => c.status)).toEqual([403])
    // The wrapped message no longer *starts* with the prefix, so it is not a CacheWriteDeniedError.
    expect(commandLines('warning')).toEqual([])
    expect(logText()).toContain('Failed to save: Unable to reserve cache with key deny-403, another job may be creating this cache.')
    expect(logText()).toContain('Received non-retryable error: Failed request: (403) Forbidden: cache write denied: token is read-only')
  })

  test('write denied by blob storage (403 on Put Blob): save returns -1 and never finalizes', async () => {
    const dir = await makeCacheDir('deny-blob', 1024)
    service.faults.denyWrites = { via: 'blob-403', message: 'This request is not authorized' }

    await expect(cache.saveCache([dir], 'deny-blob')).resolves.toBe(-1)

    expect(service.requests.filter(r => r.method === 'PUT').map(r => r.status)).toEqual([403])
    expect(twirpCalls('FinalizeCacheEntryUpload')).toHaveLength(0)
    const warnings = commandLines('warning')
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/^uploadCacheArchiveSDK: internal error uploading cache archive: This request is not authorized/)
    expect(warnings[1]).toMatch(/^Failed to save: This request is not authorized/)
    expect(service.entries().some(e => e.key === 'deny-blob')).toBe(false)
  })

  test('read denied (Twirp 403 "cache read denied:"): restore returns undefined with a warning', async () => {
    const { dir } = await saveFresh('deny-read', 'deny-read')
    service.faults.denyReads = {}

    await expect(cache.restoreCache([dir], 'deny-read')).resolves.toBeUndefined()

    expect(commandLines('warning')).toEqual([
      'Failed to restore: Failed to GetCacheEntryDownloadURL: Received non-retryable error: Failed request: (403) Forbidden: cache read denied: no readable scopes'
    ])
  })
})

// ---- the emulator's own protocol checks ----------------------------------------------------------

describe('emulator protocol', () => {
  async function twirp(method: string, body: object, token = service.env().ACTIONS_RUNTIME_TOKEN) {
    const res = await fetch(`${service.url}twirp/github.actions.results.api.v1.CacheService/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body)
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  test('every Twirp answer is JSON, errors included', async () => {
    expect(await twirp('CreateCacheEntry', { key: 'k', version: 'v' }, 'wrong')).toEqual({
      status: 401,
      body: { code: 'unauthenticated', msg: 'missing or invalid runtime token' }
    })
    expect(await twirp('NoSuchMethod', {})).toEqual({
      status: 404,
      body: { code: 'bad_route', msg: 'unknown method NoSuchMethod' }
    })
    const elsewhere = await fetch(`${service.url}_apis/artifactcache/cache`)
    expect(elsewhere.status).toBe(404)
    expect(await elsewhere.json()).toEqual({ code: 'bad_route', msg: expect.stringContaining('no handler') })
    expect((await twirp('CreateCacheEntry', { key: 'k' })).body.code).toBe('invalid_argument')
  })

  test('finalize checks the uploaded size; signed URLs are upload- or download-only', async () => {
    const created = await twirp('CreateCacheEntry', { key: 'manual', version: 'v1' })
    const uploadUrl = String(created.body.signed_upload_url)
    expect(uploadUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/cache\/[^?]+\?.*sig=/)

    const noBlobType = await fetch(uploadUrl, { method: 'PUT', body: 'abc' })
    expect(noBlobType.status).toBe(400)
    expect(noBlobType.headers.get('x-ms-error-code')).toBe('MissingRequiredHeader')
    const put = await fetch(uploadUrl, { method: 'PUT', body: 'abc', headers: { 'x-ms-blob-type': 'BlockBlob' } })
    expect(put.status).toBe(201)
    expect(put.headers.get('etag')).toBeTruthy()

    const wrongSize = await twirp('FinalizeCacheEntryUpload', { key: 'manual', version: 'v1', size_bytes: '4' })
    expect(wrongSize.body).toEqual({ ok: false, message: expect.stringContaining('size mismatch') })
    const ok = await twirp('FinalizeCacheEntryUpload', { key: 'manual', version: 'v1', size_bytes: '3' })
    expect(ok.body).toEqual({ ok: true, entry_id: expect.stringMatching(/^\d+$/) })

    const got = await twirp('GetCacheEntryDownloadURL', { key: 'man', restore_keys: [], version: 'v1' })
    expect(got.body.matched_key).toBe('manual')
    const downloadUrl = String(got.body.signed_download_url)
    const blob = await fetch(downloadUrl)
    expect(blob.headers.get('content-length')).toBe('3')
    expect(await blob.text()).toBe('abc')
    expect((await fetch(uploadUrl)).status).toBe(403)
    expect((await fetch(downloadUrl, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } })).status).toBe(403)
    expect(await twirp('GetCacheEntryDownloadURL', { key: 'manual', version: 'v2' })).toEqual({
      status: 200,
      body: { ok: false }
    })
  })
})
