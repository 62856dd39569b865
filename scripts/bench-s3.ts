/**
 * `npm run bench:s3`: the s3 backend side by side with Debian's rclone (1.60, `copyto`), in the same run,
 * against the same radosgw (the tests' fixture: a throwaway Ceph on loopback), on the same archive.
 *  1. Save throughput: our save of a directory (tar + zstd + SHA-256 + upload, streamed) vs `rclone copyto`
 *     up of that directory's archive, already made. Goal ≥ 1.0×.
 *  2. Restore throughput including verification: our restore (parallel ranged GETs, SHA-256, tar into
 *     staging, move into place) vs `rclone copyto` down (which checks the MD5 rclone stored at upload).
 *     Goal ≥ 1.0×. Our download + verification alone (no extraction) is shown beside it.
 *  3. A warm run with nothing changed (runner simulation, dist/ main and post, another machine): 0 bytes uploaded.
 * Data: BENCH_SIZE_MIB (default 512) of incompressible files; medians of BENCH_ROUNDS (default 3), the order of
 * ours and rclone's alternating per round. Throughput is archive bytes per second (MiB/s, 2^20).
 * src/ and the fixture are loaded through ./load-ts.ts. Needs `npm run build` for (3).
 */
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { median, MiB, run, timed } from './bench-support.ts'
import './load-ts.ts'

const { startS3Server } = await import('../__tests__/support/s3-server.ts')
const { S3Store } = await import('../src/backends/s3/store.ts')
const { tarCreateArgs } = await import('../src/backends/archive.ts')
const { newMachine, runJob } = await import('./runner-sim.ts')

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SIZE_MIB = Number(process.env.BENCH_SIZE_MIB || 512)
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS || 3))
const WARM_MIB = Number(process.env.BENCH_WARM_MIB || 64)
const BUCKET = 'qdc-bench'
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-s3-'))

/** `files` incompressible files making `mib` MiB below dir (what a wheel or model cache mostly is). */
function writeData(dir: string, mib: number, files = 8): void {
  fs.mkdirSync(dir, { recursive: true })
  for (let i = 0; i < files; i++) {
    const fd = fs.openSync(path.join(dir, `blob-${i}.bin`), 'w')
    for (let written = 0; written < (mib * MiB) / files; written += 16 * MiB)
      fs.writeSync(fd, crypto.randomBytes(Math.min(16 * MiB, (mib * MiB) / files - written)))
    fs.closeSync(fd)
  }
}

const mibps = (bytes: number, ms: number) => bytes / MiB / (ms / 1000)

// One cluster for the whole run: ours and rclone's objects stay in the OSD's RAM (RGW frees deleted data after 2 h).
const server = await startS3Server({ memoryBytes: (SIZE_MIB * 2 * ROUNDS + WARM_MIB * 2 + 512) * MiB })
try {
  await server.createBucket(BUCKET)
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey
  const settings = {
    bucket: BUCKET,
    prefix: 'qdc/',
    endpoint: server.endpoint,
    region: null,
    forcePathStyle: true,
    idleTimeoutMs: 60_000,
    maxAgeMs: null,
    maxBytes: null
  }
  // Exploration knobs (not the product's settings): QDC_BENCH_RANGE_MIB, QDC_BENCH_RANGES, QDC_BENCH_PART_MIB, QDC_BENCH_PARTS.
  const knob = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined)
  const ranges = knob('QDC_BENCH_RANGE_MIB')
    ? { rangeSize: knob('QDC_BENCH_RANGE_MIB')! * MiB, concurrency: knob('QDC_BENCH_RANGES') ?? 4 }
    : undefined
  const parts = knob('QDC_BENCH_PART_MIB')
    ? { partSize: knob('QDC_BENCH_PART_MIB')! * MiB, queueSize: knob('QDC_BENCH_PARTS') ?? 4 }
    : undefined
  const store = new S3Store(settings, { ranges, parts })
  // aws-sdk-go (in rclone) refuses to start with an AWS_CA_BUNDLE it cannot apply to its transport; the
  // endpoint is plain http on loopback, so no CA bundle applies.
  const { AWS_CA_BUNDLE: _bundle, ...inherited } = process.env
  const rclone = {
    ...inherited,
    RCLONE_CONFIG: os.devNull,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
    RCLONE_CONFIG_BENCH_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_BENCH_REGION: server.region,
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: server.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: server.secretAccessKey
  }

  const data = path.join(root, 'data', 'cache')
  writeData(data, SIZE_MIB)
  // The archive our save makes of it, made once for rclone with the very same tar and zstd arguments.
  const archive = path.join(root, 'cache.tar.zst')
  await new Promise<void>((resolve, reject) => {
    const out = fs.createWriteStream(archive)
    const tar = spawn('tar', tarCreateArgs(data, 'tree', []), { stdio: ['ignore', 'pipe', 'inherit'] })
    tar.stdout.pipe(out)
    tar.on('error', reject)
    out.on('finish', () => resolve())
  })
  const archiveBytes = fs.statSync(archive).size
  const spec = { parts: [{ origin: 'role' as const, name: 'cache', path: data }], exclude: [], kind: 'custom' }

  const ours = { save: [] as number[], restore: [] as number[], verify: [] as number[], saveBytes: 0 }
  const theirs = { up: [] as number[], down: [] as number[] }
  for (let round = 0; round < ROUNDS; round++) {
    const key = `bench~r${round}-1`
    const remote = `bench:${BUCKET}/rclone/round-${round}.tar.zst`
    const saveOurs = async () => {
      let bytes = 0
      ours.save.push(await timed(async () => (bytes = (await store.save(spec, key)).archiveBytes ?? 0)))
      ours.saveBytes = bytes
    }
    const upTheirs = async () => theirs.up.push(await timed(() => run('rclone', ['copyto', archive, remote], rclone)))
    if (round % 2 === 0) {
      await saveOurs()
      await upTheirs()
    } else {
      await upTheirs()
      await saveOurs()
    }

    const target = path.join(root, 'restored', 'cache')
    const restoreOurs = async () => {
      fs.rmSync(path.dirname(target), { recursive: true, force: true })
      const restoreSpec = { ...spec, parts: [{ ...spec.parts[0], path: target }] }
      ours.restore.push(await timed(() => store.restore(restoreSpec, key, [])))
      if (fs.readdirSync(target).length !== 8) throw new Error('the restore did not bring every file back')
      fs.rmSync(path.dirname(target), { recursive: true, force: true })
    }
    const downTheirs = async () => {
      const file = path.join(root, 'downloaded.tar.zst')
      theirs.down.push(await timed(() => run('rclone', ['copyto', remote, file], rclone)))
      if (fs.statSync(file).size !== archiveBytes) throw new Error('rclone downloaded the wrong size')
      fs.rmSync(file)
    }
    const verifyOurs = async () => {
      const checks: Array<{ problem: string | null }> = []
      ours.verify.push(await timed(async () => checks.push(...(await store.verifyEntries(entry => entry.key === key)))))
      if (checks.length !== 1 || checks[0].problem !== null) throw new Error(`verify: ${JSON.stringify(checks)}`)
    }
    if (round % 2 === 0) {
      await restoreOurs()
      await downTheirs()
    } else {
      await downTheirs()
      await restoreOurs()
    }
    await verifyOurs()
    console.log(
      `round ${round + 1}: save ${ours.save.at(-1)!.toFixed(0)} ms vs rclone up ${theirs.up.at(-1)!.toFixed(0)} ms; restore ${ours.restore.at(-1)!.toFixed(0)} ms vs rclone down ${theirs.down.at(-1)!.toFixed(0)} ms; download + verify ${ours.verify.at(-1)!.toFixed(0)} ms`
    )
  }
  await store.close()

  // 3. A warm run with nothing changed, through the bundled action on a fresh machine.
  let warmUploaded = -1
  let warmMs = 0
  let warmHit = ''
  if (fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) {
    const env = { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey }
    const inputs = { paths: 'data', key: 'bench-warm', backend: 's3', 's3-bucket': BUCKET, 's3-endpoint': server.endpoint }
    const cold = newMachine(root, 'cold')
    writeData(path.join(cold.workspace, 'data'), WARM_MIB)
    const first = await runJob({ actionDir, machine: cold, runId: 1, inputs, env })
    if (first.post?.exitCode !== 0) throw new Error(`cold job failed:\n${first.main.stdout}\n${first.post?.stdout}`)
    const warm = newMachine(root, 'warm')
    const t0 = performance.now()
    const second = await runJob({ actionDir, machine: warm, runId: 2, inputs, env })
    warmMs = performance.now() - t0
    const report = JSON.parse(fs.readFileSync(second.main.outputs.report, 'utf8'))
    warmUploaded = report.totals.uploadedBytes
    warmHit = `${report.caches[0].hit}, ${report.caches[0].saved}`
  } else {
    console.log('dist/ is missing (npm run build): the warm run is skipped')
  }

  const save = median(ours.save)
  const up = median(theirs.up)
  const restore = median(ours.restore)
  const down = median(theirs.down)
  const verify = median(ours.verify)
  const rows = [
    ['figure', 'qdc s3 backend', 'rclone copyto (same run)', 'ratio', 'goal'],
    [
      'save throughput (tar + zstd + SHA-256 + upload)',
      `${mibps(ours.saveBytes, save).toFixed(0)} MiB/s (${save.toFixed(0)} ms)`,
      `up: ${mibps(archiveBytes, up).toFixed(0)} MiB/s (${up.toFixed(0)} ms)`,
      `${(mibps(ours.saveBytes, save) / mibps(archiveBytes, up)).toFixed(2)}×`,
      '≥ 1.0×'
    ],
    [
      'restore throughput (download + SHA-256 + extract)',
      `${mibps(archiveBytes, restore).toFixed(0)} MiB/s (${restore.toFixed(0)} ms)`,
      `down: ${mibps(archiveBytes, down).toFixed(0)} MiB/s (${down.toFixed(0)} ms)`,
      `${(down / restore).toFixed(2)}×`,
      '≥ 1.0×'
    ],
    [
      'download + SHA-256 only (qdc verify)',
      `${mibps(archiveBytes, verify).toFixed(0)} MiB/s (${verify.toFixed(0)} ms)`,
      `down: ${mibps(archiveBytes, down).toFixed(0)} MiB/s`,
      `${(down / verify).toFixed(2)}×`,
      ''
    ],
    [
      'bytes uploaded by a warm run, nothing changed',
      warmUploaded < 0 ? 'not run' : `${warmUploaded} (${warmHit}, whole job ${warmMs.toFixed(0)} ms)`,
      '',
      '',
      '0'
    ]
  ]
  console.log(
    `\nNode ${process.version}, ${os.cpus().length} cores, rclone ${await rcloneVersion()}; data ${SIZE_MIB} MiB in 8 files, archive ${(archiveBytes / MiB).toFixed(1)} MiB; medians of ${ROUNDS}\n`
  )
  for (const [i, row] of rows.entries()) {
    console.log(`| ${row.join(' | ')} |`)
    if (i === 0) console.log(`|${row.map(() => ' --- ').join('|')}|`)
  }
} finally {
  await server.close()
  fs.rmSync(root, { recursive: true, force: true })
}

async function rcloneVersion(): Promise<string> {
  return new Promise(resolve => {
    const child = spawn('rclone', ['version'], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', chunk => (out += chunk))
    child.on('close', () => resolve(/rclone (v\S+)/.exec(out)?.[1] ?? '?'))
  })
}
