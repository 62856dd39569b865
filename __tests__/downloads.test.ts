/**
 * The generic URL cache over real HTTP on 127.0.0.1: stored by SHA-256, verified before it is stored
 * or copied, reused without a request, repaired when the stored copy is damaged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseDownloads } from '../src/config/downloads.js'
import { fetchDownload } from '../src/fetch/downloads.js'

const body = randomBytes(300 * 1024)
const sha256 = createHash('sha256').update(body).digest('hex')
let server: http.Server
let base: string
let requests: string[]
let root: string

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '')
    if (req.url === '/chunked') {
      res.writeHead(200, { 'transfer-encoding': 'chunked' })
      res.end(body)
      return
    }
    res.writeHead(200, { 'content-length': body.length })
    res.end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-downloads-'))
})

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
  fs.rmSync(root, { recursive: true, force: true })
})

beforeEach(() => {
  requests = []
})

function leftovers(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true })
        .map(String)
        .filter(name => /\.(incomplete|tmp)$/.test(name))
    : []
}

describe('fetchDownload', () => {
  const store = () => path.join(root, 'store')

  test('downloads once, stores by sha256, copies to dest; the second time makes no request', async () => {
    const dest = path.join(root, 'out', 'artifact.bin')
    const first = await fetchDownload({ url: `${base}/a.bin?sig=secret`, sha256, dest }, store())
    expect(first).toMatchObject({ source: 'downloaded', size: body.length, digest: `sha256:${sha256}`, verified: true })
    expect(first.repo).not.toContain('secret')
    expect(fs.readFileSync(dest).equals(body)).toBe(true)
    expect(fs.readFileSync(path.join(store(), 'sha256', sha256)).equals(body)).toBe(true)
    expect(requests).toEqual(['/a.bin?sig=secret'])

    const again = await fetchDownload({ url: `${base}/moved.bin`, sha256, dest: path.join(root, 'out', 'copy.bin') }, store())
    expect(again.source).toBe('cache')
    expect(requests).toHaveLength(1)
  })

  test('a damaged stored copy is downloaded again and reported repaired', async () => {
    const stored = path.join(store(), 'sha256', sha256)
    await fetchDownload({ url: `${base}/a.bin`, sha256, dest: path.join(root, 'r1') }, store())
    const damaged = Buffer.from(body)
    damaged[10] ^= 0xff
    fs.writeFileSync(stored, damaged)
    const repaired = await fetchDownload({ url: `${base}/a.bin`, sha256, dest: path.join(root, 'r2') }, store())
    expect(repaired.source).toBe('repaired')
    expect(fs.readFileSync(path.join(root, 'r2')).equals(body)).toBe(true)
  })

  test('a wrong hash fails with expected and actual digests and leaves nothing behind', async () => {
    const wrong = 'ab'.repeat(32)
    const dest = path.join(root, 'wrong', 'x.bin')
    await expect(fetchDownload({ url: `${base}/a.bin`, sha256: wrong, dest }, store())).rejects.toThrow(
      new RegExp(`sha256 mismatch, expected ${wrong}, got ${sha256}`)
    )
    expect(fs.existsSync(path.join(store(), 'sha256', wrong))).toBe(false)
    expect(fs.existsSync(dest)).toBe(false)
    expect(leftovers(store())).toEqual([])
  })

  test('a server that does not say the size is refused: nothing unverified can be stored', async () => {
    const dest = path.join(root, 'chunked.bin')
    await expect(fetchDownload({ url: `${base}/chunked`, sha256, dest: dest }, path.join(root, 'store2'))).rejects.toThrow(
      /no Content-Length/
    )
    expect(fs.existsSync(dest)).toBe(false)
    expect(leftovers(path.join(root, 'store2'))).toEqual([])
  })
})

describe('parseDownloads', () => {
  test('lines, or one line naming a manifest; dest relative to the workspace', () => {
    const hex = 'CD'.repeat(32)
    expect(parseDownloads([`https://x.org/a.tgz sha256:${hex} vendor/a.tgz`], '/ws')).toEqual([
      { url: 'https://x.org/a.tgz', sha256: hex.toLowerCase(), dest: '/ws/vendor/a.tgz' }
    ])
    fs.writeFileSync(path.join(root, 'manifest.txt'), `# artifacts\nhttps://x.org/b.bin ${hex} /abs/b.bin\n`)
    expect(parseDownloads(['manifest.txt'], root)).toEqual([{ url: 'https://x.org/b.bin', sha256: hex.toLowerCase(), dest: '/abs/b.bin' }])
  })

  test.each([
    [['https://x.org/a'], "Input 'downloads': 'https://x.org/a' is neither 'url sha256 dest' nor a manifest file that exists"],
    [['https://x.org/a 1234 out'], "Input 'downloads': '1234' for https://x.org/a is not a sha256"],
    [['ftp://x.org/a ' + 'a'.repeat(64) + ' out'], "Input 'downloads': 'ftp://x.org/a' is not an http(s) URL"],
    [['https://x.org/a only-two'], "Input 'downloads': 'https://x.org/a only-two' should be three fields"]
  ])('%j → %s', (lines, message) => {
    expect(() => parseDownloads(lines, root)).toThrow(message)
  })
})
