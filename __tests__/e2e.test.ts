/**
 * End to end: the bundled dist/ main and post as separate Node processes with the files a runner
 * provides, a real pip installing from a local index between them, then a second fresh "machine".
 * Both backends: the local store, and the GitHub cache service (real @actions/cache → emulator).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type JobResult, type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { type CacheService, startCacheService } from './support/cache-service.js'
import { type PackageIndex, pipInstallArgs, runPip, startPackageIndex } from './support/package-index.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024

let index: PackageIndex
let service: CacheService
let root: string

beforeAll(async () => {
  if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-e2e-'))
  index = await startPackageIndex({
    packages: [
      { name: 'qdc-base', version: '1.0', payloadBytes: 3 * MiB },
      { name: 'qdc-app', version: '2.0', payloadBytes: 5 * MiB, dependencies: ['qdc-base'] }
    ]
  })
  service = await startCacheService()
})

afterAll(async () => {
  await index?.close()
  await service?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

/** A runner VM is new each run but has the same layout: same paths, nothing left from before. */
function freshMachine(name: string): Machine {
  fs.rmSync(path.join(root, name), { recursive: true, force: true })
  return newMachine(root, name)
}

function pipCacheOf(machine: Machine): string {
  return path.join(machine.home, '.cache', 'pip')
}

function hubOf(machine: Machine): string {
  return path.join(machine.home, '.cache', 'huggingface', 'hub')
}

/** What a user's job does between main and post: pip install, a model file appearing, a build output. */
async function userSteps(machine: Machine): Promise<void> {
  const pip = await runPip(pipInstallArgs(index, path.join(machine.workspace, 'site'), ['qdc-app']), { cacheDir: pipCacheOf(machine) })
  if (pip.code !== 0) throw new Error(`pip failed: ${pip.stderr}`)
  const blob = path.join(hubOf(machine), 'models--org--tiny', 'blobs', 'a'.repeat(64))
  if (!fs.existsSync(blob)) {
    fs.mkdirSync(path.dirname(blob), { recursive: true })
    fs.writeFileSync(blob, crypto.randomBytes(MiB))
  }
  fs.mkdirSync(path.join(hubOf(machine), '.locks', 'models--org--tiny'), { recursive: true })
  fs.writeFileSync(path.join(hubOf(machine), '.locks', 'models--org--tiny', 'x.lock'), '')
  fs.writeFileSync(path.join(hubOf(machine), 'token'), 'hf_secret')
  fs.writeFileSync(`${blob}.0123abcd.incomplete`, 'partial')
  const data = path.join(machine.workspace, 'data', 'out.bin')
  if (!fs.existsSync(data)) {
    fs.mkdirSync(path.dirname(data), { recursive: true })
    fs.writeFileSync(data, crypto.randomBytes(256 * 1024))
  }
}

function report(job: JobResult) {
  return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8'))
}

function pipEntry(job: JobResult) {
  return report(job).caches.find((c: { kind: string }) => c.kind === 'pip')
}

function hashOf(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

function expectWithinOnePercent(actual: number, expected: number): void {
  expect(expected).toBeGreaterThan(0)
  expect(Math.abs(actual - expected) / expected).toBeLessThan(0.01)
}

describe.each(['local', 'github'] as const)('runner simulation with the %s backend', backend => {
  const machineName = `machine-${backend}`
  let cold: JobResult
  let coldMachine: Machine
  let coldServed: number
  let coldHashes: Record<string, string>

  function job(machine: Machine, runId: number): Promise<JobResult> {
    return runJob({
      actionDir,
      machine,
      runId,
      inputs: {
        caches: 'pip, huggingface',
        paths: 'data',
        key: `data-${backend}-v1`,
        backend,
        'local-dir': path.join(root, `store-${backend}`)
      },
      env: { PIP_CACHE_DIR: pipCacheOf(machine), ...(backend === 'github' ? service.env() : {}) },
      between: () => userSteps(machine)
    })
  }

  test('cold run: misses, pip downloads from the index, post saves and reports the bytes', async () => {
    index.resetCounters()
    service.resetCounters()
    coldMachine = freshMachine(machineName)
    cold = await job(coldMachine, 100)
    coldServed = index.filesBytesServed
    expect(cold.main.exitCode).toBe(0)
    expect(cold.main.outputs['cache-hit']).toBe('false')
    expect(JSON.parse(cold.main.outputs.hits)).toEqual({ pip: 'miss', huggingface: 'miss', custom: 'miss' })
    expect(cold.exported.QDC_SAVE_ON_FAILURE).toBe('false')
    expect(cold.post?.exitCode).toBe(0)
    expect(coldServed).toBe(index.wheels.reduce((sum, w) => sum + w.bytes, 0))
    const pip = pipEntry(cold)
    expect(pip).toMatchObject({ hit: 'miss', saved: 'saved', reusedBytes: 0 })
    expectWithinOnePercent(pip.downloadedBytes, coldServed)
    expect(pip.uploadedBytes).toBeGreaterThan(0)
    expect(Number(cold.post?.outputs['bytes-downloaded'])).toBe(report(cold).totals.downloadedBytes)
    expect(cold.post?.summary).toContain('| pip | ❌ miss |')
    expect(cold.post?.summary).toMatch(/\*\*Total: downloaded 9\.\d+ MiB, reused 0 B \(0% from cache\)\*\*/)
    // One entry per kind, and the run's own small history record.
    if (backend === 'github')
      expect(
        service
          .entries()
          .map(e => e.key.split('~r')[0])
          .sort()
      ).toEqual([...report(cold).caches.map((c: { key: string }) => c.key), 'qdc-history-v1-workflow-job-main'].sort())
    coldHashes = {
      data: hashOf(path.join(coldMachine.workspace, 'data', 'out.bin')),
      blob: hashOf(path.join(hubOf(coldMachine), 'models--org--tiny', 'blobs', 'a'.repeat(64)))
    }
  })

  test('warm run on a fresh machine: exact hits, nothing fetched from the index, nothing uploaded', async () => {
    index.resetCounters()
    service.resetCounters()
    const before = new Set(service.entries().map(e => e.id))
    const machine = freshMachine(machineName)
    const warm = await job(machine, 101)
    expect(warm.main.exitCode).toBe(0)
    expect(warm.main.outputs['cache-hit']).toBe('true')
    expect(JSON.parse(warm.main.outputs.hits)).toEqual({ pip: 'exact', huggingface: 'exact', custom: 'exact' })
    expect(index.filesBytesServed).toBe(0)
    const pip = pipEntry(warm)
    expect(pip).toMatchObject({ hit: 'exact', saved: 'unchanged', downloadedBytes: 0, uploadedBytes: 0 })
    expectWithinOnePercent(pip.reusedBytes, coldServed)
    expect(report(warm).caches.every((c: { saved: string }) => c.saved === 'unchanged')).toBe(true)
    expect(report(warm).totals.downloadedBytes).toBe(0)
    expect(warm.post?.outputs['bytes-downloaded']).toBe('0')
    expect(warm.post?.summary).toContain('| pip | ✅ exact |')
    expect(warm.post?.summary).toContain('(100% from cache)')
    expect(hashOf(path.join(machine.workspace, 'data', 'out.bin'))).toBe(coldHashes.data)
    expect(hashOf(path.join(hubOf(machine), 'models--org--tiny', 'blobs', 'a'.repeat(64)))).toBe(coldHashes.blob)
    // No cache was uploaded again; the one new entry is the run's own small history record.
    if (backend === 'github')
      expect(
        service
          .entries()
          .filter(e => !before.has(e.id))
          .map(e => e.key)
      ).toEqual([expect.stringMatching(/^qdc-history-v1-/)])
  })

  test('the token, lock files and partial downloads never travel', async () => {
    const machine = freshMachine(machineName)
    const peek = await runJob({
      actionDir,
      machine,
      runId: 102,
      inputs: { caches: 'huggingface', backend, 'local-dir': path.join(root, `store-${backend}`), save: 'never' },
      env: backend === 'github' ? service.env() : {}
    })
    expect(peek.main.outputs['cache-hit']).toBe('true')
    const hub = hubOf(machine)
    expect(fs.existsSync(path.join(hub, 'models--org--tiny', 'blobs', 'a'.repeat(64)))).toBe(true)
    expect(fs.existsSync(path.join(hub, 'token'))).toBe(false)
    expect(fs.existsSync(path.join(hub, '.locks'))).toBe(false)
    expect(fs.readdirSync(path.join(hub, 'models--org--tiny', 'blobs')).filter(f => f.endsWith('.incomplete'))).toEqual([])
  })
})

describe('a cache service that is down', () => {
  test('is a warning and a summary line; main and post both succeed', async () => {
    const machine = freshMachine('down')
    fs.mkdirSync(path.join(machine.workspace, 'out'))
    fs.writeFileSync(path.join(machine.workspace, 'out', 'f'), 'x')
    await service.stop()
    try {
      const job = await runJob({
        actionDir,
        machine,
        runId: 400,
        inputs: { paths: 'out', key: 'down', backend: 'github' },
        env: service.env()
      })
      expect(job.main.exitCode).toBe(0)
      expect(job.post?.exitCode).toBe(0)
      expect(job.main.stdout).toMatch(/::warning::custom: restore failed, continuing without cache: .*ECONNREFUSED/)
      expect(job.post?.stdout).toMatch(/::warning::custom: save failed, the job goes on: .*ECONNREFUSED/)
      expect(job.post?.summary).toContain('| custom | ❌ miss |')
      expect(job.post?.summary).toContain('⚠️ failed')
      expect(job.post?.summary).toMatch(/- ⚠️ \*\*custom\*\*: save failed, the job goes on: .*ECONNREFUSED/)
    } finally {
      await service.restart()
    }
  })
})

describe('save rules through the runner', () => {
  const store = () => path.join(root, 'store-rules')

  test('bad input fails main with one line naming the input, and post has nothing to do', async () => {
    const job = await runJob({
      actionDir,
      machine: freshMachine('bad'),
      runId: 200,
      inputs: { caches: 'pip, pipx', backend: 'local', 'local-dir': store() }
    })
    expect(job.main.exitCode).toBe(1)
    const errors = job.main.stdout.split('\n').filter(line => line.startsWith('::error::'))
    expect(errors).toEqual([expect.stringMatching(/^::error::Input 'caches': unknown cache kind 'pipx'/)])
    expect(job.post).toBeNull()
  })

  test('save: always saves after a failed step; on-success does not', async () => {
    const failing = async () => {
      throw new Error('a test step failed')
    }
    const inputs = (save: string) => ({ paths: 'out', key: `rules-${save}`, backend: 'local', 'local-dir': store(), save })
    for (const save of ['always', 'on-success']) {
      const machine = freshMachine(`rules-${save}`)
      fs.mkdirSync(path.join(machine.workspace, 'out'))
      fs.writeFileSync(path.join(machine.workspace, 'out', 'f'), 'x')
      const job = await runJob({ actionDir, machine, runId: 201, inputs: inputs(save), between: failing })
      expect(job.exported.QDC_SAVE_ON_FAILURE).toBe(save === 'always' ? 'true' : 'false')
      if (save === 'always') expect(JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8')).caches[0].saved).toBe('saved')
      else expect(job.post).toBeNull()
    }
  })

  test('an exact hit whose content changed is saved as a new revision, and the next run restores it', async () => {
    const inputs = { paths: 'out', key: 'rolling', backend: 'local', 'local-dir': store() }
    const write = (machine: Machine, text: string) => async () => fs.writeFileSync(path.join(machine.workspace, 'out', 'f'), text)
    const first = freshMachine('roll')
    fs.mkdirSync(path.join(first.workspace, 'out'))
    await runJob({ actionDir, machine: first, runId: 300, inputs, between: write(first, 'one') })
    const second = freshMachine('roll')
    const changed = await runJob({ actionDir, machine: second, runId: 301, inputs, between: write(second, 'two!') })
    const secondEntry = JSON.parse(fs.readFileSync(changed.main.outputs.report, 'utf8')).caches[0]
    expect(secondEntry).toMatchObject({ hit: 'exact', saved: 'saved', matchedKey: 'rolling~r300-1' })
    const third = freshMachine('roll')
    const restored = await runJob({ actionDir, machine: third, runId: 302, inputs })
    expect(JSON.parse(fs.readFileSync(restored.main.outputs.report, 'utf8')).caches[0]).toMatchObject({
      matchedKey: 'rolling~r301-1',
      saved: 'unchanged'
    })
    expect(fs.readFileSync(path.join(third.workspace, 'out', 'f'), 'utf8')).toBe('two!')
  })
})
