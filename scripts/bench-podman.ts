/**
 * `npm run bench:podman`: cold vs warm `podman-compose build` through the bundled action (main step:
 * restore + build), measured in one run. The cold job starts from an empty local store; the warm job is a
 * fresh machine (new podman storage, TMPDIR and HOME) with only what the cold job saved.
 * The Containerfile has a pip step (three wheels from a local index, through a cache mount), a data step
 * and a CPU-bound step standing in for compilation. Goal: warm ≤ 20% of cold, every step reused.
 * Needs podman, podman-compose, busybox-static, and `npm run build` first.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import './load-ts.ts'
import { startPackageIndex } from '../__tests__/support/package-index.ts'
import { newMachine, runJob } from './runner-sim.ts'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-podman-'))
const MiB = 1024 * 1024
const BASE = 'localhost/bench-busybox:1'

function sh(command: string, args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, { env: { ...process.env, ...env }, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/** busybox rootfs with lib → usr/lib, so RUN steps can use the host's python3 mounted at /usr. */
function busyboxTarball(): string {
  const rootfs = path.join(root, 'rootfs')
  for (const sub of ['bin', 'etc', 'tmp', 'usr', 'root']) fs.mkdirSync(path.join(rootfs, sub), { recursive: true })
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'))
  for (const applet of ['sh', 'echo', 'cat', 'dd', 'head']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet))
  fs.symlinkSync('usr/lib', path.join(rootfs, 'lib'))
  fs.symlinkSync('usr/lib64', path.join(rootfs, 'lib64'))
  const tarball = path.join(root, 'busybox.tar')
  sh('tar', ['-C', rootfs, '-cf', tarball, '.'])
  return tarball
}

function podmanEnv(): Record<string, string> {
  const dir = path.join(root, 'vm-podman')
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`)
  return { CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'), TMPDIR: path.join(dir, 'tmp') }
}

function destroyPodman(env: Record<string, string>): void {
  spawnSync('podman', ['system', 'reset', '--force'], { env: { ...process.env, ...env } })
  fs.rmSync(path.join(root, 'vm-podman'), { recursive: true, force: true })
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
  const index = await startPackageIndex({
    packages: [
      { name: 'bench-a', version: '1.0', payloadBytes: 8 * MiB },
      { name: 'bench-b', version: '1.0', payloadBytes: 8 * MiB },
      { name: 'bench-c', version: '1.0', payloadBytes: 8 * MiB, dependencies: ['bench-a', 'bench-b'] }
    ]
  })
  const tarball = busyboxTarball()
  const containerfile = [
    `FROM ${BASE}`,
    'RUN dd if=/dev/urandom of=/data.bin bs=1M count=8 2>/dev/null',
    `RUN --mount=type=cache,target=/root/.cache/pip python3 -m pip install --disable-pip-version-check --no-input --index-url ${index.url} --trusted-host 127.0.0.1 --target /opt/site bench-c`,
    'COPY app.py /app/app.py',
    // Stands in for compiling: a few seconds of CPU that the cache must save.
    'RUN python3 -c "import hashlib; h=hashlib.sha256(); [h.update(bytes(1<<20)) for _ in range(6000)]; print(h.hexdigest())" > /app/build-id',
    'ENV APP=/app/app.py',
    ''
  ].join('\n')

  const runs: { label: string; ms: number; reused: number; steps: number }[] = []
  for (const [runId, label] of [
    [1, 'cold'],
    [2, 'warm']
  ] as const) {
    fs.rmSync(path.join(root, 'vm'), { recursive: true, force: true })
    const machine = newMachine(root, 'vm')
    fs.mkdirSync(path.join(machine.workspace, 'app'), { recursive: true })
    fs.writeFileSync(
      path.join(machine.workspace, 'compose.yaml'),
      'services:\n  app:\n    image: localhost/bench-app:latest\n    build: ./app\n'
    )
    fs.writeFileSync(path.join(machine.workspace, 'app', 'Containerfile'), containerfile)
    fs.writeFileSync(path.join(machine.workspace, 'app', 'app.py'), 'print("hello")\n')
    const env = podmanEnv()
    // The base image is local on both machines, so neither run measures an upstream pull.
    sh('podman', ['import', tarball, BASE], env)
    const job = await runJob({
      actionDir,
      machine,
      runId,
      inputs: {
        caches: 'podman, buildah',
        backend: 'local',
        'local-dir': path.join(root, 'store'),
        'compose-file': 'compose.yaml',
        isolation: 'chroot',
        'podman-build-args': '--network=host -v /usr:/usr:ro -v /etc/ssl/certs:/etc/ssl/certs:ro'
      },
      env
    })
    if (job.main.exitCode !== 0 || job.post?.exitCode !== 0)
      throw new Error(`${label} job failed:\n${job.main.stdout}\n${job.post?.stdout ?? ''}`)
    const report = JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8'))
    const service = report.caches.find((c: { kind: string }) => c.kind === 'podman').services[0]
    runs.push({ label, ms: job.main.ms, reused: service.reusedSteps, steps: service.steps })
    console.log(
      `${label}: main (restore + podman-compose build) ${(job.main.ms / 1000).toFixed(2)} s, ${service.reusedSteps}/${service.steps} steps from the cache, wheels sent by the index ${(index.filesBytesServed / MiB).toFixed(1)} MiB`
    )
    index.resetCounters()
    destroyPodman(env)
  }
  await index.close()
  fs.rmSync(root, { recursive: true, force: true })
  const [cold, warm] = runs
  const ratio = warm.ms / cold.ms
  console.log(`warm / cold = ${(ratio * 100).toFixed(1)}% (goal ≤ 20%); every step reused: ${warm.reused === warm.steps ? 'yes' : 'no'}`)
  if (ratio > 0.2 || warm.reused !== warm.steps) process.exitCode = 1
}

await main()
