import * as fs from 'node:fs/promises'
import * as core from '@actions/core'
import { openBackend } from '../backends/select.js'
import { LocalStore } from '../backends/local.js'
import type { ActionConfig } from '../config/config.js'
import { publish } from '../report/publish.js'
import { formatBytes } from '../report/format.js'
import { loadRunState } from '../state.js'
import { stringifyError } from '../util/errors.js'
import { saveOne } from './save.js'
import { collectNixPaths } from '../nix/save.js'
import { backendForKind, releaseLeases } from '../inplace/index.js'
import { appendHistory } from '../inplace/history.js'
import { pruneStore } from '../inplace/prune.js'

/** The post step: measure, save, report. It only ever warns: a cache problem never fails the job. */
export async function runPost(): Promise<void> {
  try {
    const run = loadRunState()
    if (!run) {
      core.info('The main step did not finish; nothing to save.')
      return
    }
    const backend = openBackend(run.backend, run.config)
    const context = { backend, mode: run.mode, save: run.config.save, snapshotDir: run.snapshotDir }
    await collectNixPaths(run)
    for (const [index, plan] of run.plans.entries()) {
      const kindContext = { ...context, backend: backendForKind(plan.kind, backend, run.config, run.leases !== undefined) }
      await core.group(`Save ${plan.kind}`, () => saveOne(plan, run.entries[index], run.fingerprints[plan.kind], kindContext))
    }
    await releaseLeases(run.leases)
    if (backend instanceof LocalStore) {
      await pruneLocalStore(backend, run.config)
      await appendHistory(run.config.localDir, run.entries).catch(error => core.warning(`Could not append to the store's run history: ${stringifyError(error)}`))
    }
    await publish(run.entries, run.config.reportPath, run.config.summary)
    await fs.rm(run.snapshotDir, { recursive: true, force: true })
  } catch (error) {
    core.warning(`qdc-action post step: ${stringifyError(error)}`)
  }
}

async function pruneLocalStore(store: LocalStore, config: ActionConfig): Promise<void> {
  await core.group('Prune local store', async () => {
    try {
      const pruned = await pruneStore(store, config.localDir, { maxAgeMs: config.localMaxAgeMs, maxBytes: config.localMaxBytes })
      const files = pruned.files.length > 0 ? ` and ${pruned.files.length} in-place file(s)` : ''
      core.info(`Removed ${pruned.entries.length} entr${pruned.entries.length === 1 ? 'y' : 'ies'}${files}, ${formatBytes(pruned.bytes)}`)
      if (pruned.busyKinds.length > 0) core.info(`In use by another job, not pruned: ${pruned.busyKinds.join(', ')}`)
    } catch (error) {
      core.warning(`Pruning the local store failed: ${stringifyError(error)}`)
    }
  })
}
