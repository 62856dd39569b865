/**
 * The local package index against the real pip: pip downloads each wheel once, caches it under
 * PIP_CACHE_DIR/http* (or http-v2 on pip >= 23.3), and a second install is served from that cache.
 * Also pins down the figure the pip cache kind relies on: bytes of files that appear in the pip
 * cache match the wheel bytes the index served within 1%.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { type PackageIndex, pipInstallArgs, runPip, startPackageIndex } from './support/package-index.js'

const MiB = 1024 * 1024

let index: PackageIndex
let work: string
let cacheDir: string

beforeAll(async () => {
  index = await startPackageIndex({
    packages: [
      { name: 'qdc-base', version: '1.0.0', payloadBytes: 3 * MiB },
      { name: 'qdc-app', version: '2.0.0', payloadBytes: 5 * MiB, dependencies: ['qdc-base'] }
    ]
  })
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-pip-'))
  cacheDir = path.join(work, 'pip-cache')
})

afterAll(async () => {
  await index?.close()
  if (work) await fs.rm(work, { recursive: true, force: true })
})

test('the index serves PEP 503 pages and wheels, and 404 for anything else', async () => {
  const [base, app] = index.wheels
  const root = await (await fetch(`${index.url}/`)).text()
  expect(root).toContain('href="/simple/qdc-base/"')
  expect(root).toContain('href="/simple/qdc-app/"')

  const page = await (await fetch(`${index.url}/qdc-app/`)).text()
  expect(page).toContain(`href="/files/${app.file}#sha256=${app.sha256}"`)

  const wheel = await fetch(`http://${index.host}/files/${base.file}`)
  expect(wheel.headers.get('cache-control')).toBe('max-age=365000000, immutable, public')
  expect(Number(wheel.headers.get('content-length'))).toBe(base.bytes)
  expect((await wheel.arrayBuffer()).byteLength).toBe(base.bytes)

  for (const missing of ['/simple/nope/', '/simple/qdc-app', '/files/nope.whl', '/']) {
    expect((await fetch(`http://${index.host}${missing}`)).status).toBe(404)
  }
})

// The two pip tests run in order and share cacheDir: the second relies on what the first cached.
describe('real pip against the index', () => {
  const wheelBytes = () => index.wheels.reduce((sum, w) => sum + w.bytes, 0)

  test('a cold install downloads both wheels and pip caches them under http*/', async () => {
    const before = await filesUnder(cacheDir)
    index.resetCounters()
    const target = path.join(work, 'cold')

    const run = await runPip(pipInstallArgs(index, target, ['qdc-app']), { cacheDir })

    expect(run).toMatchObject({ code: 0 })
    expect(index.filesBytesServed).toBe(wheelBytes())
    for (const [module, payload] of [
      ['qdc_base', 3 * MiB],
      ['qdc_app', 5 * MiB]
    ] as const) {
      await expect(fs.stat(path.join(target, module, '__init__.py'))).resolves.toBeTruthy()
      expect((await fs.stat(path.join(target, module, 'payload.bin'))).size).toBe(payload)
    }

    const appeared = newFiles(before, await filesUnder(cacheDir))
    // Only HTTP responses: no selfcheck/ (--disable-pip-version-check), no wheels/ (nothing built).
    expect([...appeared.keys()].filter(file => !/^http(-v2)?\//.test(file))).toEqual([])
    const grown = sum(appeared.values())
    // Each cache file is the wheel plus pip's serialized response headers (~280 bytes here).
    expect(grown).toBeGreaterThanOrEqual(index.filesBytesServed)
    expect(grown - index.filesBytesServed).toBeLessThan(index.filesBytesServed * 0.01)
  })

  test('a second install into a new target uses the cache and downloads no wheel', async () => {
    const before = await filesUnder(cacheDir)
    index.resetCounters()

    const run = await runPip(pipInstallArgs(index, path.join(work, 'warm'), ['qdc-app']), { cacheDir })

    expect(run).toMatchObject({ code: 0 })
    expect(index.filesBytesServed).toBe(0)
    // pip still revalidates the index pages; only those are fetched.
    expect(index.requests.map(r => r.path).sort()).toEqual(['/simple/qdc-app/', '/simple/qdc-base/'])
    for (const wheel of index.wheels) {
      expect(run.stdout).toContain(`Using cached http://${index.host}/files/${wheel.file}`)
    }
    expect(newFiles(before, await filesUnder(cacheDir)).size).toBe(0)
  })
})

/** Every regular file under `dir` (relative path → size); empty if `dir` does not exist. */
async function filesUnder(dir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>()
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const file = path.join(entry.parentPath, entry.name)
    files.set(path.relative(dir, file), (await fs.stat(file)).size)
  }
  return files
}

function newFiles(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].filter(([file]) => !before.has(file)))
}

function sum(values: Iterable<number>): number {
  let total = 0
  for (const value of values) total += value
  return total
}
