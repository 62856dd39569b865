/**
 * The fleet store end to end: the bundled action (runner simulation, main and post as their own processes)
 * on two "hosts" that share one bucket on a real radosgw and nothing else (another HOME, workspace, runner
 * temp, podman storage and TMPDIR; one gets its credentials from the environment, as
 * aws-actions/configure-aws-credentials exports them, the other from a profile). Real pip against a local
 * index, the mini Hub and podman-compose against a loopback registry: the warm host hits every kind exactly
 * and no upstream sends it a byte. No secret appears in any log, summary, report, state or archive. Bad
 * s3 inputs fail main with one line; an endpoint that is down and read-only credentials never fail a job.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type JobResult, type Machine, newMachine, runJob } from '../scripts/runner-sim.js'
import { type Hub, startHub } from './support/hub.js'
import { type PackageIndex, pipInstallArgs, startPackageIndex } from './support/package-index.js'
import {
  destroyPodmanMachine,
  newPodmanMachine,
  type PodmanMachine,
  startUpstream,
  type Upstream,
  writeUpstreamRegistriesConf
} from './support/podman-sandbox.js'
import { CEPH_TOOLS, readOnlyPolicy, type S3Keys, type S3Server, startS3Server } from './support/s3-server.js'
import { describeWithTools } from './support/tools.js'
import { runAs } from './support/users.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const BUCKET = 'qdc-fleet'
const COMMIT = crypto.createHash('sha1').update('fleet').digest('hex')
const KINDS = ['pip', 'buildah', 'huggingface', 'podman', 'custom']
/** A session token radosgw ignores for static keys: it is sent with every request, so it must be masked. */
const SESSION_TOKEN = `FwoGZXIvYXdzE${crypto.randomBytes(24).toString('base64url')}`

function report(job: JobResult) {
  return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8')) as {
    caches: Array<Record<string, any> & { kind: string }>
    totals: { downloadedBytes: number; uploadedBytes: number }
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

/**
 * Every step's log, summary and outputs, the report, the state and env files a job left: what must hold no
 * secret. `::add-mask::` lines are the runner's instructions to hide a value from everything else; the runner
 * consumes them, they are never shown.
 */
function everythingWritten(machine: Machine, jobs: JobResult[]): string {
  const log = (stdout: string) =>
    stdout
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
  const texts = jobs.flatMap(job =>
    [job.main, job.post].flatMap(step => (step ? [log(step.stdout), step.summary, JSON.stringify(step.outputs)] : []))
  )
  for (const job of jobs)
    if (job.main.outputs.report && fs.existsSync(job.main.outputs.report)) texts.push(fs.readFileSync(job.main.outputs.report, 'utf8'))
  // The runner's file commands: GITHUB_STATE (the run state main hands to post), GITHUB_ENV, outputs, summaries.
  for (const entry of fs.readdirSync(machine.temp, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) texts.push(fs.readFileSync(path.join(entry.parentPath, entry.name), 'latin1'))
  }
  return texts.join('\n')
}

describeWithTools([...CEPH_TOOLS, 'podman', 'podman-compose', 'python3', 'zstd'])('the s3 fleet store, end to end', () => {
  let root: string
  let server: S3Server
  let admin: S3Client
  let index: PackageIndex
  let hub: Hub
  let podmanUpstream: Upstream
  let registriesConf: string
  let writer: S3Keys & { sessionToken: string }
  let reader: S3Keys
  const podmans: PodmanMachine[] = []

  beforeAll(async () => {
    if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-e2e-s3-'))
    server = await startS3Server()
    admin = server.client()
    await server.createBucket(BUCKET)
    writer = { ...(await server.createUser('ci-writer')), sessionToken: SESSION_TOKEN }
    reader = await server.createUser('ci-reader')
    await server.setBucketPolicy(BUCKET, {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam:::user/ci-writer'] },
          Action: ['s3:*'],
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`]
        },
        ...(readOnlyPolicy(BUCKET, ['ci-reader']) as { Statement: object[] }).Statement
      ]
    })
    index = await startPackageIndex({ packages: [{ name: 'qdc-base', version: '1.0', payloadBytes: MiB }] })
    hub = await startHub({
      repos: [
        {
          id: 'acme/tiny',
          refs: { main: COMMIT },
          commits: {
            [COMMIT]: [
              { path: 'config.json', bytes: Buffer.from('{"hidden": 8}\n'), lfs: false },
              { path: 'model.safetensors', bytes: crypto.randomBytes(2 * MiB), lfs: true }
            ]
          }
        }
      ]
    })
    podmanUpstream = await startUpstream(root)
    registriesConf = writeUpstreamRegistriesConf(root, podmanUpstream.host)
  })

  afterAll(async () => {
    for (const podman of podmans) destroyPodmanMachine(podman)
    admin?.destroy()
    await Promise.all([index?.close(), hub?.close(), podmanUpstream?.close(), server?.close()])
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  /** A host: its own HOME, workspace, runner temp, podman storage and TMPDIR, and the project checked out. */
  function host(name: string): { machine: Machine; podman: PodmanMachine; env: Record<string, string> } {
    const machine = newMachine(root, name)
    const podman = newPodmanMachine(root, `${name}-podman`, registriesConf)
    podmans.push(podman)
    const app = path.join(machine.workspace, 'app')
    fs.mkdirSync(app, { recursive: true })
    fs.writeFileSync(
      path.join(machine.workspace, 'compose.yaml'),
      'services:\n  web:\n    image: localhost/qdc-fleet-web:latest\n    build: ./app\n'
    )
    const pip = `python3 -m pip install --disable-pip-version-check --no-input --index-url ${index.url} --trusted-host 127.0.0.1 --target /opt/site qdc-base`
    fs.writeFileSync(
      path.join(app, 'Containerfile'),
      [`FROM ${podmanUpstream.image}`, 'RUN echo FLEET""BUILT-$((6*7))', `RUN --mount=type=cache,target=/root/.cache/pip ${pip}`, ''].join(
        '\n'
      )
    )
    return { machine, podman, env: { ...podman.env, PIP_CONFIG_FILE: os.devNull } }
  }

  function inputs(extra: Record<string, string> = {}): Record<string, string> {
    return {
      caches: 'pip, buildah, huggingface, podman',
      models: 'acme/tiny',
      'hf-endpoint': hub.url,
      'compose-file': 'compose.yaml',
      isolation: 'chroot',
      'podman-build-args': '--network=host -v /usr:/usr:ro',
      paths: 'data\n~/.gradle/caches',
      key: 'fleet-data',
      backend: 's3',
      's3-bucket': BUCKET,
      's3-endpoint': server.endpoint,
      's3-idle-timeout': '10s',
      's3-max-size': '2G',
      ...extra
    }
  }

  /** The user's steps between main and post: pip, and files of its own when `produce`. */
  function userSteps(machine: Machine, produce: boolean) {
    return async (env: Record<string, string>) => {
      const pip = await runAs(null, 'python3', pipInstallArgs(index, path.join(machine.workspace, 'site'), ['qdc-base']), env)
      if (pip.code !== 0) throw new Error(`pip failed: ${pip.stderr}`)
      if (!produce) return
      fs.mkdirSync(path.join(machine.workspace, 'data'), { recursive: true })
      fs.writeFileSync(path.join(machine.workspace, 'data', 'out.bin'), crypto.randomBytes(300_000))
      fs.mkdirSync(path.join(machine.home, '.gradle', 'caches', 'jars'), { recursive: true })
      fs.writeFileSync(path.join(machine.home, '.gradle', 'caches', 'jars', 'dep.jar'), crypto.randomBytes(200_000))
    }
  }

  function contents(machine: Machine, podman: PodmanMachine) {
    const cache = path.join(machine.home, '.cache')
    const mounts = fs.readdirSync(podman.tmpdir).find(name => name.startsWith('buildah-cache')) ?? 'buildah-cache'
    return {
      pip: treeDigest(path.join(cache, 'pip')),
      huggingface: treeDigest(path.join(cache, 'huggingface', 'hub', 'models--acme--tiny'), /\.incomplete$/),
      podman: treeDigest(path.join(cache, 'qdc-action', 'podman')),
      buildah: treeDigest(path.join(podman.tmpdir, mounts), /^buildah-cache-lockfiles?$/),
      data: treeDigest(path.join(machine.workspace, 'data')),
      gradle: treeDigest(path.join(machine.home, '.gradle', 'caches'))
    }
  }

  /** Every object in the bucket (the writer owns them); archives decompressed, so a secret inside a tar would show. */
  async function bucketContents(): Promise<string> {
    const owner = server.client(writer)
    const texts: string[] = []
    let token: string | undefined
    do {
      const page = await owner.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }))
      for (const object of page.Contents ?? []) {
        const got = await owner.send(new GetObjectCommand({ Bucket: BUCKET, Key: object.Key }))
        const bytes = Buffer.from(await got.Body!.transformToByteArray())
        const plain = object.Key!.endsWith('.tar.zst') ? spawnSync('zstd', ['-dc'], { input: bytes, maxBuffer: 512 * MiB }).stdout : bytes
        texts.push(object.Key!, plain.toString('latin1'))
      }
      token = page.NextContinuationToken
    } while (token)
    owner.destroy()
    expect(texts.filter(text => text.endsWith('.tar.zst')).length).toBeGreaterThanOrEqual(KINDS.length)
    return texts.join('\n')
  }

  test('two hosts share the bucket: the warm one hits every kind exactly with 0 upstream bytes, and no secret is written anywhere', async () => {
    // Host A: credentials in the environment, the way aws-actions/configure-aws-credentials exports them.
    const a = host('host-a')
    const envCredentials = {
      AWS_ACCESS_KEY_ID: writer.accessKeyId,
      AWS_SECRET_ACCESS_KEY: writer.secretAccessKey,
      AWS_SESSION_TOKEN: writer.sessionToken
    }
    const cold = await runJob({
      actionDir,
      machine: a.machine,
      runId: 100,
      inputs: inputs(),
      env: { ...a.env, ...envCredentials },
      between: userSteps(a.machine, true)
    })
    expect([cold.main.exitCode, cold.post?.exitCode]).toEqual([0, 0])
    expect(cold.main.stdout).toContain('FLEETBUILT-42')
    expect(report(cold).caches.map(c => [c.kind, c.hit, c.saved])).toEqual(KINDS.map(kind => [kind, 'miss', 'saved']))
    for (const served of [index.filesBytesServed, hub.hubFileBytes + hub.cdnBytes, podmanUpstream.servedBytes()])
      expect(served).toBeGreaterThan(0)
    expect(cold.post!.stdout).not.toMatch(/::warning::/)
    // The post step's upkeep ran (s3-max-size is set) and found nothing to remove.
    expect(cold.post!.stdout).toMatch(/::group::Prune s3 store\nRemoved 0 entries, 0 B; [\d.]+ [KM]iB remain/)
    const saved = contents(a.machine, a.podman)
    for (const [kind, tree] of Object.entries(saved)) expect([kind, Object.keys(tree).length > 0]).toEqual([kind, true])

    // Host B: nothing of A's but the bucket; credentials from a profile in its own HOME.
    for (const counter of [index, hub]) counter.resetCounters()
    podmanUpstream.reset()
    const b = host('host-b')
    const awsDir = path.join(b.machine.home, '.aws')
    fs.mkdirSync(awsDir)
    fs.writeFileSync(
      path.join(awsDir, 'credentials'),
      `[fleet]\naws_access_key_id = ${writer.accessKeyId}\naws_secret_access_key = ${writer.secretAccessKey}\n`
    )
    const warm = await runJob({
      actionDir,
      machine: b.machine,
      runId: 101,
      inputs: inputs(),
      env: { ...b.env, AWS_PROFILE: 'fleet' },
      between: userSteps(b.machine, false)
    })
    expect([warm.main.exitCode, warm.post?.exitCode]).toEqual([0, 0])
    expect(warm.main.outputs['cache-hit']).toBe('true')
    const warmReport = report(warm)
    expect(warmReport.caches.map(c => [c.kind, c.backend, c.hit, c.saved])).toEqual(KINDS.map(kind => [kind, 's3', 'exact', 'unchanged']))
    expect(warmReport.totals).toMatchObject({ downloadedBytes: 0, uploadedBytes: 0 })
    expect({ index: index.filesBytesServed, hubAndCdn: hub.hubFileBytes + hub.cdnBytes, registry: podmanUpstream.servedBytes() }).toEqual({
      index: 0,
      hubAndCdn: 0,
      registry: 0
    })
    expect(warm.main.stdout).not.toContain('FLEETBUILT-42')
    expect(contents(b.machine, b.podman)).toEqual(saved)
    // Per entry: the bytes that came from the bucket, in how long, how fast; in the report and the summary.
    for (const cache of warmReport.caches) {
      expect(cache.transfer.restore).toEqual({
        bytes: cache.restoredArchiveBytes,
        ms: expect.any(Number),
        bytesPerSecond: expect.any(Number)
      })
      expect(cache.transfer.restore.bytes).toBeGreaterThan(0)
    }
    expect(warm.post!.summary).toMatch(/\| Cache \| Backend \| From the store \| To the store \|/)
    expect(warm.post!.summary).toMatch(/\| pip \| s3 \| [\d.]+ (B|KiB|MiB) in \d+(\.\d)? m?s \([\d.]+ (B|KiB|MiB|GiB)\/s\) \| — \|/)
    expect(warm.main.stdout).toContain(`backend: s3 (s3://${BUCKET}/qdc/ at ${server.endpoint})`)

    // No secret anywhere: logs, summaries, outputs, reports, the run state and env files, the bucket.
    const written = everythingWritten(a.machine, [cold]) + everythingWritten(b.machine, [warm]) + (await bucketContents())
    for (const [name, secret] of Object.entries({
      accessKeyId: writer.accessKeyId,
      secretAccessKey: writer.secretAccessKey,
      sessionToken: writer.sessionToken
    })) {
      expect([name, written.includes(secret)]).toEqual([name, false])
    }
    // ...because they were masked, each once, before anything else was logged: the variables first thing, and
    // the profile's keys (which no variable holds) as soon as the SDK resolved them, before its first request.
    const masks = (stdout: string) =>
      stdout
        .split('\n')
        .flatMap((line, at): Array<[number, string]> => (line.startsWith('::add-mask::') ? [[at, line.slice('::add-mask::'.length)]] : []))
    const coldLines = cold.main.stdout.split('\n')
    expect(masks(cold.main.stdout)).toEqual([
      [1, writer.accessKeyId],
      [2, writer.secretAccessKey],
      [3, writer.sessionToken]
    ])
    expect(masks(cold.post!.stdout).map(([, value]) => value)).toEqual([writer.accessKeyId, writer.secretAccessKey, writer.sessionToken])
    expect(coldLines[0]).toBe('qdc-action: restoring caches')
    const warmMasks = masks(warm.main.stdout)
    expect(warmMasks.map(([, value]) => value)).toEqual([writer.accessKeyId, writer.secretAccessKey])
    // Kinds restore at once, each kind's lines held until it ends; the masks are not held, so they come
    // before every restore's group, and so before any line that could hold the secret.
    const firstRestoreLine = warm.main.stdout.split('\n').findIndex(line => line.startsWith('::group::Restore'))
    expect(warmMasks.map(([at]) => at)).toEqual([warmMasks[0][0], warmMasks[0][0] + 1])
    expect(warmMasks[1][0]).toBeLessThan(firstRestoreLine)
  })

  test('read-only credentials: the job restores, and the saves it cannot make are one warning that says so', async () => {
    const c = host('host-ro')
    const job = await runJob({
      actionDir,
      machine: c.machine,
      runId: 200,
      // A key nothing was saved under: every kind misses, and every kind then has something to save.
      inputs: {
        paths: 'data',
        key: 'ro-data',
        caches: 'huggingface',
        models: 'acme/tiny',
        'hf-endpoint': hub.url,
        backend: 's3',
        's3-bucket': BUCKET,
        's3-endpoint': server.endpoint,
        'key-prefix': 'ro'
      },
      env: { ...c.env, AWS_ACCESS_KEY_ID: reader.accessKeyId, AWS_SECRET_ACCESS_KEY: reader.secretAccessKey },
      between: async () => {
        fs.mkdirSync(path.join(c.machine.workspace, 'data'), { recursive: true })
        fs.writeFileSync(path.join(c.machine.workspace, 'data', 'f'), 'fresh')
      }
    })
    expect([job.main.exitCode, job.post?.exitCode]).toEqual([0, 0])
    expect(report(job).caches.map(cache => [cache.kind, cache.hit, cache.saved])).toEqual([
      ['huggingface', 'miss', 'read-only'],
      ['custom', 'miss', 'read-only']
    ])
    const warnings = job.post!.stdout.split('\n').filter(line => line.startsWith('::warning::'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^::warning::huggingface: not saved: read-only credentials: s3:\/\/qdc-fleet\/qdc\/ at \S+ refuses writes from them \(access denied \(403 AccessDenied\)\); restores still work, nothing is saved$/
    )
    expect(job.post!.stdout).not.toMatch(/not found|NoSuchKey/i)

    // The reader restores what the writer saved, exactly.
    const d = host('host-ro-warm')
    const warm = await runJob({
      actionDir,
      machine: d.machine,
      runId: 201,
      inputs: { ...inputs(), caches: 'huggingface', 'compose-file': '', 's3-max-size': '' },
      env: { ...d.env, AWS_ACCESS_KEY_ID: reader.accessKeyId, AWS_SECRET_ACCESS_KEY: reader.secretAccessKey }
    })
    expect([warm.main.exitCode, warm.post?.exitCode]).toEqual([0, 0])
    expect(report(warm).caches.map(cache => [cache.kind, cache.hit])).toEqual([
      ['huggingface', 'exact'],
      ['custom', 'exact']
    ])
    expect(warm.main.stdout).not.toMatch(/::warning::/)
  })

  test('an endpoint that is down: warnings, misses, and a job that succeeds', async () => {
    const closed = await new Promise<number>(resolve => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const e = host('host-down')
    const job = await runJob({
      actionDir,
      machine: e.machine,
      runId: 300,
      inputs: { paths: 'data', key: 'down', backend: 's3', 's3-bucket': BUCKET, 's3-endpoint': `http://127.0.0.1:${closed}` },
      env: { ...e.env, AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey },
      between: async () => {
        fs.mkdirSync(path.join(e.machine.workspace, 'data'), { recursive: true })
        fs.writeFileSync(path.join(e.machine.workspace, 'data', 'f'), 'x')
      }
    })
    expect([job.main.exitCode, job.post?.exitCode]).toEqual([0, 0])
    expect(job.main.stdout).toMatch(
      /::warning::custom: restore failed, continuing without cache: s3:\/\/qdc-fleet\/qdc\/ at http:\/\/127\.0\.0\.1:\d+: reading the manifest of down: cannot reach the server: connect ECONNREFUSED 127\.0\.0\.1:\d+/
    )
    expect(job.post!.stdout).toMatch(/::warning::custom: save failed, the job goes on: .*cannot reach the server: connect ECONNREFUSED/)
    expect(report(job).caches.map(cache => [cache.hit, cache.saved])).toEqual([['miss', 'failed']])
  })

  test.each([
    ['s3-endpoint', 'ftp://cache.example.org', "Input 's3-endpoint': 'ftp://cache.example.org' is not an http:// or https:// URL"],
    [
      's3-endpoint',
      'https://AKIAEXAMPLE:secret@s3.example.org',
      "Input 's3-endpoint': 'https://…@s3.example.org' holds credentials; give them through the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, web identity), never in an input"
    ],
    [
      's3-bucket',
      'My_Bucket',
      "Input 's3-bucket': 'My_Bucket' is not a bucket name: it may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit"
    ],
    ['s3-bucket', '', "Input 's3-bucket': is empty; name the bucket the s3 backend keeps its entries in"]
  ])('bad input %s=%s fails main with one line', async (input, value, line) => {
    const f = host(`host-bad-${crypto.randomBytes(3).toString('hex')}`)
    const job = await runJob({
      actionDir,
      machine: f.machine,
      runId: 400,
      inputs: { paths: 'data', key: 'bad', backend: 's3', 's3-bucket': BUCKET, [input]: value },
      env: f.env
    })
    expect(job.main.exitCode).toBe(1)
    expect(job.post).toBeNull()
    expect(job.main.stdout.split('\n').filter(l => l.startsWith('::error::'))).toEqual([`::error::${line}`])
    expect(job.main.stdout).not.toContain('secret@')
  })
})
