import * as core from '@actions/core'
import { type CacheBackend, partPaths, ReadOnlyStoreError } from '../backends/backend.js'
import type { SaveWhen } from '../config/config.js'
import type { AccessMode } from '../config/mode.js'
import { kindNamed } from '../kinds/index.js'
import type { CachePlan } from '../kinds/kind.js'
import { type LedgerEntry, warnAbout } from '../ledger.js'
import { readRestoredTree, snapshotFile } from '../measure/snapshot-store.js'
import { changedSince, fingerprint, snapshotTree, totalBytes, type TreeSnapshot, unchangedIn } from '../measure/tree.js'
import { revisionKey } from '../plan/plan.js'
import { formatBytes } from '../report/format.js'
import { stringifyError } from '../util/errors.js'

export interface SaveContext {
  backend: CacheBackend
  mode: AccessMode
  save: SaveWhen
  snapshotDir: string
}

/** Measure against what main restored, then upload unless nothing changed since an exact hit. */
export async function saveOne(plan: CachePlan, entry: LedgerEntry, restoredFingerprint: string, context: SaveContext): Promise<void> {
  const started = performance.now()
  const now = await snapshotTree(partPaths(plan.spec), plan.spec.exclude)
  const changed = fingerprint(now) !== restoredFingerprint
  await account(plan, entry, now, changed, context.snapshotDir)
  entry.saved = await decideAndSave(plan, entry, changed, totalBytes(now), context)
  entry.saveMs = performance.now() - started
}

/**
 * downloaded = what appeared or changed since the restore; reused = restored bytes still there, unchanged.
 * A kind that knows better (something built on the runner also lands in its directory) counts its own.
 * When the fingerprint says nothing changed, every file is as main saw it: nothing was downloaded and
 * every restored byte was reused, so main's file lists need not be read back.
 */
async function account(plan: CachePlan, entry: LedgerEntry, now: TreeSnapshot, changed: boolean, snapshotDir: string): Promise<void> {
  const own = kindNamed(plan.kind).account?.(entry)
  if (own) {
    entry.downloadedBytes = own.downloadedBytes
    entry.reusedBytes = own.reusedBytes
    core.info(own.explanation)
    return
  }
  if (changed) {
    const tree = await readRestoredTree(snapshotFile(snapshotDir, plan.kind))
    entry.downloadedBytes = totalBytes(changedSince(tree?.present ?? {}, now))
    entry.reusedBytes = totalBytes(unchangedIn(tree?.restored ?? {}, now))
  } else {
    entry.downloadedBytes = 0
    entry.reusedBytes = entry.restoredBytes
  }
  core.info(`Downloaded during the job: ${formatBytes(entry.downloadedBytes)}; reused from cache: ${formatBytes(entry.reusedBytes)}`)
}

async function decideAndSave(
  plan: CachePlan,
  entry: LedgerEntry,
  changed: boolean,
  bytesOnDisk: number,
  context: SaveContext
): Promise<LedgerEntry['saved']> {
  if (context.save === 'never') return said('disabled', 'Not saving: save is never.')
  if (!context.mode.write) return said('read-only', `Not saving: ${context.mode.reason}.`)
  if (entry.hit === 'exact' && !changed)
    return said('unchanged', `Content unchanged since the exact hit on ${entry.matchedKey}; not uploading.`)
  if (bytesOnDisk === 0) return said('empty', `Nothing to save: ${partPaths(plan.spec).join(', ')} holds no files.`)
  const key = revisionKey(plan.key)
  try {
    const result = await context.backend.save(plan.spec, key)
    entry.uploadedBytes = result.archiveBytes ?? 0
    if (result.transferMs !== undefined) entry.transfer = { ...entry.transfer, save: { bytes: entry.uploadedBytes, ms: result.transferMs } }
    core.info(`Saved ${key}${result.archiveBytes === null ? '' : ` (${formatBytes(result.archiveBytes)} archive)`}`)
    return 'saved'
  } catch (error) {
    // Credentials that may only read: one warning for the job, and the other kinds are read-only too.
    if (error instanceof ReadOnlyStoreError) {
      if (error.firstInJob) warnAbout(entry, `not saved: ${error.message}`)
      return said('read-only', `Not saving: ${error.message}.`)
    }
    warnAbout(entry, `save failed, the job goes on: ${stringifyError(error)}`)
    return 'failed'
  }
}

function said<T>(outcome: T, message: string): T {
  core.info(message)
  return outcome
}
