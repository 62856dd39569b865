/**
 * The podman-compose build phase with real podman, buildah and podman-compose: a cold build into an empty
 * layer-cache directory, then a fresh podman storage that has only a copy of that directory must reuse
 * every step, produce the same image, run no RUN step and pull nothing from upstream.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readComposeServices, serviceOfImage } from '../src/podman/compose-file.js'
import { cacheMode, type PodmanDetails } from '../src/podman/run.js'
import { type ActionConfig, readConfig } from '../src/config/config.js'
import { buildah } from '../src/kinds/buildah.js'
import { podman } from '../src/kinds/podman.js'
import { planCaches } from '../src/plan/plan.js'
import { snapshotTree } from '../src/measure/tree.js'
import type { LedgerEntry } from '../src/ledger.js'
import { clearInputs, setInputs } from './support/inputs.js'
import { type PackageIndex, startPackageIndex } from './support/package-index.js'
import {
  destroyPodmanMachine,
  HOST_PYTHON_BUILD_ARGS,
  imageId,
  newPodmanMachine,
  podmanOn,
  podmanOnAsync,
  type PodmanMachine,
  startUpstream,
  type Upstream,
  writeUpstreamRegistriesConf
} from './support/podman-sandbox.js'
import { describeWithTools } from './support/tools.js'

const MiB = 1024 * 1024
const describePodman = describeWithTools(['podman', 'podman-compose'])

let root: string
let upstream: Upstream
let registriesConf: string
const machines: PodmanMachine[] = []
const savedEnv = { ...process.env }

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-podman-'))
  upstream = await startUpstream(root)
  registriesConf = writeUpstreamRegistriesConf(root, upstream.host)
})

afterAll(async () => {
  process.env = savedEnv
  clearInputs()
  for (const machine of machines) destroyPodmanMachine(machine)
  await upstream?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

function machine(name: string): PodmanMachine {
  const m = newPodmanMachine(root, name, registriesConf)
  machines.push(m)
  return m
}

/** A compose project with one service whose Containerfile is `containerfile`. */
function project(name: string, containerfile: string, files: Record<string, string> = {}): string {
  const dir = path.join(root, name)
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'compose.yaml'), `services:\n  app:\n    image: localhost/qdc-test-${name}:latest\n    build: ./app\n`)
  fs.writeFileSync(path.join(dir, 'app', 'Containerfile'), containerfile)
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'app', file), content)
  return dir
}

function servicesOf(entry: LedgerEntry) {
  return (entry.details as PodmanDetails | undefined)?.services
}

function podmanEntry(): LedgerEntry {
  return {
    kind: 'podman',
    backend: 'local',
    key: 'k',
    matchedKey: null,
    hit: 'miss',
    restoredBytes: 0,
    restoredArchiveBytes: null,
    downloadedBytes: 0,
    reusedBytes: 0,
    uploadedBytes: 0,
    saved: 'pending',
    problems: [],
    restoreMs: 0,
    saveMs: 0
  }
}

/** Runs the build phase as main would on `machine`, capturing what it printed. */
async function build(
  m: PodmanMachine,
  projectDir: string,
  cacheDir: string,
  extraArgs = '',
  cacheMode = 'auto',
  isolation = 'chroot'
): Promise<{ entry: LedgerEntry; output: string; error: unknown }> {
  process.env = { ...savedEnv, ...m.env, GITHUB_WORKSPACE: projectDir, RUNNER_TEMP: m.tmpdir }
  setInputs({
    'compose-file': 'compose.yaml',
    'podman-dir': cacheDir,
    isolation,
    'podman-build-args': extraArgs,
    'podman-cache-mode': cacheMode
  })
  const config: ActionConfig = readConfig()
  const [plan] = await planCaches(config, {})
  const entry = podmanEntry()
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    chunks.push(chunk.toString())
    return true
  }
  let error: unknown = null
  try {
    await podman.afterRestore!({ config, plan, entry, mode: { read: true, write: true, reason: '' }, snapshotDir: m.tmpdir })
  } catch (e) {
    error = e
  } finally {
    process.stdout.write = write
  }
  return { entry, output: chunks.join(''), error }
}

function runAsync(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...savedEnv, ...env } })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code, output }))
  })
}

interface IndexJson {
  manifests: { digest: string; annotations: Record<string, string> }[]
}

function cacheIndex(cacheDir: string): IndexJson {
  return JSON.parse(fs.readFileSync(path.join(cacheDir, 'index.json'), 'utf8')) as IndexJson
}

function cacheTags(cacheDir: string): string[] {
  return cacheIndex(cacheDir).manifests.map(m => m.annotations['org.opencontainers.image.ref.name'])
}

/** Bytes of the first image in the cache whose tag starts with `prefix`: its manifest, config and layer blobs as the layout holds them. */
function cachedImageBytes(cacheDir: string, prefix: string): number {
  const entry = cacheIndex(cacheDir).manifests.find(m => m.annotations['org.opencontainers.image.ref.name'].startsWith(prefix))!
  const blob = (digest: string) => path.join(cacheDir, 'blobs', 'sha256', digest.slice('sha256:'.length))
  const manifest = JSON.parse(fs.readFileSync(blob(entry.digest), 'utf8')) as { config: { size: number }; layers: { size: number }[] }
  return fs.statSync(blob(entry.digest)).size + manifest.config.size + manifest.layers.reduce((total, l) => total + l.size, 0)
}

function manifestDigest(cacheDir: string, tag: string): string {
  return cacheIndex(cacheDir)
    .manifests.find(m => m.annotations['org.opencontainers.image.ref.name'] === tag)!
    .digest.slice('sha256:'.length)
}

describePodman('podman-compose build with the layer cache', () => {
  const containerfile = (upstreamImage: string, greeting: string) =>
    [
      `FROM ${upstreamImage}`,
      'RUN echo EXEC""UTED-$((6*7)) && echo built > /built.txt',
      'COPY hello.txt /hello.txt',
      'RUN cat /hello.txt /built.txt > /both.txt',
      `ENV GREETING=${greeting}`,
      ''
    ].join('\n')

  test('a fresh storage with only the restored cache dir reuses every step, same image, nothing pulled upstream', async () => {
    const dir = project('layers', containerfile(upstream.image, 'hi'), { 'hello.txt': 'hello\n' })
    const coldCache = path.join(root, 'cache-cold')

    upstream.reset()
    const coldMachine = machine('cold')
    const cold = await build(coldMachine, dir, coldCache)
    expect(cold.error).toBeNull()
    const [coldService] = servicesOf(cold.entry)!
    expect(coldService).toMatchObject({ image: 'localhost/qdc-test-layers:latest', steps: 4, reusedSteps: 0, builtSteps: 4, failure: null })
    expect(cold.output).toContain('EXECUTED-42')
    expect(coldService.layerBytesPushed).toBeGreaterThan(0)
    expect(upstream.servedBytes()).toBeGreaterThan(0)
    // What the ledger calls pulled is what the upstream registry's own counter says it sent: the whole image, compressed.
    expect(upstream.servedBytes()).toBe(upstream.bytesOf(upstream.image))
    expect(Math.abs(coldService.baseBytesPulled - upstream.servedBytes())).toBeLessThanOrEqual(upstream.servedBytes() * 0.01)
    // Neither the image's size in storage (uncompressed) nor the copy podman pushed into the cache (its own
    // gzip) is what crossed the wire: the upstream's layers are gzip level 1 of compressible text.
    const storedSize = Number(podmanOn(coldMachine, ['image', 'inspect', '--format', '{{.Size}}', upstream.image]).stdout.trim())
    expect(storedSize).toBeGreaterThan(upstream.servedBytes() * 2)
    expect(Math.abs(cachedImageBytes(coldCache, 'qdc-base/') - upstream.servedBytes())).toBeGreaterThan(upstream.servedBytes() * 0.02)
    const coldTags = cacheTags(coldCache)
    expect(coldTags.filter(t => t.startsWith('buildcache:'))).toHaveLength(4)
    expect(coldTags.filter(t => t.startsWith('qdc-base/'))).toHaveLength(1)
    const coldId = imageId(coldMachine, 'localhost/qdc-test-layers:latest')

    // The restore: a new machine gets a copy of the directory and nothing else.
    const warmCache = path.join(root, 'cache-warm')
    fs.cpSync(coldCache, warmCache, { recursive: true })
    const warmMachine = machine('warm')
    upstream.reset()
    const cacheBefore = await snapshotTree([warmCache], [])
    const warm = await build(warmMachine, dir, warmCache)
    expect(warm.error).toBeNull()
    const [warmService] = servicesOf(warm.entry)!
    expect(warmService).toMatchObject({ steps: 4, reusedSteps: 4, builtSteps: 0, layerBytesPushed: 0, baseBytesPulled: 0, failure: null })
    expect(warm.output.match(/--> Using cache/g)).toHaveLength(4)
    // Each step's cache image came from the restored directory: pulled, then used, and counted once.
    expect(warm.output.match(/--> Cache pulled from remote /g)).toHaveLength(4)
    expect(warm.output).toContain('4/4 steps from the cache (4 pulled from it)')
    expect(warm.output).toContain('EXEC""UTED') // the step header is printed...
    expect(warm.output).not.toContain('EXECUTED-42') // ...but the RUN did not execute
    expect(imageId(warmMachine, 'localhost/qdc-test-layers:latest')).toBe(coldId)
    expect(upstream.servedBytes()).toBe(0)
    expect(warmService.layerBytesReused).toBeGreaterThan(0)
    expect(warmService.baseBytesReused).toBeGreaterThan(0)
    expect(cacheTags(warmCache).sort()).toEqual(coldTags.sort())
    // Every step reused: not one file of the cache directory rewritten, so post has nothing to upload.
    expect(await snapshotTree([warmCache], [])).toEqual(cacheBefore)

    // A changed last step: the cache keeps what this build used and pushed, and drops the old step.
    fs.writeFileSync(path.join(dir, 'app', 'Containerfile'), containerfile(upstream.image, 'bye'))
    const changed = await build(warmMachine, dir, warmCache)
    expect(changed.error).toBeNull()
    expect(servicesOf(changed.entry)![0]).toMatchObject({ reusedSteps: 3, builtSteps: 1 })
    const changedTags = cacheTags(warmCache)
    expect(changedTags.filter(t => t.startsWith('buildcache:'))).toHaveLength(4)
    const dropped = coldTags.filter(t => !changedTags.includes(t))
    expect(dropped).toHaveLength(1)
    const droppedManifest = manifestDigest(coldCache, dropped[0])
    expect(fs.existsSync(path.join(warmCache, 'blobs', 'sha256', droppedManifest))).toBe(false)
    expect(fs.existsSync(path.join(coldCache, 'blobs', 'sha256', droppedManifest))).toBe(true)
    expect(fs.existsSync(path.join(warmCache, '.uploads'))).toBe(false)
  })

  test('a base image that shares a layer with one already in storage: counted at the blobs its pull fetched', async () => {
    const m = machine('shared-layer')
    // An earlier step pulled the first image; the sibling has the same busybox layer and another text layer,
    // so its pull fetches only the text layer, config and manifests (podman prints no "skipped" for it on 4.3).
    expect((await podmanOnAsync(m, ['pull', upstream.image])).code).toBe(0)
    const dir = project('shared-layer', `FROM ${upstream.siblingImage}\nRUN echo shared > /shared.txt\n`)
    upstream.reset()
    const result = await build(m, dir, path.join(root, 'cache-shared-layer'))
    expect(result.error).toBeNull()
    const [service] = servicesOf(result.entry)!
    const served = upstream.servedBytes()
    expect(served).toBeGreaterThan(0)
    expect(served).toBeLessThan(upstream.bytesOf(upstream.siblingImage) * 0.7)
    expect(Math.abs(service.baseBytesPulled - served)).toBeLessThanOrEqual(served * 0.01)
    // The image already in storage was used by no build here and is not counted; the cache saves the sibling.
    expect(cacheTags(path.join(root, 'cache-shared-layer')).filter(t => t.startsWith('qdc-base/'))).toHaveLength(1)
  })

  test("a failing RUN fails the phase with the service, the step and podman's reason, though podman-compose exits 0", async () => {
    const dir = project('failing', `FROM ${upstream.image}\nRUN echo fine\nRUN exit 3\n`)
    const result = await build(machine('failing'), dir, path.join(root, 'cache-failing'))
    expect(String(result.error)).toMatch(/build of localhost\/qdc-test-failing:latest failed at STEP 3\/3: RUN exit 3: .*exit status 3/)
    expect(servicesOf(result.entry)![0].failure).toMatch(/STEP 3\/3/)
  })

  test('success is what the builds did: podman-compose itself exits 0 here though a service failed', async () => {
    const dir = path.join(root, 'exit0')
    // bad fails at once, good takes a while: podman-compose 1.0.x exits 0 anyway, 1.1+ returns the status of the build that ended last.
    const files = { bad: `FROM ${upstream.image}\nRUN exit 4\n`, good: `FROM ${upstream.image}\nRUN sleep 3 && echo good > /good.txt\n` }
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.join(dir, name), { recursive: true })
      fs.writeFileSync(path.join(dir, name, 'Containerfile'), text)
    }
    fs.writeFileSync(
      path.join(dir, 'compose.yaml'),
      `services:\n${Object.keys(files)
        .map(name => `  ${name}:\n    image: localhost/qdc-test-${name}:latest\n    build: ./${name}\n`)
        .join('')}`
    )
    // Async: the upstream registry that serves FROM runs in this process.
    const composed = await runAsync(
      'podman-compose',
      ['-f', 'compose.yaml', '--podman-build-args=--isolation=chroot', 'build'],
      dir,
      machine('exit0-direct').env
    )
    expect(composed.output).toContain('exit status 4')
    expect(composed.code).toBe(0)

    const result = await build(machine('exit0'), dir, path.join(root, 'cache-exit0'))
    expect(String(result.error)).toMatch(
      /^Error: build of localhost\/qdc-test-bad:latest failed at STEP 2\/2: RUN exit 4: .*exit status 4$/
    )
    expect(servicesOf(result.entry)!.map(s => [s.service, s.failure === null])).toEqual([
      ['bad', false],
      ['good', true]
    ])
  })

  test('a build that exits 0 but makes no image is a failure: podman build --help', async () => {
    const dir = project('help', `FROM ${upstream.image}\nRUN echo NEVER-BUILT\n`)
    const result = await build(machine('help'), dir, path.join(root, 'cache-help'), '--help')
    expect(result.output).toContain('Usage:')
    expect(String(result.error)).toBe(
      'Error: build of localhost/qdc-test-help:latest failed: podman-compose exited 0, but podman printed no image ID: localhost/qdc-test-help:latest was not built'
    )
    expect(servicesOf(result.entry)![0].failure).not.toBeNull()
  })

  test('several services: one build at a time, each with its own steps and bytes; a service behind a profile is not built', async () => {
    const dir = path.join(root, 'services')
    const services = {
      web: [`FROM ${upstream.image}`, 'RUN echo WEB-BUILT > /web.txt', 'RUN sleep 1 && echo web > /done.txt'],
      worker: [`FROM ${upstream.image}`, 'RUN echo WORKER-BUILT > /worker.txt', 'ENV ROLE=worker', 'RUN echo worker > /done.txt'],
      debug: [`FROM ${upstream.image}`, 'RUN exit 9']
    }
    for (const [name, lines] of Object.entries(services)) {
      fs.mkdirSync(path.join(dir, name), { recursive: true })
      fs.writeFileSync(path.join(dir, name, 'Containerfile'), lines.join('\n') + '\n')
    }
    fs.writeFileSync(
      path.join(dir, 'compose.yaml'),
      [
        'services:',
        ...['web', 'worker'].flatMap(name => [`  ${name}:`, `    image: localhost/qdc-test-${name}:latest`, `    build: ./${name}`]),
        '  debug:',
        '    image: localhost/qdc-test-debug:latest',
        '    build: ./debug',
        '    profiles: [debug]',
        ''
      ].join('\n')
    )
    const cache = path.join(root, 'cache-services')
    const cold = await build(machine('services-cold'), dir, cache)
    expect(cold.error).toBeNull()
    expect(servicesOf(cold.entry)!.map(s => [s.service, s.image, s.steps, s.builtSteps])).toEqual([
      ['web', 'localhost/qdc-test-web:latest', 2, 2],
      ['worker', 'localhost/qdc-test-worker:latest', 3, 3]
    ])
    for (const service of servicesOf(cold.entry)!) expect(service.layerBytesPushed).toBeGreaterThan(0)
    // podman-compose 1.1+ would have started both builds at once, their lines interleaved.
    expect(cold.output.indexOf('RUN echo WORKER-BUILT')).toBeGreaterThan(cold.output.lastIndexOf('RUN sleep 1 && echo web'))
    expect(cold.output).not.toContain('RUN exit 9')
    expect(cacheTags(cache).filter(t => t.startsWith('buildcache:'))).toHaveLength(5)

    const warmCache = path.join(root, 'cache-services-warm')
    fs.cpSync(cache, warmCache, { recursive: true })
    const warm = await build(machine('services-warm'), dir, warmCache)
    expect(warm.error).toBeNull()
    expect(servicesOf(warm.entry)!.map(s => [s.service, s.reusedSteps, s.builtSteps, s.layerBytesPushed])).toEqual([
      ['web', 2, 0, 0],
      ['worker', 3, 0, 0]
    ])
    for (const service of servicesOf(warm.entry)!) expect(service.layerBytesReused).toBeGreaterThan(0)
  })

  test('without the cache flags (podman < 4.2, or podman-cache-mode: images) the step images themselves make the cache', async () => {
    const dir = project('steps', containerfile(upstream.image, 'hi'), { 'hello.txt': 'hello\n' })
    const coldCache = path.join(root, 'cache-steps-cold')
    const coldMachine = machine('steps-cold')
    const cold = await build(coldMachine, dir, coldCache, '', 'images')
    expect(cold.error).toBeNull()
    expect(cold.output).not.toContain('--cache-from')
    expect(servicesOf(cold.entry)![0]).toMatchObject({ steps: 4, reusedSteps: 0, failure: null })
    expect(servicesOf(cold.entry)![0].layerBytesPushed).toBeGreaterThan(0)
    const coldTags = cacheTags(coldCache)
    expect(coldTags.filter(t => t.startsWith('qdc-steps:'))).toHaveLength(4)
    expect(coldTags.filter(t => t.startsWith('buildcache:'))).toHaveLength(0)
    const coldId = imageId(coldMachine, 'localhost/qdc-test-steps:latest')

    const warmCache = path.join(root, 'cache-steps-warm')
    fs.cpSync(coldCache, warmCache, { recursive: true })
    const warmMachine = machine('steps-warm')
    upstream.reset()
    const warm = await build(warmMachine, dir, warmCache, '', 'images')
    expect(warm.error).toBeNull()
    expect(servicesOf(warm.entry)![0]).toMatchObject({ steps: 4, reusedSteps: 4, builtSteps: 0, layerBytesPushed: 0, baseBytesPulled: 0 })
    expect(servicesOf(warm.entry)![0].layerBytesReused).toBeGreaterThan(0)
    expect(warm.output.match(/--> Using cache/g)).toHaveLength(4)
    expect(warm.output).not.toContain('EXECUTED-42')
    expect(imageId(warmMachine, 'localhost/qdc-test-steps:latest')).toBe(coldId)
    expect(upstream.servedBytes()).toBe(0)
    // Loaded step images are nameless again, as the build left them: no registry names in the user's storage.
    const names = podmanOn(warmMachine, ['images', '--format', '{{.Repository}}']).stdout
    expect(names).not.toContain('qdc-steps')
  })

  test('images mode with no isolation and no extra flags: the lone --layers still reaches podman', async () => {
    // No RUN step, so podman's default isolation needs no container runtime, even on a hybrid-cgroup host.
    const dir = project('lone-flag', `FROM ${upstream.image}\nCOPY hello.txt /hello.txt\nENV LONE=1\n`, { 'hello.txt': 'hello\n' })
    const result = await build(machine('lone-flag'), dir, path.join(root, 'cache-lone-flag'), '', 'images', '')
    expect(result.output).not.toContain('expected one argument')
    expect(result.error).toBeNull()
    expect(servicesOf(result.entry)![0]).toMatchObject({ steps: 2, builtSteps: 2, failure: null })
  })

  test('a layer cache that cannot be served stops the build with one clear error; nothing is built without it', async () => {
    const dir = project('unservable', `FROM ${upstream.image}\nRUN echo NEVER-BUILT\n`)
    const notADirectory = path.join(root, 'cache-is-a-file')
    fs.writeFileSync(notADirectory, 'not a directory')
    const result = await build(machine('unservable'), dir, notADirectory)
    expect(String(result.error)).toMatch(
      new RegExp(`the layer cache in ${notADirectory} could not be served on 127\\.0\\.0\\.1 .*; the build was not run`)
    )
    expect(result.output).not.toContain('NEVER-BUILT')
    expect(servicesOf(result.entry)).toBeUndefined()
  })

  test('podman missing from PATH is one clear error naming what to install', async () => {
    const dir = project('nopodman', `FROM ${upstream.image}\n`)
    const m = machine('nopodman')
    const emptyBin = fs.mkdtempSync(path.join(root, 'bin-'))
    const result = await build({ ...m, env: { ...m.env, PATH: emptyBin } }, dir, path.join(root, 'cache-nopodman'))
    expect(String(result.error)).toBe(
      'Error: compose-file is set but podman is not installed; install podman ≥ 4.2 (e.g. apt-get install podman podman-compose)'
    )
  })

  test('a compose file that is not there is one clear input error', async () => {
    process.env = { ...savedEnv, GITHUB_WORKSPACE: root }
    setInputs({ 'compose-file': 'nope/compose.yaml' })
    await expect(planCaches(readConfig(), {})).rejects.toThrow(
      `Input 'compose-file': ${path.join(root, 'nope/compose.yaml')} does not exist`
    )
  })

  test.each([
    ['services: [unclosed', /Input 'compose-file': .*bad\/compose.yaml is not a valid compose file: /],
    ['version: "3"\n', /Input 'compose-file': .*has no 'services:' mapping/],
    ['services:\n  db:\n    image: postgres\n', /Input 'compose-file': .*has no service with a 'build:' section/]
  ])('an invalid compose file is one clear input error: %j', async (text, message) => {
    fs.mkdirSync(path.join(root, 'bad'), { recursive: true })
    fs.writeFileSync(path.join(root, 'bad', 'compose.yaml'), text)
    process.env = { ...savedEnv, GITHUB_WORKSPACE: root }
    setInputs({ 'compose-file': 'bad/compose.yaml' })
    await expect(planCaches(readConfig(), {})).rejects.toThrow(message)
  })

  test('compose-services must name services the file builds', async () => {
    fs.mkdirSync(path.join(root, 'two'), { recursive: true })
    fs.writeFileSync(path.join(root, 'two', 'compose.yaml'), 'services:\n  web:\n    build: ./web\n  api:\n    build: ./api\n')
    process.env = { ...savedEnv, GITHUB_WORKSPACE: root }
    setInputs({ 'compose-file': 'two/compose.yaml', 'compose-services': 'web, wbe' })
    await expect(planCaches(readConfig(), {})).rejects.toThrow("Input 'compose-services': 'wbe' is not a service with a build section in")
  })

  test('images are named per service the way podman-compose tags them', () => {
    fs.mkdirSync(path.join(root, 'My Project'), { recursive: true })
    const file = path.join(root, 'My Project', 'compose.yaml')
    fs.writeFileSync(
      file,
      'services:\n  web:\n    build: .\n  api:\n    image: localhost/api:2\n    build: ./api\n  db:\n    image: postgres\n'
    )
    const services = readComposeServices(file)
    expect(services).toEqual([
      { name: 'web', image: 'myproject_web' },
      { name: 'api', image: 'localhost/api:2' }
    ])
    expect(serviceOfImage('localhost/myproject_web:latest', services)).toBe('web')
    expect(serviceOfImage('localhost/api:2', services)).toBe('api')
    expect(serviceOfImage('other:1', services)).toBe('other:1')
  })

  test('pip inside the Containerfile reuses its cache mount from the restored buildah directory', async () => {
    const index: PackageIndex = await startPackageIndex({ packages: [{ name: 'qdc-wheel', version: '1.0', payloadBytes: 2 * MiB }] })
    try {
      const pip = `python3 -m pip install --disable-pip-version-check --no-input --index-url ${index.url} --trusted-host 127.0.0.1 --target /opt/site qdc-wheel`
      // Only the pip step changes between the runs, so only it runs again (ARG would not do: podman < 4.4
      // never takes an ARG step from --cache-from, which would rebuild every later step too).
      const containerfile = (bust: string) =>
        [
          `FROM ${upstream.image}`,
          'RUN echo layer > /layer.txt',
          `RUN --mount=type=cache,target=/root/.cache/pip echo bust ${bust} && ${pip}`,
          ''
        ].join('\n')
      const dir = project('pip', containerfile('1'))
      // No Python image can be downloaded here: the build runs the host's python3 and pip from /usr.
      const args = HOST_PYTHON_BUILD_ARGS
      const coldMachine = machine('pip-cold')
      const cold = await build(coldMachine, dir, path.join(root, 'cache-pip'), args)
      expect(cold.error).toBeNull()
      const coldWheelBytes = index.filesBytesServed
      expect(coldWheelBytes).toBeGreaterThan(2 * MiB)

      // The restore of the buildah kind: its directory, copied to where that kind says this podman looks.
      process.env = { ...savedEnv, ...coldMachine.env }
      const [coldMounts] = (await buildah.plan({ config: {} as ActionConfig, inPlaceDir: null })).parts.map(part => part.path)
      const warmMachine = machine('pip-warm')
      process.env = { ...savedEnv, ...warmMachine.env }
      const [warmMounts] = (await buildah.plan({ config: {} as ActionConfig, inPlaceDir: null })).parts.map(part => part.path)
      expect(fs.existsSync(coldMounts)).toBe(true)
      fs.cpSync(coldMounts, warmMounts, { recursive: true })

      index.resetCounters()
      fs.writeFileSync(path.join(dir, 'app', 'Containerfile'), containerfile('2'))
      const warm = await build(warmMachine, dir, path.join(root, 'cache-pip'), args)
      expect(warm.error).toBeNull()
      expect(servicesOf(warm.entry)![0]).toMatchObject({ steps: 2, reusedSteps: 1, builtSteps: 1 })
      expect(warm.output).toContain('bust 2')
      expect(index.filesBytesServed).toBe(0)
      expect(warm.output).toMatch(/Using cached \S*qdc_wheel-1\.0-py3-none-any\.whl/)
    } finally {
      await index.close()
    }
  })
})

test('podman-cache-mode auto uses the cache flags from podman 4.2 on and the step images before', () => {
  expect(cacheMode('auto', '4.3.1')).toBe('registry')
  expect(cacheMode('auto', '4.2.0')).toBe('registry')
  expect(cacheMode('auto', '4.1.1')).toBe('images')
  expect(cacheMode('auto', '3.4.4')).toBe('images')
  expect(cacheMode('registry', '3.4.4')).toBe('images')
  expect(cacheMode('images', '4.9.3')).toBe('images')
})
