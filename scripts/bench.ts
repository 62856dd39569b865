/**
 * `npm run bench`: the foundation's performance figures, each against a baseline measured in the same
 * run (ratios, because build machines are shared and noisy).
 *  1. Warm run overhead: main + post with nothing changed (local backend) vs a bare `tar -I zstd -xf`
 *     of the same data. Goal ≤ 1.1×, 0 bytes uploaded.
 *  2. Cold start of the bundle to its first log line, next to a bare `node -e` for scale. Goal ≤ 200 ms.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import './load-ts.ts'
import { newMachine, runJob, type Machine } from './runner-sim.ts'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-'))
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5)
const LARGE_FILES = Number(process.env.BENCH_LARGE_FILES || 80)

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function freshMachine(): Machine {
  fs.rmSync(path.join(root, 'machine'), { recursive: true, force: true })
  return newMachine(root, 'machine')
}

/** pip-cache-like data: large incompressible wheels plus many small files. */
function writeDataSet(dir: string): number {
  let bytes = 0
  for (let i = 0; i < LARGE_FILES; i++) {
    const file = path.join(dir, 'wheels', `pkg${i}.whl`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, crypto.randomBytes(6 * MiB))
    bytes += 6 * MiB
  }
  for (let i = 0; i < 2000; i++) {
    const file = path.join(dir, 'http', String(i % 16), `${i}.body`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const text = Buffer.from(`metadata ${i}\n`.repeat(1200))
    fs.writeFileSync(file, text)
    bytes += text.length
  }
  return bytes
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' })
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))))
  })
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

const inputs = { paths: 'data', key: 'bench-data', backend: 'local', 'local-dir': path.join(root, 'store') }

async function warmRunOverhead() {
  const seed = freshMachine()
  const dataBytes = writeDataSet(path.join(seed.workspace, 'data'))
  const cold = await runJob({ actionDir, machine: seed, runId: 1, inputs })
  if (cold.post?.exitCode !== 0) throw new Error(`cold run failed:\n${cold.main.stdout}\n${cold.post?.stdout}`)

  const archive = path.join(root, 'bare.tar.zst')
  spawnSync('tar', ['-I', 'zstd -T0', '-cf', archive, '-C', path.join(seed.workspace, 'data'), '.'], { stdio: 'inherit' })
  const bare: number[] = []
  const verifiedBare: number[] = []
  const warm: number[] = []
  const mains: number[] = []
  const posts: number[] = []
  let uploaded = -1
  for (let round = 0; round < ROUNDS; round++) {
    const target = path.join(root, 'bare-target')
    fs.rmSync(target, { recursive: true, force: true })
    fs.mkdirSync(target)
    bare.push(await timed(async () => spawnSync('tar', ['-I', 'zstd', '-xf', archive, '-C', target])))
    fs.rmSync(target, { recursive: true, force: true })
    fs.mkdirSync(target)
    // The floor for a restore that checks the archive's SHA-256, as the local store must: both at once.
    verifiedBare.push(await timed(() => Promise.all([run('tar', ['-I', 'zstd', '-xf', archive, '-C', target]), run('sha256sum', [archive])])))

    const machine = freshMachine()
    let report = ''
    warm.push(await timed(async () => {
      const job = await runJob({ actionDir, machine, runId: 10 + round, inputs })
      if (job.main.outputs['cache-hit'] !== 'true' || !job.post || job.post.exitCode !== 0) throw new Error(`warm run did not hit:\n${job.main.stdout}`)
      report = job.main.outputs.report
      mains.push(job.main.ms)
      posts.push(job.post.ms)
    }))
    uploaded = JSON.parse(fs.readFileSync(report, 'utf8')).totals.uploadedBytes
  }
  return { dataBytes, archiveBytes: fs.statSync(archive).size, bare: median(bare), verifiedBare: median(verifiedBare), warm: median(warm), main: median(mains), post: median(posts), uploaded }
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

try {
  const start = await coldStart()
  const overhead = await warmRunOverhead()
  const ratio = overhead.warm / overhead.bare
  const rows = [
    ['figure', 'measured', 'baseline (same run)', 'ratio', 'goal'],
    ['warm run, main + post, nothing changed', `${overhead.warm.toFixed(0)} ms (main ${overhead.main.toFixed(0)}, post ${overhead.post.toFixed(0)})`, `tar -I zstd -xf: ${overhead.bare.toFixed(0)} ms`, `${ratio.toFixed(2)}×`, '≤ 1.1×'],
    ['(same data) tar -I zstd -xf and sha256sum of the archive at once', `${overhead.verifiedBare.toFixed(0)} ms`, `tar -I zstd -xf: ${overhead.bare.toFixed(0)} ms`, `${(overhead.verifiedBare / overhead.bare).toFixed(2)}×`, 'the floor with a SHA-256 check'],
    ['warm run vs that floor', '', '', `${(overhead.warm / overhead.verifiedBare).toFixed(2)}×`, ''],
    ['bytes uploaded by the warm run', String(overhead.uploaded), '', '', '0'],
    ['cold start to first log line', `${start.firstLine.toFixed(0)} ms`, `node -e: ${start.bareNode.toFixed(0)} ms`, '', '≤ 200 ms'],
    ['cold start to the Configuration group (dependencies loaded)', `${start.configuration.toFixed(0)} ms`, `node -e: ${start.bareNode.toFixed(0)} ms`, '', '']
  ]
  console.log(`\nNode ${process.version}, ${os.cpus().length} cores; data ${(overhead.dataBytes / MiB).toFixed(0)} MiB in ${LARGE_FILES + 2000} files, archive ${(overhead.archiveBytes / MiB).toFixed(0)} MiB; medians of ${ROUNDS} (cold start: 15)\n`)
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
