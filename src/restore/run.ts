import * as fs from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { chooseBackend, openBackend } from '../backends/select.js'
import type { BackendName, CacheBackend } from '../backends/backend.js'
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
import { holdOutput } from '../util/capture.js'
import { stringifyError } from '../util/errors.js'
import { limiter } from '../util/limit.js'
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
 * At most this many kinds restore at once: two per core. A restore from the local store keeps about a core
 * busy (zstd and tar) and one from the cache service mostly waits on the network, so one per core would
 * leave a download-bound job's third kind waiting while the cores idle; more than this only adds contention.
 */
const RESTORES_AT_ONCE = 2 * Math.max(1, availableParallelism())

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
    await restoreAndFollowUp(state, backend)
  } catch (error) {
    core.setFailed(stringifyError(error))
  } finally {
    if (state) saveRunState(restoredOnly(state))
  }
}

/** What later steps need to find the kinds' directories (HF_HUB_CACHE; PIP_CACHE_DIR and TMPDIR in place). */
function exportEnvironment(plans: CachePlan[]): void {
  for (const [name, value] of plans.flatMap(plan => Object.entries(plan.env))) core.exportVariable(name, value)
}

/**
 * Restores the kinds at the same time (RESTORES_AT_ONCE), each kind's log held back and written as one
 * group when it ends, and runs each kind's afterRestore as soon as what it needs is restored. The outputs
 * are set once every kind is restored. Waits for everything it started, then fails with the first failure.
 */
async function restoreAndFollowUp(state: RunState, backend: CacheBackend): Promise<void> {
  const slot = limiter(RESTORES_AT_ONCE)
  const restored = state.plans.map((plan, index) =>
    slot(() =>
      holdOutput(() =>
        core.group(`Restore ${plan.kind}`, () =>
          restoreOne(plan, backendForPlan(plan, backend, state.config.local.dir), state.mode, state.snapshotDir)
        )
      )
    ).then(({ entry, fingerprint }) => {
      state.entries[index] = entry
      state.fingerprints[plan.kind] = fingerprint
    })
  )
  const everyRestore = Promise.all(restored)
  const outputs = everyRestore.then(() => setRestoreOutputs(state))
  const followUps = state.plans.map((plan, index) => {
    const kind = kindNamed(plan.kind)
    if (!kind.afterRestore) return restored[index]
    const ready = kind.afterRestoreNeeds === 'every-restore' ? everyRestore : restored[index]
    return ready.then(() =>
      holdOutput(() =>
        kind.afterRestore!({ config: state.config, plan, entry: state.entries[index], mode: state.mode, snapshotDir: state.snapshotDir })
      )
    )
  })
  const failure = (await Promise.allSettled([...restored, outputs, ...followUps])).find(outcome => outcome.status === 'rejected')
  if (failure) throw failure.reason
}

function setRestoreOutputs(state: RunState): void {
  core.setOutput(Outputs.CacheHit, allExact(state.entries) ? 'true' : 'false')
  core.setOutput(Outputs.Hits, JSON.stringify(hitsByKind(state.entries)))
  core.setOutput(Outputs.Report, state.config.reportPath)
}

/** Post pairs plans and entries by index: a kind whose restore failed outright has no entry to save against. */
function restoredOnly(state: RunState): RunState {
  const kept = state.plans.flatMap((plan, index) => (state.entries[index] ? [{ plan, entry: state.entries[index] }] : []))
  return { ...state, plans: kept.map(k => k.plan), entries: kept.map(k => k.entry) }
}
