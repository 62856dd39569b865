/**
 * Kinds restore at the same time, through the bundled action and the real @actions/cache against the
 * emulator: while a slow custom-paths download is still coming in, the huggingface kind is restored and its
 * models are fetched (verified) already; each kind's log comes out as one whole group, and each kind's
 * restore time is its own.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type JobResult, type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { type CacheService, startCacheService } from './support/cache-service.js'
import { type Hub, startHub } from './support/hub.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const COMMIT = createHash('sha1').update('concurrent').digest('hex')
const DATA_BYTES = 1024 * 1024
/** The slow entry's download rate on a warm run: about 4 s for the custom archive, 8 s for the model's. */
const SLOW_BYTES_PER_SECOND = 256 * 1024

let hub: Hub
let service: CacheService
let root: string

beforeAll(async () => {
  if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
  hub = await startHub({
    repos: [
      {
        id: 'acme/model',
        access: 'public',
        refs: { main: COMMIT },
        commits: { [COMMIT]: [{ path: 'model.safetensors', bytes: randomBytes(2 * 1024 * 1024), lfs: true }] }
      }
    ]
  })
  service = await startCacheService()
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-e2e-concurrent-'))
})

afterAll(async () => {
  await hub?.close()
  await service?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

function freshMachine(): Machine {
  fs.rmSync(path.join(root, 'machine'), { recursive: true, force: true })
  const machine = newMachine(root, 'machine')
  fs.mkdirSync(path.join(machine.workspace, 'data'))
  return machine
}

function job(machine: Machine, runId: number): Promise<JobResult> {
  return runJob({
    actionDir,
    machine,
    runId,
    inputs: { models: 'acme/model', 'hf-endpoint': hub.url, paths: 'data', key: 'data-concurrent', backend: 'github' },
    env: { ...service.env(), HF_HUB_CACHE: path.join(machine.home, 'hub') }
  })
}

/** The log's groups in the order printed, each with its lines; throws when one opens inside another. */
function groups(stdout: string): Array<{ title: string; lines: string[] }> {
  const found: Array<{ title: string; lines: string[] }> = []
  let open: { title: string; lines: string[] } | null = null
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::group::')) {
      if (open) throw new Error(`group "${line.slice(9)}" opened inside "${open.title}"`)
      open = { title: line.slice(9), lines: [] }
    } else if (line === '::endgroup::') {
      if (open) found.push(open)
      open = null
    } else open?.lines.push(line)
  }
  return found
}

function entryOf(run: JobResult, kind: string): { restoreMs: number; hit: string } {
  return JSON.parse(fs.readFileSync(run.main.outputs.report, 'utf8')).caches.find((c: { kind: string }) => c.kind === kind)
}

describe('concurrent restores through the runner', () => {
  test('cold run: both kinds miss, the model is fetched, both are saved', async () => {
    const machine = freshMachine()
    fs.writeFileSync(path.join(machine.workspace, 'data', 'blob.bin'), randomBytes(DATA_BYTES))
    const cold = await job(machine, 1)
    expect(cold.main.exitCode).toBe(0)
    expect(cold.post?.exitCode).toBe(0)
    const keys = service
      .entries()
      .map(e => e.key.split('~r')[0])
      .sort()
    expect(keys).toEqual(['data-concurrent', expect.stringMatching(/^qdc-history-v1-/), expect.stringMatching(/^qdc-huggingface-v1-/)])
  })

  test('warm run, huggingface (the first kind) slow: custom is restored meanwhile, not after it', async () => {
    service.faults.slowDownload = { bytesPerSecond: SLOW_BYTES_PER_SECOND, keyPrefix: 'qdc-huggingface', times: 1 }
    const warm = await job(freshMachine(), 3)
    expect(warm.main.exitCode).toBe(0)
    expect(warm.main.outputs['cache-hit']).toBe('true')

    const titles = groups(warm.main.stdout).map(group => group.title)
    expect(titles.indexOf('Restore custom')).toBeGreaterThanOrEqual(0)
    expect(titles.indexOf('Restore custom')).toBeLessThan(titles.indexOf('Restore huggingface'))
    expect(titles.indexOf('Fetch models')).toBeGreaterThan(titles.indexOf('Restore huggingface'))
    expect(entryOf(warm, 'custom').restoreMs).toBeLessThan(entryOf(warm, 'huggingface').restoreMs / 2)
  })

  test('warm run, custom slow: the models are fetched while its download still runs; groups stay whole', async () => {
    service.faults.slowDownload = { bytesPerSecond: SLOW_BYTES_PER_SECOND, keyPrefix: 'data-concurrent', times: 1 }
    const warm = await job(freshMachine(), 2)
    expect(warm.main.exitCode).toBe(0)
    expect(warm.main.outputs['cache-hit']).toBe('true')

    const titles = groups(warm.main.stdout).map(group => group.title)
    expect(titles.filter(title => title.startsWith('Restore ')).sort()).toEqual(['Restore custom', 'Restore huggingface'])
    // Printed when each ended: the fetch, which starts only once huggingface is restored, ended first.
    expect(titles.indexOf('Fetch models')).toBeGreaterThan(titles.indexOf('Restore huggingface'))
    expect(titles.indexOf('Fetch models')).toBeLessThan(titles.indexOf('Restore custom'))
    const custom = groups(warm.main.stdout).find(group => group.title === 'Restore custom')!
    expect(custom.lines.some(line => line.startsWith('Exact hit: data-concurrent~r1'))).toBe(true)

    // Each kind's time is its own restore: the slow download's, and the quick one's, not the sum.
    const slow = entryOf(warm, 'custom')
    const quick = entryOf(warm, 'huggingface')
    expect(slow.restoreMs).toBeGreaterThan((0.8 * DATA_BYTES * 1000) / SLOW_BYTES_PER_SECOND)
    expect(quick.restoreMs).toBeLessThan(slow.restoreMs / 2)
  })
})
