/**
 * `npm run demo`: the bundled action end to end on this machine with the local backend. Each section is a
 * cold run, then a warm run on another "machine" (another HOME, workspace and tool storage), with
 * the real tool and a loopback stand-in for its upstream:
 *   1. pip installs two wheels from a local package index;
 *   2. `models` fetches a model from a mini HuggingFace Hub (Hub and CDN on two origins);
 *   3. nix-build in a private store, substituting from a loopback binary cache (if nix is installed);
 *   4. a podman-compose build from a busybox base image on a loopback registry (if podman is installed);
 *   5. a pull request's run after main's: compared with main's runs, and over its bandwidth budget.
 * Prints each run's tool lines and job summary, then the bytes each upstream served, cold vs warm.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import './load-ts.ts'
import { startBinaryCache } from '../__tests__/support/binary-cache.ts'
import { createNixSandbox, generateKey, mustRun, nixBuild, runCommand, wipeStore, writeSyntheticExpr } from '../__tests__/support/nix.ts'
import { pipInstallArgs, runPip, startPackageIndex } from '../__tests__/support/package-index.ts'
import { type JobResult, type Machine, newMachine, runJob } from './runner-sim.ts'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const { startHub } = await import('../__tests__/support/hub.ts')
const { destroyPodmanMachine, newPodmanMachine, startUpstream, writeUpstreamRegistriesConf } =
  await import('../__tests__/support/podman-sandbox.ts')

const MiB = 1024 * 1024
const started = performance.now()
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-demo-'))
const store = path.join(root, 'store')
/** Run in reverse order at the end, whatever happened: servers, podman storage, the nix store. */
const cleanups: (() => unknown)[] = []
let runId = 0

interface Upstream {
  source: string
  served(): number
  reset(): void
}

interface Section {
  title: string
  upstream: Upstream
  /** A new runner VM (its paths named by the run's label): rebuilds whatever machine-local tool state the section has. */
  freshMachine(label: string): Machine
  inputs: Record<string, string>
  env?: Record<string, string>
  /** The user's steps between main and post; returns the tool lines worth showing. */
  between?(machine: Machine, env: Record<string, string>): Promise<string[]>
  /** Lines of interest from main's log: the tools the action itself runs. */
  mainLines?(job: JobResult): string[]
  /** What the kind's report entry or the upstream's counters say about the run. */
  resultLines?(job: JobResult): string[]
}

/** Bytes the upstream served and bytes the job's ledger counted as downloaded (`bytes-downloaded`). */
interface Traffic {
  served: number
  counted: number
}

interface Row {
  source: string
  cold?: Traffic
  warm?: Traffic
  skipped?: string
}

function missingTools(commands: string[]): string[] {
  return commands.filter(command => spawnSync(command, ['--version'], { stdio: 'ignore' }).status !== 0)
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  return bytes < MiB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MiB).toFixed(2)} MiB`
}

function defaultMachine(label: string): Machine {
  fs.rmSync(path.join(root, `machine-${label}`), { recursive: true, force: true })
  return newMachine(root, `machine-${label}`)
}

function report(job: JobResult): { caches: Array<Record<string, any>> } {
  return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8'))
}

async function runOnce(section: Section, label: string): Promise<Traffic> {
  section.upstream.reset()
  const machine = section.freshMachine(label)
  let toolLines: string[] = []
  let stepError: unknown
  const between = section.between?.bind(section)
  const job = await runJob({
    actionDir,
    machine,
    runId: ++runId,
    inputs: { backend: 'local', 'local-dir': store, ...section.inputs },
    env: section.env,
    between: between
      ? async env => {
          try {
            toolLines = await between(machine, env)
          } catch (error) {
            stepError = error
            throw error
          }
        }
      : undefined
  })
  if (job.main.exitCode !== 0 || !job.post || job.post.exitCode !== 0) {
    console.log(job.main.stdout, job.post?.stdout ?? '')
    throw new Error(`${section.title}, ${label} run: the job failed${stepError ? `: ${(stepError as Error).message}` : ''}`)
  }
  const served = section.upstream.served()
  console.log(
    `\n--- ${label} run (machine-${label}, run ${runId}): main ${(job.main.ms / 1000).toFixed(1)} s, post ${(job.post.ms / 1000).toFixed(1)} s ---`
  )
  const lines = [...(section.mainLines?.(job) ?? []), ...toolLines, ...(section.resultLines?.(job) ?? [])]
  for (const line of new Set(lines)) console.log(`  ${line}`)
  console.log(
    `  outputs: cache-hit=${job.main.outputs['cache-hit']} bytes-downloaded=${job.post.outputs['bytes-downloaded']} bytes-reused=${job.post.outputs['bytes-reused']}`
  )
  console.log(`  ${section.upstream.source} served ${formatBytes(served)}`)
  console.log(`\n${job.post.summary.trim().replace(/^/gm, '  > ')}`)
  return { served, counted: Number(job.post.outputs['bytes-downloaded']) }
}

async function coldThenWarm(section: Section): Promise<Row> {
  console.log(`\n\n=== ${section.title} ===`)
  const cold = await runOnce(section, 'cold')
  const warm = await runOnce(section, 'warm')
  return { source: section.upstream.source, cold, warm }
}

function skipped(title: string, source: string, missing: string[]): Row {
  const why = `skipped: ${missing.join(', ')} not installed`
  console.log(`\n\n=== ${title} ===\n  ${why} (scripts/setup.sh installs it)`)
  return { source, skipped: why }
}

const index = await startPackageIndex({
  packages: [
    { name: 'demo-base', version: '1.0', payloadBytes: 3 * MiB },
    { name: 'demo-app', version: '2.0', payloadBytes: 5 * MiB, dependencies: ['demo-base'] },
    { name: 'demo-extra', version: '1.0', payloadBytes: 6 * MiB }
  ]
})
cleanups.push(() => index.close())
const pipCache = (machine: Machine) => path.join(machine.home, '.cache', 'pip')

async function pipInstall(machine: Machine, packages: string[]): Promise<string[]> {
  const pip = await runPip(pipInstallArgs(index, path.join(machine.workspace, 'site'), packages), { cacheDir: pipCache(machine) })
  if (pip.code !== 0) throw new Error(`pip install failed:\n${pip.stderr}`)
  return pip.stdout
    .split('\n')
    .filter(line => /Downloading|Using cached|Successfully/.test(line))
    .map(line => `pip: ${line.trim()}`)
}

async function pipSection(): Promise<Row> {
  return coldThenWarm({
    title: '1. pip: two wheels from a local package index',
    upstream: { source: 'package index (wheels)', served: () => index.filesBytesServed, reset: () => index.resetCounters() },
    freshMachine: defaultMachine,
    inputs: { caches: 'pip' },
    // Each section is its own job, with its own run history.
    env: { GITHUB_JOB: 'pip' },
    between: machine => pipInstall(machine, ['demo-app'])
  })
}

/**
 * A pull request's run after the two of main above: it adds a 6 MiB dependency, so the summary compares it
 * with main's runs and the job's 4 MiB budget (on-budget: warn) is exceeded.
 */
async function pullRequestSection(): Promise<Row> {
  const pullRequest = {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_REF: 'refs/pull/7/merge',
    GITHUB_REF_NAME: '7/merge',
    GITHUB_BASE_REF: 'main',
    GITHUB_HEAD_REF: 'feature'
  }
  console.log('\n\n=== 5. a pull request: one more dependency, compared with main, against a 4 MiB budget ===')
  const traffic = await runOnce(
    {
      title: 'pull request',
      upstream: {
        source: 'package index (wheels), pull request',
        served: () => index.filesBytesServed,
        reset: () => index.resetCounters()
      },
      freshMachine: defaultMachine,
      inputs: { caches: 'pip', 'max-downloaded': '4M' },
      env: { ...pullRequest, GITHUB_JOB: 'pip' },
      between: machine => pipInstall(machine, ['demo-app', 'demo-extra'])
    },
    'pull-request'
  )
  return { source: 'package index (wheels), pull request', warm: traffic }
}

async function modelsSection(): Promise<Row> {
  const commit = 'c0ffee'.padEnd(40, '0')
  const hub = await startHub({
    repos: [
      {
        id: 'demo/tiny-model',
        refs: { main: commit },
        commits: {
          [commit]: [
            { path: 'config.json', bytes: Buffer.from('{"layers": 2}\n'), lfs: false },
            { path: 'model.safetensors', bytes: Buffer.alloc(4 * MiB, 'weights'), lfs: true },
            { path: 'README.md', bytes: Buffer.from('not wanted\n'), lfs: false }
          ]
        }
      }
    ]
  })
  cleanups.push(() => hub.close())
  return coldThenWarm({
    title: '2. models: demo/tiny-model from a mini HuggingFace Hub (files on the Hub, LFS on a CDN origin)',
    upstream: { source: 'HuggingFace Hub + CDN', served: () => hub.hubFileBytes + hub.cdnBytes, reset: () => hub.resetCounters() },
    freshMachine: defaultMachine,
    inputs: { models: 'demo/tiny-model *.json *.safetensors', 'hf-endpoint': hub.url, 'hf-offline': 'true' },
    env: { GITHUB_JOB: 'models' },
    mainLines: job =>
      job.main.stdout
        .split('\n')
        .filter(line => /model\.safetensors|config\.json/.test(line) && !line.startsWith('::'))
        .map(line => `main: ${line.trim()}`),
    resultLines: () => [
      `hub: ${hub.requests.filter(r => r.kind === 'file').length} file requests (${hub.requests.filter(r => r.origin === 'cdn').length} on the CDN origin)`
    ]
  })
}

async function nixSection(): Promise<Row> {
  const title = '3. nix: nix-build in a private store, two paths from a loopback binary cache, two built'
  const source = 'Nix upstream cache (NARs)'
  const missing = missingTools(['nix', 'nix-build', 'nix-store'])
  if (missing.length > 0) return skipped(title, source, missing)
  const upstreamDir = path.join(root, 'nix-upstream')
  fs.mkdirSync(upstreamDir)
  const upstream = await startBinaryCache(upstreamDir)
  cleanups.push(() => upstream.close())
  const upKey = await generateKey(path.join(root, 'keys'), 'upstream-1')
  const signing = await generateKey(path.join(root, 'keys'), 'qdc-demo-1')
  const sandbox = createNixSandbox(path.join(root, 'nix'), { substituters: [upstream.url], trustedPublicKeys: [upKey.publicKey] })
  cleanups.push(() => wipeStore(sandbox))
  const expr = path.join(root, 'job.nix')
  writeSyntheticExpr(expr, [
    { name: 'toolchain', bytes: 2 * MiB },
    { name: 'library', bytes: 3 * MiB, deps: ['toolchain'] },
    { name: 'app', bytes: 1 * MiB, deps: ['library'] }
  ])
  // Upstream holds toolchain and library (signed, uncompressed), as cache.nixos.org would; app is ours.
  const publisher = { ...sandbox.env, HOME: path.join(root, 'publisher') }
  const { out } = await nixBuild(expr, 'library', { ...publisher, NIX_CONFIG: 'substituters =' })
  await mustRun('nix', ['copy', '--to', `file://${upstreamDir}?compression=none&secret-key=${upKey.secretFile}`, out], publisher)
  const storeName = (storePath: string) => path.basename(storePath).slice(33)
  return coldThenWarm({
    title,
    upstream: { source, served: () => upstream.narBytesServed, reset: () => upstream.resetCounters() },
    freshMachine: label => {
      wipeStore(sandbox)
      return defaultMachine(label)
    },
    inputs: { caches: 'nix', 'nix-signing-key': signing.secret },
    env: { ...sandbox.env, GITHUB_JOB: 'nix' },
    between: async (_machine, env) => {
      const result = await runCommand('nix-build', [expr, '-A', 'all', '--no-out-link'], env)
      if (result.code !== 0) throw new Error(`nix-build failed: ${result.stderr}`)
      const lines = [...result.stderr.matchAll(/^(building|copying path) '([^']+)'(?: from '([^']+)')?/gm)]
      return lines.map(
        ([, verb, storePath, from]) => `nix-build: ${verb} ${storeName(storePath)}${from ? ` from ${from.replace(root, '$DEMO')}` : ''}`
      )
    },
    resultLines: job => {
      const nix = report(job).caches.find(c => c.kind === 'nix')?.nix
      return nix
        ? [`nix kind: ${nix.built.paths} built, ${nix.fromUpstream.paths} from upstream, ${nix.fromCache.paths} from the restored cache`]
        : []
    }
  })
}

async function podmanSection(): Promise<Row> {
  const title = '4. podman: a compose-file build from a busybox base image on a loopback registry'
  const source = 'container registry (base image)'
  // podman-sandbox's base image is a busybox-static root filesystem.
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].some(file => fs.existsSync(file)) ? [] : ['busybox']
  const missing = [...missingTools(['podman', 'podman-compose']), ...busybox]
  if (missing.length > 0) return skipped(title, source, missing)
  const upstream = await startUpstream(root)
  cleanups.push(() => upstream.close())
  const registriesConf = writeUpstreamRegistriesConf(root, upstream.host)
  // Private storage, runroot and TMPDIR; destroyed and made anew for each fresh machine.
  const podmanMachine = newPodmanMachine(root, 'machine-podman', registriesConf)
  cleanups.push(() => destroyPodmanMachine(podmanMachine))
  return coldThenWarm({
    title,
    upstream: { source, served: () => upstream.servedBytes(), reset: () => upstream.reset() },
    freshMachine: label => {
      destroyPodmanMachine(podmanMachine)
      newPodmanMachine(root, 'machine-podman', registriesConf)
      const machine = defaultMachine(label)
      writeComposeProject(machine.workspace, upstream.image)
      return machine
    },
    inputs: { caches: 'podman', 'compose-file': 'compose.yaml', isolation: 'chroot' },
    env: { ...podmanMachine.env, GITHUB_JOB: 'podman' },
    mainLines: job =>
      job.main.stdout
        .split('\n')
        .filter(line => /^(STEP \d+\/\d+:|--> Using cache)/.test(line))
        .map(line => `podman: ${line.trim().slice(0, 100)}`),
    resultLines: job => {
      const service = report(job).caches.find(c => c.kind === 'podman')?.services?.[0]
      return service ? [`podman kind: ${service.service} reused ${service.reusedSteps}/${service.steps} steps`] : []
    }
  })
}

function writeComposeProject(workspace: string, baseImage: string): void {
  const app = path.join(workspace, 'app')
  fs.mkdirSync(app, { recursive: true })
  fs.writeFileSync(path.join(workspace, 'compose.yaml'), 'services:\n  web:\n    image: localhost/qdc-demo-web:latest\n    build: ./app\n')
  fs.writeFileSync(
    path.join(app, 'Containerfile'),
    [
      `FROM ${baseImage}`,
      'RUN mkdir -p /opt/app && dd if=/dev/urandom of=/opt/app/data bs=1M count=3 2>/dev/null',
      'ENV MODE=ci',
      'RUN echo built > /opt/app/stamp',
      ''
    ].join('\n')
  )
}

/** Served by the upstream, with what the job's summary counted as downloaded in brackets. */
function printTable(rows: Row[]): void {
  const header = ['Upstream', 'cold run (ledger)', 'warm run (ledger)']
  const both = (t?: Traffic) => (t ? `${formatBytes(t.served)} (${formatBytes(t.counted)})` : '')
  const cells = rows.map(row => [row.source, both(row.cold), both(row.warm)])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map(c => c[i].length)))
  const line = (c: string[]) => `  ${c[0].padEnd(widths[0])}  ${c[1].padStart(widths[1])}  ${c[2].padStart(widths[2])}`
  console.log(
    `\n\n=== bytes each upstream served (and the job's bytes-downloaded) ===\n${line(header)}\n${line(widths.map(w => '-'.repeat(w)))}`
  )
  rows.forEach((row, i) => console.log(row.skipped ? `  ${row.source.padEnd(widths[0])}  ${row.skipped}` : line(cells[i])))
}

try {
  if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
  const rows = [await pipSection(), await modelsSection(), await nixSection(), await podmanSection(), await pullRequestSection()]
  printTable(rows)
  console.log(`\n  ${((performance.now() - started) / 1000).toFixed(0)} s in all`)
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup()
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`)
    }
  }
  fs.rmSync(root, { recursive: true, force: true })
}
