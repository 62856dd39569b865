/**
 * A downloader killed with SIGKILL mid-file (no cleanup runs) must leave nothing a later run or
 * huggingface_hub would take for a finished file, and the next run must complete. The child runs
 * the compiled src (tsc into a temp dir), as the bundled action would.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { downloadRepo } from '../src/fetch/huggingface/download.js'
import { type Hub, startHub } from './support/hub.js'

const MODEL = 'acme/big-model'
const COMMIT = createHash('sha1').update('big').digest('hex')
const weights = randomBytes(2 * 1024 * 1024)

let hub: Hub
let work: string

beforeAll(async () => {
  hub = await startHub({
    repos: [{ id: MODEL, refs: { main: COMMIT }, commits: { [COMMIT]: [{ path: 'model.safetensors', bytes: weights, lfs: true }] } }]
  })
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-hf-kill-'))
  const build = path.join(work, 'build')
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--outDir', build])
  // ESM resolves bare imports (undici) by walking up from the importing file.
  await fs.symlink(path.resolve('node_modules'), path.join(work, 'node_modules'))
  await fs.writeFile(path.join(work, 'package.json'), '{"type":"module"}')
})

afterAll(async () => {
  await hub?.close()
  if (work) await fs.rm(work, { recursive: true, force: true })
})

test('SIGKILL mid-file publishes nothing; the next run completes and verifies', async () => {
  const cacheDir = path.join(work, 'cache')
  const script = path.join(work, 'child.js')
  await fs.writeFile(
    script,
    `import { downloadRepo } from './build/fetch/huggingface/download.js'\n` +
      `await downloadRepo({ repo: ${JSON.stringify(MODEL)} }, { endpoint: process.argv[2], cacheDir: process.argv[3] })\n`
  )
  hub.faults.cdn = { slow: { bytesPerSecond: 512 * 1024 } }
  const child = spawn(process.execPath, [script, hub.url, cacheDir], { stdio: 'inherit' })
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)))
  // Kill once a good part of the body has gone out, well before the end.
  while (!hub.requests.some(r => r.origin === 'cdn' && r.bytes >= 256 * 1024)) await new Promise(resolve => setTimeout(resolve, 10))
  child.kill('SIGKILL')
  expect(await exited).toBe('SIGKILL')

  const repoDir = path.join(cacheDir, 'models--acme--big-model')
  const blobs = await fs.readdir(path.join(repoDir, 'blobs'))
  // Only the killed writer's partial: huggingface_hub ignores it, the cache kind excludes it.
  expect(blobs).toHaveLength(1)
  expect(blobs[0]).toMatch(/^[0-9a-f]{64}\.[0-9a-f]{8}\.incomplete$/)
  expect(await fs.readdir(path.join(repoDir, 'snapshots')).catch(() => [])).toEqual([])

  // The dead child's lock names its pid: taken over at once, not after the (long) wait.
  const lock = path.join(cacheDir, '.locks', 'models--acme--big-model', `${createHash('sha256').update(weights).digest('hex')}.lock`)
  expect(await fs.readFile(lock, 'utf8')).toBe(String(child.pid))
  hub.faults = {}
  const started = Date.now()
  const result = await downloadRepo({ repo: MODEL }, { endpoint: hub.url, cacheDir, lockWaitMs: 60_000 })
  expect(Date.now() - started).toBeLessThan(10_000)
  expect(result.files).toMatchObject([{ path: 'model.safetensors', source: 'downloaded', verified: true }])
  const sha = createHash('sha256').update(weights).digest('hex')
  expect(
    createHash('sha256')
      .update(await fs.readFile(path.join(result.snapshot, 'model.safetensors')))
      .digest('hex')
  ).toBe(sha)
  expect(await fs.readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(COMMIT)
})
