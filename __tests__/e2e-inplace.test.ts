/**
 * The action (dist/main and dist/post as separate processes, like a runner) with local-mode: in-place:
 * the lease taken by main outlives main and is given back by post; a second job reuses the store's
 * directory as is, with nothing copied.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { newMachine, runJob } from '../scripts/runner-sim.js'
import { LocalStore } from '../src/backends/local/store.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let root: string

beforeAll(() => {
  if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-e2e-inplace-'))
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

test('main exports the in-place directory, holds the lease until post, and the next job hits exactly', async () => {
  const store = path.join(root, 'store')
  const leases = path.join(store, 'in-place', '.leases', 'huggingface')
  const payload = crypto.randomBytes(256 * 1024)
  const job = (runId: number, write: boolean) =>
    runJob({
      actionDir,
      machine: newMachine(root, `machine-${runId}`),
      runId,
      inputs: { caches: 'huggingface', backend: 'local', 'local-dir': store, 'local-mode': 'in-place' },
      between: async env => {
        expect(env.HF_HUB_CACHE).toBe(path.join(store, 'in-place', 'huggingface'))
        expect(fs.readdirSync(leases).filter(f => f.endsWith('.json'))).toHaveLength(1)
        if (write) fs.writeFileSync(path.join(env.HF_HUB_CACHE, 'blob'), payload)
      }
    })
  const cold = await job(1, true)
  expect(cold.main.exitCode).toBe(0)
  expect(cold.post?.summary).toContain('| huggingface | ❌ miss |')
  expect(fs.readdirSync(leases).filter(f => f.endsWith('.json'))).toEqual([])
  const warm = await job(2, false)
  expect(JSON.parse(warm.main.outputs.hits)).toEqual({ huggingface: 'exact' })
  const report = JSON.parse(fs.readFileSync(warm.main.outputs.report, 'utf8'))
  expect(report.caches[0]).toMatchObject({ backend: 'in-place', reusedBytes: payload.length, downloadedBytes: 0, uploadedBytes: 0 })
  // Nothing of the kind was archived: the store's only entries are the runs' history records.
  expect((await new LocalStore(store).listEntries()).map(entry => entry.kind)).toEqual(['history', 'history'])
})
