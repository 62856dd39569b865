/**
 * Our GitHub backend and the restore/save phases over the real @actions/cache and the emulator:
 * archive sizes reach the ledger, never-archive patterns reach tar, and every service fault becomes
 * a warning plus a ledger problem, never an exception.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import type { ArchivePart } from '../src/backends/backend.js'
import { GitHubBackend, portableNames } from '../src/backends/github.js'
import { restoreOne } from '../src/restore/restore.js'
import { saveOne } from '../src/save/save.js'
import type { CachePlan } from '../src/kinds/kind.js'
import { type CacheService, startCacheService } from './support/cache-service.js'

let service: CacheService
let root: string
let warnings: string[]
const backend = new GitHubBackend()
const readWrite = { read: true, write: true, reason: 'read and write' }

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-gh-'))
  service = await startCacheService({ tmpRoot: root })
  Object.assign(process.env, service.env(), { GITHUB_WORKSPACE: root, RUNNER_TEMP: root, GITHUB_REF: 'refs/heads/main' })
  for (const name of ['GITHUB_SERVER_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_CACHE_MODE', 'GITHUB_RUN_ID']) delete process.env[name]
})

afterAll(async () => {
  await service.close()
  fs.rmSync(root, { recursive: true, force: true })
})

beforeEach(() => {
  service.faults = {}
  warnings = []
  jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('::warning::')) warnings.push(line)
    return true
  }) as typeof process.stdout.write)
})

function planFor(name: string, files: Record<string, number>): CachePlan {
  const dir = path.join(root, name)
  fs.rmSync(dir, { recursive: true, force: true })
  for (const [file, size] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), crypto.randomBytes(size))
  }
  const spec = { parts: [{ origin: 'spelled' as const, name, path: dir }], exclude: ['token', '*.incomplete'] }
  return { kind: 'custom', spec, key: `k-${name}`, restoreKeys: [`k-${name}~r`], keyParts: [], notes: [], inPlace: false, env: {} }
}

describe('GitHubBackend', () => {
  test('reports the archive bytes the service stored, both ways, and honours never-archive patterns', async () => {
    const plan = planFor('sizes', { 'a.bin': 300_000, 'sub/b.bin': 5000, token: 10, 'c.incomplete': 10 })
    const saved = await backend.save(plan.spec, `${plan.key}~r1`)
    const entry = service.entries().find(e => e.key === `${plan.key}~r1`)
    expect(saved.archiveBytes).toBe(entry?.sizeBytes)
    fs.rmSync(plan.spec.parts[0].path, { recursive: true })
    const restored = await backend.restore(plan.spec, plan.key, plan.restoreKeys)
    expect(restored).toEqual({ matchedKey: `${plan.key}~r1`, archiveBytes: entry?.sizeBytes })
    expect(fs.readdirSync(plan.spec.parts[0].path).sort()).toEqual(['a.bin', 'sub'])
  })

  test('a miss is undefined, not an error', async () => {
    const plan = planFor('missing', { x: 1 })
    await expect(backend.restore(plan.spec, 'never-saved', ['never-'])).resolves.toMatchObject({ matchedKey: null })
  })

  test('a 429 on create is an error naming the rate limit', async () => {
    const plan = planFor('limited', { x: 1 })
    service.faults.rateLimit = { method: 'CreateCacheEntry', retryAfterSeconds: 60, times: 1 }
    await expect(backend.save(plan.spec, 'limited~r1')).rejects.toThrow(/429/)
  })
})

describe('portable entries', () => {
  test.each([
    [
      { origin: 'role', name: 'pip-cache', path: '/home/a/.cache/pip' },
      { link: 'pip-cache', target: '/home/a/.cache/pip', pattern: 'pip-cache/*' }
    ],
    [
      { origin: 'spelled', name: 'build/ccache', path: '/w/build/ccache' },
      { link: 'workspace', target: '/w', pattern: 'workspace/build/ccache' }
    ],
    [
      { origin: 'spelled', name: '~/.gradle/caches', path: '/home/a/.gradle/caches' },
      { link: 'home', target: '/home/a', pattern: 'home/.gradle/caches' }
    ],
    [
      { origin: 'spelled', name: '/opt/sdk', path: '/opt/sdk' },
      { link: 'root', target: '/', pattern: 'root/opt/sdk' }
    ],
    [
      { origin: 'spelled', name: '../shared/x', path: '/shared/x' },
      { link: 'workspace-up1', target: '/', pattern: 'workspace-up1/shared/x' }
    ],
    [
      { origin: 'spelled', name: '.', path: '/w' },
      { link: 'workspace', target: '/w', pattern: 'workspace/*' }
    ]
  ] as Array<[ArchivePart, ReturnType<typeof portableNames>]>)('%o is handed to the library as %o', (part, expected) => {
    expect(portableNames(part)).toEqual(expected)
  })

  test('an entry saved from one workspace and home restores into another: its version and tar members name no machine', async () => {
    const machine = (name: string) => ({
      workspace: path.join(root, `${name}-ws`),
      home: path.join(root, `${name}-home`),
      pip: path.join(root, `${name}-pipdir`)
    })
    const a = machine('a')
    const b = machine('b')
    const spec = (m: typeof a) => ({
      parts: [
        { origin: 'role' as const, name: 'pip-cache', path: m.pip },
        { origin: 'spelled' as const, name: 'data', path: path.join(m.workspace, 'data') },
        { origin: 'spelled' as const, name: '~/.gradle/caches', path: path.join(m.home, '.gradle/caches') }
      ],
      exclude: ['token']
    })
    const files = { 'pip-cache': 'wheels/w.whl', data: 'out.bin', gradle: 'jars/j.jar' }
    const content = crypto.randomBytes(40_000)
    fs.mkdirSync(path.join(a.pip, 'wheels'), { recursive: true })
    fs.writeFileSync(path.join(a.pip, files['pip-cache']), content)
    fs.writeFileSync(path.join(a.pip, 'token'), 'secret')
    fs.mkdirSync(path.join(a.workspace, 'data'), { recursive: true })
    fs.writeFileSync(path.join(a.workspace, 'data', files.data), content)
    fs.mkdirSync(path.join(a.home, '.gradle/caches/jars'), { recursive: true })
    fs.writeFileSync(path.join(a.home, '.gradle/caches', files.gradle), content)
    const workspaceBefore = process.env.GITHUB_WORKSPACE
    const blobsBefore = new Set(fs.readdirSync(service.blobDir))

    process.env.GITHUB_WORKSPACE = a.workspace
    await backend.save(spec(a), 'portable~r1')
    expect(process.env.GITHUB_WORKSPACE).toBe(a.workspace)
    const blob = fs.readdirSync(service.blobDir).find(name => name.endsWith('.blob') && !blobsBefore.has(name))!
    const listing = spawnSync('tar', ['--use-compress-program=zstd', '-tf', path.join(service.blobDir, blob)], { encoding: 'utf8' })
    const members = listing.stdout.split('\n').filter(Boolean)
    expect(members.sort()).toEqual(
      [
        'pip-cache/wheels/',
        'pip-cache/wheels/w.whl',
        'workspace/data/',
        'workspace/data/out.bin',
        'home/.gradle/caches/',
        'home/.gradle/caches/jars/',
        'home/.gradle/caches/jars/j.jar'
      ].sort()
    )

    process.env.GITHUB_WORKSPACE = b.workspace
    try {
      const restored = await backend.restore(spec(b), 'portable', ['portable~r'])
      expect(restored.matchedKey).toBe('portable~r1')
    } finally {
      process.env.GITHUB_WORKSPACE = workspaceBefore
    }
    expect(fs.readFileSync(path.join(b.pip, files['pip-cache']))).toEqual(content)
    expect(fs.readFileSync(path.join(b.workspace, 'data', files.data))).toEqual(content)
    expect(fs.readFileSync(path.join(b.home, '.gradle/caches', files.gradle))).toEqual(content)
    expect(fs.existsSync(path.join(b.pip, 'token'))).toBe(false)
  })

  test('a miss says what the version was computed from', async () => {
    const plan = planFor('identity', { x: 1 })
    await backend.save(plan.spec, 'identity~r1')
    const other = { ...plan.spec, parts: [...plan.spec.parts, { origin: 'spelled' as const, name: 'more', path: path.join(root, 'more') }] }
    const result = await backend.restore(other, 'identity', ['identity~r'])
    expect(result).toEqual({
      matchedKey: null,
      otherIdentity: expect.stringMatching(
        /^The cache service has no entry for these keys with version [0-9a-f]{12}…, which is computed from the paths workspace\/identity, workspace\/more and the compression; /
      )
    })
  })
})

describe('phases over a failing service', () => {
  async function roundTrip(plan: CachePlan) {
    const snapshotDir = fs.mkdtempSync(path.join(root, 'snap-'))
    const restored = await restoreOne(plan, backend, readWrite, snapshotDir)
    await saveOne(plan, restored.entry, restored.fingerprint, { backend, mode: readWrite, save: 'on-success', snapshotDir })
    return restored.entry
  }

  test('connection refused: restore is a miss with a warning, save fails with a warning, nothing throws', async () => {
    const plan = planFor('refused', { 'x.bin': 1000 })
    await service.stop()
    try {
      const entry = await roundTrip(plan)
      // The file was there before the restore: present, not downloaded during the job.
      expect(entry).toMatchObject({ hit: 'miss', saved: 'failed', uploadedBytes: 0, downloadedBytes: 0 })
      expect(entry.problems).toEqual([
        expect.stringMatching(/^restore failed, continuing without cache: .*ECONNREFUSED/),
        expect.stringMatching(/^save failed, the job goes on: Unable to reserve cache .*ECONNREFUSED/)
      ])
      expect(warnings.some(w => w.includes('ECONNREFUSED'))).toBe(true)
    } finally {
      await service.restart()
    }
  })

  test('503 then success on lookup: retried by the library, restore works', async () => {
    const plan = planFor('flaky', { 'x.bin': 2000 })
    await backend.save(plan.spec, `${plan.key}~r1`)
    fs.rmSync(plan.spec.parts[0].path, { recursive: true })
    service.faults.twirpError = { method: 'GetCacheEntryDownloadURL', status: 503, times: 1 }
    const entry = await roundTrip(plan)
    expect(entry).toMatchObject({ hit: 'exact', restoredBytes: 2000, reusedBytes: 2000, saved: 'unchanged', problems: [] })
  })

  test('truncated download: a miss with a warning, no partial files', async () => {
    const plan = planFor('truncated', { 'x.bin': 200_000 })
    await backend.save(plan.spec, `${plan.key}~r1`)
    fs.rmSync(plan.spec.parts[0].path, { recursive: true })
    service.faults.truncateDownload = { afterBytes: 1000, times: 1 }
    service.faults.denyWrites = { via: 'twirp-403' }
    const entry = await roundTrip(plan)
    expect(entry).toMatchObject({ hit: 'miss', restoredBytes: 0, saved: 'empty' })
    expect(entry.problems[0]).toMatch(/^restore failed/)
    expect(fs.existsSync(plan.spec.parts[0].path)).toBe(false)
  })

  test('ok:false on create and write denied: save fails with the service message', async () => {
    const plan = planFor('denied', { 'x.bin': 10 })
    service.faults.createNotOk = { message: 'entry is being created by another job', times: 1 }
    const entry = await roundTrip(plan)
    expect(entry.saved).toBe('failed')
    expect(entry.problems.at(-1)).toMatch(/Unable to reserve cache|another job/)
  })
})
