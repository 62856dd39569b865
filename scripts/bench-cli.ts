/**
 * Warm `qdc run` with 2 GiB of cached model files: in-place mode against archive mode (local store).
 * Restore and save time come from the run's own report (restoreMs + saveMs of the huggingface kind);
 * the wall time of the whole `qdc run -- true` is printed beside it. Needs a built dist/ and ~7 GB
 * of free disk; everything is removed at the end. Plain erasable TypeScript: `npm run bench:cli`.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const QDC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/index.js')
const FILES = 8
const FILE_MIB = 256
const root = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'qdc-bench-cli-'))

/** Writes FILES random blobs into the hub cache the action exported: the "download" of a cold run. */
const GENERATE = `
const fs = require('node:fs'); const crypto = require('node:crypto'); const path = require('node:path');
const dir = path.join(process.env.HF_HUB_CACHE, 'models--bench--model', 'blobs'); fs.mkdirSync(dir, { recursive: true });
for (let i = 0; i < ${FILES}; i++) { const fd = fs.openSync(path.join(dir, 'blob' + i), 'w');
  for (let m = 0; m < ${FILE_MIB}; m += 16) fs.writeSync(fd, crypto.randomBytes(16 * 1024 * 1024)); fs.closeSync(fd); }
`

interface Timing {
  restoreMs: number
  saveMs: number
  wallMs: number
  hit: string
  restoredBytes: number
}

function qdcRun(config: string, command: string[], env: Record<string, string>): Timing {
  const started = performance.now()
  const run = spawnSync(process.execPath, [QDC, 'run', '--config', config, '--json', '--', ...command], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024
  })
  const wallMs = performance.now() - started
  if (run.status !== 0) throw new Error(`qdc run failed (${run.status}): ${run.stderr.slice(-2000)}`)
  const hub = JSON.parse(run.stdout).caches.find((c: { kind: string }) => c.kind === 'huggingface')
  return { restoreMs: hub.restoreMs, saveMs: hub.saveMs, wallMs, hit: hub.hit, restoredBytes: hub.restoredBytes }
}

function writeConfig(name: string, lines: string[]): string {
  const file = path.join(root, `${name}.yml`)
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

function show(label: string, t: Timing): void {
  const gib = (t.restoredBytes / 1024 ** 3).toFixed(2)
  console.log(
    `${label.padEnd(28)} restore ${t.restoreMs.toFixed(0).padStart(6)} ms  save ${t.saveMs.toFixed(0).padStart(6)} ms  restore+save ${(t.restoreMs + t.saveMs).toFixed(0).padStart(6)} ms  whole qdc run ${t.wallMs.toFixed(0).padStart(6)} ms  (${t.hit}, ${gib} GiB)`
  )
}

try {
  if (!fs.existsSync(QDC)) throw new Error('dist/cli/index.js is missing: run npm run build')
  const env = { HOME: path.join(root, 'home'), QDC_PROGRESS_INTERVAL_MS: '60000' }
  console.log(`warm qdc run with ${FILES} x ${FILE_MIB} MiB of model files (huggingface kind), local store under ${root}`)

  const inPlace = writeConfig('in-place', [
    'caches: huggingface',
    `local-dir: ${root}/store-in-place`,
    'local-mode: in-place',
    'summary: false'
  ])
  qdcRun(inPlace, ['node', '-e', GENERATE], env)
  const inPlaceWarm = [qdcRun(inPlace, ['true'], env), qdcRun(inPlace, ['true'], env), qdcRun(inPlace, ['true'], env)]

  const hubCache = path.join(root, 'machine', 'hub')
  const archive = writeConfig('archive', ['caches: huggingface', `local-dir: ${root}/store-archive`, 'backend: local', 'summary: false'])
  const archiveEnv = { ...env, HF_HUB_CACHE: hubCache }
  const cold = qdcRun(archive, ['node', '-e', GENERATE], archiveEnv)
  show('archive, cold (save)', cold)
  const archiveWarm: Timing[] = []
  for (let i = 0; i < 3; i++) {
    // A fresh machine each time: same paths, nothing on disk.
    fs.rmSync(hubCache, { recursive: true, force: true })
    archiveWarm.push(qdcRun(archive, ['true'], archiveEnv))
  }

  inPlaceWarm.forEach((t, i) => show(`in-place, warm #${i + 1}`, t))
  archiveWarm.forEach((t, i) => show(`archive, warm #${i + 1}`, t))
  const median = (ts: Timing[]) => ts.map(t => t.restoreMs + t.saveMs).sort((a, b) => a - b)[1]
  const a = median(inPlaceWarm)
  const b = median(archiveWarm)
  console.log(
    `median restore+save: in-place ${a.toFixed(0)} ms, archive ${b.toFixed(0)} ms (${(b / a).toFixed(0)}x); goal in-place <= 1000 ms: ${a <= 1000 ? 'met' : 'NOT met'}`
  )
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
