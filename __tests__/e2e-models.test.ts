/**
 * Models end to end: the bundled action fetches a private model from the local Hub (CDN on a second
 * origin) into the hub cache, the post step saves it, and a fresh machine gets it from the cache with
 * no byte from the Hub's file endpoints. The token never shows up in logs, summary, report or cache.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type JobResult, type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { type Hub, startHub } from './support/hub.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TOKEN = 'hf_e2e_private_token_value'
const COMMIT = createHash('sha1').update('e2e').digest('hex')
const weights = randomBytes(2 * 1024 * 1024)

let hub: Hub
let root: string

beforeAll(async () => {
  hub = await startHub({
    repos: [
      {
        id: 'acme/private-model',
        access: 'private',
        refs: { main: COMMIT },
        commits: {
          [COMMIT]: [
            { path: 'config.json', bytes: Buffer.from('{"layers": 2}\n'), lfs: false },
            { path: 'model.safetensors', bytes: weights, lfs: true },
            { path: 'notes.txt', bytes: Buffer.from('not wanted\n'), lfs: false }
          ]
        }
      }
    ],
    tokens: { [TOKEN]: ['acme/private-model'] }
  })
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-e2e-models-'))
})

afterAll(async () => {
  await hub?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

function freshMachine(): Machine {
  fs.rmSync(path.join(root, 'machine'), { recursive: true, force: true })
  return newMachine(root, 'machine')
}

function job(machine: Machine, runId: number, models = 'acme/private-model *.json *.safetensors'): Promise<JobResult> {
  return runJob({
    actionDir,
    machine,
    runId,
    inputs: {
      models,
      'hf-token': TOKEN,
      'hf-endpoint': hub.url,
      'hf-offline': 'true',
      backend: 'local',
      'local-dir': path.join(root, 'store')
    },
    env: { HF_HUB_CACHE: path.join(machine.home, 'hub') }
  })
}

function report(run: JobResult) {
  return JSON.parse(fs.readFileSync(run.main.outputs.report, 'utf8'))
}

/** What a person or a later job could read; `::add-mask::` lines are consumed by the runner itself. */
function everythingWritten(run: JobResult, machine: Machine): string {
  const logs = [run.main.stdout, run.post?.stdout ?? ''].map(log =>
    log
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
  )
  const files = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter(entry => entry.isFile())
  const texts = files.map(entry => fs.readFileSync(path.join(entry.parentPath, entry.name)).toString('latin1'))
  return [...logs, run.post?.summary, JSON.stringify(report(run)), machine.home, ...texts].join('\n')
}

describe('models through the runner', () => {
  let cold: JobResult

  test('cold run: downloads the selected files, verified, and reports each one', async () => {
    hub.resetCounters()
    const machine = freshMachine()
    cold = await job(machine, 1)
    expect(cold.main.exitCode).toBe(0)
    expect(cold.exported.HF_HUB_CACHE).toBe(path.join(machine.home, 'hub'))
    expect(cold.exported.HF_HUB_OFFLINE).toBe('1')
    const snapshot = path.join(machine.home, 'hub', 'models--acme--private-model', 'snapshots', COMMIT)
    expect(fs.readFileSync(path.join(snapshot, 'model.safetensors')).equals(weights)).toBe(true)
    expect(fs.existsSync(path.join(snapshot, 'notes.txt'))).toBe(false)
    expect(fs.readFileSync(path.join(machine.home, 'hub', 'models--acme--private-model', 'refs', 'main'), 'utf8')).toBe(COMMIT)
    const entry = report(cold).caches.find((c: { kind: string }) => c.kind === 'huggingface')
    const served = hub.hubFileBytes + hub.cdnBytes
    expect(served).toBe(weights.length + '{"layers": 2}\n'.length)
    expect(Math.abs(entry.downloadedBytes - served) / served).toBeLessThan(0.01)
    expect(entry.saved).toBe('saved')
    expect(cold.post?.summary).toMatch(
      /\| acme\/private-model \| `model\.safetensors` \| 2\.00 MiB \| sha256:[0-9a-f]{12}… \| downloaded \| ✓ \|/
    )
    expect(hub.requests.filter(r => r.origin === 'cdn').every(r => !r.authorization)).toBe(true)
    expect(everythingWritten(cold, machine)).not.toContain(TOKEN)
    expect(cold.main.stdout).toContain(`::add-mask::${TOKEN}`)
  })

  test('warm run on a fresh machine: every file from the cache, nothing from the file endpoints', async () => {
    hub.resetCounters()
    const machine = freshMachine()
    const warm = await job(machine, 2)
    expect(warm.main.exitCode).toBe(0)
    expect(warm.main.outputs['cache-hit']).toBe('true')
    expect(hub.hubFileBytes + hub.cdnBytes).toBe(0)
    const entry = report(warm).caches.find((c: { kind: string }) => c.kind === 'huggingface')
    expect(entry).toMatchObject({ hit: 'exact', downloadedBytes: 0, uploadedBytes: 0, saved: 'unchanged' })
    expect(entry.reusedBytes).toBeGreaterThanOrEqual(weights.length)
    expect(warm.post?.summary).toMatch(/\| `model\.safetensors` \| 2\.00 MiB \| sha256:[0-9a-f]{12}… \| cache \| ✓ \|/)
  })

  test('a model that cannot be had fails main with one clear line', async () => {
    const machine = freshMachine()
    const failed = await job(machine, 3, 'acme/no-such-model')
    expect(failed.main.exitCode).toBe(1)
    const errors = failed.main.stdout.split('\n').filter(line => line.startsWith('::error::'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/acme\/no-such-model/)
  })

  test('a malformed pin is bad input, named as such', async () => {
    const failed = await job(freshMachine(), 4, 'acme/private-model model.safetensors=sha256:xyz')
    expect(failed.main.stdout).toContain("::error::Input 'models': pin for 'model.safetensors' is not a sha256")
  })
})

describe('downloads through the runner', () => {
  const artifact = randomBytes(512 * 1024)
  const digest = createHash('sha256').update(artifact).digest('hex')
  let server: http.Server
  let served = 0

  beforeAll(async () => {
    server = http.createServer((_, res) => {
      served += artifact.length
      res.writeHead(200, { 'content-length': artifact.length })
      res.end(artifact)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise(resolve => server.close(resolve)))

  function run(runId: number, sha256 = digest): Promise<JobResult> {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tool.tgz`
    return runJob({
      actionDir,
      machine: freshMachine(),
      runId,
      inputs: { downloads: `${url} ${sha256} vendor/tool.tgz`, backend: 'local', 'local-dir': path.join(root, 'store-downloads') }
    })
  }

  test('cold run downloads and verifies, a fresh machine gets it from the cache, a wrong hash fails main', async () => {
    const cold = await run(10)
    expect(cold.main.exitCode).toBe(0)
    expect(served).toBe(artifact.length)
    expect(fs.readFileSync(path.join(root, 'machine', 'workspace', 'vendor', 'tool.tgz')).equals(artifact)).toBe(true)
    expect(cold.post?.summary).toMatch(/\| `.*vendor\/tool\.tgz` \| 512\.0 KiB \| sha256:[0-9a-f]{12}… \| downloaded \| ✓ \|/)

    const warm = await run(11)
    expect(warm.main.outputs['cache-hit']).toBe('true')
    expect(served).toBe(artifact.length)
    expect(warm.post?.summary).toContain('| cache | ✓ |')

    const wrong = await run(12, 'ef'.repeat(32))
    expect(wrong.main.exitCode).toBe(1)
    expect(wrong.main.stdout).toMatch(new RegExp(`::error::.*sha256 mismatch, expected ${'ef'.repeat(32)}, got ${digest}`))
  })
})
