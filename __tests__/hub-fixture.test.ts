/**
 * The local mini Hub (support/hub.ts) against an independent client, the real `@huggingface/hub`,
 * then its protocol details and every injectable fault with plain fetch. If a real client works
 * here, tests of our own downloader against the fixture say something about the real Hub.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import {
  downloadFile,
  downloadFileToCacheDir,
  fileDownloadInfo,
  HubApiError,
  listFiles,
  modelInfo,
  scanCacheDir,
  snapshotDownload,
  type ListFileEntry
} from '@huggingface/hub'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { type Hub, type HubFileSpec, gitBlobSha1, startHub } from './support/hub.js'

const KiB = 1024
const commitId = (seed: string) => createHash('sha1').update(seed).digest('hex')
const C1 = commitId('c1')
const C2 = commitId('c2')
const C3 = commitId('c3')
const SECRET = commitId('secret')
const GATED = commitId('gated')
const DATA = commitId('data')
const OFF = commitId('off')

const MODEL = 'acme/tiny-model'
const DATASET = 'datasets/acme/tiny-data'
const READER = 'hf_reader' // may read acme/secret-model, not approved for the gated one
const APPROVED = 'hf_approved'

const text = (s: string) => Buffer.from(s)
const weights = randomBytes(200 * KiB)
const deepWeights = randomBytes(40 * KiB)
const modelV1: HubFileSpec[] = [
  { path: 'config.json', bytes: text('{"version": 1}\n'), lfs: false },
  { path: 'model.safetensors', bytes: weights, lfs: true }
]
const modelV2: HubFileSpec[] = [
  { path: 'README.md', bytes: text('# tiny model\n'), lfs: false },
  { path: 'config.json', bytes: text('{"version": 2}\n'), lfs: false },
  { path: 'model.safetensors', bytes: weights, lfs: true },
  { path: 'nested/vocab.txt', bytes: text('a\nb\nc\n'), lfs: false },
  { path: 'nested/deeper/weights.bin', bytes: deepWeights, lfs: true },
  { path: 'tokenizer/special tokens.json', bytes: text('{"pad": 0}\n'), lfs: false }
]
const privateFiles = (tag: string): HubFileSpec[] => [
  { path: 'config.json', bytes: text(`{"${tag}": true}\n`), lfs: false },
  { path: 'weights.bin', bytes: randomBytes(8 * KiB), lfs: true }
]

let hub: Hub
let work: string

beforeAll(async () => {
  hub = await startHub({
    repos: [
      {
        id: MODEL,
        refs: { main: C2, 'v1.0': C1, 'refs/pr/1': C3 },
        commits: { [C1]: modelV1, [C2]: modelV2, [C3]: [...modelV2, { path: 'extra.txt', bytes: text('pr\n'), lfs: false }] }
      },
      { id: 'acme/secret-model', access: 'private', refs: { main: SECRET }, commits: { [SECRET]: privateFiles('secret') } },
      { id: 'acme/gated-model', access: 'gated', refs: { main: GATED }, commits: { [GATED]: privateFiles('gated') } },
      { id: 'acme/off-model', disabled: true, refs: { main: OFF }, commits: { [OFF]: privateFiles('off') } },
      {
        id: 'acme/tiny-data',
        type: 'dataset',
        refs: { main: DATA },
        commits: {
          [DATA]: [
            { path: 'README.md', bytes: text('# data\n'), lfs: false },
            { path: 'data/train.csv', bytes: text('x,y\n1,2\n'), lfs: false },
            { path: 'data/train.parquet', bytes: randomBytes(30 * KiB), lfs: true }
          ]
        }
      }
    ],
    tokens: { [READER]: ['acme/secret-model'], [APPROVED]: ['acme/secret-model', 'acme/gated-model'] }
  })
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-hub-'))
  // downloadFileToCacheDir logs every download with console.debug.
  jest.spyOn(console, 'debug').mockImplementation(() => undefined)
})

afterAll(async () => {
  await hub?.close()
  if (work) await fs.rm(work, { recursive: true, force: true })
})

const resolveUrl = (file: string, rev = 'main', repo = MODEL) => `${hub.url}/${repo}/resolve/${encodeURIComponent(rev)}/${file}`
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer())
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Size and digest, not jest's element-wise Buffer diff (seconds per 200 KiB). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect({ size: actual.length, sha256: sha256(actual) }).toEqual({ size: expected.length, sha256: sha256(expected) })
}

async function all<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of gen) out.push(item)
  return out
}

/** Resolves an LFS file to its signed CDN URL without following the redirect. */
async function cdnLocation(file = 'model.safetensors'): Promise<string> {
  const res = await fetch(resolveUrl(file), { method: 'HEAD', redirect: 'manual' })
  expect(res.status).toBe(302)
  return res.headers.get('location') as string
}

/** Resolves a regular file to its commit-pinned /api/resolve-cache URL (absolute). */
async function cacheLocation(file = 'config.json'): Promise<string> {
  const res = await fetch(resolveUrl(file), { method: 'HEAD', redirect: 'manual' })
  expect(res.status).toBe(307)
  return new URL(res.headers.get('location') as string, hub.url).href
}

async function expectHubError(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(HubApiError)
  expect((error as HubApiError).statusCode).toBe(status)
  expect((error as HubApiError).message).toMatch(message)
}

describe('@huggingface/hub against the fixture', () => {
  test('listFiles follows the Link pagination and sees every file and directory', async () => {
    hub.resetCounters()
    const entries = await all(listFiles({ repo: MODEL, recursive: true, hubUrl: hub.url }))

    const dirs = ['nested', 'nested/deeper', 'tokenizer']
    expect(entries.map(e => e.path).sort()).toEqual([...dirs, ...modelV2.map(f => f.path)].sort())
    for (const dir of dirs)
      expect(entries.find(e => e.path === dir)).toMatchObject({ type: 'directory', size: 0, oid: expect.stringMatching(/^[0-9a-f]{40}$/) })
    for (const spec of modelV2) {
      const file = hub.file(MODEL, spec.path)
      const expected: Partial<ListFileEntry> = { type: 'file', path: spec.path, size: spec.bytes.length, oid: file.oid }
      if (spec.lfs)
        expected.lfs = { oid: sha256(spec.bytes), size: spec.bytes.length, pointerSize: Buffer.byteLength(file.pointer as string) }
      expect(entries.find(e => e.path === spec.path)).toEqual(expected)
    }
    // 9 entries at 2 per page: five requests, each but the last with a next link.
    const pages = hub.requests.filter(r => r.path.includes('/tree/'))
    expect(pages).toHaveLength(5)
    expect(pages.every(r => r.status === 200 && r.kind === 'api')).toBe(true)
    expect(hub.hubApiBytes).toBe(pages.reduce((sum, r) => sum + r.bytes, 0))
  })

  test('listFiles lists one directory, and a dataset', async () => {
    const nested = await all(listFiles({ repo: MODEL, path: 'nested', hubUrl: hub.url }))
    expect(nested.map(e => [e.type, e.path])).toEqual([
      ['directory', 'nested/deeper'],
      ['file', 'nested/vocab.txt']
    ])
    const data = await all(listFiles({ repo: DATASET, recursive: true, hubUrl: hub.url }))
    expect(data.map(e => e.path).sort()).toEqual(['README.md', 'data', 'data/train.csv', 'data/train.parquet'])
  })

  test('fileDownloadInfo: git sha1 for regular files, sha256 for LFS, the pointer with raw', async () => {
    const config = hub.file(MODEL, 'config.json')
    const weightsFile = hub.file(MODEL, 'model.safetensors')

    expect(await fileDownloadInfo({ repo: MODEL, path: 'config.json', hubUrl: hub.url })).toMatchObject({
      etag: `"${gitBlobSha1(config.bytes)}"`,
      size: config.size,
      url: expect.stringContaining(`/api/resolve-cache/models/${MODEL}/${C2}/config.json`)
    })
    // It follows the 302, so the etag is the CDN's ETag (the sha256), not the Hub's X-Linked-Etag.
    expect(await fileDownloadInfo({ repo: MODEL, path: 'model.safetensors', hubUrl: hub.url })).toMatchObject({
      etag: `"${sha256(weights)}"`,
      size: weights.length,
      url: resolveUrl('model.safetensors')
    })
    expect(await fileDownloadInfo({ repo: MODEL, path: 'model.safetensors', raw: true, hubUrl: hub.url })).toMatchObject({
      etag: `"${weightsFile.pointerOid}"`,
      size: Buffer.byteLength(weightsFile.pointer as string)
    })
    expect(await fileDownloadInfo({ repo: MODEL, path: 'missing.bin', hubUrl: hub.url })).toBeNull()
  })

  test('downloadFile returns the declared bytes, and never sends the token to the CDN', async () => {
    hub.resetCounters()
    const opts = { repo: MODEL, hubUrl: hub.url, accessToken: READER }

    const config = await downloadFile({ ...opts, path: 'config.json' })
    expect(Buffer.from(await (config as Blob).arrayBuffer())).toEqual(text('{"version": 2}\n'))
    const model = await downloadFile({ ...opts, path: 'model.safetensors' })
    expectSameBytes(Buffer.from(await (model as Blob).arrayBuffer()), weights)
    const old = await downloadFile({ ...opts, path: 'config.json', revision: 'v1.0' })
    expect(await (old as Blob).text()).toBe('{"version": 1}\n')

    const cdn = hub.requests.filter(r => r.origin === 'cdn')
    expect(cdn.length).toBeGreaterThan(0)
    expect(cdn.filter(r => r.authorization)).toEqual([])
    expect(hub.requests.filter(r => r.origin === 'hub').every(r => r.authorization)).toBe(true)
    expect(hub.requests.every(r => r.status < 400)).toBe(true)
    // fileDownloadInfo's Range probe (1 byte) plus the full body.
    expect(hub.cdnBytes).toBe(weights.length + 1)
  })

  test('downloadFileToCacheDir writes HF-layout blobs: sha256 for LFS, git sha1 for regular files', async () => {
    const cacheDir = path.join(work, 'cache-files')
    const opts = { repo: MODEL, hubUrl: hub.url, revision: C2, cacheDir }

    const deep = await downloadFileToCacheDir({ ...opts, path: 'nested/deeper/weights.bin' })
    const repoDir = path.join(cacheDir, 'models--acme--tiny-model')
    expect(deep).toBe(path.join(repoDir, 'snapshots', C2, 'nested/deeper/weights.bin'))
    expect(await fs.readlink(deep)).toBe(`../../../../blobs/${sha256(deepWeights)}`)
    expectSameBytes(await fs.readFile(deep), deepWeights)

    const vocab = await downloadFileToCacheDir({ ...opts, path: 'nested/vocab.txt' })
    expect(await fs.readlink(vocab)).toBe(`../../../blobs/${gitBlobSha1(text('a\nb\nc\n'))}`)
    expect(await fs.readFile(vocab, 'utf8')).toBe('a\nb\nc\n')
  })

  test('snapshotDownload writes refs/main and every file; scanCacheDir reads the result', async () => {
    const cacheDir = path.join(work, 'cache-snapshot')
    const snapshot = await snapshotDownload({ repo: DATASET, hubUrl: hub.url, cacheDir })

    const repoDir = path.join(cacheDir, 'datasets--acme--tiny-data')
    expect(snapshot).toBe(path.join(repoDir, 'snapshots', DATA))
    expect(await fs.readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(DATA) // no newline
    for (const file of ['README.md', 'data/train.csv', 'data/train.parquet']) {
      expectSameBytes(await fs.readFile(path.join(snapshot, file)), hub.file(DATASET, file).bytes)
    }

    const scan = await scanCacheDir(cacheDir)
    expect(scan.warnings).toEqual([])
    expect(scan.repos).toHaveLength(1)
    const [repo] = scan.repos
    expect(repo.id).toEqual({ name: 'acme/tiny-data', type: 'dataset' })
    expect(repo.revisions.map(r => [r.commitOid, r.refs])).toEqual([[DATA, ['main']]])
    // scanSnapshotDir does not descend into subdirectories: only top-level files are counted.
    expect(repo.revisions[0].files.map(f => path.relative(snapshot, f.path))).toEqual(['README.md'])
  })

  test('private, gated, unknown revision and bad tokens surface as HubApiErrors', async () => {
    const opts = { hubUrl: hub.url }
    await expectHubError(modelInfo({ ...opts, name: 'acme/secret-model' }), 401, /Invalid username or password/)
    await expectHubError(modelInfo({ ...opts, name: 'acme/secret-model', accessToken: 'hf_unknown' }), 401, /Invalid credentials/)
    await expectHubError(modelInfo({ ...opts, name: 'acme/no-such-model', accessToken: READER }), 404, /Repository not found/)
    const secret = await modelInfo({ ...opts, name: 'acme/secret-model', accessToken: READER, additionalFields: ['sha'] })
    expect(secret).toMatchObject({ name: 'acme/secret-model', private: true, sha: SECRET })

    // Gated: metadata is public, content needs an approved token.
    expect(await modelInfo({ ...opts, name: 'acme/gated-model' })).toMatchObject({ gated: 'manual' })
    await expectHubError(downloadFile({ ...opts, repo: 'acme/gated-model', path: 'weights.bin' }), 401, /restricted.*Please log in/)
    await expectHubError(
      downloadFile({ ...opts, repo: 'acme/gated-model', path: 'weights.bin', accessToken: READER }),
      403,
      /not in the authorized list/
    )
    const blob = await downloadFile({ ...opts, repo: 'acme/gated-model', path: 'weights.bin', accessToken: APPROVED })
    expectSameBytes(Buffer.from(await (blob as Blob).arrayBuffer()), hub.file('acme/gated-model', 'weights.bin').bytes)

    await expectHubError(all(listFiles({ ...opts, repo: MODEL, revision: 'no-such-branch' })), 404, /Invalid rev id/)
    await expectHubError(downloadFile({ ...opts, repo: MODEL, path: 'config.json', revision: 'no-such-branch' }), 404, /Invalid rev id/)
    await expectHubError(
      snapshotDownload({ ...opts, repo: 'acme/secret-model', cacheDir: path.join(work, 'denied') }),
      401,
      /Invalid username/
    )
  })
})

describe('the resolve protocol', () => {
  test('regular file: 307 to a relative, commit-pinned URL, then 200 with the git sha1 ETag', async () => {
    const file = hub.file(MODEL, 'config.json')
    const head = await fetch(resolveUrl('config.json'), { method: 'HEAD', redirect: 'manual' })
    expect(head.status).toBe(307)
    const location = head.headers.get('location') as string
    expect(location).toBe(`/api/resolve-cache/models/${MODEL}/${C2}/config.json?etag=%22${file.gitSha1}%22`)

    const ok = await fetch(new URL(location, hub.url), { method: 'HEAD' })
    expect(ok.status).toBe(200)
    expect(Object.fromEntries(ok.headers)).toMatchObject({
      'x-repo-commit': C2,
      etag: `"${file.gitSha1}"`,
      'content-length': String(file.size),
      'accept-ranges': 'bytes',
      'content-disposition': `inline; filename*=UTF-8''config.json; filename="config.json";`
    })
    // Names with spaces are percent-encoded per segment and decoded by the server.
    const spaced = await fetch(`${hub.url}/${MODEL}/resolve/main/tokenizer/special%20tokens.json`)
    expect(await spaced.text()).toBe('{"pad": 0}\n')
    expect(spaced.url).toContain('/tokenizer/special%20tokens.json?etag=')
  })

  test('LFS file: 302 to an absolute URL on the CDN origin, digest headers only on the 302', async () => {
    const file = hub.file(MODEL, 'model.safetensors')
    const res = await fetch(resolveUrl('model.safetensors'), { redirect: 'manual' })
    expect(res.status).toBe(302)
    const location = new URL(res.headers.get('location') as string)
    expect(location.origin).toBe(hub.cdnUrl)
    expect(location.origin).not.toBe(new URL(hub.url).origin)
    expect(location.pathname).toBe(`/lfs/${file.sha256}`)
    expect([...location.searchParams.keys()]).toEqual(['Expires', 'Signature'])
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'x-repo-commit': C2,
      'x-linked-etag': `"${file.sha256}"`,
      'x-linked-size': String(file.size),
      etag: `"${file.pointerOid}"`,
      'content-type': 'text/plain; charset=utf-8'
    })
    const body = await res.text()
    expect(body).toBe(`Found. Redirecting to ${location.href}`)
    expect(Number(res.headers.get('content-length'))).toBe(body.length)
    expect(body.length).not.toBe(file.size)

    const cdn = await fetch(location)
    expect(Object.fromEntries(cdn.headers)).toMatchObject({
      'accept-ranges': 'bytes',
      'content-length': String(file.size),
      'cache-control': 'public, max-age=31536000'
    })
    expect(cdn.headers.get('x-linked-etag')).toBeNull()
    expectSameBytes(await bytesOf(cdn), weights)
  })

  test('revisions: tags, refs%2Fpr%2F1, commits and HEAD; /raw serves the LFS pointer', async () => {
    for (const [rev, commit] of [
      ['v1.0', C1],
      ['refs/pr/1', C3],
      [C1, C1],
      ['HEAD', C2]
    ]) {
      const res = await fetch(resolveUrl('config.json', rev), { method: 'HEAD', redirect: 'manual' })
      expect(res.headers.get('x-repo-commit')).toBe(commit)
    }
    expect(await (await fetch(resolveUrl('extra.txt', 'refs/pr/1'))).text()).toBe('pr\n')
    expect(await (await fetch(resolveUrl('config.json', 'v1.0'))).text()).toBe('{"version": 1}\n')

    const file = hub.file(MODEL, 'model.safetensors')
    const raw = await fetch(`${hub.url}/${MODEL}/raw/main/model.safetensors`)
    expect(raw.headers.get('etag')).toBe(`"${file.pointerOid}"`)
    expect(await raw.text()).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${file.sha256}\nsize ${file.size}\n`)
  })

  test('If-None-Match with the current etag answers 304 with X-Repo-Commit', async () => {
    const file = hub.file(MODEL, 'config.json')
    const res = await fetch(resolveUrl('config.json'), { headers: { 'If-None-Match': `"${file.gitSha1}"` }, redirect: 'manual' })
    expect(res.status).toBe(304)
    expect(res.headers.get('x-repo-commit')).toBe(C2)
    const stale = await fetch(resolveUrl('config.json'), { headers: { 'If-None-Match': '"0000"' }, redirect: 'manual' })
    expect(stale.status).toBe(307)
  })

  test('regularFiles = direct serves the 200 on /resolve itself', async () => {
    hub.regularFiles = 'direct'
    try {
      const res = await fetch(resolveUrl('config.json'), { redirect: 'manual' })
      expect(res.status).toBe(200)
      expect(res.headers.get('etag')).toBe(`"${hub.file(MODEL, 'config.json').gitSha1}"`)
      expect(await res.text()).toBe('{"version": 2}\n')
    } finally {
      hub.regularFiles = 'redirect'
    }
  })

  test('gzipText: whole-file text GETs come gzip-encoded without Content-Length; HEAD keeps the size', async () => {
    const file = hub.file(MODEL, 'config.json')
    const url = await cacheLocation()
    hub.gzipText = true
    try {
      hub.resetCounters()
      const res = await fetch(url) // undici asks for gzip and decodes it
      expect([res.headers.get('content-encoding'), res.headers.get('content-length')]).toEqual(['gzip', null])
      expect(await res.text()).toBe('{"version": 2}\n')
      expect(hub.hubFileBytes).not.toBe(file.size) // compressed bytes on the wire
      expect((await fetch(url, { method: 'HEAD' })).headers.get('content-length')).toBe(String(file.size))
      const identity = await fetch(url, { headers: { 'Accept-Encoding': 'identity' } })
      expect([identity.headers.get('content-encoding'), await identity.text()]).toEqual([null, '{"version": 2}\n'])
      // A client that lets fetch decode still gets the declared bytes.
      const blob = await downloadFile({ repo: MODEL, path: 'config.json', hubUrl: hub.url })
      expect(await (blob as Blob).text()).toBe('{"version": 2}\n')
    } finally {
      hub.gzipText = false
    }
  })

  test('xetHeaders adds X-Xet-Hash (not the sha256) and xet links; @huggingface/hub ignores them', async () => {
    const file = hub.file(MODEL, 'model.safetensors')
    hub.xetHeaders = true
    try {
      const res = await fetch(resolveUrl('model.safetensors'), { method: 'HEAD', redirect: 'manual' })
      expect(res.headers.get('x-xet-hash')).toMatch(/^[0-9a-f]{64}$/)
      expect(res.headers.get('x-xet-hash')).not.toBe(file.sha256)
      const auth = /<([^>]+)>; rel="xet-auth"/.exec(res.headers.get('link') ?? '')?.[1] as string
      expect((await fetch(auth)).status).toBe(404) // nothing here speaks Xet
      const blob = await downloadFile({ repo: MODEL, path: 'model.safetensors', hubUrl: hub.url })
      expectSameBytes(Buffer.from(await (blob as Blob).arrayBuffer()), weights)
    } finally {
      hub.xetHeaders = false
    }
  })

  test('without a CDN ETag, @huggingface/hub cannot get LFS file info', async () => {
    hub.cdnEtag = false
    try {
      await expect(fileDownloadInfo({ repo: MODEL, path: 'model.safetensors', hubUrl: hub.url })).rejects.toThrow('Expected ETag')
    } finally {
      hub.cdnEtag = true
    }
  })

  test('Range: 206 with Content-Range, suffix ranges, 416 past the end (Hub and CDN)', async () => {
    const file = hub.file(MODEL, 'config.json')
    for (const url of [await cacheLocation(), await cdnLocation()]) {
      const content = url.startsWith(hub.cdnUrl) ? weights : file.bytes
      const total = content.length
      const part = await fetch(url, { headers: { Range: 'bytes=2-5' } })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 2-5/${total}`)
      expect(await bytesOf(part)).toEqual(content.subarray(2, 6))

      const tail = await fetch(url, { headers: { Range: 'bytes=-3' } })
      expect(await bytesOf(tail)).toEqual(content.subarray(total - 3))
      const open = await fetch(url, { headers: { Range: `bytes=${total - 4}-` } })
      expect(open.headers.get('content-range')).toBe(`bytes ${total - 4}-${total - 1}/${total}`)
      await open.arrayBuffer()

      const past = await fetch(url, { headers: { Range: `bytes=${total}-` } })
      expect(past.status).toBe(416)
      expect(past.headers.get('content-range')).toBe(`bytes */${total}`)
      await past.arrayBuffer()
    }
  })
})

describe('the CDN', () => {
  test('any Authorization header is refused with 400 "Only one auth mechanism allowed"', async () => {
    const url = await cdnLocation()
    const res = await fetch(url, { headers: bearer(READER) })
    expect(res.status).toBe(400)
    expect(await res.text()).toMatch(/<Code>InvalidArgument<\/Code><Message>Only one auth mechanism allowed/)
    expect((await fetch(url)).status).toBe(200)
  })

  test('a tampered signature or an expired URL is 403', async () => {
    const url = new URL(await cdnLocation())
    url.searchParams.set('Signature', '0'.repeat(64))
    expect((await fetch(url)).status).toBe(403)

    hub.signedUrlTtlSeconds = -1
    try {
      const expired = await fetch(await cdnLocation())
      expect(expired.status).toBe(403)
      expect(await expired.text()).toContain('Request has expired')
    } finally {
      hub.signedUrlTtlSeconds = 3600
    }
    expect((await fetch(await cdnLocation())).status).toBe(200)
  })

  test('the expired fault answers 403 once, then the same URL works', async () => {
    const url = await cdnLocation()
    hub.faults.cdn = { expired: { times: 1 } }
    expect((await fetch(url)).status).toBe(403)
    expect(hub.faults.cdn.expired).toBeUndefined()
    expectSameBytes(await bytesOf(await fetch(url)), weights)
  })
})

describe('errors (§7.3)', () => {
  async function error(url: string, init: RequestInit = {}) {
    const res = await fetch(url, { redirect: 'manual', ...init })
    const h = res.headers
    return {
      status: res.status,
      code: h.get('x-error-code'),
      message: h.get('x-error-message'),
      requestId: h.get('x-request-id'),
      commit: h.get('x-repo-commit'),
      body: (await res.json()) as { error: string }
    }
  }

  test('EntryNotFound carries X-Repo-Commit; RevisionNotFound; every error has a request id and JSON', async () => {
    const entry = await error(resolveUrl('missing.bin'))
    expect(entry).toMatchObject({ status: 404, code: 'EntryNotFound', commit: C2, body: { error: 'Entry not found' } })
    expect(entry.requestId).toBeTruthy()
    const head = await fetch(resolveUrl('missing.bin', 'v1.0'), { method: 'HEAD' })
    expect([head.status, head.headers.get('x-error-code'), head.headers.get('x-repo-commit')]).toEqual([404, 'EntryNotFound', C1])

    expect(await error(resolveUrl('config.json', 'nope'))).toMatchObject({
      status: 404,
      code: 'RevisionNotFound',
      message: 'Invalid rev id: nope'
    })
    expect(await error(`${hub.url}/api/models/${MODEL}/revision/nope`)).toMatchObject({ status: 404, code: 'RevisionNotFound' })
  })

  test('RepoNotFound: 401 anonymous (missing or private alike), 404 with a valid token', async () => {
    for (const repo of ['acme/secret-model', 'acme/no-such-model']) {
      expect(await error(resolveUrl('config.json', 'main', repo))).toMatchObject({
        status: 401,
        code: 'RepoNotFound',
        message: 'Invalid username or password.'
      })
      expect(await error(`${hub.url}/api/models/${repo}`)).toMatchObject({ status: 401, code: 'RepoNotFound' })
    }
    expect(await error(resolveUrl('config.json', 'main', 'acme/no-such-model'), { headers: bearer(READER) })).toMatchObject({
      status: 404,
      code: 'RepoNotFound'
    })
    const badToken = await error(resolveUrl('config.json', 'main', 'acme/secret-model'), { headers: bearer('hf_unknown') })
    expect(badToken).toMatchObject({ status: 401, code: null, message: 'Invalid credentials in Authorization header' })
    // A bad token is refused even where no token is needed.
    expect(await error(resolveUrl('config.json'), { headers: bearer('hf_unknown') })).toMatchObject({ status: 401, code: null })
  })

  test('GatedRepo: 401 anonymous, 403 not approved; disabled repos 403', async () => {
    const url = resolveUrl('weights.bin', 'main', 'acme/gated-model')
    const anonymous = await error(url)
    expect(anonymous).toMatchObject({
      status: 401,
      code: 'GatedRepo',
      message: expect.stringMatching(/^Access to model acme\/gated-model is restricted\. You must/)
    })
    expect(await error(url, { headers: bearer(READER) })).toMatchObject({
      status: 403,
      code: 'GatedRepo',
      message: expect.stringContaining('not in the authorized list')
    })
    expect((await fetch(url, { headers: bearer(APPROVED), redirect: 'manual' })).status).toBe(302)
    expect(await error(resolveUrl('config.json', 'main', 'acme/off-model'))).toMatchObject({
      status: 403,
      code: null,
      message: 'Access to this resource is disabled.'
    })
  })
})

describe('the JSON APIs', () => {
  test('repo info by revision, with blobs=true file metadata and expand narrowing', async () => {
    const info = (await (await fetch(`${hub.url}/api/models/${MODEL}/revision/v1.0`)).json()) as Record<string, unknown>
    expect(info).toMatchObject({
      id: MODEL,
      sha: C1,
      private: false,
      gated: false,
      siblings: [{ rfilename: 'config.json' }, { rfilename: 'model.safetensors' }]
    })

    const file = hub.file(MODEL, 'model.safetensors')
    const blobs = (await (await fetch(`${hub.url}/api/models/${MODEL}?blobs=true`)).json()) as { sha: string; siblings: object[] }
    expect(blobs.sha).toBe(C2)
    const lfs = { sha256: file.sha256, size: file.size, pointerSize: Buffer.byteLength(file.pointer as string) }
    expect(blobs.siblings).toContainEqual({ rfilename: 'model.safetensors', blobId: file.pointerOid, size: file.size, lfs })
    expect(blobs.siblings).toContainEqual({ rfilename: 'README.md', blobId: gitBlobSha1(text('# tiny model\n')), size: 13 })

    const narrow = (await (await fetch(`${hub.url}/api/datasets/acme/tiny-data/revision/main?expand=sha`)).json()) as object
    expect(Object.keys(narrow).sort()).toEqual(['_id', 'id', 'sha'])
  })

  test('tree: absolute Link to the next page, Python-style True, expand adds lastCommit', async () => {
    const first = await fetch(`${hub.url}/api/models/${MODEL}/tree/main?recursive=True&expand=False`)
    const link = first.headers.get('link') as string
    const next = /^<(http:\/\/127\.0\.0\.1:\d+\/api\/models\/acme\/tiny-model\/tree\/main\?[^>]*cursor=[^>]+)>; rel="next"$/.exec(link)?.[1]
    expect(next).toBeDefined()
    expect(new URL(next as string).searchParams.get('recursive')).toBe('True')
    expect(((await first.json()) as object[]).length).toBe(2)

    // lastCommit is the newest commit that changed the path: model.safetensors is unchanged since C1.
    hub.treePageSize = 100
    try {
      const entries = (await (await fetch(`${hub.url}/api/models/${MODEL}/tree/main?expand=true`)).json()) as {
        path: string
        lastCommit: { id: string }
      }[]
      expect(Object.fromEntries(entries.map(e => [e.path, e.lastCommit.id]))).toEqual({
        'README.md': C2,
        'config.json': C2,
        'model.safetensors': C1,
        nested: C2,
        tokenizer: C2
      })
    } finally {
      hub.treePageSize = 2
    }
    const missing = await fetch(`${hub.url}/api/models/${MODEL}/tree/main/no-such-dir`)
    expect([missing.status, missing.headers.get('x-error-code')]).toEqual([404, 'EntryNotFound'])
  })

  test('paths-info takes form (Python) and JSON (JS) bodies and drops unknown paths', async () => {
    const url = `${hub.url}/api/models/${MODEL}/paths-info/${C2}`
    const form = await fetch(url, {
      method: 'POST',
      body: new URLSearchParams([
        ['paths', 'config.json'],
        ['paths', 'nope'],
        ['paths', 'nested'],
        ['expand', 'False']
      ])
    })
    expect(((await form.json()) as { path: string; type: string }[]).map(e => [e.path, e.type])).toEqual([
      ['config.json', 'file'],
      ['nested', 'directory']
    ])

    const json = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ paths: ['model.safetensors'], expand: true })
    })
    expect(await json.json()).toEqual([
      expect.objectContaining({
        path: 'model.safetensors',
        lfs: expect.objectContaining({ oid: sha256(weights) }),
        lastCommit: expect.objectContaining({ id: C1 })
      })
    ])
  })
})

describe('faults', () => {
  test('status faults: 429 with RateLimit/Retry-After and 503 for the first K attempts, per endpoint', async () => {
    hub.faults.resolve = { status: 429, times: 2, rateLimitResetSeconds: 7, retryAfterSeconds: 8 }
    for (let i = 0; i < 2; i++) {
      const res = await fetch(resolveUrl('config.json'), { redirect: 'manual' })
      expect([res.status, res.headers.get('ratelimit'), res.headers.get('retry-after')]).toEqual([429, '"resolvers";r=0;t=7', '8'])
      expect(res.headers.get('ratelimit-policy')).toBe('"fixed window";"resolvers";q=3000;w=300')
    }
    expect((await fetch(resolveUrl('config.json'), { redirect: 'manual' })).status).toBe(307)

    hub.faults.api = { status: 429, times: 1, rateLimitResetSeconds: 3 }
    const api = await fetch(`${hub.url}/api/models/${MODEL}`)
    expect([api.status, api.headers.get('ratelimit')]).toEqual([429, '"api";r=0;t=3'])
    expect((await fetch(`${hub.url}/api/models/${MODEL}`)).status).toBe(200)

    const cached = await cacheLocation()
    hub.faults.file = { status: { status: 503, times: 1 } }
    expect((await fetch(cached)).status).toBe(503)
    expect((await fetch(cached)).status).toBe(200)

    const cdn = await cdnLocation()
    hub.faults.cdn = { status: { status: 503, times: 2, retryAfterSeconds: 1 } }
    expect((await fetch(cdn)).status).toBe(503)
    expect((await fetch(cdn)).headers.get('retry-after')).toBe('1')
    expect((await fetch(cdn)).status).toBe(200)
  })

  test('truncate: full Content-Length, N bytes, then a clean close', async () => {
    const url = await cdnLocation()
    hub.faults.cdn = { truncate: { afterBytes: 1000, times: 1 } }
    hub.resetCounters()
    const res = await fetch(url)
    expect(res.headers.get('content-length')).toBe(String(weights.length))
    await expect(res.arrayBuffer()).rejects.toThrow()
    await waitFor(() => hub.requests[0]?.complete !== undefined)
    expect(hub.requests[0]).toMatchObject({ origin: 'cdn', status: 200, bytes: 1000, complete: false })
    expect(hub.cdnBytes).toBe(1000)
    expectSameBytes(await bytesOf(await fetch(url)), weights)
  })

  test('drop: the connection is reset mid-stream (Hub file path, targeted by path)', async () => {
    const url = await cacheLocation('nested/vocab.txt')
    hub.faults.file = { drop: { path: 'README.md', afterBytes: 2 } }
    expect(await (await fetch(url)).text()).toBe('a\nb\nc\n') // another file: untouched
    hub.faults.file = { drop: { path: 'nested/vocab.txt', afterBytes: 2, times: 1 } }
    const res = await fetch(url)
    await expect(res.arrayBuffer()).rejects.toThrow()
    expect(await (await fetch(url)).text()).toBe('a\nb\nc\n')
    hub.faults.file = {}
  })

  test('ignoreRange answers 200 with the whole file; corrupt keeps the length but not the digest', async () => {
    const url = await cdnLocation()
    hub.faults.cdn = { ignoreRange: { times: 1 } }
    const full = await fetch(url, { headers: { Range: 'bytes=100-199' } })
    expect([full.status, full.headers.get('content-range')]).toEqual([200, null])
    expectSameBytes(await bytesOf(full), weights)

    hub.faults.cdn = { corrupt: { times: 1 } }
    const bad = await bytesOf(await fetch(url))
    expect(bad.length).toBe(weights.length)
    expect(sha256(bad)).not.toBe(sha256(weights))

    hub.faults.file = { corrupt: { times: 1 } }
    const regular = await bytesOf(await fetch(await cacheLocation()))
    expect(regular.length).toBe(hub.file(MODEL, 'config.json').size)
    expect(gitBlobSha1(regular)).not.toBe(hub.file(MODEL, 'config.json').gitSha1)
  })

  test('slow drips the body at the configured rate', async () => {
    const url = await cdnLocation('nested/deeper/weights.bin')
    hub.faults.cdn = { slow: { bytesPerSecond: 160 * KiB, times: 1 } }
    const started = Date.now()
    expectSameBytes(await bytesOf(await fetch(url)), deepWeights)
    // 40 KiB at 160 KiB/s: five 8 KiB writes 50 ms apart, so the last leaves after 200 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
  })
})

test('counters separate Hub files, Hub API and CDN bytes; the log records auth and Range', async () => {
  hub.resetCounters()
  expect(hub.requests).toEqual([])
  await (await fetch(resolveUrl('config.json'), { headers: bearer(READER) })).arrayBuffer()
  await (await fetch(resolveUrl('nested/deeper/weights.bin'), { headers: { Range: 'bytes=0-9' } })).arrayBuffer()
  const info = await (await fetch(`${hub.url}/api/models/${MODEL}`)).arrayBuffer()

  expect(hub.hubFileBytes).toBe(hub.file(MODEL, 'config.json').size)
  expect(hub.cdnBytes).toBe(10)
  expect(hub.hubApiBytes).toBe(info.byteLength)
  // Redirect texts are "other": neither file content nor API.
  expect(hub.hubOtherBytes).toBe(hub.requests.filter(r => r.status === 302 || r.status === 307).reduce((sum, r) => sum + r.bytes, 0))
  expect(hub.requests.map(r => [r.origin, r.method, r.status, r.kind, r.authorization, r.range ?? null])).toEqual([
    ['hub', 'GET', 307, 'other', true, null],
    ['hub', 'GET', 200, 'file', true, null],
    ['hub', 'GET', 302, 'other', false, 'bytes=0-9'],
    ['cdn', 'GET', 206, 'file', false, 'bytes=0-9'],
    ['hub', 'GET', 200, 'api', false, null]
  ])
})

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise(resolve => setTimeout(resolve, 10))
}
