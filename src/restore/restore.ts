import * as core from '@actions/core'
import { type CacheBackend, partPaths } from '../backends/backend.js'
import type { AccessMode } from '../config/mode.js'
import { type HitKind, type LedgerEntry, warnAbout } from '../ledger.js'
import { snapshotFile, writeRestoredTree } from '../measure/snapshot-store.js'
import { changedSince, fingerprint, snapshotTree, totalBytes } from '../measure/tree.js'
import type { CachePlan } from '../kinds/kind.js'
import { isExactMatch } from '../plan/plan.js'
import { formatBytes } from '../report/format.js'
import { stringifyError } from '../util/errors.js'

export interface Restored {
  entry: LedgerEntry
  fingerprint: string
}

/** Restores one kind and measures what the restore wrote. A store fault is a warning and a miss. */
export async function restoreOne(plan: CachePlan, backend: CacheBackend, mode: AccessMode, snapshotDir: string): Promise<Restored> {
  const started = performance.now()
  const entry = newEntry(plan, backend.name)
  // In place, what is there was kept from earlier runs: all of it counts as restored.
  const paths = partPaths(plan.spec)
  const before = backend.restoresInPlace ? {} : await snapshotTree(paths, plan.spec.exclude)
  if (!mode.read) {
    core.info(`Not restoring: the cache mode does not allow reads (${mode.reason}).`)
  } else {
    await lookUp(plan, backend, entry)
  }
  const present = await snapshotTree(paths, plan.spec.exclude)
  const restored = changedSince(before, present)
  entry.restoredBytes = totalBytes(restored)
  entry.restoreMs = performance.now() - started
  await writeRestoredTree(snapshotFile(snapshotDir, plan.kind), { present, restored })
  if (entry.hit !== 'miss') core.info(`Restored ${formatBytes(entry.restoredBytes)} into ${paths.join(', ')}`)
  return { entry, fingerprint: fingerprint(present) }
}

async function lookUp(plan: CachePlan, backend: CacheBackend, entry: LedgerEntry): Promise<void> {
  try {
    const result = await backend.restore(plan.spec, plan.key, plan.restoreKeys)
    if (result.matchedKey === null) {
      explainMiss(plan, result.otherIdentity)
      return
    }
    entry.matchedKey = result.matchedKey
    entry.restoredArchiveBytes = result.archiveBytes
    if (result.transferMs !== undefined && result.archiveBytes !== null)
      entry.transfer = { ...entry.transfer, restore: { bytes: result.archiveBytes, ms: result.transferMs } }
    entry.hit = hitKind(plan.key, result.matchedKey)
    core.info(`${entry.hit === 'exact' ? 'Exact hit' : 'Partial hit (restore key)'}: ${result.matchedKey}`)
  } catch (error) {
    warnAbout(entry, `restore failed, continuing without cache: ${stringifyError(error)}`)
  }
}

function hitKind(key: string, matchedKey: string): HitKind {
  return isExactMatch(key, matchedKey) ? 'exact' : 'partial'
}

/** An expected miss is information, not a warning: what was looked for and what it was made of. */
function explainMiss(plan: CachePlan, otherIdentity: string | null): void {
  const parts = plan.keyParts.map(p => `${p.name}=${p.value}`).join(', ')
  core.info(`No cache entry for ${plan.kind}: key ${plan.key}${parts ? ` (${parts})` : ''}`)
  core.info(`  tried restore keys: ${plan.restoreKeys.join(', ')}`)
  if (otherIdentity) core.info(`  ${otherIdentity}`)
}

function newEntry(plan: CachePlan, backend: string): LedgerEntry {
  return {
    kind: plan.kind,
    backend,
    key: plan.key,
    matchedKey: null,
    hit: 'miss',
    restoredBytes: 0,
    restoredArchiveBytes: null,
    downloadedBytes: 0,
    reusedBytes: 0,
    uploadedBytes: 0,
    saved: 'pending',
    problems: [],
    restoreMs: 0,
    saveMs: 0
  }
}
