import * as core from '@actions/core'
import type { BackendName } from './backends/backend.js'
import type { ActionConfig } from './config/config.js'
import type { AccessMode } from './config/mode.js'
import { State } from './constants.js'
import type { LedgerEntry } from './ledger.js'
import type { CachePlan } from './kinds/kind.js'

/** Handed from main to post: post never re-reads inputs, so the two cannot disagree. */
export interface RunState {
  config: ActionConfig
  backend: BackendName
  mode: AccessMode
  plans: CachePlan[]
  entries: LedgerEntry[]
  /** Content fingerprint of each kind right after restore, compared before saving. */
  fingerprints: Record<string, string>
  /** Where main left the restored file lists (see measure/snapshot-store.ts). */
  snapshotDir: string
  /** In-place mode: kind → lease file held from restore to save (inplace/lease.ts). */
  leases?: Record<string, string>
}

export function saveRunState(state: RunState): void {
  core.saveState(State.Run, JSON.stringify(state))
}

/** null when main did not get as far as restoring: post then has nothing to do. */
export function loadRunState(): RunState | null {
  const raw = core.getState(State.Run)
  return raw ? (JSON.parse(raw) as RunState) : null
}
