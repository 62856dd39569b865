/**
 * A cache-service download that stops sending: the restore is cut once `idle-timeout` passes without a byte
 * (plus at most 1 s), becomes a miss with one warning naming the connection, and nothing reaches the target.
 * The real @actions/cache against the emulator, which makes the library use its own HTTP client (a
 * non-Azure host); and the library's own Azure SDK download, the one it uses on GitHub, called directly
 * (it is not exported: loaded by its file) against the emulator's blob URL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { GitHubBackend } from '../src/backends/github.js'
import type { CachePlan } from '../src/kinds/kind.js'
import { restoreOne } from '../src/restore/restore.js'
import { captureLog } from '../src/util/capture.js'
import { type CacheService, startCacheService } from './support/cache-service.js'

const IDLE_MS = 1000
/** The goal: cut within idle-timeout plus this. */
const SLACK_MS = 1000
const readWrite = { read: true, write: true, reason: 'read and write' }

let service: CacheService
let root: string
const backend = new GitHubBackend({ idleTimeoutMs: IDLE_MS })
/** Everything that reached stdout itself, past every hook qdc puts in front of it; kept from jest's output (the library's ::debug:: lines). */
const reached: string[] = []
const originalWrite = Object.getOwnPropertyDescriptor(process.stdout, 'write')
const recordingWrite = (chunk: unknown, ...rest: unknown[]): boolean => {
  reached.push(String(chunk))
  ;(rest.find(arg => typeof arg === 'function') as (() => void) | undefined)?.()
  return true
}

/** The abandoned library call ends on its own (after its retry delay); until then qdc's hook stays in front of stdout. */
async function abandonedCallsEnded(): Promise<void> {
  for (const started = Date.now(); process.stdout.write !== recordingWrite;) {
    if (Date.now() - started > 15_000) throw new Error('the abandoned library call never ended')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  process.stdout.write = recordingWrite
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-stall-'))
  service = await startCacheService({ tmpRoot: root })
  Object.assign(process.env, service.env(), { GITHUB_WORKSPACE: root, RUNNER_TEMP: root, GITHUB_REF: 'refs/heads/main' })
  for (const name of ['GITHUB_SERVER_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_CACHE_MODE', 'GITHUB_RUN_ID']) delete process.env[name]
})

afterAll(async () => {
  if (originalWrite) Object.defineProperty(process.stdout, 'write', originalWrite)
  else delete (process.stdout as { write?: unknown }).write
  await service.close()
  fs.rmSync(root, { recursive: true, force: true })
})

beforeEach(() => {
  service.faults = {}
})

/** An entry of `bytes` random bytes saved under `name`, its directory removed again. */
async function savedPlan(name: string, bytes: number): Promise<CachePlan> {
  const dir = path.join(root, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'data.bin'), crypto.randomBytes(bytes))
  const plan: CachePlan = {
    kind: 'custom',
    spec: { parts: [{ origin: 'spelled', name, path: dir }], exclude: [] },
    key: `stall-${name}`,
    restoreKeys: [`stall-${name}~r`],
    keyParts: [],
    notes: [],
    inPlace: false,
    env: {}
  }
  await backend.save(plan.spec, `${plan.key}~r1`)
  fs.rmSync(dir, { recursive: true })
  return plan
}

const stalledConnection = /the cache service stalled: 127\.0\.0\.1:\d+, GET \/devstoreaccount1\/cache\/entry-\d+: no byte for 1 s/

describe('a stalled cache download through the library', () => {
  test.each<[string, { afterBytes: number; beforeHeaders?: boolean }]>([
    ['after 64 KiB of the body', { afterBytes: 64 * 1024 }],
    ['before the response headers', { afterBytes: 0, beforeHeaders: true }]
  ])('%s: a miss with one warning naming the connection, within idle-timeout + 1 s, nothing restored', async (_, stall) => {
    const plan = await savedPlan(`body-${stall.afterBytes}-${String(stall.beforeHeaders ?? false)}`, 512 * 1024)
    service.faults.stallDownload = { ...stall, times: 1 }
    const snapshotDir = fs.mkdtempSync(path.join(root, 'snap-'))
    reached.length = 0

    const started = performance.now()
    const { result, lines } = await captureLog(() => restoreOne(plan, backend, readWrite, snapshotDir))
    const elapsed = performance.now() - started

    expect(result.entry).toMatchObject({ hit: 'miss', restoredBytes: 0 })
    expect(result.entry.problems).toEqual([
      expect.stringMatching(new RegExp(`^restore failed, continuing without cache: ${stalledConnection.source}$`))
    ])
    expect(lines.filter(line => line.startsWith('::warning::'))).toHaveLength(1)
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS)
    expect(elapsed).toBeLessThan(IDLE_MS + SLACK_MS)
    const dir = plan.spec.parts[0].path
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([])
    // The service really was waiting on that connection: the stalled GET never completed.
    expect(service.requests.filter(r => r.blobOp === 'get-blob').at(-1)?.bytes).toBe(stall.afterBytes)
    // The library's own complaint, once it gives up, stays out of the log: the stall was reported once.
    await abandonedCallsEnded()
    expect(
      reached
        .join('')
        .split('\n')
        .filter(line => line.startsWith('::warning::'))
    ).toEqual([expect.stringMatching(stalledConnection)])
  })

  test('the next restore from the same process goes through: only the stalled call was cut', async () => {
    const plan = await savedPlan('after-stall', 300 * 1024)
    service.faults.stallDownload = { afterBytes: 1024, times: 1 }
    const snapshotDir = fs.mkdtempSync(path.join(root, 'snap-'))
    await restoreOne(plan, backend, readWrite, snapshotDir)

    const again = await restoreOne(plan, backend, readWrite, snapshotDir)

    expect(again.entry).toMatchObject({ hit: 'exact', restoredBytes: 300 * 1024, problems: [] })
  })

  test('a slow download that keeps sending is not cut', async () => {
    const plan = await savedPlan('slow', 256 * 1024)
    // About 2.5 s for the archive, a chunk every 0.16 s: slower than idle-timeout in total, never idle that long.
    service.faults.slowDownload = { bytesPerSecond: 100 * 1024, times: 1 }
    const restored = await restoreOne(plan, backend, readWrite, fs.mkdtempSync(path.join(root, 'snap-')))
    expect(restored.entry).toMatchObject({ hit: 'exact', restoredBytes: 256 * 1024, problems: [] })
    expect(restored.entry.restoreMs).toBeGreaterThan(2 * IDLE_MS)
  })
})

/**
 * Runs the library's Azure download of `url` under watchRequests in another Node process, which exits as
 * main does when it is done: the SDK's own retries of a cut request (seconds apart) die with it.
 */
async function sdkDownloadInChild(url: string, archive: string): Promise<{ ok: boolean; message: string; ms: number }> {
  const script = `
    await import(${JSON.stringify(new URL('../scripts/load-ts.ts', import.meta.url).href)})
    const { watchRequests } = await import(${JSON.stringify(new URL('../src/util/request-watch.ts', import.meta.url).href)})
    const { downloadCacheStorageSDK } = await import(${JSON.stringify(new URL('../node_modules/@actions/cache/lib/internal/downloadUtils.js', import.meta.url).href)})
    const { getDownloadOptions } = await import(${JSON.stringify(new URL('../node_modules/@actions/cache/lib/options.js', import.meta.url).href)})
    const [url, archive, idleMs] = JSON.parse(process.argv[1])
    const started = performance.now()
    const outcome = await watchRequests(idleMs, 'the cache service stalled', () => downloadCacheStorageSDK(url, archive, getDownloadOptions())).then(
      () => ({ ok: true, message: '' }),
      error => ({ ok: false, message: error.message })
    )
    process.stderr.write(JSON.stringify({ ...outcome, ms: performance.now() - started }))
    process.exit()
  `
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, JSON.stringify([url, archive, IDLE_MS])], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await new Promise(resolve => child.on('close', resolve))
  return JSON.parse(stderr) as { ok: boolean; message: string; ms: number }
}

describe("the library's Azure SDK download (what it uses on GitHub's own blob storage)", () => {
  async function entryUrl(name: string): Promise<{ url: string; size: number }> {
    await savedPlan(name, 300 * 1024)
    const entry = service.entries().find(e => e.key === `stall-${name}~r1`)!
    return { url: service.downloadUrl(entry.id), size: entry.sizeBytes }
  }

  test('downloads the whole archive from the emulator when nothing stalls', async () => {
    const { url, size } = await entryUrl('sdk-whole')
    const archive = path.join(root, 'sdk-whole.tzst')
    expect(await sdkDownloadInChild(url, archive)).toMatchObject({ ok: true })
    expect(fs.statSync(archive).size).toBe(size)
  })

  test('a stalled range is cut within idle-timeout + 1 s, naming the connection, though the SDK would retry it', async () => {
    const { url } = await entryUrl('sdk-stall')
    service.faults.stallDownload = { afterBytes: 4096, times: 1 }
    const outcome = await sdkDownloadInChild(url, path.join(root, 'sdk-stall.tzst'))
    expect(outcome).toMatchObject({ ok: false, message: expect.stringMatching(stalledConnection) })
    expect(outcome.ms).toBeGreaterThanOrEqual(IDLE_MS)
    expect(outcome.ms).toBeLessThan(IDLE_MS + SLACK_MS)
  })
})
