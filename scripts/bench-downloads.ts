/**
 * `npm run bench:downloads`: download and verification throughput, each against a baseline measured in
 * the same run (ratios, because build machines are shared and noisy; medians of BENCH_ROUNDS, default 3,
 * and for the download rows the median of the per-round ratios, each round running both sides back to back).
 *  1. SHA-256 verify of a file on disk (`fileMatches` from src/fetch/digest.ts, the downloader's hasher)
 *     vs `openssl speed -evp sha256 -bytes 1048576 -seconds 3`. Goal ≥ 0.9×. Plus N files verified
 *     concurrently vs one at a time, to show whether every core is used.
 *  2. `downloadVerified` as one stream from a loopback HTTP server vs `curl -s -o` + fsync of the same
 *     file (goal ≥ 0.9× its throughput), and vs our own download with no digest (goal ≤ 1.1× its time).
 *  3. The same file from a fixture that caps each connection at BENCH_CAP_MIBS MiB/s (default 64; a
 *     token bucket per TCP connection, as CDNs do): 4 connections in ranges vs one stream. Goal ≥ 3×.
 *     Also 4 × `curl -r` (a quarter each) through the same fixture: the most it delivers on this machine.
 *  4. A stream that stalls after 1 MiB, with idle-timeout BENCH_IDLE_MS (default 2000): the time from
 *     the server's last byte to the connection being cut. Goal ≤ idle-timeout + 1 s.
 * The files are 1 GiB (256 MiB when the temp filesystem has under 5 GiB free; BENCH_SIZE_MIB overrides), in os.tmpdir().
 * src/ is loaded through ./load-ts.ts (it is not erasable TypeScript).
 */
import { spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { median, MiB, run, timed } from './bench-support.ts'
import './load-ts.ts'

const { fileMatches, MultiHasher } = await import('../src/fetch/digest.ts')
const { downloadVerified } = await import('../src/fetch/verified-download.ts')
const { startRangeServer } = await import('../__tests__/support/range-server.ts')

const GiB = 1024 * MiB
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS || 3))
const PARALLEL = Number(process.env.BENCH_PARALLEL || 4)
const CAP_MIBS = Number(process.env.BENCH_CAP_MIBS || 64)
const IDLE_MS = Number(process.env.BENCH_IDLE_MS || 2000)
const CONNECTIONS = 4
const started = performance.now()
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-bench-dl-'))
const notes: string[] = []

/** MB/s (10^6 bytes, as openssl reports) for `bytes` in `ms`. */
function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000)
}

/** Random bytes in 16 MiB blocks; returns the file's sha256. */
function writeRandomFile(file: string, size: number): string {
  const hash = crypto.createHash('sha256')
  const fd = fs.openSync(file, 'w')
  try {
    for (let written = 0; written < size;) {
      const block = crypto.randomBytes(Math.min(16 * MiB, size - written))
      hash.update(block)
      fs.writeSync(fd, block)
      written += block.length
    }
  } finally {
    fs.closeSync(fd)
  }
  return hash.digest('hex')
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+')
  fs.fsyncSync(fd)
  fs.closeSync(fd)
}

/** Reads a file once so later rounds measure the page cache, not the first read from disk. */
function warm(file: string): void {
  const fd = fs.openSync(file, 'r')
  const buffer = Buffer.allocUnsafe(16 * MiB)
  try {
    while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    fs.closeSync(fd)
  }
}

/** One `openssl speed` run: bytes per second for 1 MiB blocks. */
function opensslSha256(): number {
  const out = spawnSync('openssl', ['speed', '-evp', 'sha256', '-bytes', String(MiB), '-seconds', '3'], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`openssl speed failed: ${out.stderr}`)
  // The result row: "sha256   1234567.89k" (thousands of bytes per second).
  const row = out.stdout.split('\n').find(line => /^sha256\s+[\d.]+k\s*$/i.test(line.trim()))
  if (!row) throw new Error(`could not parse openssl speed output:\n${out.stdout}`)
  return Number(/([\d.]+)k/.exec(row)![1]) * 1000
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

/** A loopback server in its own process, so it does not share our event loop with the client under test. */
async function startServer(file: string): Promise<{ url: string; stop: () => void }> {
  const code = `
    const http = require('node:http'), fs = require('node:fs')
    const file = process.argv[1], size = fs.statSync(file).size
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
      fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res)
    })
    server.listen(0, '127.0.0.1', () => console.log(server.address().port))
  `
  const child = spawn(process.execPath, ['-e', code, file], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', chunk => resolve(String(chunk).trim()))
    child.once('error', reject)
    child.once('close', codeOrSignal => reject(new Error(`server exited ${codeOrSignal}`)))
  })
  return { url: `http://127.0.0.1:${port}/model.bin`, stop: () => child.kill() }
}

async function hashing(file: string, size: number, sha256: string, parts: { file: string; size: number; sha256: string }[]) {
  warm(file)
  for (const part of parts) warm(part.file)
  const ours: number[] = []
  const openssl: number[] = []
  const inMemory: number[] = []
  const sequential: number[] = []
  const parallel: number[] = []
  const block = crypto.randomBytes(256 * MiB)
  for (let round = 0; round < ROUNDS; round++) {
    openssl.push(opensslSha256())
    ours.push(
      await timed(async () => {
        if (!(await fileMatches(file, size, { sha256 }))) throw new Error('fileMatches said no on the benchmark file')
      })
    )
    // The hasher alone, 1 MiB updates from memory: the ceiling for the file path above.
    inMemory.push(
      await timed(async () => {
        const hasher = new MultiHasher({ sha256: '0'.repeat(64) }, block.length)
        for (let offset = 0; offset < block.length; offset += MiB) hasher.update(block.subarray(offset, offset + MiB))
        await hasher.mismatch()
        hasher.close()
      })
    )
    sequential.push(
      await timed(async () => {
        for (const part of parts)
          if (!(await fileMatches(part.file, part.size, { sha256: part.sha256 }))) throw new Error(`mismatch on ${part.file}`)
      })
    )
    parallel.push(
      await timed(async () => {
        const results = await Promise.all(parts.map(part => fileMatches(part.file, part.size, { sha256: part.sha256 })))
        if (results.includes(false)) throw new Error('mismatch in the parallel run')
      })
    )
  }
  return {
    ours: mbps(size, median(ours)),
    openssl: median(openssl) / 1e6,
    inMemory: mbps(block.length, median(inMemory)),
    partsBytes: parts.reduce((sum, part) => sum + part.size, 0),
    sequential: median(sequential),
    parallel: median(parallel)
  }
}

/** Median of per-round ratios a[i] / b[i]: both sides ran back to back, so a busy moment hits both. */
function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((value, i) => value / b[i]))
}

async function downloads(file: string, size: number, sha256: string, curl: boolean) {
  const server = await startServer(file)
  const dest = path.join(root, 'downloads')
  fs.mkdirSync(dest)
  const credentials = { origin: new URL(server.url).origin }
  const verified: number[] = []
  const unverified: number[] = []
  const curlSyncMs: number[] = []
  const pipelineMs: number[] = []
  const clean = () => {
    fs.rmSync(dest, { recursive: true, force: true })
    fs.mkdirSync(dest)
  }
  // One stream, as the single-stream figures are about (this server ignores Range anyway).
  const ours = (digest: { sha256?: string }, name: string) => () =>
    downloadVerified({ url: server.url, credentials, destination: path.join(dest, name), size, digest, connections: 1 })
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const out = path.join(dest, 'curl.bin')
      if (curl) {
        // downloadVerified fsyncs before its rename; curl -o does not. The same work for comparison.
        curlSyncMs.push(
          await timed(async () => {
            await run('curl', ['-s', '-f', '-o', out, server.url])
            fsyncFile(out)
          })
        )
        if (fs.statSync(out).size !== size) throw new Error('curl wrote the wrong size')
        clean()
      }
      verified.push(await timed(ours({ sha256 }, 'verified.bin')))
      clean()
      // An empty ExpectedDigest makes MultiHasher hash nothing: the same download path, verification off.
      unverified.push(await timed(ours({}, 'plain.bin')))
      clean()
      if (curl) {
        // What a shell script does to download and verify in one pass: the standard tools' figure.
        pipelineMs.push(
          await timed(async () => {
            await run('sh', ['-c', 'curl -s -f "$1" | tee "$2" | sha256sum', 'sh', server.url, out])
            fsyncFile(out)
          })
        )
        clean()
      }
    }
  } finally {
    server.stop()
  }
  return {
    verified: median(verified),
    unverified: median(unverified),
    curlSync: curl ? median(curlSyncMs) : NaN,
    pipeline: curl ? median(pipelineMs) : NaN,
    vsCurlSync: curl ? pairedRatio(curlSyncMs, verified) : NaN,
    vsPipeline: curl ? pairedRatio(pipelineMs, verified) : NaN,
    vsUnverified: pairedRatio(verified, unverified)
  }
}

/** The capped fixture in its own process (scripts/range-server-child.ts), so its pacing has its own event loop. */
async function startCappedServer(file: string, bytesPerSecond: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'range-server-child.ts'), file, String(bytesPerSecond)], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', chunk => resolve(String(chunk).trim()))
    child.once('error', reject)
    child.once('close', code => reject(new Error(`range server exited ${code}`)))
  })
  return { url, stop: () => child.kill() }
}

/** CONNECTIONS curls each fetching a quarter with `-r`: what the capped fixture can deliver at all. */
async function curlRanges(url: string, size: number, dest: string): Promise<void> {
  const quarter = Math.floor(size / CONNECTIONS)
  await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) =>
      run('curl', [
        '-s',
        '-f',
        '-r',
        `${i * quarter}-${i === CONNECTIONS - 1 ? size - 1 : (i + 1) * quarter - 1}`,
        '-o',
        path.join(dest, `part${i}`),
        url
      ])
    )
  )
}

/** One stream vs CONNECTIONS ranged connections, through a per-connection rate cap (and CONNECTIONS curls, as the ceiling). */
async function capped(file: string, size: number, sha256: string, curl: boolean) {
  const server = await startCappedServer(file, CAP_MIBS * MiB)
  const dest = path.join(root, 'capped')
  const credentials = { origin: new URL(server.url).origin }
  const single: number[] = []
  const parallel: number[] = []
  const curls: number[] = []
  const fetch = (connections: number) => async () => {
    await downloadVerified({
      url: server.url,
      credentials,
      destination: path.join(dest, 'model.bin'),
      size,
      digest: { sha256 },
      connections
    })
    fs.rmSync(dest, { recursive: true, force: true })
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      single.push(await timed(fetch(1)))
      parallel.push(await timed(fetch(CONNECTIONS)))
      if (curl) {
        fs.mkdirSync(dest, { recursive: true })
        curls.push(await timed(() => curlRanges(server.url, size, dest)))
        fs.rmSync(dest, { recursive: true, force: true })
      }
    }
  } finally {
    server.stop()
  }
  return {
    single: median(single),
    parallel: median(parallel),
    speedUp: pairedRatio(single, parallel),
    curls: curl ? median(curls) : NaN,
    vsCurls: curl ? pairedRatio(curls, parallel) : NaN
  }
}

/**
 * A stream that stalls after 1 MiB, given up on at the first stall (one attempt): how long after the
 * server's last byte the connection is cut, as the server saw it. In-process, for the timestamps.
 */
async function stall(): Promise<{ cutMs: number[] }> {
  const body = crypto.randomBytes(4 * MiB)
  const server = await startRangeServer({ source: body })
  server.faults = { stall: { afterBytes: MiB } }
  const cutMs: number[] = []
  const once = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, sleep: async () => undefined }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const destination = path.join(root, 'stall', 'x.bin')
      const outcome = await downloadVerified({
        url: server.url,
        credentials: { origin: new URL(server.url).origin },
        destination,
        size: body.length,
        digest: {},
        connections: 1,
        idleTimeoutMs: IDLE_MS,
        retry: once
      }).then(
        () => undefined,
        (error: Error) => error
      )
      if (!outcome?.message.includes('no byte for'))
        throw new Error(`the stalled download did not fail with the idle timeout: ${outcome?.message}`)
      const request = server.requests.at(-1)
      // Let the server see the close before reading its time.
      for (let i = 0; i < 100 && request?.closedAt === undefined; i++) await new Promise(resolve => setTimeout(resolve, 10))
      if (request?.lastByteAt === undefined || request.closedAt === undefined) throw new Error('the stall fixture recorded no times')
      cutMs.push(request.closedAt - request.lastByteAt)
    }
  } finally {
    await server.close()
  }
  return { cutMs }
}

let exitCode = 0
try {
  const free = (() => {
    const info = fs.statfsSync(os.tmpdir())
    return info.bavail * info.bsize
  })()
  // The big file, the download destination and the parallel parts: about 2.3× the size at once.
  const size = process.env.BENCH_SIZE_MIB ? Number(process.env.BENCH_SIZE_MIB) * MiB : free >= 5 * GiB ? GiB : 256 * MiB
  if (!process.env.BENCH_SIZE_MIB && size < GiB)
    notes.push(`only ${(free / GiB).toFixed(1)} GiB free in ${os.tmpdir()} (< 5 GiB): using ${size / MiB} MiB files instead of 1 GiB`)
  const file = path.join(root, 'model.bin')
  const sha256 = writeRandomFile(file, size)
  const parts = Array.from({ length: PARALLEL }, (_, i) => {
    const part = path.join(root, `part${i}.bin`)
    const partSize = size / PARALLEL
    return { file: part, size: partSize, sha256: writeRandomFile(part, partSize) }
  })

  const hash = await hashing(file, size, sha256, parts)
  for (const part of parts) fs.rmSync(part.file)

  const curl = hasCommand('curl')
  if (!curl) {
    notes.push('skipped: curl not installed (the curl baselines are missing)')
    if (process.env.CI === 'true') exitCode = 1
  }
  const dl = await downloads(file, size, sha256, curl)
  const cap = await capped(file, size, sha256, curl)
  const stalls = await stall()
  const dlMB = (ms: number) => `${mbps(size, ms).toFixed(0)} MB/s (${ms.toFixed(0)} ms)`
  const na = 'n/a (no curl)'
  const cutMedian = median(stalls.cutMs)
  const cutMax = Math.max(...stalls.cutMs)

  const rows = [
    ['figure', 'measured', 'baseline (same run)', 'ratio', 'goal'],
    [
      `SHA-256 verify of a ${size / MiB} MiB file (fileMatches, page cache)`,
      `${hash.ours.toFixed(0)} MB/s`,
      `openssl speed -evp sha256, 1 MiB blocks: ${hash.openssl.toFixed(0)} MB/s`,
      `${(hash.ours / hash.openssl).toFixed(2)}×`,
      '≥ 0.9×'
    ],
    [
      '(for scale) MultiHasher.update alone, 1 MiB blocks from memory',
      `${hash.inMemory.toFixed(0)} MB/s`,
      `openssl: ${hash.openssl.toFixed(0)} MB/s`,
      `${(hash.inMemory / hash.openssl).toFixed(2)}×`,
      ''
    ],
    [
      `${PARALLEL} × ${size / PARALLEL / MiB} MiB verified concurrently`,
      `${hash.parallel.toFixed(0)} ms (${mbps(hash.partsBytes, hash.parallel).toFixed(0)} MB/s)`,
      `one at a time: ${hash.sequential.toFixed(0)} ms (${mbps(hash.partsBytes, hash.sequential).toFixed(0)} MB/s)`,
      `${(hash.sequential / hash.parallel).toFixed(2)}× speed-up`,
      `≈ ${os.cpus().length}× if all ${os.cpus().length} cores are used`
    ],
    [
      `downloadVerified, one stream, ${size / MiB} MiB over loopback, sha256, fsync + rename`,
      dlMB(dl.verified),
      curl ? `curl -s -o + fsync: ${dlMB(dl.curlSync)}` : na,
      curl ? `${dl.vsCurlSync.toFixed(2)}× its throughput` : '',
      '≥ 0.9×'
    ],
    [
      '(same) vs curl | tee file | sha256sum, then fsync',
      dlMB(dl.verified),
      curl ? `shell pipeline: ${dlMB(dl.pipeline)}` : na,
      curl ? `${dl.vsPipeline.toFixed(2)}× its throughput` : '',
      ''
    ],
    [
      'download + verify vs our download with verification off (digest {})',
      `${dl.verified.toFixed(0)} ms`,
      `downloadVerified, no digest: ${dl.unverified.toFixed(0)} ms`,
      `${dl.vsUnverified.toFixed(2)}×`,
      '≤ 1.1×'
    ],
    [
      `${size / MiB} MiB, each connection capped at ${CAP_MIBS} MiB/s: ${CONNECTIONS} connections in ranges`,
      dlMB(cap.parallel),
      `one stream: ${dlMB(cap.single)}`,
      `${cap.speedUp.toFixed(2)}× faster`,
      '≥ 3×'
    ],
    [
      `(same) vs ${CONNECTIONS} × curl -r, a quarter each, no fsync: the fixture's ceiling`,
      dlMB(cap.parallel),
      curl ? `${CONNECTIONS} × curl -r: ${dlMB(cap.curls)}` : na,
      curl ? `${cap.vsCurls.toFixed(2)}× its throughput` : '',
      ''
    ],
    [
      `a stream stalled after 1 MiB, idle-timeout ${IDLE_MS} ms: cut after the last byte`,
      `median ${cutMedian.toFixed(0)} ms, max ${cutMax.toFixed(0)} ms`,
      `idle-timeout + 1 s: ${IDLE_MS + 1000} ms`,
      `+${(cutMax - IDLE_MS).toFixed(0)} ms at worst`,
      '≤ +1000 ms'
    ]
  ]
  console.log(
    `\nNode ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim()}; files ${size / MiB} MiB in ${os.tmpdir()}; medians of ${ROUNDS} rounds\n`
  )
  for (const note of notes) console.log(`${note}\n`)
  for (const [i, row] of rows.entries()) {
    console.log(`| ${row.join(' | ')} |`)
    if (i === 0) console.log(`|${row.map(() => ' --- ').join('|')}|`)
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`)
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
process.exitCode = exitCode
