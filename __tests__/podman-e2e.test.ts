/**
 * End to end through the runner simulation: the bundled main builds a compose project with podman, post
 * saves the podman and buildah kinds to the local store, and a second fresh machine (new podman storage,
 * new TMPDIR, new HOME) restores them: every layer comes from the cache and pip in the Containerfile
 * downloads nothing.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { type PackageIndex, startPackageIndex } from './support/package-index.js'
import {
  destroyPodmanMachine,
  HOST_PYTHON_BUILD_ARGS,
  newPodmanMachine,
  type PodmanMachine,
  startUpstream,
  type Upstream,
  writeUpstreamRegistriesConf
} from './support/podman-sandbox.js'
import { describeWithTools } from './support/tools.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const describePodman = describeWithTools(['podman', 'podman-compose'])

describePodman('podman and buildah kinds through main and post', () => {
  let root: string
  let upstream: Upstream
  let index: PackageIndex
  let registriesConf: string
  const podmanMachines: PodmanMachine[] = []

  beforeAll(async () => {
    if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-podman-e2e-'))
    upstream = await startUpstream(root)
    registriesConf = writeUpstreamRegistriesConf(root, upstream.host)
    index = await startPackageIndex({ packages: [{ name: 'qdc-wheel', version: '1.0', payloadBytes: 2 * 1024 * 1024 }] })
  })

  afterAll(async () => {
    for (const m of podmanMachines) destroyPodmanMachine(m)
    await upstream?.close()
    await index?.close()
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  function writeProject(machine: Machine, bust: string): void {
    const app = path.join(machine.workspace, 'app')
    fs.mkdirSync(app, { recursive: true })
    fs.writeFileSync(
      path.join(machine.workspace, 'compose.yaml'),
      'services:\n  web:\n    image: localhost/qdc-e2e-web:latest\n    build: ./app\n'
    )
    const pip = `python3 -m pip install --disable-pip-version-check --no-input --index-url ${index.url} --trusted-host 127.0.0.1 --target /opt/site qdc-wheel`
    fs.writeFileSync(
      path.join(app, 'Containerfile'),
      [
        `FROM ${upstream.image}`,
        'RUN echo EXEC""UTED-$((6*7))',
        'ENV MODE=ci',
        `RUN --mount=type=cache,target=/root/.cache/pip echo bust ${bust} && ${pip}`,
        ''
      ].join('\n')
    )
  }

  /** A runner VM is new each run but has the same layout (GitHub's entry version hashes the cached paths). */
  async function job(runId: number, bust: string) {
    for (const m of podmanMachines.splice(0)) destroyPodmanMachine(m)
    fs.rmSync(path.join(root, 'vm'), { recursive: true, force: true })
    const machine = newMachine(root, 'vm')
    const podmanMachine = newPodmanMachine(root, 'vm-podman', registriesConf)
    podmanMachines.push(podmanMachine)
    writeProject(machine, bust)
    return runJob({
      actionDir,
      machine,
      runId,
      inputs: {
        caches: 'podman, buildah',
        backend: 'local',
        'local-dir': path.join(root, 'store'),
        'compose-file': 'compose.yaml',
        isolation: 'chroot',
        'podman-build-args': HOST_PYTHON_BUILD_ARGS
      },
      env: podmanMachine.env
    })
  }

  test('a fresh machine reuses every layer and the pip cache mount', async () => {
    upstream.reset()
    const cold = await job(1, '1')
    expect(cold.main.exitCode).toBe(0)
    expect(cold.main.stdout).toContain('EXECUTED-42')
    expect(cold.post?.exitCode).toBe(0)
    const coldReport = JSON.parse(fs.readFileSync(cold.main.outputs.report, 'utf8'))
    const coldPodman = coldReport.caches.find((c: { kind: string }) => c.kind === 'podman')
    expect(coldPodman.services[0]).toMatchObject({ service: 'web', image: 'localhost/qdc-e2e-web:latest', steps: 3, reusedSteps: 0 })
    expect(coldPodman.saved).toBe('saved')
    // Downloaded = the base image from upstream, as the upstream registry counted it (gzip layers of
    // compressible text: the image in storage is several times that); the three built layers are not downloads.
    expect(coldPodman.downloadedBytes).toBe(coldPodman.services[0].baseBytesPulled)
    expect(upstream.servedBytes()).toBeGreaterThan(0)
    expect(Math.abs(coldPodman.downloadedBytes - upstream.servedBytes())).toBeLessThanOrEqual(upstream.servedBytes() * 0.01)
    expect(coldPodman.services[0].layerBytesPushed).toBeGreaterThan(coldPodman.downloadedBytes)
    expect(cold.post?.summary).toContain('| Service (image) |')
    expect(cold.post?.summary).toContain('| web (`localhost/qdc-e2e-web:latest`) | 0/3 |')
    const coldWheelBytes = index.filesBytesServed
    expect(coldWheelBytes).toBeGreaterThan(2 * 1024 * 1024)

    index.resetCounters()
    upstream.reset()
    const warm = await job(2, '2')
    expect(warm.main.exitCode).toBe(0)
    expect(warm.main.stdout).not.toContain('EXECUTED-42')
    expect(warm.main.stdout).toContain('bust 2')
    const report = JSON.parse(fs.readFileSync(warm.main.outputs.report, 'utf8'))
    const podman = report.caches.find((c: { kind: string }) => c.kind === 'podman')
    const buildah = report.caches.find((c: { kind: string }) => c.kind === 'buildah')
    expect(podman.hit).not.toBe('miss')
    expect(buildah.hit).not.toBe('miss')
    expect(podman.services[0]).toMatchObject({ steps: 3, reusedSteps: 2, builtSteps: 1, baseBytesPulled: 0 })
    expect(podman.services[0].baseBytesReused).toBeGreaterThan(0)
    // The rebuilt pip step's layer was built here: pushed to the cache, not counted as downloaded.
    expect(podman.downloadedBytes).toBe(0)
    expect(podman.reusedBytes).toBe(podman.services[0].layerBytesReused + podman.services[0].baseBytesReused)
    expect(podman.services[0].layerBytesPushed).toBeGreaterThan(0)
    expect(upstream.servedBytes()).toBe(0)
    expect(index.filesBytesServed).toBe(0)
    expect(warm.post?.exitCode).toBe(0)
    expect(warm.post?.summary).toMatch(/\| web \(`localhost\/qdc-e2e-web:latest`\) \| 2\/3 \| 1 \|/)
  })

  test('a failing build fails main with the step, though podman-compose 1.0 exits 0', async () => {
    const machine = newMachine(root, 'failing')
    const podmanMachine = newPodmanMachine(root, 'failing-podman', registriesConf)
    podmanMachines.push(podmanMachine)
    fs.mkdirSync(path.join(machine.workspace, 'app'), { recursive: true })
    fs.writeFileSync(
      path.join(machine.workspace, 'compose.yaml'),
      'services:\n  web:\n    image: localhost/qdc-e2e-bad:latest\n    build: ./app\n'
    )
    fs.writeFileSync(path.join(machine.workspace, 'app', 'Containerfile'), `FROM ${upstream.image}\nRUN exit 7\n`)
    const result = await runJob({
      actionDir,
      machine,
      runId: 3,
      inputs: {
        caches: 'podman',
        backend: 'local',
        'local-dir': path.join(root, 'store-failing'),
        'compose-file': 'compose.yaml',
        isolation: 'chroot'
      },
      env: podmanMachine.env
    })
    expect(result.main.exitCode).not.toBe(0)
    expect(result.main.stdout).toMatch(/::error::build of localhost\/qdc-e2e-bad:latest failed at STEP 2\/2: RUN exit 7/)
  })
})
