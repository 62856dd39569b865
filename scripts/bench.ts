/**
 * `npm run bench`: the warm path's figures on the local store, each against a baseline measured in the same
 * run, back to back in every round (ratios, because build machines are shared and noisy; the median of the
 * per-round ratios, BENCH_ROUNDS rounds, default 5).
 *  1. Warm run: main + post with nothing changed (a fresh machine, the local store; each step's process
 *     from spawn to exit, as a runner sees it) vs a bare
 *     `tar -I zstd -xf` of the same data. Goal ≤ 1.1×, 0 bytes uploaded. Beside it, for scale, what the
 *     SHA-256 pass the restore no longer makes costs: tar and `sha256sum` of the archive at once.
 *  2. Three kinds of similar size (pip, huggingface, custom paths; a third of the data each) restored in one
 *     warm job vs the slowest of them restored alone. Goal ≤ 1.15×.
 *  3. Cold start of the bundle to its first log line, next to a bare `node -e` for scale. Goal ≤ 200 ms.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { kindDirs, median, MiB, run, settled, timed, writeDataSet } from './bench-support.ts'
import './load-ts.ts'
import { newMachine, runJob, type JobResult, type Machine } from './runner-sim.ts'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-'))
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5)
const LARGE_FILES = Number(process.env.BENCH_LARGE_FILES || 80)
const SMALL_FILES = 2000

function freshMachine(): Machine {
  fs.rmSync(path.join(root, 'machine'), { recursive: true, force: true })
  return newMachine(root, 'machine')
}

function emptyDir(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

interface Report {
  totals: { uploadedBytes: number }
  caches: Array<{ restoreMs: number }>
}

function reportOf(job: JobResult): Report {
  return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8')) as Report
}

/** Main and post as the runner times them: each step's process from spawn to exit. */
function stepsMs(job: JobResult): number {
  return job.main.ms + (job.post?.ms ?? 0)
}

/** A job that must hit exactly and save nothing. */
function expectWarm(job: JobResult): void {
  if (job.main.outputs['cache-hit'] !== 'true' || !job.post || job.post.exitCode !== 0)
    throw new Error(`warm run did not hit:\n${job.main.stdout}\n${job.post?.stdout}`)
}

const customInputs = { paths: 'data', key: 'bench-data', backend: 'local', 'local-dir': path.join(root, 'store') }

async function warmRunVsTar() {
  const seed = freshMachine()
  const dataBytes = writeDataSet(path.join(seed.workspace, 'data'), LARGE_FILES, SMALL_FILES)
  const cold = await runJob({ actionDir, machine: seed, runId: 1, inputs: customInputs })
  if (cold.post?.exitCode !== 0) throw new Error(`cold run failed:\n${cold.main.stdout}\n${cold.post?.stdout}`)
  const archive = path.join(root, 'bare.tar.zst')
  await run('tar', ['-I', 'zstd -T0', '-cf', archive, '-C', path.join(seed.workspace, 'data'), '.'])

  const rounds: Array<{ tar: number; tarAndSha: number; warm: number; main: number; post: number; restore: number; uploaded: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const target = path.join(root, 'bare-target')
    emptyDir(target)
    await settled()
    const tar = await timed(() => run('tar', ['-I', 'zstd', '-xf', archive, '-C', target]))
    emptyDir(target)
    await settled()
    // What a SHA-256 check of every archive would add: hashing it alongside the extraction.
    const tarAndSha = await timed(() =>
      Promise.all([run('tar', ['-I', 'zstd', '-xf', archive, '-C', target]), run('sha256sum', [archive])])
    )
    fs.rmSync(target, { recursive: true, force: true })
    const machine = freshMachine()
    await settled()
    const job = await runJob({ actionDir, machine, runId: 10 + round, inputs: customInputs })
    expectWarm(job)
    const report = reportOf(job)
    if (process.env.BENCH_VERBOSE)
      console.error(
        `round ${round}: tar ${ms(tar)}, main ${ms(job.main.ms)}, post ${ms(job.post!.ms)}, restore ${ms(report.caches[0].restoreMs)}, load ${os.loadavg()[0].toFixed(1)}`
      )
    rounds.push({
      tar,
      tarAndSha,
      warm: stepsMs(job),
      main: job.main.ms,
      post: job.post!.ms,
      restore: report.caches[0].restoreMs,
      uploaded: report.totals.uploadedBytes
    })
  }
  return {
    dataBytes,
    archiveBytes: fs.statSync(archive).size,
    tar: median(rounds.map(r => r.tar)),
    warm: median(rounds.map(r => r.warm)),
    main: median(rounds.map(r => r.main)),
    post: median(rounds.map(r => r.post)),
    ratio: median(rounds.map(r => r.warm / r.tar)),
    restore: median(rounds.map(r => r.restore)),
    restoreRatio: median(rounds.map(r => r.restore / r.tar)),
    shaRatio: median(rounds.map(r => r.tarAndSha / r.tar)),
    tarAndSha: median(rounds.map(r => r.tarAndSha)),
    uploaded: Math.max(...rounds.map(r => r.uploaded))
  }
}

type Kind = keyof ReturnType<typeof kindDirs>

/** One job over `kinds` (all three, or one alone) on the shared store; the keys are the same either way. */
function kindsJob(machine: Machine, runId: number, kinds: Kind[]): Promise<JobResult> {
  const dirs = kindDirs(machine)
  const presets = kinds.filter(kind => kind !== 'custom')
  return runJob({
    actionDir,
    machine,
    runId,
    inputs: {
      caches: presets.join(', '),
      ...(kinds.includes('custom') ? { paths: 'data', key: 'bench-three-custom' } : {}),
      backend: 'local',
      'local-dir': path.join(root, 'store-three')
    },
    env: { PIP_CACHE_DIR: dirs.pip, HF_HUB_CACHE: dirs.huggingface }
  })
}

async function threeKindsVsSlowest() {
  const kinds: Kind[] = ['pip', 'huggingface', 'custom']
  const seed = freshMachine()
  const third = Math.round(LARGE_FILES / 3)
  let dataBytes = 0
  for (const dir of Object.values(kindDirs(seed))) dataBytes += writeDataSet(dir, third, Math.round(SMALL_FILES / 3))
  const cold = await kindsJob(seed, 100, kinds)
  if (cold.post?.exitCode !== 0) throw new Error(`cold run failed:\n${cold.main.stdout}\n${cold.post?.stdout}`)

  const rounds: Array<{ three: number; alone: Record<Kind, number> }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const alone = {} as Record<Kind, number>
    for (const kind of kinds) {
      const machine = freshMachine()
      await settled()
      const job = await kindsJob(machine, 200 + round, [kind])
      expectWarm(job)
      alone[kind] = stepsMs(job)
    }
    const machine = freshMachine()
    await settled()
    const job = await kindsJob(machine, 300 + round, kinds)
    expectWarm(job)
    rounds.push({ three: stepsMs(job), alone })
  }
  const slowest = (r: (typeof rounds)[number]) => Math.max(...kinds.map(kind => r.alone[kind]))
  return {
    dataBytes,
    three: median(rounds.map(r => r.three)),
    alone: Object.fromEntries(kinds.map(kind => [kind, median(rounds.map(r => r.alone[kind]))])) as Record<Kind, number>,
    slowest: median(rounds.map(slowest)),
    ratio: median(rounds.map(r => r.three / slowest(r))),
    sumRatio: median(rounds.map(r => r.three / kinds.reduce((sum, kind) => sum + r.alone[kind], 0)))
  }
}

/** Milliseconds from spawning `node args` until its stdout contains `marker` (any output when empty). */
function msUntilOutput(args: string[], env: Record<string, string>, marker = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] })
    let seen = ''
    child.stdout.on('data', chunk => {
      seen += chunk
      if (seen.includes(marker)) {
        resolve(performance.now() - started)
        child.stdout.removeAllListeners('data')
        child.stdout.resume()
      }
    })
    child.on('error', reject)
    child.on('close', () => reject(new Error(`${args.join(' ')} never printed ${marker}: ${seen}`)))
  })
}

async function coldStart() {
  const machine = freshMachine()
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: machine.home,
    RUNNER_TEMP: machine.temp,
    GITHUB_WORKSPACE: machine.workspace,
    INPUT_CACHES: 'downloads',
    INPUT_BACKEND: 'local',
    'INPUT_LOCAL-DIR': path.join(root, 'store-cold'),
    GITHUB_STATE: path.join(machine.temp, 'state'),
    GITHUB_OUTPUT: path.join(machine.temp, 'output'),
    GITHUB_ENV: path.join(machine.temp, 'env')
  }
  for (const file of [env.GITHUB_STATE, env.GITHUB_OUTPUT, env.GITHUB_ENV]) fs.writeFileSync(file, '')
  const firstLine: number[] = []
  const configuration: number[] = []
  const bareNode: number[] = []
  const main = path.join(actionDir, 'dist/main/index.js')
  for (let i = 0; i < 15; i++) {
    firstLine.push(await msUntilOutput([main], env))
    configuration.push(await msUntilOutput([main], env, '::group::Configuration'))
    bareNode.push(await msUntilOutput(['-e', 'console.log(1)'], env))
  }
  return { firstLine: median(firstLine), configuration: median(configuration), bareNode: median(bareNode) }
}

const ms = (value: number) => `${value.toFixed(0)} ms`

try {
  const start = await coldStart()
  const warm = await warmRunVsTar()
  const three = await threeKindsVsSlowest()
  const rows = [
    ['figure', 'measured', 'baseline (same run)', 'ratio (median of rounds)', 'goal'],
    [
      'warm run, main + post, nothing changed',
      `${ms(warm.warm)} (main ${ms(warm.main)}, post ${ms(warm.post)})`,
      `tar -I zstd -xf: ${ms(warm.tar)}`,
      `${warm.ratio.toFixed(2)}×`,
      '≤ 1.1×'
    ],
    [
      "of it, the restore itself (the ledger's restore time: walks, lookup, extraction, move into place)",
      ms(warm.restore),
      `tar -I zstd -xf: ${ms(warm.tar)}`,
      `${warm.restoreRatio.toFixed(2)}×`,
      ''
    ],
    [
      '(for scale) tar -I zstd -xf and sha256sum of the archive at once',
      ms(warm.tarAndSha),
      `tar -I zstd -xf: ${ms(warm.tar)}`,
      `${warm.shaRatio.toFixed(2)}×`,
      'what a SHA-256 pass adds'
    ],
    ['bytes uploaded by the warm run', String(warm.uploaded), '', '', '0'],
    [
      'three kinds warm (pip, huggingface, custom)',
      ms(three.three),
      `slowest alone: ${ms(three.slowest)} (pip ${ms(three.alone.pip)}, huggingface ${ms(three.alone.huggingface)}, custom ${ms(three.alone.custom)})`,
      `${three.ratio.toFixed(2)}× (${three.sumRatio.toFixed(2)}× of the three alone in a row)`,
      '≤ 1.15×'
    ],
    ['cold start to first log line', ms(start.firstLine), `node -e: ${ms(start.bareNode)}`, '', '≤ 200 ms'],
    ['cold start to the Configuration group (dependencies loaded)', ms(start.configuration), `node -e: ${ms(start.bareNode)}`, '', '']
  ]
  const files = LARGE_FILES + SMALL_FILES
  console.log(
    `\nNode ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}; data ${(warm.dataBytes / MiB).toFixed(0)} MiB in ${files} files, archive ${(warm.archiveBytes / MiB).toFixed(0)} MiB (three kinds: ${(three.dataBytes / MiB).toFixed(0)} MiB in all); ${ROUNDS} rounds (cold start: 15)\n`
  )
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
