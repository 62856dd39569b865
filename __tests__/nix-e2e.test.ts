/**
 * The nix kind end to end: the bundled dist/ main and post around a real `nix-build` in a private store,
 * with a loopback HTTP binary cache standing in for cache.nixos.org, serving xz NARs of compressible paths
 * (so a NAR's size is about three times the bytes on the wire). Cold: some paths come from upstream, some
 * are built; post classifies and copies them into the cache directory. Warm, on a fresh machine and an
 * empty store: everything is substituted from the restored directory, nothing built or downloaded, also
 * when an upstream that Nix would ask first (no Priority: 0) holds the same paths.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type JobResult, type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { formatBytes } from '../src/report/format.js'
import { type BinaryCacheServer, startBinaryCache } from './support/binary-cache.js'
import {
  builtDerivations,
  createNixSandbox,
  generateKey,
  mustRun,
  type NixSandbox,
  nixBuild,
  runCommand,
  wipeStore,
  writeSyntheticExpr
} from './support/nix.js'
import { describeWithTools } from './support/tools.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024

describeWithTools(['nix', 'nix-build'])('nix kind through the runner simulation', () => {
  let root: string
  let upstream: BinaryCacheServer
  let sandbox: NixSandbox
  let expr: string
  let localOnlyExpr: string
  let signing: { secret: string; publicKey: string }
  let otherKey: { publicKey: string }
  let upstreamDir: string
  let upKey: { publicKey: string }
  let coldNix: { built: { narBytes: number }; fromUpstream: { narBytes: number }; copied: { fileBytes: number } }

  beforeAll(async () => {
    if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-nix-e2e-'))
    upstreamDir = path.join(root, 'upstream')
    fs.mkdirSync(upstreamDir)
    upstream = await startBinaryCache(upstreamDir)
    const upstreamKey = await generateKey(path.join(root, 'keys'), 'upstream-1')
    upKey = upstreamKey
    signing = await generateKey(path.join(root, 'keys'), 'qdc-1')
    otherKey = await generateKey(path.join(root, 'keys-other'), 'qdc-1')
    sandbox = createNixSandbox(path.join(root, 'nix'), { substituters: [upstream.url], trustedPublicKeys: [upstreamKey.publicKey] })
    expr = path.join(root, 'job.nix')
    writeSyntheticExpr(expr, [
      { name: 'up1', bytes: 3 * MiB, compressible: true },
      { name: 'up2', bytes: 5 * MiB, deps: ['up1'], compressible: true },
      { name: 'local1', bytes: 2 * MiB, deps: ['up2'], compressible: true }
    ])
    localOnlyExpr = path.join(root, 'local.nix')
    writeSyntheticExpr(localOnlyExpr, [{ name: 'solo', bytes: 512 * 1024 }], 'solo')
    // Upstream holds up1 and up2 (xz, signed), as cache.nixos.org would; local1 and all exist nowhere.
    const env = { ...sandbox.env, HOME: path.join(root, 'publisher') }
    const { out } = await nixBuild(expr, 'up2', { ...env, NIX_CONFIG: 'substituters =' })
    await mustRun('nix', ['copy', '--to', `file://${upstreamDir}?compression=xz&secret-key=${upstreamKey.secretFile}`, out], env)
    wipeStore(sandbox)
  })

  afterAll(async () => {
    await upstream?.close()
    if (sandbox) wipeStore(sandbox)
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  /** A new runner VM: the same layout (so the same cache entry versions), nothing left from before, an empty store. */
  function freshMachine(name: string): Machine {
    wipeStore(sandbox)
    fs.rmSync(path.join(root, name), { recursive: true, force: true })
    return newMachine(root, name)
  }

  async function nixJob(
    machine: Machine,
    runId: number,
    inputs: Record<string, string>,
    file = expr,
    beforeBuild: () => void = () => {}
  ): Promise<{ job: JobResult; built: string[] }> {
    let built: string[] = []
    const job = await runJob({
      actionDir,
      machine,
      runId,
      inputs: { caches: 'nix', backend: 'local', 'local-dir': path.join(root, 'store'), ...inputs },
      env: sandbox.env,
      between: async env => {
        beforeBuild()
        const result = await runCommand('nix-build', [file, '-A', 'all', '--no-out-link'], env)
        if (result.code !== 0) throw new Error(`nix-build failed: ${result.stderr}`)
        built = builtDerivations(result.stderr)
      }
    })
    return { job, built }
  }

  function nixEntry(job: JobResult) {
    return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8')).caches.find((c: { kind: string }) => c.kind === 'nix')
  }

  test('cold run: builds two paths, downloads two from upstream, and the ledger matches the compressed bytes upstream sent', async () => {
    upstream.resetCounters()
    const run = await nixJob(freshMachine('runner'), 500, { 'nix-signing-key': signing.secret })
    const cold = run.job
    const coldBuilt = run.built
    expect(cold.main.exitCode).toBe(0)
    expect(cold.post?.exitCode).toBe(0)
    expect(coldBuilt.map(d => path.basename(d).slice(33))).toEqual(['local1.drv', 'all.drv'])
    expect(upstream.narRequests).toBe(2)
    const entry = nixEntry(cold)
    coldNix = entry.nix
    expect(entry).toMatchObject({ hit: 'miss', saved: 'saved', reusedBytes: 0 })
    expect(entry.nix.built.paths).toBe(2)
    expect(entry.nix.fromUpstream.paths).toBe(2)
    expect(entry.nix.fromCache.paths).toBe(0)
    expect(entry.nix.copied.paths).toBe(4)
    // xz on the wire: about a third of the 8 MiB of NARs, so counting NAR sizes would be three times too much.
    expect(entry.nix.fromUpstream.narBytes).toBeGreaterThan(8 * MiB)
    expect(upstream.narBytesServed).toBeLessThan(entry.nix.fromUpstream.narBytes / 2)
    expect(Math.abs(entry.downloadedBytes - upstream.narBytesServed) / upstream.narBytesServed).toBeLessThan(0.01)
    expect(entry.nix.fromUpstream.fileBytes).toBe(entry.downloadedBytes)
    expect(entry.nix.unattributed.paths).toBe(0)
    expect(cold.main.stdout.split('\n').filter(line => line.startsWith('::warning'))).toEqual([])
    expect(cold.post?.stdout).toContain(`from ${upstream.url}: 2 path(s)`)
    expect(cold.post?.summary).toContain('| downloaded from upstream caches | 2 |')
    expect(cold.post?.summary).toContain('| built on this runner | 2 |')
    // The inline key is masked before anything else is logged, and never printed otherwise.
    const lines = cold.main.stdout.split('\n').filter(line => line.includes(signing.secret))
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.every(line => line.startsWith('::add-mask::'))).toBe(true)
  })

  test('warm run on a fresh machine and an empty store: 0 builds, 0 upstream NAR downloads, everything reused', async () => {
    upstream.resetCounters()
    const { job: warm, built } = await nixJob(freshMachine('runner'), 501, { 'nix-signing-key': signing.secret })
    expect(warm.main.exitCode).toBe(0)
    expect(warm.exported.NIX_USER_CONF_FILES).toMatch(/nix\.conf/)
    expect(warm.main.stdout).toMatch(/Later steps substitute from file:\/\/.*\?priority=10 first \(4 store paths\)/)
    expect(built).toEqual([])
    expect(upstream.narRequests).toBe(0)
    expect(upstream.narBytesServed).toBe(0)
    const entry = nixEntry(warm)
    expect(entry).toMatchObject({ hit: 'exact', downloadedBytes: 0, saved: 'unchanged', uploadedBytes: 0 })
    expect(entry.nix.built.paths).toBe(0)
    expect(entry.nix.fromUpstream.paths).toBe(0)
    expect(entry.nix.fromCache.paths).toBe(4)
    // Reused: the four paths as the cache holds them (zstd), which is what the cold run added to it.
    expect(entry.nix.fromCache.narBytes).toBe(coldNix.built.narBytes + coldNix.fromUpstream.narBytes)
    expect(entry.reusedBytes).toBe(coldNix.copied.fileBytes)
    expect(entry.reusedBytes).toBeLessThan(entry.nix.fromCache.narBytes / 2)
    expect(warm.post?.summary).toContain('| from the restored cache | 4 |')
    expect(warm.post?.summary).toContain('(100% from cache)')
  })

  /** The sandbox's nix.conf with these substituters (an upstream Nix asks first, then the usual one). */
  function configureSubstituters(urls: string[]): void {
    createNixSandbox(path.join(root, 'nix'), { substituters: urls, trustedPublicKeys: [upKey.publicKey] })
  }

  test('warm run with an upstream announcing no Priority (Nix: 0) that holds the same paths: the restored cache is still asked first', async () => {
    const first = await startBinaryCache(upstreamDir, null)
    try {
      configureSubstituters([first.url, upstream.url])
      upstream.resetCounters()
      const { job, built } = await nixJob(freshMachine('runner'), 502, { 'nix-signing-key': signing.secret })
      expect(job.main.exitCode).toBe(0)
      expect(job.main.stdout).toContain(`Nix also substitutes from ${first.url} (priority 0: its nix-cache-info names none, Nix's default)`)
      expect(job.main.stdout).toContain(`Nix also substitutes from ${upstream.url} (priority 40: announced in its nix-cache-info)`)
      expect(job.main.stdout).toMatch(/Later steps substitute from file:\/\/.*\?priority=-1 first \(4 store paths\)/)
      expect(built).toEqual([])
      expect(first.narRequests + upstream.narRequests).toBe(0)
      const entry = nixEntry(job)
      expect(entry).toMatchObject({ downloadedBytes: 0, reusedBytes: coldNix.copied.fileBytes })
      expect(entry.nix).toMatchObject({ built: { paths: 0 }, fromCache: { paths: 4 }, fromUpstream: { paths: 0 } })
      expect(job.post?.stdout.split('\n').filter(line => line.startsWith('::warning'))).toEqual([])
    } finally {
      configureSubstituters([upstream.url])
      await first.close()
    }
  })

  test('an upstream Nix asks before the restored cache, configured after main: the ledger counts what it really sent, from where, and says why', async () => {
    const first = await startBinaryCache(upstreamDir, null)
    try {
      upstream.resetCounters()
      // As a later step might (cachix-action edits nix.conf): main saw only the usual upstream, so 10 stays.
      const { job, built } = await nixJob(freshMachine('runner'), 503, { 'nix-signing-key': signing.secret }, expr, () =>
        configureSubstituters([first.url, upstream.url])
      )
      expect(job.main.stdout).toMatch(/\?priority=10 first \(4 store paths\)/)
      expect(built).toEqual([])
      // Nix took up1 and up2 from the Priority-less upstream although the restored cache holds them.
      expect(first.narRequests).toBe(2)
      expect(upstream.narRequests).toBe(0)
      const entry = nixEntry(job)
      expect(entry.nix).toMatchObject({
        built: { paths: 0 },
        fromCache: { paths: 2 },
        fromUpstream: { paths: 2 },
        unattributed: { paths: 0 }
      })
      expect(Math.abs(entry.downloadedBytes - first.narBytesServed) / first.narBytesServed).toBeLessThan(0.01)
      const warnings = job.post!.stdout.split('\n').filter(line => line.startsWith('::warning'))
      expect(warnings).toEqual([
        expect.stringContaining(
          `nix: 2 store path(s) the restored cache holds were downloaded again from ${first.url} (${formatBytes(entry.downloadedBytes)}): Nix asks ${first.url} (priority 0: its nix-cache-info names none, Nix's default) before the restored cache (priority 10)`
        )
      ])
    } finally {
      configureSubstituters([upstream.url])
      await first.close()
    }
  })

  test('require-sigs = false in nix.conf: Nix takes the unsigned cache, so qdc exports it and nothing is built again', async () => {
    const lax = createNixSandbox(path.join(root, 'nix-lax'), { extraConf: ['require-sigs = false'] })
    const laxJob = async (runId: number) => {
      wipeStore(lax)
      fs.rmSync(path.join(root, 'lax-runner'), { recursive: true, force: true })
      let built: string[] = []
      const job = await runJob({
        actionDir,
        machine: newMachine(root, 'lax-runner'),
        runId,
        // No nix-signing-key, no nix-trusted: the cache is saved unsigned.
        inputs: { caches: 'nix', backend: 'local', 'local-dir': path.join(root, 'store-lax') },
        env: lax.env,
        between: async env => {
          const result = await runCommand('nix-build', [localOnlyExpr, '-A', 'all', '--no-out-link'], env)
          if (result.code !== 0) throw new Error(`nix-build failed: ${result.stderr}`)
          built = builtDerivations(result.stderr)
        }
      })
      return { job, built }
    }
    try {
      const cold = await laxJob(520)
      expect(cold.built).toHaveLength(2)
      expect(nixEntry(cold.job)).toMatchObject({ saved: 'saved', nix: { built: { paths: 2 }, copied: { paths: 2 } } })
      const warm = await laxJob(521)
      expect(warm.job.main.stdout.split('\n').filter(line => line.startsWith('::warning'))).toEqual([])
      expect(warm.job.main.stdout).toMatch(
        /Restored binary cache: 2 store paths, 2 usable \(require-sigs = false: Nix takes them unsigned\)/
      )
      expect(warm.job.exported.NIX_USER_CONF_FILES).toMatch(/nix\.conf/)
      expect(warm.built).toEqual([])
      expect(nixEntry(warm.job).nix).toMatchObject({ built: { paths: 0 }, fromCache: { paths: 2 } })
    } finally {
      wipeStore(lax)
    }
  })

  test('a cache signed with another key is refused with one clear warning, and the build still succeeds', async () => {
    const inputs = { 'key-prefix': 'wrongkey' }
    await nixJob(freshMachine('runner'), 510, { ...inputs, 'nix-signing-key': signing.secret }, localOnlyExpr)
    const { job, built } = await nixJob(
      freshMachine('runner'),
      511,
      { ...inputs, 'nix-public-keys': otherKey.publicKey, save: 'never' },
      localOnlyExpr
    )
    expect(job.main.exitCode).toBe(0)
    expect(job.post?.exitCode).toBe(0)
    const warnings = job.main.stdout.split('\n').filter(line => line.startsWith('::warning::nix:'))
    expect(warnings).toEqual([
      expect.stringMatching(/the restored cache is signed by qdc-1 but no signature verifies with the trusted keys \(upstream-1, qdc-1\)/)
    ])
    expect(job.exported.NIX_USER_CONF_FILES).toBeUndefined()
    expect(built.length).toBe(2)
    expect(nixEntry(job).nix).toMatchObject({ built: { paths: 2 }, fromCache: { paths: 0 } })
  })
})
