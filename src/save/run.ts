import * as fs from 'node:fs/promises'
import * as core from '@actions/core'
import { openBackend } from '../backends/select.js'
import { maskSecretInputs } from '../config/secrets.js'
import { backendForPlan, releaseLeases } from '../inplace/index.js'
import { kindNamed } from '../kinds/index.js'
import { publish } from '../report/publish.js'
import { loadRunState } from '../state.js'
import { stringifyError } from '../util/errors.js'
import { saveOne } from './save.js'

/** The post step: each kind's own work before saving, then measure, save, the store's upkeep, report. It only ever warns. */
export async function runPost(): Promise<void> {
  try {
    maskSecretInputs()
    const run = loadRunState()
    if (!run) {
      core.info('The main step did not finish; nothing to save.')
      return
    }
    const backend = openBackend(run.backend, run.config)
    for (const [index, plan] of run.plans.entries()) {
      const kind = kindNamed(plan.kind)
      const entry = run.entries[index]
      await kind.beforeSave?.({ config: run.config, plan, entry, mode: run.mode, snapshotDir: run.snapshotDir })
      const context = { backend: backendForPlan(plan, backend, run.config.local.dir), mode: run.mode, save: run.config.save, snapshotDir: run.snapshotDir }
      await core.group(`Save ${plan.kind}`, () => saveOne(plan, entry, run.fingerprints[plan.kind], context))
    }
    await releaseLeases(run.leases)
    await backend.maintain?.(run.entries)
    const sections = run.entries.map(entry => kindNamed(entry.kind).summarize?.(entry) ?? [])
    await publish(run.entries, sections, run.config.reportPath, run.config.summary)
    await fs.rm(run.snapshotDir, { recursive: true, force: true })
  } catch (error) {
    core.warning(`qdc-action post step: ${stringifyError(error)}`)
  }
}
