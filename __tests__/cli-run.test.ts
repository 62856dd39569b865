/**
 * `qdc run` end to end: the built CLI wraps a real `python3 -m pip install` from the local package
 * index; cold then warm, in place and with archives, figures checked against the index's byte
 * counter; the command's exit status is qdc's; two concurrent runs share one in-place store safely.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { type PackageIndex, pipInstallArgs, startPackageIndex } from './support/package-index.js'
import { createNixSandbox, generateKey, wipeStore, writeSyntheticExpr } from './support/nix.js'
import { assertBuilt, cleanEnv, QDC, qdc, type QdcResult } from './support/qdc.js'
import { describeWithTools } from './support/tools.js'

const MiB = 1024 * 1024
let index: PackageIndex
let root: string

beforeAll(async () => {
  assertBuilt()
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-cli-run-'))
  index = await startPackageIndex({
    packages: [
      { name: 'qdc-base', version: '1.0', payloadBytes: 2 * MiB },
      { name: 'qdc-app', version: '2.0', payloadBytes: 3 * MiB, dependencies: ['qdc-base'] }
    ]
  })
})

afterAll(async () => {
  await index?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

const wheelBytes = () => index.wheels.reduce((sum, w) => sum + w.bytes, 0)

function writeConfig(name: string, lines: string[]): string {
  const file = path.join(root, `${name}.yml`)
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function pipCommand(target: string): string[] {
  return ['python3', ...pipInstallArgs(index, target, ['qdc-app'])]
}

async function runJson(config: string, command: string[], env: Record<string, string>): Promise<{ result: QdcResult; report: Report }> {
  const result = await qdc(['run', '--config', config, '--json', '--', ...command], { env, cwd: root })
  return {
    result,
    report: JSON.parse(
      result.stdout.slice(
        result.stdout.indexOf('{"version"') >= 0 ? result.stdout.indexOf('{"version"') : result.stdout.lastIndexOf('\n{') + 1
      )
    )
  }
}

interface Report {
  caches: Array<{
    kind: string
    hit: string
    backend: string
    downloadedBytes: number
    reusedBytes: number
    uploadedBytes: number
    saved: string
  }>
}

function pipOf(report: Report) {
  return report.caches.find(c => c.kind === 'pip')!
}

function within1Percent(actual: number, expected: number): void {
  expect(expected).toBeGreaterThan(0)
  expect(Math.abs(actual - expected) / expected).toBeLessThan(0.01)
}

describe('in-place mode', () => {
  const store = () => path.join(root, 'inplace-store')
  const config = () => writeConfig('inplace', ['caches: pip', `local-dir: ${store()}`, 'local-mode: in-place'])
  const env = () => cleanEnv(path.join(root, 'home-inplace'))

  test('cold: pip downloads from the index into the store; the figures match the index counter', async () => {
    index.resetCounters()
    const { result, report } = await runJson(config(), pipCommand(path.join(root, 'site-1')), env())
    expect(result.code).toBe(0)
    expect(index.filesBytesServed).toBe(wheelBytes())
    expect(pipOf(report)).toMatchObject({ hit: 'miss', backend: 'in-place', reusedBytes: 0, uploadedBytes: 0, saved: 'saved' })
    within1Percent(pipOf(report).downloadedBytes, index.filesBytesServed)
    // pip's cache is the in-place directory itself: nothing was archived.
    expect(fs.readdirSync(path.join(store(), 'in-place', 'pip')).length).toBeGreaterThan(0)
    expect(fs.existsSync(path.join(store(), 'entries'))).toBe(false)
  })

  test('warm: nothing from the index, everything reused, the summary rendered for a terminal', async () => {
    index.resetCounters()
    const result = await qdc(['run', '--config', config(), '--', ...pipCommand(path.join(root, 'site-2'))], { env: env(), cwd: root })
    expect(result.code).toBe(0)
    expect(index.filesBytesServed).toBe(0)
    expect(fs.existsSync(path.join(root, 'site-2', 'qdc_app'))).toBe(true)
    expect(result.stderr).toContain('▸ Restore pip')
    expect(result.stderr).toMatch(/^pip +✅ exact +qdc-pip-v1-\S+ +[\d.]+ MiB +0 B +[\d.]+ MiB +0 B +unchanged, not uploaded/m)
    expect(result.stderr).toContain('Total: downloaded 0 B')
    expect(result.stderr).not.toMatch(/::|\| ---/)
    const { report } = await runJson(config(), pipCommand(path.join(root, 'site-3')), env())
    expect(pipOf(report)).toMatchObject({ hit: 'exact', downloadedBytes: 0, saved: 'unchanged' })
    within1Percent(pipOf(report).reusedBytes, wheelBytes())
    // Every lease was given back.
    expect(fs.readdirSync(path.join(store(), 'in-place', '.leases', 'pip'))).toEqual([])
  })

  test('stats reads the hit history the runs appended', async () => {
    const result = await qdc(['stats', '--store', store(), '--json'], { env: env() })
    expect(result.code).toBe(0)
    const pip = JSON.parse(result.stdout).kinds.find((k: { kind: string; store: string }) => k.kind === 'pip' && k.store === 'in-place')
    expect(pip.recentHits).toEqual(['miss', 'exact', 'exact'])
    expect(pip.items).toBeGreaterThan(0)
    within1Percent(pip.bytes, wheelBytes())
  })

  test("the command's exit status is qdc's, and on-success does not save after a failure", async () => {
    const before = fs.readFileSync(path.join(store(), 'history.jsonl'), 'utf8')
    const result = await qdc(['run', '--config', config(), '--', 'sh', '-c', 'exit 7'], { env: env(), cwd: root })
    expect(result.code).toBe(7)
    expect(fs.readFileSync(path.join(store(), 'history.jsonl'), 'utf8')).toBe(before)
    expect(fs.readdirSync(path.join(store(), 'in-place', '.leases', 'pip'))).toEqual([])
  })

  test('the command sees the environment the action exports', async () => {
    const out = path.join(root, 'env.txt')
    const result = await qdc(['run', '--config', config(), '--quiet', '--', 'sh', '-c', `echo "$PIP_CACHE_DIR" > ${out}`], {
      env: env(),
      cwd: root
    })
    expect(result.code).toBe(0)
    expect(fs.readFileSync(out, 'utf8').trim()).toBe(path.join(store(), 'in-place', 'pip'))
  })
})

describe('archive mode', () => {
  const store = () => path.join(root, 'archive-store')
  const config = () => writeConfig('archive', ['caches: pip', `local-dir: ${store()}`, 'backend: local'])
  const machineEnv = (name: string) => {
    const home = path.join(root, name)
    fs.rmSync(home, { recursive: true, force: true })
    return cleanEnv(home)
  }

  // Another dev box: another HOME, so pip's cache is elsewhere; the entry is named by its role, not its path.
  test('cold then warm on another machine: restored from the archive, nothing from the index', async () => {
    index.resetCounters()
    const cold = await runJson(config(), pipCommand(path.join(root, 'a-site-1')), machineEnv('machine-a'))
    expect(cold.result.code).toBe(0)
    expect(pipOf(cold.report)).toMatchObject({ hit: 'miss', backend: 'local', saved: 'saved' })
    within1Percent(pipOf(cold.report).downloadedBytes, index.filesBytesServed)
    expect(pipOf(cold.report).uploadedBytes).toBeGreaterThan(0)
    index.resetCounters()
    const warm = await runJson(config(), pipCommand(path.join(root, 'a-site-2')), machineEnv('machine-b'))
    expect(fs.readdirSync(path.join(root, 'machine-b', '.cache', 'pip')).length).toBeGreaterThan(0)
    expect(warm.result.code).toBe(0)
    expect(index.filesBytesServed).toBe(0)
    expect(pipOf(warm.report)).toMatchObject({ hit: 'exact', downloadedBytes: 0, saved: 'unchanged' })
    within1Percent(pipOf(warm.report).reusedBytes, wheelBytes())
  })
})

describe('concurrency on one in-place store', () => {
  const store = () => path.join(root, 'shared-store')
  const config = () => writeConfig('shared', ['caches: pip', `local-dir: ${store()}`, 'local-mode: in-place'])
  const env = () => cleanEnv(path.join(root, 'home-shared'))

  test('two runs at once both succeed and leave a cache that verifies and serves a third run', async () => {
    index.resetCounters()
    const [a, b] = await Promise.all([
      runJson(config(), pipCommand(path.join(root, 'c-site-1')), env()),
      runJson(config(), pipCommand(path.join(root, 'c-site-2')), env())
    ])
    expect([a.result.code, b.result.code]).toEqual([0, 0])
    for (const site of ['c-site-1', 'c-site-2']) expect(fs.existsSync(path.join(root, site, 'qdc_base'))).toBe(true)
    expect(fs.readdirSync(path.join(store(), 'in-place', '.leases', 'pip'))).toEqual([])
    const verified = await qdc(['verify', '--store', store()], { env: env() })
    expect(verified.code).toBe(0)
    // No half-written file: pip's temp files are gone and the third run needs nothing from the index.
    const leftovers = walk(path.join(store(), 'in-place', 'pip')).filter(f => /\.tmp$|\.incomplete$|\.qdc-restore-/.test(f))
    expect(leftovers).toEqual([])
    index.resetCounters()
    const third = await runJson(config(), pipCommand(path.join(root, 'c-site-3')), env())
    expect(third.result.code).toBe(0)
    expect(index.filesBytesServed).toBe(0)
    expect(pipOf(third.report).hit).toBe('exact')
  })

  test('prune leaves alone a kind a running job holds, and prunes it once the job ended', async () => {
    const release = path.join(root, 'release')
    const started = path.join(root, 'started')
    const holder = spawn(
      process.execPath,
      [QDC, 'run', '--config', config(), '--quiet', '--', 'sh', '-c', `touch ${started}; while [ ! -e ${release} ]; do sleep 0.05; done`],
      {
        env: env(),
        cwd: root,
        stdio: 'ignore'
      }
    )
    const holderDone = new Promise<number>(resolve => holder.on('close', code => resolve(code ?? -1)))
    try {
      while (!fs.existsSync(started)) await new Promise(resolve => setTimeout(resolve, 50))
      const files = walk(path.join(store(), 'in-place', 'pip')).length
      const busy = await qdc(['prune', '--store', store(), '--max-size', '0', '--json'], { env: env() })
      expect(busy.code).toBe(0)
      expect(JSON.parse(busy.stdout)).toMatchObject({ busyKinds: ['pip'], files: [] })
      expect(walk(path.join(store(), 'in-place', 'pip'))).toHaveLength(files)
    } finally {
      fs.writeFileSync(release, '')
    }
    expect(await holderDone).toBe(0)
    const free = await qdc(['prune', '--store', store(), '--max-size', '0', '--json'], { env: env() })
    expect(JSON.parse(free.stdout).busyKinds).toEqual([])
    expect(walk(path.join(store(), 'in-place', 'pip'))).toEqual([])
  })
})

function walk(dir: string): string[] {
  const found: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) found.push(...walk(full))
    else found.push(full)
  }
  return found
}

describeWithTools(['nix', 'nix-build'])('secrets', () => {
  test('an inline nix-signing-key leaves no copy behind: the key is copied only while post signs with it', async () => {
    const work = fs.mkdtempSync(path.join(root, 'signing-'))
    const tmp = path.join(work, 'tmp')
    fs.mkdirSync(tmp)
    const sandbox = createNixSandbox(path.join(work, 'nix'))
    const key = await generateKey(path.join(work, 'keys'), 'qdc-1')
    const expr = path.join(work, 'one.nix')
    writeSyntheticExpr(expr, [{ name: 'one', bytes: 4096 }])
    const nixDir = path.join(work, 'nix-cache')
    const config = writeConfig('signing', [
      'caches: nix',
      `local-dir: ${path.join(work, 'store')}`,
      `nix-dir: ${nixDir}`,
      `nix-signing-key: ${key.secret}`
    ])
    try {
      const result = await qdc(['run', '--config', config, '--quiet', '--', 'nix-build', expr, '-A', 'one', '--no-out-link'], {
        env: cleanEnv(path.join(work, 'home'), { ...sandbox.env, TMPDIR: tmp }),
        cwd: work
      })
      expect(result.code).toBe(0)
      // Post signed what it copied, so the key was there while it was needed.
      const narinfos = fs.readdirSync(nixDir).filter(name => name.endsWith('.narinfo'))
      expect(narinfos.length).toBeGreaterThan(0)
      expect(fs.readFileSync(path.join(nixDir, narinfos[0]), 'utf8')).toMatch(/^Sig: qdc-1:/m)
      const copies = fs
        .readdirSync(work, { recursive: true })
        .map(String)
        .filter(name => name.includes('qdc-nix-key-'))
      expect([copies, fs.readdirSync(tmp)]).toEqual([[], []])
      expect(result.stdout + result.stderr).not.toContain(key.secret)
    } finally {
      wipeStore(sandbox)
    }
  })
})
