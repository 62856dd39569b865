/**
 * `npm run bench:github`: qdc through the GitHub cache service against @actions/cache called directly on
 * the same paths, both through the cache-service emulator (__tests__/support/cache-service.ts) on loopback.
 * Medians of BENCH_ROUNDS rounds (default 5); each round runs both sides back to back, and each ratio is
 * the median of the per-round ratios (the machine is shared and noisy).
 *  1. The library directly, the way actions/cache uses it (bundled with ncc, as qdc is): one Node process
 *     calling `restoreCache` (main) and one calling `saveCache` (post; on an exact hit it loads the library
 *     and saves nothing) vs qdc's
 *     bundled main + post (paths: data). Cold (a miss, then a save) and warm (a fresh machine, an exact
 *     hit, nothing changed). Goal: qdc ≤ 1.05×. qdc keeps a small run history in the store by default
 *     (one more restore and save per post step); the `history: false` rows show the rest.
 *  2. Three kinds of similar size (pip, huggingface, custom paths), the emulator capping each download
 *     connection at BENCH_CAP_MIBS MiB/s (default 64; cache storage caps connections too): one warm job vs
 *     the slowest kind alone.
 *  3. A download that stalls after 1 MiB, idle-timeout BENCH_IDLE_MS (default 2000): from the service's
 *     last byte to the connection being cut. Goal ≤ idle-timeout + 1 s.
 * src/ and the emulator are loaded through ./load-ts.ts.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { kindDirs, median, MiB, settled, writeDataSet } from './bench-support.ts'
import './load-ts.ts'
import { newMachine, runJob, type JobResult, type Machine } from './runner-sim.ts'

const { startCacheService } = await import('../__tests__/support/cache-service.ts')

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5)
const LARGE_FILES = Number(process.env.BENCH_LARGE_FILES || 40)
const SMALL_FILES = 1000
const CAP_MIBS = Number(process.env.BENCH_CAP_MIBS || 64)
const IDLE_MS = Number(process.env.BENCH_IDLE_MS || 2000)
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-github-'))
const service = await startCacheService({ tmpRoot: root })

function freshMachine(name = 'machine'): Machine {
  fs.rmSync(path.join(root, name), { recursive: true, force: true })
  return newMachine(root, name)
}

/** What a runner gives every step, as runner-sim does, plus the emulator. */
function stepEnv(machine: Machine): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: machine.home,
    GITHUB_WORKSPACE: machine.workspace,
    RUNNER_TEMP: machine.temp,
    RUNNER_OS: 'Linux',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTIONS: 'true',
    ...service.env()
  }
}

/**
 * The direct baseline as actions/cache ships it: one bundled file (ncc, as qdc's dist/ is), a step calling
 * `restoreCache` or `saveCache` on `data` in the workspace, or (`nothing`) just loading the library, as
 * actions/cache's post step does after an exact hit.
 */
async function bundleLibraryStep(): Promise<string> {
  const dir = path.join(root, 'library-step')
  fs.mkdirSync(dir, { recursive: true })
  const library = pathToFileURL(path.join(actionDir, 'node_modules/@actions/cache/lib/cache.js')).href
  fs.writeFileSync(
    path.join(dir, 'step.mjs'),
    [
      `import * as cache from ${JSON.stringify(library)}`,
      'const [call, key] = JSON.parse(process.argv[2])',
      "if (call === 'restore') process.exitCode = (await cache.restoreCache(['data'], key, [])) === key ? 0 : 3",
      "if (call === 'save') process.exitCode = (await cache.saveCache(['data'], key)) > 0 ? 0 : 3",
      'process.exit()'
    ].join('\n')
  )
  await new Promise<void>((resolve, reject) => {
    const ncc = spawn('npx', ['ncc', 'build', path.join(dir, 'step.mjs'), '-o', path.join(dir, 'out'), '--target', 'es2022', '--quiet'], {
      cwd: actionDir,
      stdio: 'inherit'
    })
    ncc.on('error', reject)
    ncc.on('close', code => (code === 0 ? resolve() : reject(new Error(`ncc exited ${code}`))))
  })
  return path.join(dir, 'out', 'index.mjs')
}

const libraryBundle = await bundleLibraryStep()

/** One step of the direct baseline: a Node process in the workspace calling the library; its wall time. */
function libraryStep(machine: Machine, call: 'restore' | 'save' | 'nothing', key: string): Promise<{ ms: number; code: number }> {
  const started = performance.now()
  const child = spawn(process.execPath, [libraryBundle, JSON.stringify([call, key])], {
    cwd: machine.workspace,
    env: stepEnv(machine),
    stdio: 'ignore'
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => resolve({ ms: performance.now() - started, code: code ?? 1 }))
  })
}

function qdcJob(machine: Machine, runId: number, key: string, extra: Record<string, string> = {}): Promise<JobResult> {
  return runJob({ actionDir, machine, runId, inputs: { paths: 'data', key, backend: 'github', ...extra }, env: service.env() })
}

function stepsMs(job: JobResult): number {
  return job.main.ms + (job.post?.ms ?? 0)
}

function check(ok: boolean, what: string, detail = ''): void {
  if (!ok) throw new Error(`${what}${detail ? `:\n${detail}` : ''}`)
}

interface Side {
  cold: number
  warm: number
  /** The two steps of each, main (or restoreCache) and post (or saveCache). */
  steps: { cold: [number, number]; warm: [number, number] }
}

async function qdcVsLibrary() {
  const seed = freshMachine('seed')
  const dataBytes = writeDataSet(path.join(seed.workspace, 'data'), LARGE_FILES, SMALL_FILES)
  const withData = (name: string) => {
    const machine = freshMachine(name)
    fs.cpSync(path.join(seed.workspace, 'data'), path.join(machine.workspace, 'data'), { recursive: true, preserveTimestamps: true })
    return machine
  }
  const rounds: Array<{ library: Side; qdc: Side; bare: Side }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const key = `bench-gh-${round}`
    // The library directly: main restores (a miss), post saves; then a fresh machine restores (a hit).
    let machine = withData('library')
    await settled()
    const miss = await libraryStep(machine, 'restore', `lib-${key}`)
    const save = await libraryStep(machine, 'save', `lib-${key}`)
    check(miss.code === 3 && save.code === 0, 'the library did not miss and save')
    machine = freshMachine('library')
    await settled()
    const hit = await libraryStep(machine, 'restore', `lib-${key}`)
    const nothing = await libraryStep(machine, 'nothing', `lib-${key}`)
    check(hit.code === 0, 'the library did not hit')
    const library: Side = {
      cold: miss.ms + save.ms,
      warm: hit.ms + nothing.ms,
      steps: { cold: [miss.ms, save.ms], warm: [hit.ms, nothing.ms] }
    }

    const sides = {} as Record<'qdc' | 'bare', Side>
    for (const [side, extra] of [
      ['qdc', {}],
      ['bare', { history: 'false' }]
    ] as const) {
      const coldMachine = withData(side)
      await settled()
      const cold = await qdcJob(coldMachine, 100 * round + 1, `${side}-${key}`, extra)
      check(cold.main.outputs['cache-hit'] === 'false' && cold.post?.exitCode === 0, `qdc's cold run (${side}) failed`, cold.post?.stdout)
      const warmMachine = freshMachine(side)
      await settled()
      const warm = await qdcJob(warmMachine, 100 * round + 2, `${side}-${key}`, extra)
      check(
        warm.main.outputs['cache-hit'] === 'true' && warm.post?.exitCode === 0,
        `qdc's warm run (${side}) did not hit`,
        warm.main.stdout
      )
      sides[side] = {
        cold: stepsMs(cold),
        warm: stepsMs(warm),
        steps: { cold: [cold.main.ms, cold.post!.ms], warm: [warm.main.ms, warm.post!.ms] }
      }
    }
    rounds.push({ library, ...sides })
  }
  const ratio = (side: 'qdc' | 'bare', phase: 'cold' | 'warm' | 'both') =>
    median(
      rounds.map(r =>
        phase === 'both' ? (r[side].cold + r[side].warm) / (r.library.cold + r.library.warm) : r[side][phase] / r.library[phase]
      )
    )
  const figure = (side: 'qdc' | 'bare' | 'library', phase: 'cold' | 'warm') => {
    const [first, second] = [0, 1].map(step => median(rounds.map(r => r[side].steps[phase][step])))
    return `${ms(median(rounds.map(r => r[side][phase])))} (${ms(first)} + ${ms(second)})`
  }
  return { dataBytes, figure, ratio }
}

type Kind = keyof ReturnType<typeof kindDirs>

function kindsJob(machine: Machine, runId: number, kinds: Kind[]): Promise<JobResult> {
  const dirs = kindDirs(machine)
  return runJob({
    actionDir,
    machine,
    runId,
    inputs: {
      caches: kinds.filter(k => k !== 'custom').join(', '),
      ...(kinds.includes('custom') ? { paths: 'data', key: 'bench-gh-three' } : {}),
      backend: 'github',
      history: 'false'
    },
    env: { ...service.env(), PIP_CACHE_DIR: dirs.pip, HF_HUB_CACHE: dirs.huggingface }
  })
}

async function threeKindsCapped() {
  const kinds: Kind[] = ['pip', 'huggingface', 'custom']
  const seed = freshMachine('three')
  let dataBytes = 0
  for (const dir of Object.values(kindDirs(seed))) dataBytes += writeDataSet(dir, Math.round(LARGE_FILES / 3), Math.round(SMALL_FILES / 3))
  const cold = await kindsJob(seed, 900, kinds)
  check(cold.post?.exitCode === 0, 'the three-kind cold run failed', cold.post?.stdout)
  service.faults.slowDownload = { bytesPerSecond: CAP_MIBS * MiB }
  const rounds: Array<{ three: number; slowest: number }> = []
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const alone: number[] = []
      for (const kind of kinds) {
        const machine = freshMachine('three')
        await settled()
        const job = await kindsJob(machine, 910 + round, [kind])
        check(job.main.outputs['cache-hit'] === 'true', `${kind} alone did not hit`, job.main.stdout)
        alone.push(stepsMs(job))
      }
      const machine = freshMachine('three')
      await settled()
      const job = await kindsJob(machine, 920 + round, kinds)
      check(job.main.outputs['cache-hit'] === 'true', 'the three kinds did not hit', job.main.stdout)
      rounds.push({ three: stepsMs(job), slowest: Math.max(...alone) })
    }
  } finally {
    delete service.faults.slowDownload
  }
  return {
    dataBytes,
    three: median(rounds.map(r => r.three)),
    slowest: median(rounds.map(r => r.slowest)),
    ratio: median(rounds.map(r => r.three / r.slowest))
  }
}

async function stalledDownload() {
  const seed = freshMachine('stall')
  writeDataSet(path.join(seed.workspace, 'data'), 2, 0)
  const cold = await qdcJob(seed, 990, 'bench-gh-stall', { history: 'false' })
  check(cold.post?.exitCode === 0, 'the stall seed run failed', cold.post?.stdout)
  const cuts: number[] = []
  const mains: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    service.resetCounters()
    service.faults.stallDownload = { afterBytes: MiB, keyPrefix: 'bench-gh-stall', times: 1 }
    const job = await qdcJob(freshMachine('stall'), 991 + round, 'bench-gh-stall', {
      'idle-timeout': `${IDLE_MS}ms`,
      history: 'false',
      save: 'never'
    })
    check(/no byte for/.test(job.main.stdout) && job.main.exitCode === 0, 'the stalled restore was not cut', job.main.stdout)
    const stalled = service.requests.find(r => r.blobOp === 'get-blob' && r.bytes === MiB)
    check(stalled?.lastByteMs !== undefined && stalled.closedMs !== undefined, 'the stalled download was not seen')
    cuts.push(stalled!.closedMs! - stalled!.lastByteMs!)
    mains.push(job.main.ms)
  }
  return { cut: median(cuts), worst: Math.max(...cuts), main: median(mains) }
}

const ms = (value: number) => `${value.toFixed(0)} ms`
const x = (value: number) => `${value.toFixed(2)}×`

try {
  const direct = await qdcVsLibrary()
  const three = await threeKindsCapped()
  const stall = await stalledDownload()
  const { figure, ratio } = direct
  const rows = [
    ['figure', 'qdc', '@actions/cache directly (same run)', 'ratio (median of rounds)', 'goal'],
    ['cold: main misses, post saves', figure('qdc', 'cold'), figure('library', 'cold'), x(ratio('qdc', 'cold')), '≤ 1.05×'],
    [
      'warm: exact hit on a fresh machine, nothing saved',
      figure('qdc', 'warm'),
      figure('library', 'warm'),
      x(ratio('qdc', 'warm')),
      '≤ 1.05×'
    ],
    ['cold + warm', '', '', x(ratio('qdc', 'both')), '≤ 1.05×'],
    ['cold, `history: false`', figure('bare', 'cold'), figure('library', 'cold'), x(ratio('bare', 'cold')), ''],
    ['warm, `history: false`', figure('bare', 'warm'), figure('library', 'warm'), x(ratio('bare', 'warm')), ''],
    [
      `three kinds warm, each connection capped at ${CAP_MIBS} MiB/s`,
      ms(three.three),
      `slowest kind alone: ${ms(three.slowest)}`,
      x(three.ratio),
      '≤ 1.15×'
    ],
    [
      `download stalled after 1 MiB, idle-timeout ${IDLE_MS} ms: last byte to cut`,
      `${ms(stall.cut)} (worst ${ms(stall.worst)}; main step ${ms(stall.main)})`,
      '',
      '',
      `≤ ${ms(IDLE_MS + 1000)}`
    ]
  ]
  console.log(
    `\nNode ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}; data ${(direct.dataBytes / MiB).toFixed(0)} MiB in ${LARGE_FILES + SMALL_FILES} files (three kinds: ${(three.dataBytes / MiB).toFixed(0)} MiB in all); ${ROUNDS} rounds\n`
  )
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
} finally {
  await service.close()
  fs.rmSync(root, { recursive: true, force: true })
}
