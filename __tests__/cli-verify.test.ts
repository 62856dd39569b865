/**
 * `qdc fetch-model`, `qdc fetch` and `qdc verify [--repair]` against the local Hub fixture and a
 * loopback file server: corrupt blobs are found by digest and repaired by a verified re-download.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { type Hub, startHub } from './support/hub.js'
import { assertBuilt, cleanEnv, qdc } from './support/qdc.js'

const COMMIT = createHash('sha1').update('cli-verify').digest('hex')
const weights = randomBytes(3 * 1024 * 1024)
const config = Buffer.from('{"layers": 4}\n')
const artifact = randomBytes(512 * 1024)
const artifactSha = createHash('sha256').update(artifact).digest('hex')

let hub: Hub
let files: http.Server
let filesUrl: string
let root: string
let store: string
let hubDir: string
let env: Record<string, string>

beforeAll(async () => {
  assertBuilt()
  hub = await startHub({
    repos: [
      {
        id: 'acme/tiny',
        refs: { main: COMMIT },
        commits: {
          [COMMIT]: [
            { path: 'config.json', bytes: config, lfs: false },
            { path: 'model.safetensors', bytes: weights, lfs: true }
          ]
        }
      }
    ]
  })
  files = http.createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/artifact.bin') return void res.writeHead(404).end()
    res.writeHead(200, { 'content-length': artifact.length }).end(artifact)
  })
  await new Promise<void>(resolve => files.listen(0, '127.0.0.1', resolve))
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-cli-verify-'))
  store = path.join(root, 'store')
  hubDir = path.join(store, 'in-place', 'huggingface')
  env = cleanEnv(path.join(root, 'home'), { HF_ENDPOINT: hub.url })
})

afterAll(async () => {
  await hub?.close()
  files?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

const blob = (name: string) => path.join(hubDir, 'models--acme--tiny', 'blobs', name)
const lfsSha = createHash('sha256').update(weights).digest('hex')

function corrupt(file: string): void {
  const bytes = fs.readFileSync(file)
  bytes[bytes.length >> 1] ^= 0xff
  fs.chmodSync(file, 0o644)
  fs.writeFileSync(file, bytes)
}

describe('fetch-model', () => {
  test('fetches the repo into the hub cache, verified, and prints the snapshot directory', async () => {
    const result = await qdc(['fetch-model', 'acme/tiny', '--cache-dir', hubDir], { env })
    expect(result.code).toBe(0)
    const snapshot = result.stdout.trim()
    expect(snapshot).toBe(path.join(hubDir, 'models--acme--tiny', 'snapshots', COMMIT))
    expect(fs.readFileSync(path.join(snapshot, 'model.safetensors')).equals(weights)).toBe(true)
    expect(result.stderr).toMatch(/2 file\(s\) verified, 3\.\d+ MiB downloaded/)
    hub.resetCounters()
    const again = await qdc(['fetch-model', 'acme/tiny', '--cache-dir', hubDir, '--json'], { env })
    expect(JSON.parse(again.stdout).files.map((f: { source: string }) => f.source)).toEqual(['cache', 'cache'])
    expect(hub.cdnBytes + hub.hubFileBytes).toBe(0)
  })
})

describe('verify', () => {
  test('everything verifies: exit 0', async () => {
    const result = await qdc(['verify', '--store', store], { env })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Checked 2 item\(s\), 3\.\d+ MiB: all verify$/m)
  })

  test('a corrupt LFS blob and a corrupt regular blob are found by digest: exit 1, nothing changed', async () => {
    corrupt(blob(lfsSha))
    const gitBlob = fs.readdirSync(path.dirname(blob(lfsSha))).find(name => /^[0-9a-f]{40}$/.test(name))!
    corrupt(blob(gitBlob))
    const before = fs.readFileSync(blob(lfsSha))
    const result = await qdc(['verify', '--store', store, '--json'], { env })
    expect(result.code).toBe(1)
    const problems = JSON.parse(result.stdout).findings.map((f: { what: string; problem: string }) => [
      path.basename(f.what),
      f.problem.split(' ')[0]
    ])
    expect(problems.sort()).toEqual(
      [
        [gitBlob, 'git-sha1'],
        [lfsSha, 'sha256']
      ].sort()
    )
    expect(fs.readFileSync(blob(lfsSha)).equals(before)).toBe(true)
  })

  test('--repair downloads both again, verified: exit 0 and the right bytes', async () => {
    hub.resetCounters()
    const result = await qdc(['verify', 'huggingface', '--store', store, '--repair'], { env })
    expect(result.stdout).toContain('fixed: downloaded again from')
    expect(result.code).toBe(0)
    expect(fs.readFileSync(blob(lfsSha)).equals(weights)).toBe(true)
    expect(hub.cdnBytes).toBe(weights.length)
    expect(hub.hubFileBytes).toBe(config.length)
    expect((await qdc(['verify', '--store', store], { env })).code).toBe(0)
  })
})

describe('fetch', () => {
  const cache = () => path.join(store, 'in-place', 'downloads')

  test('downloads, verifies, stores by digest and prints DEST', async () => {
    const dest = path.join(root, 'out', 'artifact.bin')
    const result = await qdc(['fetch', `${filesUrl}/artifact.bin`, '--sha256', artifactSha, '-o', dest, '--cache-dir', cache()], { env })
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(dest)
    expect(fs.readFileSync(dest).equals(artifact)).toBe(true)
    expect(fs.existsSync(path.join(cache(), 'sha256', artifactSha))).toBe(true)
  })

  test('a wrong hash fails with exit 1 and leaves nothing at DEST', async () => {
    const dest = path.join(root, 'out', 'wrong.bin')
    const result = await qdc(['fetch', `${filesUrl}/artifact.bin`, '--sha256', '0'.repeat(64), '-o', dest, '--cache-dir', cache()], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/sha256 mismatch, expected 0{64}, got [0-9a-f]{64}/)
    expect(fs.existsSync(dest)).toBe(false)
  })

  test('verify --repair downloads a corrupt stored file again from the URL it came from', async () => {
    const stored = path.join(cache(), 'sha256', artifactSha)
    expect(fs.readFileSync(path.join(cache(), 'sources', artifactSha), 'utf8')).toBe(`${filesUrl}/artifact.bin\n`)
    corrupt(stored)
    const bad = await qdc(['verify', 'downloads', '--store', store], { env })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(`downloads: ${stored}: sha256 is`)
    const repaired = await qdc(['verify', 'downloads', '--store', store, '--repair'], { env })
    expect(repaired.code).toBe(0)
    expect(repaired.stdout).toContain(`fixed: downloaded again from ${filesUrl}/artifact.bin`)
    expect(fs.readFileSync(stored).equals(artifact)).toBe(true)
  })

  test('a URL with a query is not recorded (it may hold a token): repair removes the file, the next fetch gets it again', async () => {
    const stored = path.join(cache(), 'sha256', artifactSha)
    fs.rmSync(stored)
    fs.rmSync(path.join(cache(), 'sources', artifactSha))
    const dest = path.join(root, 'out', 'signed.bin')
    expect(
      (await qdc(['fetch', `${filesUrl}/artifact.bin?token=secret`, '--sha256', artifactSha, '-o', dest, '--cache-dir', cache()], { env }))
        .code
    ).toBe(0)
    expect(fs.existsSync(path.join(cache(), 'sources', artifactSha))).toBe(false)
    corrupt(stored)
    const repaired = await qdc(['verify', 'downloads', '--store', store, '--repair'], { env })
    expect(repaired.code).toBe(0)
    expect(repaired.stdout).toContain('removed (no source URL was recorded)')
    expect(fs.existsSync(stored)).toBe(false)
    expect(
      (await qdc(['fetch', `${filesUrl}/artifact.bin`, '--sha256', artifactSha, '-o', dest, '--cache-dir', cache()], { env })).code
    ).toBe(0)
    expect(fs.readFileSync(stored).equals(artifact)).toBe(true)
  })
})
