/**
 * Entries follow the work to any runner: a cold job on machine A (root) saves every preset kind and two
 * custom paths; a warm job on machine B, whose HOME, workspace, runner temp and TMPDIR differ and which runs
 * as the unprivileged `qdc-runner` user, restores them. On the local store (one directory shared by both
 * users) and on the GitHub cache service (real @actions/cache against the emulator): every kind an exact
 * hit, the same files, and not one byte from any upstream's own counter (package index, Hub + CDN, Nix
 * binary cache, base-image registry, download server). Real pip, nix, podman and podman-compose throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chownAll, type JobResult, type Machine, newMachine, runJob, type RunnerUser } from '../scripts/runner-sim.js'
import { type BinaryCacheServer, startBinaryCache } from './support/binary-cache.js'
import { type CacheService, startCacheService } from './support/cache-service.js'
import { type Hub, startHub } from './support/hub.js'
import {
  builtDerivations,
  createNixSandbox,
  generateKey,
  mustRun,
  type NixSandbox,
  nixBuild,
  wipeStore,
  writeSyntheticExpr
} from './support/nix.js'
import { type PackageIndex, pipInstallArgs, startPackageIndex } from './support/package-index.js'
import {
  HOST_PYTHON_BUILD_ARGS,
  newPodmanMachine,
  type PodmanMachine,
  startUpstream,
  type Upstream,
  writeUpstreamRegistriesConf
} from './support/podman-sandbox.js'
import { describeUnless, describeWithTools } from './support/tools.js'
import { runAs, runnerUser } from './support/users.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const COMMIT = crypto.createHash('sha1').update('portable').digest('hex')
const weights = crypto.randomBytes(2 * MiB)
const artifact = crypto.randomBytes(MiB)
const user = runnerUser()
const describePortable =
  typeof user === 'string' ? describeUnless(user) : describeWithTools(['podman', 'podman-compose', 'nix', 'nix-build', 'python3'])

interface FileServer {
  url: string
  readonly bytesServed: number
  reset(): void
  close(): Promise<void>
}

/** The upstream of the `downloads` kind: one file, counting the bytes it sends. */
async function startFileServer(files: Record<string, Buffer>): Promise<FileServer> {
  let served = 0
  const server = http.createServer((request, response) => {
    const body = files[new URL(request.url ?? '/', 'http://x').pathname.slice(1)]
    if (!body) return void response.writeHead(404).end()
    served += body.length
    response.writeHead(200, { 'content-length': body.length }).end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get bytesServed() {
      return served
    },
    reset: () => (served = 0),
    close: () => new Promise(resolve => server.close(() => resolve()))
  }
}

/** Relative path → SHA-256 of every file below dir and the target of every symlink, but what a kind never archives. */
function treeDigest(dir: string, neverArchived = /^$/): Record<string, string> {
  const digest: Record<string, string> = {}
  if (!fs.existsSync(dir)) return digest
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name)
    const relative = path.relative(dir, full)
    if (relative.split(path.sep).some(name => neverArchived.test(name))) continue
    if (entry.isSymbolicLink()) digest[relative] = `-> ${fs.readlinkSync(full)}`
    else if (entry.isFile()) digest[relative] = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')
  }
  return digest
}

function errorLines(stdout: string): string[] {
  return stdout.split('\n').filter(line => line.startsWith('::error'))
}

function report(job: JobResult) {
  return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8')) as {
    caches: Array<Record<string, unknown> & { kind: string }>
    totals: { downloadedBytes: number }
  }
}

describePortable('portable entries: cold on one runner, warm on another with another home, workspace and user', () => {
  const runner = user as RunnerUser
  let root: string
  let index: PackageIndex
  let hub: Hub
  let files: FileServer
  let nixUpstream: BinaryCacheServer
  let sandbox: NixSandbox
  let expr: string
  let signing: { secret: string }
  let podmanUpstream: Upstream
  let registriesConf: string
  let service: CacheService

  beforeAll(async () => {
    if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-portable-'))
    // mkdtemp makes it private; the other user must reach its machine, the store and the Nix store below it.
    fs.chmodSync(root, 0o755)
    index = await startPackageIndex({ packages: [{ name: 'qdc-base', version: '1.0', payloadBytes: MiB }] })
    hub = await startHub({
      repos: [
        {
          id: 'acme/tiny',
          refs: { main: COMMIT },
          commits: {
            [COMMIT]: [
              { path: 'config.json', bytes: Buffer.from('{"hidden": 8}\n'), lfs: false },
              { path: 'model.safetensors', bytes: weights, lfs: true }
            ]
          }
        }
      ]
    })
    files = await startFileServer({ 'artifact.bin': artifact })
    service = await startCacheService({ tmpRoot: root })

    const upstreamDir = path.join(root, 'nix-upstream')
    fs.mkdirSync(upstreamDir)
    nixUpstream = await startBinaryCache(upstreamDir)
    const upKey = await generateKey(path.join(root, 'keys'), 'upstream-1')
    signing = await generateKey(path.join(root, 'keys'), 'qdc-1')
    // The same store path on both runners, as /nix/store is everywhere: store paths depend on it.
    sandbox = createNixSandbox(path.join(root, 'nix'), { substituters: [nixUpstream.url], trustedPublicKeys: [upKey.publicKey] })
    expr = path.join(root, 'job.nix')
    writeSyntheticExpr(expr, [
      { name: 'fromUpstream', bytes: MiB },
      { name: 'builtHere', bytes: 512 * 1024, deps: ['fromUpstream'] }
    ])
    const publisher = { ...sandbox.env, HOME: path.join(root, 'publisher') }
    const { out } = await nixBuild(expr, 'fromUpstream', { ...publisher, NIX_CONFIG: 'substituters =' })
    await mustRun('nix', ['copy', '--to', `file://${upstreamDir}?compression=none&secret-key=${upKey.secretFile}`, out], publisher)
    wipeStore(sandbox)

    podmanUpstream = await startUpstream(root)
    registriesConf = writeUpstreamRegistriesConf(root, podmanUpstream.host)
    for (const backend of ['local', 'github']) {
      // One store for the host's runner users: group-writable and setgid, as an admin would set it up.
      const store = path.join(root, `store-${backend}`)
      fs.mkdirSync(store)
      fs.chownSync(store, 0, runner.gid)
      fs.chmodSync(store, 0o2775)
    }
  })

  afterAll(async () => {
    await Promise.all([index?.close(), hub?.close(), files?.close(), nixUpstream?.close(), podmanUpstream?.close(), service?.close()])
    if (sandbox) wipeStore(sandbox)
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  /** A runner VM of `who`: its own HOME, workspace, runner temp, podman storage and TMPDIR. */
  function machineOf(name: string, who: RunnerUser | null): { machine: Machine; podman: PodmanMachine; env: Record<string, string> } {
    const machine = newMachine(root, name)
    const podman = newPodmanMachine(root, `${name}-podman`, registriesConf)
    const runtime = path.join(podman.dir, 'xdg-runtime')
    fs.mkdirSync(runtime, { mode: 0o700 })
    writeProject(machine)
    if (who) {
      chownAll(path.join(root, name), who)
      chownAll(podman.dir, who)
    }
    return { machine, podman, env: { ...podman.env, ...sandbox.env, XDG_RUNTIME_DIR: runtime, PIP_CONFIG_FILE: os.devNull } }
  }

  function writeProject(machine: Machine): void {
    const app = path.join(machine.workspace, 'app')
    fs.mkdirSync(app, { recursive: true })
    fs.writeFileSync(
      path.join(machine.workspace, 'compose.yaml'),
      'services:\n  web:\n    image: localhost/qdc-portable-web:latest\n    build: ./app\n'
    )
    const pip = `python3 -m pip install --disable-pip-version-check --no-input --index-url ${index.url} --trusted-host 127.0.0.1 --target /opt/site qdc-base`
    fs.writeFileSync(
      path.join(app, 'Containerfile'),
      [`FROM ${podmanUpstream.image}`, 'RUN echo EXEC""UTED-$((6*7))', `RUN --mount=type=cache,target=/root/.cache/pip ${pip}`, ''].join(
        '\n'
      )
    )
  }

  function inputs(backend: string): Record<string, string> {
    return {
      caches: 'pip, buildah, huggingface, podman, nix, downloads',
      models: 'acme/tiny',
      'hf-endpoint': hub.url,
      downloads: `${files.url}/artifact.bin ${crypto.createHash('sha256').update(artifact).digest('hex')} fetched/artifact.bin`,
      'compose-file': 'compose.yaml',
      isolation: 'chroot',
      'podman-build-args': HOST_PYTHON_BUILD_ARGS,
      'nix-signing-key': signing.secret,
      paths: 'data\n~/.gradle/caches',
      key: `portable-${backend}`,
      backend,
      'local-dir': path.join(root, `store-${backend}`)
    }
  }

  /** What the user's job does between main and post, as the job's user: pip, a nix build, files of its own. */
  function userSteps(machine: Machine, who: RunnerUser | null, produce: boolean, built: string[]) {
    return async (env: Record<string, string>) => {
      const pip = await runAs(who, 'python3', pipInstallArgs(index, path.join(machine.workspace, 'site'), ['qdc-base']), env)
      if (pip.code !== 0) throw new Error(`pip failed: ${pip.stderr}`)
      const nix = await runAs(who, 'nix-build', [expr, '-A', 'builtHere', '--no-out-link'], env)
      if (nix.code !== 0) throw new Error(`nix-build failed: ${nix.stderr}`)
      built.push(...builtDerivations(nix.stderr))
      if (!produce) return
      fs.mkdirSync(path.join(machine.workspace, 'data'), { recursive: true })
      fs.writeFileSync(path.join(machine.workspace, 'data', 'out.bin'), crypto.randomBytes(300_000))
      fs.writeFileSync(path.join(machine.workspace, 'data', 'private.key'), 'only mine\n', { mode: 0o600 })
      fs.mkdirSync(path.join(machine.home, '.gradle', 'caches', 'jars'), { recursive: true })
      fs.writeFileSync(path.join(machine.home, '.gradle', 'caches', 'jars', 'dep.jar'), crypto.randomBytes(200_000))
    }
  }

  /** Everything the job's directories hold that a cache restores, by kind. */
  function contents(machine: Machine, podman: PodmanMachine, uid: number) {
    const cache = path.join(machine.home, '.cache')
    return {
      pip: treeDigest(path.join(cache, 'pip')),
      huggingface: treeDigest(path.join(cache, 'huggingface', 'hub', 'models--acme--tiny'), /\.incomplete$/),
      nix: treeDigest(path.join(cache, 'qdc-action', 'nix-cache')),
      podman: treeDigest(path.join(cache, 'qdc-action', 'podman')),
      buildah: treeDigest(cacheMountDir(podman, uid), /^buildah-cache-lockfiles?$/),
      downloads: treeDigest(path.join(cache, 'qdc-action', 'downloads')),
      data: treeDigest(path.join(machine.workspace, 'data')),
      gradle: treeDigest(path.join(machine.home, '.gradle', 'caches'))
    }
  }

  /** Where this podman keeps RUN --mount=type=cache data: buildah-cache-<uid> from podman 4.4, buildah-cache before. */
  function cacheMountDir(podman: PodmanMachine, uid: number): string {
    const names = fs.readdirSync(podman.tmpdir).filter(name => name === `buildah-cache-${uid}` || name === 'buildah-cache')
    return path.join(podman.tmpdir, names[0] ?? `buildah-cache-${uid}`)
  }

  describe.each(['local', 'github'] as const)('on the %s backend', backend => {
    test('every kind and both custom paths restore exactly on the other runner, with 0 bytes from any upstream', async () => {
      const serviceEnv = backend === 'github' ? service.env() : {}

      wipeStore(sandbox)
      const a = machineOf(`a-${backend}`, null)
      const coldBuilt: string[] = []
      const cold = await runJob({
        actionDir,
        machine: a.machine,
        runId: backend === 'local' ? 10 : 20,
        inputs: inputs(backend),
        env: { ...a.env, ...serviceEnv },
        between: userSteps(a.machine, null, true, coldBuilt)
      })
      // The error lines, so a failure says what went wrong.
      expect([cold.main.exitCode, errorLines(cold.main.stdout)]).toEqual([0, []])
      expect(cold.post?.exitCode).toBe(0)
      expect(cold.main.stdout).toContain('EXECUTED-42')
      expect(coldBuilt.length).toBeGreaterThan(0)
      const coldReport = report(cold)
      expect(coldReport.caches.map(c => [c.kind, c.hit, c.saved])).toEqual(
        ['pip', 'buildah', 'huggingface', 'podman', 'nix', 'downloads', 'custom'].map(kind => [kind, 'miss', 'saved'])
      )
      for (const served of [
        index.filesBytesServed,
        hub.hubFileBytes + hub.cdnBytes,
        nixUpstream.narBytesServed,
        podmanUpstream.servedBytes(),
        files.bytesServed
      ]) {
        expect(served).toBeGreaterThan(0)
      }
      const saved = contents(a.machine, a.podman, 0)
      for (const [kind, tree] of Object.entries(saved)) expect([kind, Object.keys(tree).length > 0]).toEqual([kind, true])

      // Machine B: nothing left from A but the store (or the service), the same Nix store path, another user.
      wipeStore(sandbox)
      for (const dir of [sandbox.storeDir, sandbox.env.NIX_STATE_DIR, sandbox.env.NIX_LOG_DIR]) fs.mkdirSync(dir, { recursive: true })
      for (const dir of [sandbox.storeDir, sandbox.env.NIX_STATE_DIR, sandbox.env.NIX_LOG_DIR]) chownAll(dir, runner)
      for (const counter of [index, hub, nixUpstream]) counter.resetCounters()
      podmanUpstream.reset()
      files.reset()
      service.resetCounters()
      const before = new Set(service.entries().map(e => e.id))
      const b = machineOf(`b-${backend}`, runner)
      const warmBuilt: string[] = []
      const warm = await runJob({
        actionDir,
        machine: b.machine,
        user: runner,
        runId: backend === 'local' ? 11 : 21,
        inputs: inputs(backend),
        env: { ...b.env, ...serviceEnv },
        between: userSteps(b.machine, runner, false, warmBuilt)
      })
      expect([warm.main.exitCode, errorLines(warm.main.stdout)]).toEqual([0, []])
      expect(warm.post?.exitCode).toBe(0)
      expect(warm.main.outputs['cache-hit']).toBe('true')
      const warmReport = report(warm)
      expect(warmReport.caches.map(c => [c.kind, c.hit, c.saved])).toEqual(
        ['pip', 'buildah', 'huggingface', 'podman', 'nix', 'downloads', 'custom'].map(kind => [kind, 'exact', 'unchanged'])
      )
      expect(warmReport.totals.downloadedBytes).toBe(0)
      expect({
        index: index.filesBytesServed,
        hubAndCdn: hub.hubFileBytes + hub.cdnBytes,
        nixNars: nixUpstream.narRequests,
        registry: podmanUpstream.servedBytes(),
        downloads: files.bytesServed
      }).toEqual({ index: 0, hubAndCdn: 0, nixNars: 0, registry: 0, downloads: 0 })
      expect(warmBuilt).toEqual([])
      expect(warm.main.stdout).not.toContain('EXECUTED-42')
      expect(contents(b.machine, b.podman, runner.uid)).toEqual(saved)
      // The restoring user owns what it restored, and the modes are the ones saved.
      const privateKey = fs.statSync(path.join(b.machine.workspace, 'data', 'private.key'))
      expect([privateKey.uid, privateKey.mode & 0o777]).toEqual([runner.uid, 0o600])
      expect(fs.statSync(path.join(b.machine.home, '.gradle', 'caches', 'jars', 'dep.jar')).uid).toBe(runner.uid)
      // Nothing cached was uploaded again; the one new entry is the run's own small history record.
      if (backend === 'github')
        expect(
          service
            .entries()
            .filter(e => !before.has(e.id))
            .map(e => e.key)
        ).toEqual([expect.stringMatching(/^qdc-history-v1-/)])
    })

    test('an entry saved by the unprivileged user restores for root, modes kept and owned by root', async () => {
      const store = path.join(root, `store-${backend}`)
      const serviceEnv = backend === 'github' ? service.env() : {}
      const modes: Record<string, number> = { 'secret.txt': 0o600, 'tool.sh': 0o755, 'frozen.txt': 0o444, 'group.txt': 0o640 }
      const saver = newMachine(root, `modes-saver-${backend}`)
      const out = path.join(saver.workspace, 'out')
      fs.mkdirSync(path.join(out, 'locked'), { recursive: true })
      for (const [name, mode] of Object.entries(modes)) fs.writeFileSync(path.join(out, 'locked', name), name, { mode })
      fs.chmodSync(path.join(out, 'locked'), 0o700)
      chownAll(path.join(root, `modes-saver-${backend}`), runner)
      const job = { inputs: { paths: 'out', key: `modes-${backend}`, backend, 'local-dir': store }, env: serviceEnv }
      const saved = await runJob({ actionDir, machine: saver, user: runner, runId: 30, ...job })
      expect(report(saved).caches[0]).toMatchObject({ hit: 'miss', saved: 'saved' })

      const restorer = newMachine(root, `modes-restorer-${backend}`)
      const restored = await runJob({ actionDir, machine: restorer, runId: 31, ...job })
      expect(report(restored).caches[0]).toMatchObject({ hit: 'exact', saved: 'unchanged' })
      const locked = path.join(restorer.workspace, 'out', 'locked')
      expect([fs.statSync(locked).uid, fs.statSync(locked).mode & 0o777]).toEqual([0, 0o700])
      for (const [name, mode] of Object.entries(modes)) {
        const stat = fs.statSync(path.join(locked, name))
        expect([name, stat.uid, stat.mode & 0o777, fs.readFileSync(path.join(locked, name), 'utf8')]).toEqual([name, 0, mode, name])
      }
    })

    test('the same key saved with other paths explains the miss in one line', async () => {
      const inputsWith = (paths: string) => ({
        paths,
        key: `identity-${backend}`,
        backend,
        'local-dir': path.join(root, `store-${backend}`),
        save: 'never'
      })
      const env = backend === 'github' ? service.env() : {}
      const first = newMachine(root, `identity-1-${backend}`)
      fs.mkdirSync(path.join(first.workspace, 'data'))
      fs.writeFileSync(path.join(first.workspace, 'data', 'f'), 'x')
      await runJob({ actionDir, machine: first, runId: 40, inputs: { ...inputsWith('data'), save: 'on-success' }, env })
      const second = await runJob({
        actionDir,
        machine: newMachine(root, `identity-2-${backend}`),
        runId: 41,
        inputs: inputsWith('data\nmore'),
        env
      })
      expect(report(second).caches[0].hit).toBe('miss')
      const explanation = second.main.stdout
        .split('\n')
        .filter(line => /under another identity|has no entry for these keys with version/.test(line))
      expect(explanation).toEqual([
        backend === 'local'
          ? `  The store holds identity-local~r40-1 under another identity, so it does not match: its paths differ: it lacks 'more'.`
          : expect.stringMatching(
              /^ {2}The cache service has no entry for these keys with version [0-9a-f]{12}…, which is computed from the paths workspace\/data, workspace\/more and the compression; /
            )
      ])
    })
  })
})
