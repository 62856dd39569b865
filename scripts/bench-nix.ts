/**
 * `npm run bench:nix`: the nix kind, cold vs warm, through the runner simulation (dist/ main and post
 * around a real `nix-build` in a private store). A closure of synthetic paths (BENCH_NIX_PATHS × BENCH_NIX_MIB
 * MiB, default 40 × 8 MiB): three quarters on a loopback upstream binary cache (uncompressed, like a
 * NAR-serving mirror), the rest built by the job. Cold: empty cache, upstream download + local builds, then
 * post copies everything into the cache. Warm: a fresh machine with an empty store, only the restored cache.
 * Prints wall time per step and the upstream bytes of each run. Needs `npm run build` first.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import './load-ts.ts'
import { startBinaryCache } from '../__tests__/support/binary-cache.ts'
import {
  builtDerivations,
  createNixSandbox,
  generateKey,
  mustRun,
  nixBuild,
  runCommand,
  wipeStore,
  writeSyntheticExpr
} from '../__tests__/support/nix.ts'
import { newMachine, runJob } from './runner-sim.ts'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MiB = 1024 * 1024
const count = Number(process.env.BENCH_NIX_PATHS || 40)
const sizeMiB = Number(process.env.BENCH_NIX_MIB || 8)
const upstreamCount = Math.round(count * 0.75)

if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-nix-'))
const upstreamDir = path.join(root, 'upstream')
fs.mkdirSync(upstreamDir)
const upstream = await startBinaryCache(upstreamDir)
try {
  const upKey = await generateKey(path.join(root, 'keys'), 'upstream-1')
  const sandbox = createNixSandbox(path.join(root, 'nix'), { substituters: [upstream.url], trustedPublicKeys: [upKey.publicKey] })
  const expr = path.join(root, 'closure.nix')
  const names = Array.from({ length: count }, (_, i) => `p${i}`)
  // A chain of layers: each path refers to the one before, like a real closure; the last quarter is "ours".
  writeSyntheticExpr(
    expr,
    names.map((name, i) => ({ name, bytes: sizeMiB * MiB, deps: i > 0 ? [names[i - 1]] : [] }))
  )
  const publisher = { ...sandbox.env, HOME: path.join(root, 'publisher') }
  const { out } = await nixBuild(expr, names[upstreamCount - 1], { ...publisher, NIX_CONFIG: 'substituters =' })
  await mustRun('nix', ['copy', '--to', `file://${upstreamDir}?compression=none&secret-key=${upKey.secretFile}`, out], publisher)

  const signing = await generateKey(path.join(root, 'keys'), 'qdc-1')
  const job = async (runId: number) => {
    wipeStore(sandbox)
    fs.rmSync(path.join(root, 'runner'), { recursive: true, force: true })
    const machine = newMachine(root, 'runner')
    upstream.resetCounters()
    let buildMs = 0
    let built = 0
    const result = await runJob({
      actionDir,
      machine,
      runId,
      inputs: { caches: 'nix', backend: 'local', 'local-dir': path.join(root, 'store'), 'nix-signing-key': signing.secret },
      env: sandbox.env,
      between: async env => {
        const started = performance.now()
        const run = await runCommand('nix-build', [expr, '-A', 'all', '--no-out-link'], env)
        buildMs = performance.now() - started
        if (run.code !== 0) throw new Error(`nix-build failed: ${run.stderr}`)
        built = builtDerivations(run.stderr).length
      }
    })
    if (result.main.exitCode !== 0 || result.post?.exitCode !== 0)
      throw new Error(`job failed:\n${result.main.stdout}\n${result.post?.stdout}`)
    const entry = JSON.parse(fs.readFileSync(result.main.outputs.report, 'utf8')).caches[0]
    return { mainMs: result.main.ms, buildMs, postMs: result.post.ms, built, upstreamBytes: upstream.narBytesServed, entry }
  }

  const cold = await job(900)
  const warm = await job(901)
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const total = (r: typeof cold) => r.mainMs + r.buildMs + r.postMs
  console.log(
    `closure: ${count} paths × ${sizeMiB} MiB = ${mib(count * sizeMiB * MiB)}; ${upstreamCount} on the upstream, ${count - upstreamCount} built by the job (+ 1 'all')`
  )
  console.log(
    '| run | main (restore) | nix-build | post (copy+save) | total | built | upstream NAR bytes | ledger downloaded | ledger reused |'
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const [name, r] of [
    ['cold', cold],
    ['warm', warm]
  ] as const) {
    console.log(
      `| ${name} | ${s(r.mainMs)} | ${s(r.buildMs)} | ${s(r.postMs)} | ${s(total(r))} | ${r.built} | ${mib(r.upstreamBytes)} | ${mib(r.entry.downloadedBytes)} | ${mib(r.entry.reusedBytes)} |`
    )
  }
  console.log(
    `warm/cold: nix-build ${(warm.buildMs / cold.buildMs).toFixed(2)}×, whole job ${(total(warm) / total(cold)).toFixed(2)}×; upstream bytes ${mib(cold.upstreamBytes)} → ${mib(warm.upstreamBytes)}`
  )
  wipeStore(sandbox)
} finally {
  await upstream.close()
  fs.rmSync(root, { recursive: true, force: true })
}
