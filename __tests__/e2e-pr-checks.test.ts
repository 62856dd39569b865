/**
 * PR checks that guard bandwidth, through the runner simulation with real pip against the local index and
 * the mini Hub: budgets (warn and fail, the job and per kind), the comparison with the base branch on both
 * backends, whether each cache pays off (a throttled CDN, a throttled cache service), and triggers that
 * run pull-request code restoring without saving.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type JobResult, type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { type CacheService, startCacheService } from './support/cache-service.js'
import { type Hub, startHub } from './support/hub.js'
import { type PackageIndex, pipInstallArgs, runPip, startPackageIndex } from './support/package-index.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const COMMIT = crypto.createHash('sha1').update('pr-checks').digest('hex')
const weights = { a: crypto.randomBytes(2 * MiB), b: crypto.randomBytes(2 * MiB) }

let index: PackageIndex
let hub: Hub
let service: CacheService
let root: string
let machines = 0

beforeAll(async () => {
  if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-pr-checks-'))
  index = await startPackageIndex({
    packages: [
      { name: 'qdc-small', version: '1.0', payloadBytes: MiB },
      { name: 'qdc-big', version: '1.0', payloadBytes: 6 * MiB }
    ]
  })
  hub = await startHub({
    repos: [
      {
        id: 'acme/model',
        refs: { main: COMMIT },
        commits: {
          [COMMIT]: [
            { path: 'a.safetensors', bytes: weights.a, lfs: true },
            { path: 'b.safetensors', bytes: weights.b, lfs: true }
          ]
        }
      }
    ]
  })
  service = await startCacheService({ tmpRoot: root })
})

afterAll(async () => {
  await Promise.all([index?.close(), hub?.close(), service?.close()])
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** Every job on a new runner: nothing left from before but the store or the service. */
function fresh(): Machine {
  return newMachine(root, `m${++machines}`)
}

interface Job {
  backend: 'local' | 'github'
  inputs?: Record<string, string>
  env?: Record<string, string>
  packages?: string[]
  runId: number
  store?: string
}

function pipJob({ backend, inputs = {}, env = {}, packages = ['qdc-small'], runId, store = 'store' }: Job): Promise<JobResult> {
  const machine = fresh()
  return runJob({
    actionDir,
    machine,
    runId,
    inputs: { caches: 'pip', backend, 'local-dir': path.join(root, store), ...inputs },
    env: { PIP_CACHE_DIR: path.join(machine.home, 'pip'), ...(backend === 'github' ? service.env() : {}), ...env },
    between: async () => {
      const pip = await runPip(pipInstallArgs(index, path.join(machine.workspace, 'site'), packages), {
        cacheDir: path.join(machine.home, 'pip')
      })
      if (pip.code !== 0) throw new Error(`pip failed: ${pip.stderr}`)
    }
  })
}

function report(job: JobResult) {
  return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8'))
}

function annotations(job: JobResult, kind: 'warning' | 'error'): string[] {
  return (job.post?.stdout ?? '')
    .split('\n')
    .filter(line => line.startsWith(`::${kind}::`))
    .map(line => line.slice(kind.length + 4))
}

/** A pull request's run: the events and refs GitHub gives one. */
const pullRequest = {
  GITHUB_EVENT_NAME: 'pull_request',
  GITHUB_REF: 'refs/pull/7/merge',
  GITHUB_REF_NAME: '7/merge',
  GITHUB_BASE_REF: 'main',
  GITHUB_HEAD_REF: 'feature'
}

describe('budgets', () => {
  test('warn: an annotation naming the kind, its bytes and its budget; the job passes', async () => {
    index.resetCounters()
    const job = await pipJob({
      backend: 'local',
      runId: 1,
      store: 'budget-warn',
      inputs: { 'max-downloaded-per-kind': 'pip=512K', 'max-downloaded': '100M' }
    })
    expect(job.post?.exitCode).toBe(0)
    const downloaded = report(job).caches[0].downloadedBytes
    expect(Math.abs(downloaded - index.filesBytesServed) / index.filesBytesServed).toBeLessThan(0.01)
    expect(annotations(job, 'warning')).toContain(`Bandwidth budget exceeded: pip downloaded ${mib(downloaded)}, budget 512.0 KiB`)
    expect(job.post?.outputs['budget-exceeded']).toBe('true')
    // The same tables as a file, for a sticky pull-request comment.
    expect(fs.readFileSync(job.post!.outputs['summary-markdown'], 'utf8')).toBe(job.post?.summary)
    expect(report(job).budget).toMatchObject({
      exceeded: true,
      breaches: [{ kind: 'pip', downloadedBytes: downloaded, budgetBytes: 512 * 1024 }]
    })
  })

  test('fail: the job budget fails post with that one line', async () => {
    const job = await pipJob({
      backend: 'local',
      runId: 2,
      store: 'budget-fail',
      inputs: { 'max-downloaded': '100K', 'on-budget': 'fail' }
    })
    expect(job.post?.exitCode).toBe(1)
    const downloaded = report(job).caches[0].downloadedBytes
    expect(annotations(job, 'error')).toEqual([`Bandwidth budget exceeded: the job downloaded ${mib(downloaded)}, budget 100.0 KiB`])
    // The cache was still saved: the budget is the user's gate, not a cache problem.
    expect(report(job).caches[0].saved).toBe('saved')
  })

  test('a budget that holds passes, even with on-budget: fail and the cache service down', async () => {
    await service.stop()
    try {
      const job = await pipJob({ backend: 'github', runId: 3, inputs: { 'max-downloaded': '100M', 'on-budget': 'fail' } })
      expect(job.main.exitCode).toBe(0)
      expect(job.post?.exitCode).toBe(0)
      expect(job.post?.outputs['budget-exceeded']).toBe('false')
      expect(annotations(job, 'warning').some(line => line.includes('ECONNREFUSED'))).toBe(true)
      expect(annotations(job, 'error')).toEqual([])
      expect(job.post?.summary).toContain('Bandwidth budget held (the job ≤ 100.0 MiB).')
    } finally {
      await service.restart()
    }
  })
})

describe.each(['local', 'github'] as const)('the comparison with the base branch on the %s backend', backend => {
  const store = `baseline-${backend}`
  const runBase = 100 + (backend === 'github' ? 100 : 0)
  const served: number[] = []

  test('the first run of main says there is nothing to compare with yet', async () => {
    index.resetCounters()
    const first = await pipJob({ backend, runId: runBase, store })
    served.push(index.filesBytesServed)
    expect(first.post?.summary).toContain('No earlier runs of main to compare with yet: this is the first one the history has.')
    expect(report(first)).toMatchObject({ baseline: null, baselineNote: expect.stringContaining('first') })
  })

  test('three runs of main, then a pull request that downloads more: its delta and the median', async () => {
    for (const runId of [runBase + 1, runBase + 2]) {
      index.resetCounters()
      await pipJob({ backend, runId, store })
      served.push(index.filesBytesServed)
    }
    expect(served[0]).toBeGreaterThan(0)
    index.resetCounters()
    const pr = await pipJob({ backend, runId: runBase + 3, store, packages: ['qdc-small', 'qdc-big'], env: pullRequest })
    const prServed = index.filesBytesServed
    expect(prServed).toBeGreaterThan(6 * MiB)
    const figures = report(pr)
    const sorted = [...served].sort((a, b) => a - b)
    const medianServed = sorted[1]
    expect(figures.baseline).toMatchObject({ branch: 'main', runs: 3 })
    // The ledger's bytes are pip's cache files: each wheel plus a few hundred bytes of headers (within 1%).
    expect(Math.abs(figures.baseline.medianDownloadedBytes.pip - medianServed)).toBeLessThanOrEqual(Math.max(1024, medianServed * 0.01))
    expect(Math.abs(figures.baseline.deltaDownloadedBytes.pip - (prServed - medianServed)) / prServed).toBeLessThan(0.01)
    const lines = pr.post!.summary.split('\n')
    const comparison = lines.findIndex(line => line.startsWith('Compared with main'))
    const row = lines.slice(comparison).find(line => line.startsWith('| pip | '))!
    expect(row).toMatch(/^\| pip \| [\d.]+ MiB \| \+[\d.]+ MiB \| [\d.]+ (B|KiB|MiB) \| [▁▂▃▄▅▆▇█]{4} \|$/)
    expect(pr.post?.summary).toContain('Compared with main: the median of its last 3 run(s)')
  })
})

describe('does each cache pay off', () => {
  test('a CDN sending at a known rate prices the reused model at that rate, within 10%', async () => {
    const rate = 1 * MiB
    const models = (files: string) => ({
      caches: 'huggingface',
      models: `acme/model ${files}`,
      'hf-endpoint': hub.url,
      backend: 'local',
      'local-dir': path.join(root, 'payoff')
    })
    await runJob({ actionDir, machine: fresh(), runId: 300, inputs: models('a.safetensors') })
    hub.faults.cdn = { slow: { bytesPerSecond: rate } }
    try {
      const job = await runJob({ actionDir, machine: fresh(), runId: 301, inputs: models('a.safetensors b.safetensors') })
      expect(job.post?.exitCode).toBe(0)
      const hf = report(job).payoff.find((p: { kind: string }) => p.kind === 'huggingface')
      expect(hf.bandwidthSource).toBe('measured')
      expect(Math.abs(hf.bandwidth - rate) / rate).toBeLessThan(0.1)
      const predictedMs = (hf.reusedBytes / rate) * 1000
      expect(hf.reusedBytes).toBeGreaterThanOrEqual(weights.a.length)
      expect(Math.abs(hf.missMs - predictedMs) / predictedMs).toBeLessThan(0.1)
      expect(hf.paysOff).toBe(true)
    } finally {
      hub.faults.cdn = {}
    }
  })

  test('a restore slower than the download it saves is flagged with one actionable line', async () => {
    const inputs = { caches: 'huggingface', models: 'acme/model', 'hf-endpoint': hub.url, backend: 'github' }
    await runJob({ actionDir, machine: fresh(), runId: 310, inputs, env: service.env() })
    // The cache service now sends at 1 MiB/s; the Hub's CDN, measured by the first run, is as fast as loopback.
    service.faults.slowDownload = { bytesPerSecond: MiB }
    try {
      const job = await runJob({ actionDir, machine: fresh(), runId: 311, inputs, env: service.env() })
      const hf = report(job).payoff.find((p: { kind: string }) => p.kind === 'huggingface')
      expect(hf.paysOff).toBe(false)
      expect(hf.restoreMs).toBeGreaterThan(hf.missMs)
      expect(annotations(job, 'warning')).toContainEqual(
        expect.stringMatching(
          /^huggingface: restoring took [\d.]+ (s|ms), downloading would take ~[\d.]+ (s|ms) at the (measured|recently measured|assumed) [\d.]+ (KiB|MiB|GiB)\/s — consider in-place mode or no cache$/
        )
      )
      expect(job.post?.summary).toContain('| huggingface | ')
    } finally {
      delete service.faults.slowDownload
    }
  })
})

/** The three calls a sticky comment makes, as the GitHub REST API answers them, with the token checked. */
async function startCommentApi(token: string) {
  const comments: Array<{ id: number; body: string }> = []
  const calls: string[] = []
  const server = http.createServer((request, response) => {
    let body = ''
    request.on('data', chunk => (body += chunk))
    request.on('end', () => {
      calls.push(`${request.method} ${request.url?.split('?')[0]}`)
      if (request.headers.authorization !== `Bearer ${token}`) return void response.writeHead(401).end('{"message":"Bad credentials"}')
      const json = (value: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value))
      if (request.method === 'GET' && /^\/repos\/org\/repo\/issues\/7\/comments/.test(request.url ?? '')) return json(comments)
      if (request.method === 'POST' && request.url === '/repos/org/repo/issues/7/comments') {
        comments.push({ id: comments.length + 1, body: (JSON.parse(body) as { body: string }).body })
        return json(comments.at(-1))
      }
      const edit = /^\/repos\/org\/repo\/issues\/comments\/(\d+)$/.exec(request.url ?? '')
      if (request.method === 'PATCH' && edit) {
        const comment = comments.find(c => c.id === Number(edit[1]))!
        comment.body = (JSON.parse(body) as { body: string }).body
        return json(comment)
      }
      response.writeHead(404).end('{}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    comments,
    calls,
    close: () => new Promise(resolve => server.close(resolve))
  }
}

describe('the summary as a sticky pull-request comment', () => {
  test('posted once, then edited in place on the next run; the token never logged', async () => {
    const token = 'ghs_pr_comment_token_value'
    const api = await startCommentApi(token)
    try {
      const env = { ...pullRequest, GITHUB_API_URL: api.url }
      const inputs = { 'pr-comment': 'true', 'github-token': token }
      const first = await pipJob({ backend: 'local', runId: 500, store: 'comment', env, inputs })
      expect(api.comments).toHaveLength(1)
      expect(api.comments[0].body).toContain(first.post!.summary)
      const second = await pipJob({ backend: 'local', runId: 501, store: 'comment', env, inputs, packages: ['qdc-small', 'qdc-big'] })
      expect(api.comments).toHaveLength(1)
      expect(api.comments[0].body).toContain(second.post!.summary)
      expect(api.calls.filter(call => !call.startsWith('GET'))).toEqual([
        'POST /repos/org/repo/issues/7/comments',
        'PATCH /repos/org/repo/issues/comments/1'
      ])
      for (const job of [first, second])
        expect(
          (job.main.stdout + job.post!.stdout).split('\n').filter(line => line.includes(token) && !line.startsWith('::add-mask::'))
        ).toEqual([])
    } finally {
      await api.close()
    }
  })

  test('a token without the permission is one warning; the job passes', async () => {
    const api = await startCommentApi('another-token')
    try {
      const job = await pipJob({
        backend: 'local',
        runId: 510,
        store: 'comment-denied',
        env: { ...pullRequest, GITHUB_API_URL: api.url },
        inputs: { 'pr-comment': 'true', 'github-token': 'ghs_wrong' }
      })
      expect(job.post?.exitCode).toBe(0)
      expect(annotations(job, 'warning')).toEqual([
        expect.stringMatching(/^pr-comment: could not comment on #7 \(the token needs pull-requests: write\): GET .* answered 401/)
      ])
    } finally {
      await api.close()
    }
  })
})

describe('triggers that run pull-request code with the repository cache', () => {
  test.each([
    ['pull_request_target', {}, 'read-only'],
    ['workflow_run', {}, 'read-only'],
    ['pull_request_target', { 'save-on-untrusted-triggers': 'true' }, 'saved']
  ] as const)('%s %j: restore, and save only when opted in', async (event, inputs, saved) => {
    const store = `untrusted-${event}-${Object.keys(inputs).length}`
    await pipJob({ backend: 'local', runId: 400, store })
    const job = await pipJob({
      backend: 'local',
      runId: 401,
      store,
      packages: ['qdc-small', 'qdc-big'],
      inputs,
      env: { GITHUB_EVENT_NAME: event }
    })
    expect(report(job).caches[0]).toMatchObject({ hit: 'exact', saved })
    if (saved === 'read-only') {
      expect(job.post?.summary).toContain(
        `Nothing was saved: the ${event} trigger runs pull-request code with this repository's cache, so it only restores (save-on-untrusted-triggers: true saves).`
      )
    }
  })
})

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(bytes / MiB >= 10 ? 1 : 2)} MiB`
}
