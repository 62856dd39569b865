import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { chooseBackend, openBackend } from '../backends/select.js'
import { readConfig } from '../config/config.js'
import { accessMode } from '../config/mode.js'
import { Env, Outputs } from '../constants.js'
import { allExact, hitsByKind, type LedgerEntry } from '../ledger.js'
import { logPlans, planCaches } from '../plan/plan.js'
import { saveRunState } from '../state.js'
import { stringifyError } from '../util/errors.js'
import { runFetchPhase } from '../fetch/run.js'
import { setUpNix } from '../nix/restore.js'
import { backendForKind, prepareInPlace, takeLeases, usesInPlace } from '../inplace/index.js'
import { runBuildPhase } from '../build/run.js'
import { restoreOne } from './restore.js'

/** The main step: parse inputs (bad input fails here, before anything is touched), plan, restore. */
export async function runMain(): Promise<void> {
  try {
    const config = readConfig()
    core.exportVariable(Env.SaveOnFailure, config.save === 'always' ? 'true' : 'false')
    const backendName = await chooseBackend(config)
    const mode = accessMode(config)
    const inPlace = usesInPlace(config, backendName)
    const plans = await core.group('Configuration', async () => {
      if (inPlace) await prepareInPlace(config)
      const planned = await planCaches(config)
      logPlans(config, backendName, planned)
      core.info(`access: ${mode.reason}`)
      return planned
    })
    const backend = openBackend(backendName, config)
    const snapshotDir = await fs.mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'qdc-'))
    const entries: LedgerEntry[] = []
    const fingerprints: Record<string, string> = {}
    const leases = inPlace ? await takeLeases(config, config.kinds) : undefined
    for (const plan of plans) {
      const kindBackend = backendForKind(plan.kind, backend, config, inPlace)
      const restored = await core.group(`Restore ${plan.kind}`, () => restoreOne(plan, kindBackend, mode, snapshotDir))
      entries.push(restored.entry)
      fingerprints[plan.kind] = restored.fingerprint
    }
    await setUpNix(config, entries, snapshotDir)
    const state = { config, backend: backendName, mode, plans, entries, fingerprints, snapshotDir, leases }
    // Saved before fetching too, so post can still save what was restored if a model cannot be had.
    saveRunState(state)
    core.setOutput(Outputs.CacheHit, allExact(entries) ? 'true' : 'false')
    core.setOutput(Outputs.Hits, JSON.stringify(hitsByKind(entries)))
    core.setOutput(Outputs.Report, config.reportPath)
    if (await runFetchPhase(config, entries)) saveRunState(state)
    await runBuildPhase(config, entries, () => saveRunState(state))
  } catch (error) {
    core.setFailed(stringifyError(error))
  }
}
