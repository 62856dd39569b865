import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { chooseBackend, openBackend } from '../backends/select.js'
import type { BackendName } from '../backends/backend.js'
import { type ActionConfig, readConfig } from '../config/config.js'
import { type AccessMode, accessMode } from '../config/mode.js'
import { maskSecretInputs } from '../config/secrets.js'
import { Env, Outputs } from '../constants.js'
import { backendForPlan, inPlaceDirs, takeLeases, usesInPlace } from '../inplace/index.js'
import { kindNamed } from '../kinds/index.js'
import type { CachePlan } from '../kinds/kind.js'
import { allExact, hitsByKind } from '../ledger.js'
import { logPlans, planCaches } from '../plan/plan.js'
import { type RunState, saveRunState } from '../state.js'
import { stringifyError } from '../util/errors.js'
import { runnerTemp } from '../util/temp.js'
import { restoreOne } from './restore.js'

/** A run parsed and planned, nothing touched yet. */
export interface PreparedRun {
  config: ActionConfig
  backend: BackendName
  mode: AccessMode
  inPlace: boolean
  plans: CachePlan[]
}

/** Parse the inputs and plan every kind: every bad input fails here, with one line, before anything is touched. */
export async function prepareRun(): Promise<PreparedRun> {
  maskSecretInputs()
  const config = readConfig()
  const backend = await chooseBackend(config)
  const mode = accessMode(config)
  const inPlace = usesInPlace(config, backend)
  const plans = await core.group('Configuration', async () => {
    const planned = await planCaches(config, inPlaceDirs(config, inPlace))
    logPlans(config, backend, planned)
    core.info(`access: ${mode.reason}`)
    return planned
  })
  return { config, backend, mode, inPlace, plans }
}

/**
 * The main step: prepare (unless `qdc run` already did), restore every kind, then each kind's own work on
 * what was restored. The run state is saved once, whatever happened after the restore, so post can still
 * save and report.
 */
export async function runMain(prepared?: PreparedRun): Promise<void> {
  let state: RunState | undefined
  try {
    const { config, backend: backendName, mode, inPlace, plans } = prepared ?? (await prepareRun())
    core.exportVariable(Env.SaveOnFailure, config.save === 'always' ? 'true' : 'false')
    exportEnvironment(plans)
    const backend = openBackend(backendName, config)
    const snapshotDir = await fs.mkdtemp(path.join(runnerTemp(), 'qdc-'))
    state = { config, backend: backendName, mode, plans, entries: [], fingerprints: {}, snapshotDir }
    if (inPlace) state.leases = await takeLeases(config.local.dir, plans)
    for (const plan of plans) {
      const restored = await core.group(`Restore ${plan.kind}`, () => restoreOne(plan, backendForPlan(plan, backend, config.local.dir), mode, snapshotDir))
      state.entries.push(restored.entry)
      state.fingerprints[plan.kind] = restored.fingerprint
    }
    core.setOutput(Outputs.CacheHit, allExact(state.entries) ? 'true' : 'false')
    core.setOutput(Outputs.Hits, JSON.stringify(hitsByKind(state.entries)))
    core.setOutput(Outputs.Report, config.reportPath)
    await afterRestore(state)
  } catch (error) {
    core.setFailed(stringifyError(error))
  } finally {
    if (state) saveRunState(state)
  }
}

/** What later steps need to find the kinds' directories (HF_HUB_CACHE; PIP_CACHE_DIR and TMPDIR in place). */
function exportEnvironment(plans: CachePlan[]): void {
  for (const [name, value] of plans.flatMap(plan => Object.entries(plan.env))) core.exportVariable(name, value)
}

/** Each kind's work on what was restored, in the order the kinds were named; a failure fails the step. */
async function afterRestore(state: RunState): Promise<void> {
  for (const [index, plan] of state.plans.entries()) {
    await kindNamed(plan.kind).afterRestore?.({ config: state.config, plan, entry: state.entries[index], mode: state.mode, snapshotDir: state.snapshotDir })
  }
}
