/**
 * The verified HuggingFace downloader (src/fetch) against the local mini Hub (support/hub.ts):
 * real HTTP on 127.0.0.1, the CDN on a second origin, faults injected in the fixture, every byte
 * counted by the fixture rather than by us.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { scanCacheDir } from '@huggingface/hub'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { downloadRepo, type HfDownloadOptions, type HfRepoResult } from '../src/fetch/huggingface/download.js'
import { globToRegExp } from '../src/fetch/huggingface/glob.js'
import { assertSafeRepoPath, parseRepoRef } from '../src/fetch/huggingface/repo.js'
import { rateLimitResetSeconds, retryAfterSeconds, type RetryPolicy } from '../src/fetch/retry.js'
import { type Hub, type HubFileSpec, startHub } from './support/hub.js'

const KiB = 1024
const commitId = (seed: string) => createHash('sha1').update(seed).digest('hex')
const MAIN = commitId('main')
const PR = commitId('pr')
const FLAT = commitId('flat')
const GATED = commitId('gated')
const EVIL = commitId('evil')
const DATA = commitId('data')

const MODEL = 'acme/tiny-model'
const TOKEN = 'hf_reader_secret_token'
const OTHER = 'hf_other_token'

const text = (s: string) => Buffer.from(s)
const modelFiles: HubFileSpec[] = [
  { path: 'README.md', bytes: text('# tiny model\n'), lfs: false },
  { path: 'config.json', bytes: text('{"hidden": 4}\n'), lfs: false },
  { path: 'model.safetensors', bytes: randomBytes(300 * KiB), lfs: true },
  { path: 'nested/vocab.txt', bytes: text('a\nb\nc\n'), lfs: false },
  { path: 'nested/deeper/weights.bin', bytes: randomBytes(64 * KiB), lfs: true },
  { path: 'tokenizer/special tokens.json', bytes: text('{"pad": 0}\n'), lfs: false }
]
const totalSize = modelFiles.reduce((sum, f) => sum + f.bytes.length, 0)

let hub: Hub
let work: string
let sleeps: number[]
const retry: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 60_000, sleep: async ms => void sleeps.push(ms) }

beforeAll(async () => {
  hub = await startHub({
    repos: [
      {
        id: MODEL,
        refs: { main: MAIN, 'refs/pr/1': PR },
        commits: { [MAIN]: modelFiles, [PR]: [...modelFiles, { path: 'extra.txt', bytes: text('pr\n'), lfs: false }] }
      },
      {
        id: 'acme/flat-model',
        refs: { main: FLAT },
        commits: {
          [FLAT]: [
            { path: 'config.json', bytes: text('{}\n'), lfs: false },
            { path: 'model.bin', bytes: randomBytes(20 * KiB), lfs: true },
            { path: 'empty.txt', bytes: Buffer.alloc(0), lfs: false }
          ]
        }
      },
      {
        id: 'acme/gated-model',
        access: 'gated',
        refs: { main: GATED },
        commits: { [GATED]: [{ path: 'w.bin', bytes: randomBytes(KiB), lfs: true }] }
      },
      {
        id: 'acme/evil-model',
        refs: { main: EVIL },
        commits: {
          [EVIL]: [
            { path: 'config.json', bytes: text('{}\n'), lfs: false },
            { path: '../escape.bin', bytes: text('outside\n'), lfs: false }
          ]
        }
      },
      {
        id: 'acme/tiny-data',
        type: 'dataset',
        refs: { main: DATA },
        commits: { [DATA]: [{ path: 'data/train.csv', bytes: text('x,y\n1,2\n'), lfs: false }] }
      }
    ],
    tokens: { [TOKEN]: [], [OTHER]: [] }
  })
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-hf-'))
})

afterAll(async () => {
  await hub?.close()
  if (work) await fs.rm(work, { recursive: true, force: true })
})

beforeEach(() => {
  hub.faults = {}
  hub.signedUrlTtlSeconds = 3600
  hub.gzipText = false
  hub.resetCounters()
  sleeps = []
})

let cacheCount = 0
const freshCache = () => path.join(work, `cache-${++cacheCount}`)
const options = (cacheDir: string, extra: Partial<HfDownloadOptions> = {}): HfDownloadOptions => ({
  endpoint: hub.url,
  cacheDir,
  retry,
  lockWaitMs: 1000,
  ...extra
})
const repoDir = (cacheDir: string, folder = 'models--acme--tiny-model') => path.join(cacheDir, folder)
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const fileBytes = () => hub.cdnBytes + hub.hubFileBytes
const resolveRequests = () => hub.requests.filter(r => r.origin === 'cdn' || r.path.includes('/resolve'))
const sources = (result: HfRepoResult) => Object.fromEntries(result.files.map(f => [f.path, f.source]))

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(outcome).toBeInstanceOf(Error)
  return outcome as Error
}

/** Every path under `dir`, relative, recursively (links not followed). */
async function listTree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[])
  return entries.map(String).sort()
}

async function coldCache(): Promise<{ cacheDir: string; result: HfRepoResult }> {
  const cacheDir = freshCache()
  const result = await downloadRepo({ repo: MODEL }, options(cacheDir))
  hub.resetCounters()
  return { cacheDir, result }
}

describe('cold download', () => {
  test('writes the exact huggingface_hub layout, counts the bytes, keeps the token off the CDN', async () => {
    const cacheDir = freshCache()
    const masked: string[] = []
    const logs: string[] = []
    const result = await downloadRepo(
      { repo: MODEL },
      options(cacheDir, { token: TOKEN, mask: s => masked.push(s), log: l => logs.push(l), progressIntervalMs: 0 })
    )

    expect(masked).toEqual([TOKEN])
    expect(result).toMatchObject({
      repo: MODEL,
      revision: 'main',
      commit: MAIN,
      snapshot: path.join(repoDir(cacheDir), 'snapshots', MAIN),
      bytesReused: 0
    })
    expect(result.files.map(f => f.path)).toEqual(modelFiles.map(f => f.path).sort())
    expect(result.files.every(f => f.source === 'downloaded' && f.verified)).toBe(true)
    // The ledger's figure is the fixture's own count of file bytes served.
    expect(result.bytesDownloaded).toBe(totalSize)
    expect(fileBytes()).toBe(totalSize)

    for (const spec of modelFiles) {
      const hf = hub.file(MODEL, spec.path)
      const pointer = path.join(repoDir(cacheDir), 'snapshots', MAIN, spec.path)
      const depth = spec.path.split('/').length + 1
      expect(await fs.readlink(pointer)).toBe(`${'../'.repeat(depth)}blobs/${hf.etag}`)
      expect(sha256(await fs.readFile(pointer))).toBe(hf.sha256)
      expect(hf.etag).toMatch(spec.lfs ? /^[0-9a-f]{64}$/ : /^[0-9a-f]{40}$/)
      expect(result.files.find(f => f.path === spec.path)?.digest).toBe(spec.lfs ? `sha256:${hf.sha256}` : `git-sha1:${hf.gitSha1}`)
    }
    expect(await fs.readFile(path.join(repoDir(cacheDir), 'refs', 'main'), 'utf8')).toBe(MAIN)
    const blobs = await fs.readdir(path.join(repoDir(cacheDir), 'blobs'))
    expect(blobs.sort()).toEqual(modelFiles.map(f => hub.file(MODEL, f.path).etag).sort())
    // Locks released, no partials, the v1 tree listing written.
    expect(await listTree(path.join(cacheDir, '.locks'))).toEqual(['models--acme--tiny-model'])
    expect((await listTree(cacheDir)).filter(p => p.endsWith('.incomplete') || p.endsWith('.tmp'))).toEqual([])
    const tree = JSON.parse(await fs.readFile(path.join(repoDir(cacheDir), 'trees', `${MAIN}.json`), 'utf8')) as {
      format_version: number
      files: Record<string, unknown>
    }
    expect(tree.format_version).toBe(1)
    expect(tree.files['model.safetensors']).toEqual({
      size: 300 * KiB,
      blob_id: hub.file(MODEL, 'model.safetensors').oid,
      lfs_sha256: hub.file(MODEL, 'model.safetensors').sha256,
      lfs_size: 300 * KiB
    })

    const cdn = hub.requests.filter(r => r.origin === 'cdn')
    expect(cdn).toHaveLength(2)
    expect(cdn.some(r => r.authorization)).toBe(false)
    expect(hub.requests.filter(r => r.origin === 'hub').every(r => r.authorization)).toBe(true)
    expect(logs.filter(l => l.includes('model.safetensors: 100%'))).toHaveLength(1)
    expect(logs.join('\n')).not.toContain(TOKEN)
  })

  test('refs/pr/1 is a nested ref; datasets get their own folder; gzip-capable Hubs still give identity bytes', async () => {
    const cacheDir = freshCache()
    hub.gzipText = true
    const pr = await downloadRepo({ repo: `${MODEL}@refs/pr/1`, globs: ['extra.txt'] }, options(cacheDir))
    expect(pr.commit).toBe(PR)
    expect(await fs.readFile(path.join(repoDir(cacheDir), 'refs', 'refs', 'pr', '1'), 'utf8')).toBe(PR)
    expect(await fs.readFile(path.join(repoDir(cacheDir), 'snapshots', PR, 'extra.txt'), 'utf8')).toBe('pr\n')
    expect(hub.requests.every(r => r.acceptEncoding === undefined || !r.path.includes('resolve') || r.acceptEncoding === 'identity')).toBe(
      true
    )

    const data = await downloadRepo({ repo: 'datasets/acme/tiny-data' }, options(cacheDir))
    expect(data.repo).toBe('datasets/acme/tiny-data')
    const csv = path.join(repoDir(cacheDir, 'datasets--acme--tiny-data'), 'snapshots', DATA, 'data', 'train.csv')
    expect(await fs.readFile(csv, 'utf8')).toBe('x,y\n1,2\n')
    expect(await fs.readlink(csv)).toMatch(/^\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/)
  })

  test('globs select files: * stays in a segment, ** crosses them', async () => {
    const cacheDir = freshCache()
    const top = await downloadRepo({ repo: MODEL, globs: ['*.json'] }, options(cacheDir))
    expect(top.files.map(f => f.path)).toEqual(['config.json'])
    const deep = await downloadRepo({ repo: MODEL, globs: ['**/*.json', 'nested/**', 'READ?E.md'] }, options(cacheDir))
    expect(deep.files.map(f => f.path)).toEqual([
      'README.md',
      'config.json',
      'nested/deeper/weights.bin',
      'nested/vocab.txt',
      'tokenizer/special tokens.json'
    ])
    expect(sources(deep)['config.json']).toBe('cache')
    expect(globToRegExp('a/**/b').test('a/b')).toBe(true)
    expect(globToRegExp('a/*').test('a/b/c')).toBe(false)
    expect(globToRegExp('model.*').test('modelXsafetensors')).toBe(false)
  })

  test('without symlinks the snapshot holds verified copies, reused on the next run', async () => {
    const cacheDir = freshCache()
    await downloadRepo({ repo: MODEL }, options(cacheDir, { symlinks: false }))
    const pointer = path.join(repoDir(cacheDir), 'snapshots', MAIN, 'nested/deeper/weights.bin')
    expect((await fs.lstat(pointer)).isFile()).toBe(true)
    expect(sha256(await fs.readFile(pointer))).toBe(hub.file(MODEL, 'nested/deeper/weights.bin').sha256)
    const inode = (await fs.stat(pointer)).ino
    hub.resetCounters()
    const warm = await downloadRepo({ repo: MODEL }, options(cacheDir, { symlinks: false }))
    expect(warm.files.every(f => f.source === 'cache')).toBe(true)
    expect((await fs.stat(pointer)).ino).toBe(inode)
    expect(fileBytes()).toBe(0)
  })
})

describe('reuse and repair', () => {
  test('a warm run verifies everything and touches no file endpoint', async () => {
    const { cacheDir } = await coldCache()
    const warm = await downloadRepo({ repo: MODEL }, options(cacheDir))
    expect(warm.files.every(f => f.source === 'cache' && f.verified)).toBe(true)
    expect(warm.bytesDownloaded).toBe(0)
    expect(warm.bytesReused).toBe(totalSize)
    expect(fileBytes()).toBe(0)
    expect(resolveRequests()).toEqual([])
    // A branch still costs the revision call and the (paginated) tree listing.
    expect(hub.requests.every(r => r.path.startsWith(`/api/models/${MODEL}/`))).toBe(true)
  })

  test('a warm run pinned to a commit with a stored listing makes no request at all', async () => {
    const { cacheDir } = await coldCache()
    const warm = await downloadRepo({ repo: `${MODEL}@${MAIN}` }, options(cacheDir))
    expect(warm.files.map(f => f.source)).toEqual(modelFiles.map(() => 'cache'))
    expect(hub.requests).toEqual([])
  })

  test('a blob corrupted in place (same length) is detected and repaired', async () => {
    const { cacheDir } = await coldCache()
    const weights = hub.file(MODEL, 'model.safetensors')
    const blob = path.join(repoDir(cacheDir), 'blobs', weights.etag)
    const bad = Buffer.from(weights.bytes)
    bad[1000] ^= 0x01
    await fs.writeFile(blob, bad)

    const result = await downloadRepo({ repo: MODEL }, options(cacheDir))
    expect(sources(result)['model.safetensors']).toBe('repaired')
    expect(result.files.filter(f => f.source !== 'cache').map(f => f.path)).toEqual(['model.safetensors'])
    expect(result.bytesDownloaded).toBe(weights.size)
    expect(hub.cdnBytes).toBe(weights.size)
    expect(sha256(await fs.readFile(blob))).toBe(weights.sha256)
  })

  test('a truncated regular-file blob is detected and repaired', async () => {
    const { cacheDir } = await coldCache()
    const config = hub.file(MODEL, 'tokenizer/special tokens.json')
    const blob = path.join(repoDir(cacheDir), 'blobs', config.etag)
    await fs.truncate(blob, 3)

    const result = await downloadRepo({ repo: MODEL }, options(cacheDir))
    expect(sources(result)['tokenizer/special tokens.json']).toBe('repaired')
    expect(hub.hubFileBytes).toBe(config.size)
    expect(await fs.readFile(path.join(result.snapshot, 'tokenizer/special tokens.json'), 'utf8')).toBe('{"pad": 0}\n')
  })

  test('a blob present but with its snapshot link missing is relinked without downloading', async () => {
    const { cacheDir } = await coldCache()
    await fs.rm(path.join(repoDir(cacheDir), 'snapshots', MAIN, 'nested'), { recursive: true })
    const result = await downloadRepo({ repo: MODEL }, options(cacheDir))
    expect(result.files.every(f => f.source === 'cache')).toBe(true)
    expect(await fs.readFile(path.join(result.snapshot, 'nested/vocab.txt'), 'utf8')).toBe('a\nb\nc\n')
    expect(fileBytes()).toBe(0)
  })
})

describe('faults', () => {
  const weights = () => hub.file(MODEL, 'model.safetensors')
  const only = { globs: ['model.safetensors'] }
  const cdnLog = () => hub.requests.filter(r => r.origin === 'cdn')

  test('a connection dropped mid-stream resumes with Range', async () => {
    hub.faults.cdn = { drop: { times: 1, afterBytes: 100 * KiB } }
    const cacheDir = freshCache()
    const result = await downloadRepo({ repo: MODEL, ...only }, options(cacheDir))
    expect(sources(result)).toEqual({ 'model.safetensors': 'downloaded' })
    const [first, resumed] = cdnLog()
    expect(first.complete).toBe(false)
    expect(resumed.range).toMatch(/^bytes=\d+-$/)
    const offset = Number(/=(\d+)-/.exec(resumed.range as string)?.[1])
    expect(offset).toBeGreaterThan(0)
    expect(resumed.status).toBe(206)
    expect(resumed.bytes).toBe(weights().size - offset)
    // What we received; the fixture also counts bytes the reset discarded in its socket buffer.
    expect(result.bytesDownloaded).toBe(offset + resumed.bytes)
    expect(result.bytesDownloaded).toBeLessThanOrEqual(hub.cdnBytes)
    expect(sha256(await fs.readFile(path.join(result.snapshot, 'model.safetensors')))).toBe(weights().sha256)
  })

  test('a server that ignores Range makes us restart from zero, still correct', async () => {
    // ignoreRange also matches the first (unranged) request, so it stays armed.
    hub.faults.cdn = { truncate: { times: 1, afterBytes: 50 * KiB }, ignoreRange: {} }
    const result = await downloadRepo({ repo: MODEL, ...only }, options(freshCache()))
    const [, again] = cdnLog()
    expect(again.range).toBe(`bytes=${50 * KiB}-`)
    expect(again.status).toBe(200)
    expect(result.bytesDownloaded).toBe(50 * KiB + weights().size)
    expect(result.bytesDownloaded).toBe(hub.cdnBytes)
    expect(sha256(await fs.readFile(path.join(result.snapshot, 'model.safetensors')))).toBe(weights().sha256)
  })

  test('right-length corrupt bytes fail clearly and publish nothing', async () => {
    hub.faults.cdn = { corrupt: {} }
    const cacheDir = freshCache()
    const error = await rejection(downloadRepo({ repo: MODEL, ...only }, options(cacheDir)))
    expect(error.message).toContain(`sha256 mismatch, expected ${weights().sha256}`)
    expect(error.message).not.toMatch(/Signature=/)
    // One fresh attempt after the first mismatch, then give up.
    expect(cdnLog()).toHaveLength(2)
    expect(await listTree(path.join(repoDir(cacheDir), 'blobs'))).toEqual([])
    expect(await listTree(path.join(repoDir(cacheDir), 'snapshots'))).toEqual([])
    expect(await listTree(path.join(repoDir(cacheDir), 'refs'))).toEqual([])
    expect((await listTree(cacheDir)).filter(p => p.includes('.incomplete'))).toEqual([])
  })

  test('corrupt bytes once: the fresh attempt succeeds', async () => {
    hub.faults.cdn = { corrupt: { times: 1 } }
    const result = await downloadRepo({ repo: MODEL, ...only }, options(freshCache()))
    expect(cdnLog()).toHaveLength(2)
    expect(sha256(await fs.readFile(path.join(result.snapshot, 'model.safetensors')))).toBe(weights().sha256)
  })

  test('503 and 429 are retried, honouring RateLimit t= and Retry-After', async () => {
    hub.faults.cdn = { status: { status: 503, times: 2 } }
    hub.faults.resolve = { status: 429, times: 1, rateLimitResetSeconds: 7, path: 'model.safetensors' }
    hub.faults.api = { status: 429, times: 1, retryAfterSeconds: 3 }
    const result = await downloadRepo({ repo: MODEL, ...only }, options(freshCache()))
    expect(sha256(await fs.readFile(path.join(result.snapshot, 'model.safetensors')))).toBe(weights().sha256)
    expect(cdnLog().map(r => r.status)).toEqual([503, 503, 200])
    expect(sleeps).toEqual(expect.arrayContaining([3000, 7000]))
    expect(sleeps).toHaveLength(4)
  })

  test('a persistent 503 gives up after the bounded attempts', async () => {
    hub.faults.cdn = { status: { status: 503 } }
    const cacheDir = freshCache()
    const error = await rejection(downloadRepo({ repo: MODEL, ...only }, options(cacheDir)))
    expect(error.message).toMatch(/HTTP 503 from http:\/\/127\.0\.0\.1:\d+\/lfs\/[0-9a-f]{64}:/)
    expect(cdnLog()).toHaveLength(retry.attempts)
    expect(await listTree(path.join(repoDir(cacheDir), 'blobs'))).toEqual([])
  })

  test('a regular file resumes on the Hub origin, keeping Authorization there', async () => {
    hub.faults.file = { drop: { times: 1, afterBytes: 4, path: 'config.json' } }
    const result = await downloadRepo({ repo: MODEL, globs: ['config.json'] }, options(freshCache(), { token: TOKEN }))
    const served = hub.requests.filter(r => r.path.startsWith('/api/resolve-cache/'))
    expect(served.map(r => [r.status, r.range, r.authorization])).toEqual([
      [200, undefined, true],
      [206, 'bytes=4-', true]
    ])
    expect(await fs.readFile(path.join(result.snapshot, 'config.json'), 'utf8')).toBe('{"hidden": 4}\n')
  })

  test('files download concurrently, up to the limit', async () => {
    const peak = async (concurrency: number) => {
      hub.resetCounters()
      // Both LFS files drip for ~0.3 s, so with room for two they must overlap.
      hub.faults.cdn = { slow: { bytesPerSecond: 1024 * KiB } }
      let max = 0
      const timer = setInterval(() => {
        max = Math.max(max, hub.requests.filter(r => r.origin === 'cdn' && r.status === 200 && r.complete === undefined).length)
      }, 5)
      try {
        await downloadRepo({ repo: MODEL, globs: ['**/*.bin', '*.safetensors'] }, options(freshCache(), { concurrency }))
      } finally {
        clearInterval(timer)
      }
      return max
    }
    expect(await peak(4)).toBe(2)
    expect(await peak(1)).toBe(1)
  })

  test("another writer's lock is waited for, then worked around", async () => {
    const cacheDir = freshCache()
    const etag = hub.file(MODEL, 'config.json').etag
    const lock = path.join(cacheDir, '.locks', 'models--acme--tiny-model', `${etag}.lock`)
    await fs.mkdir(path.dirname(lock), { recursive: true })
    await fs.writeFile(lock, '')
    const started = Date.now()
    const result = await downloadRepo({ repo: MODEL, globs: ['config.json'] }, options(cacheDir, { lockWaitMs: 200 }))
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    expect(sources(result)).toEqual({ 'config.json': 'downloaded' })
    // Not ours to delete.
    expect(await fs.readdir(path.dirname(lock))).toEqual([`${etag}.lock`])
  })

  test('an expired signed URL is re-resolved at the Hub', async () => {
    hub.faults.cdn = { expired: { times: 1 } }
    const result = await downloadRepo({ repo: MODEL, ...only }, options(freshCache()))
    expect(sources(result)).toEqual({ 'model.safetensors': 'downloaded' })
    expect(hub.requests.filter(r => r.path.includes('/resolve/')).length).toBe(2)
    expect(cdnLog().map(r => r.status)).toEqual([403, 200])
    expect(sleeps).toEqual([])
  })

  test('URLs that are always expired fail instead of looping', async () => {
    hub.signedUrlTtlSeconds = -10
    const error = await rejection(downloadRepo({ repo: MODEL, ...only }, options(freshCache())))
    expect(error.message).toMatch(/HTTP 403 [\s\S]*Request has expired/)
    expect(cdnLog().length).toBeLessThanOrEqual(4)
  })
})

describe('errors', () => {
  test('gated repo: without a token, and with an unapproved one', async () => {
    const noToken = await rejection(downloadRepo({ repo: 'acme/gated-model' }, options(freshCache())))
    expect(noToken.message).toMatch(/acme\/gated-model is gated: accept its terms/)
    const unapproved = await rejection(downloadRepo({ repo: 'acme/gated-model' }, options(freshCache(), { token: OTHER })))
    expect(unapproved.message).toMatch(/gated and the hf-token is not approved/)
    expect(unapproved.message).not.toContain(OTHER)
  })

  test('unknown repo, unknown revision, bad token', async () => {
    expect((await rejection(downloadRepo({ repo: 'acme/nope' }, options(freshCache())))).message).toMatch(
      /acme\/nope does not exist, or is private/
    )
    expect((await rejection(downloadRepo({ repo: 'acme/nope' }, options(freshCache(), { token: TOKEN })))).message).toMatch(
      /does not exist, or the hf-token cannot read it/
    )
    expect((await rejection(downloadRepo({ repo: `${MODEL}@nope` }, options(freshCache())))).message).toBe(
      `${MODEL}: revision "nope" does not exist`
    )
    const bad = await rejection(downloadRepo({ repo: MODEL }, options(freshCache(), { token: 'hf_expired' })))
    expect(bad.message).toMatch(/rejected the hf-token/)
    expect(bad.message).not.toContain('hf_expired')
  })

  test('a pinned sha256 that disagrees with the Hub fails before any download', async () => {
    const pins = { 'model.safetensors': 'a'.repeat(64) }
    const error = await rejection(downloadRepo({ repo: MODEL, pins }, options(freshCache())))
    expect(error.message).toContain(
      `model.safetensors is pinned to sha256 ${'a'.repeat(64)} but the Hub has sha256 ${hub.file(MODEL, 'model.safetensors').sha256}`
    )
    expect(resolveRequests()).toEqual([])
  })

  test('a sha256 pin on a regular file is verified with the git sha1', async () => {
    const config = hub.file(MODEL, 'config.json')
    const good = await downloadRepo({ repo: MODEL, globs: ['config.json'], pins: { 'config.json': config.sha256 } }, options(freshCache()))
    expect(good.files[0].digest).toBe(`sha256:${config.sha256}`)

    const cacheDir = freshCache()
    const error = await rejection(
      downloadRepo({ repo: MODEL, globs: ['config.json'], pins: { 'config.json': 'b'.repeat(64) } }, options(cacheDir))
    )
    expect(error.message).toContain(`sha256 mismatch, expected ${'b'.repeat(64)}, got ${config.sha256}`)
    expect(await listTree(path.join(repoDir(cacheDir), 'blobs'))).toEqual([])
    const missing = await rejection(
      downloadRepo({ repo: MODEL, globs: ['*.json'], pins: { 'README.md': config.sha256 } }, options(freshCache()))
    )
    expect(missing.message).toMatch(/pinned file README.md is not among the selected files/)
  })

  test('a ".." path from the API is refused and nothing is written outside the cache', async () => {
    const cacheDir = freshCache()
    const error = await rejection(downloadRepo({ repo: 'acme/evil-model' }, options(cacheDir)))
    expect(error.message).toMatch(/unsafe file path "\.\.\/escape\.bin"/)
    expect(await listTree(work)).not.toContain('escape.bin')
    expect(resolveRequests()).toEqual([])
  })

  test('the path validator and the repo parser', () => {
    for (const bad of ['/etc/passwd', 'a/../../b', 'a\\b', 'C:/x', './a', 'a//b', '', 'a/'])
      expect(() => assertSafeRepoPath(bad)).toThrow(/unsafe/)
    expect(() => assertSafeRepoPath('nested/deeper/weights.bin')).not.toThrow()
    expect(parseRepoRef('org/name')).toEqual({ type: 'model', id: 'org/name', revision: 'main' })
    expect(parseRepoRef('datasets/org/data@refs/pr/1')).toEqual({ type: 'dataset', id: 'org/data', revision: 'refs/pr/1' })
    for (const bad of ['name', 'a/b/c', 'org/na--me', '../x', 'org/name@', 'org/name@../main', 'org/ name'])
      expect(() => parseRepoRef(bad)).toThrow()
  })

  test('rate-limit header parsing', () => {
    expect(rateLimitResetSeconds({ ratelimit: '"resolvers";r=0;t=42' })).toBe(42)
    expect(rateLimitResetSeconds({ ratelimit: '"resolvers";r=5;t=42' })).toBeUndefined()
    expect(retryAfterSeconds({ 'retry-after': '12' })).toBe(12)
    expect(retryAfterSeconds({ 'retry-after': new Date(Date.now() + 30_000).toUTCString() })).toBeGreaterThanOrEqual(29)
  })
})

test('@huggingface/hub scanCacheDir reads our cache without warnings', async () => {
  const cacheDir = freshCache()
  const result = await downloadRepo({ repo: 'acme/flat-model' }, options(cacheDir))
  const scan = await scanCacheDir(cacheDir)
  expect(scan.warnings).toEqual([])
  expect(scan.repos).toHaveLength(1)
  const [repo] = scan.repos
  expect(repo.id).toEqual({ name: 'acme/flat-model', type: 'model' })
  expect(repo.revisions.map(r => [r.commitOid, r.refs])).toEqual([[FLAT, ['main']]])
  expect(repo.revisions[0].files.map(f => path.basename(f.path)).sort()).toEqual(['config.json', 'empty.txt', 'model.bin'])
  // The empty file needs no request, yet is verified (git's empty blob id) and linked.
  expect(result.files.find(f => f.path === 'empty.txt')).toMatchObject({
    size: 0,
    digest: 'git-sha1:e69de29bb2d1d6434b8b29ae775ad8c2e48c5391',
    source: 'downloaded'
  })
  expect(hub.requests.filter(r => r.path.includes('empty.txt'))).toEqual([])
  expect(repo.size).toBe(result.files.reduce((sum, f) => sum + f.size, 0))
})
