import * as core from '@actions/core'
import { type CacheBackend, partPaths } from '../backends/backend.js'
import type { SaveWhen } from '../config/config.js'
import type { AccessMode } from '../config/mode.js'
import { kindNamed } from '../kinds/index.js'
import type { BuiltService, LedgerEntry } from '../ledger.js'
import { readRestoredTree, snapshotFile } from '../measure/snapshot-store.js'
import { changedSince, fingerprint, snapshotTree, totalBytes, unchangedIn } from '../measure/tree.js'
import { type CachePlan, revisionKey } from '../plan/plan.js'
import { formatBytes } from '../report/format.js'
import { stringifyError } from '../util/errors.js'

export interface SaveContext {
  backend: CacheBackend
  mode: AccessMode
  save: SaveWhen
  snapshotDir: string
}

/** Prune, measure against what main restored, then upload unless nothing changed since an exact hit. */
export async function saveOne(plan: CachePlan, entry: LedgerEntry, restoredFingerprint: string, context: SaveContext): Promise<void> {
  const started = performance.now()
  await pruneBeforeSave(plan, entry)
  const now = await snapshotTree(partPaths(plan.spec), plan.spec.exclude)
  await account(plan, entry, now, context.snapshotDir)
  entry.saved = await decideAndSave(plan, entry, fingerprint(now) !== restoredFingerprint, totalBytes(now), context)
  entry.saveMs = performance.now() - started
}

async function pruneBeforeSave(plan: CachePlan, entry: LedgerEntry): Promise<void> {
  try {
    const { removedBytes, removed } = await kindNamed(plan.kind).prune({ parts: plan.spec.parts, exclude: plan.spec.exclude, notes: [] })
    if (removed.length > 0) core.info(`Pruned ${removed.length} item(s), ${formatBytes(removedBytes)}`)
  } catch (error) {
    entry.problems.push(`pruning failed, saving unpruned: ${stringifyError(error)}`)
    core.warning(`${plan.kind}: pruning failed, saving unpruned: ${stringifyError(error)}`)
  }
}

/** downloaded = what appeared or changed since the restore; reused = restored bytes still there, unchanged. */
async function account(plan: CachePlan, entry: LedgerEntry, now: Record<string, [number, number]>, snapshotDir: string): Promise<void> {
  // Nix store paths were classified by origin (nix/save.ts): the directory diff cannot tell built from downloaded.
  if (entry.nix) {
    entry.downloadedBytes = entry.nix.fromUpstream.narBytes
    entry.reusedBytes = entry.nix.fromCache.narBytes
    core.info(`Downloaded from upstream caches: ${formatBytes(entry.downloadedBytes)}; reused from cache: ${formatBytes(entry.reusedBytes)} (NAR sizes)`)
    return
  }
  // Likewise cache images: a layer pushed into the directory was built here, not downloaded.
  if (entry.services) {
    const sum = (figure: (s: BuiltService) => number) => entry.services!.reduce((total, s) => total + figure(s), 0)
    entry.downloadedBytes = sum(s => s.baseBytesPulled)
    entry.reusedBytes = sum(s => s.layerBytesReused + s.baseBytesReused)
    core.info(
      `Base images from upstream: ${formatBytes(entry.downloadedBytes)}; reused from the layer cache: ${formatBytes(entry.reusedBytes)}; ` +
        `built here and pushed: ${formatBytes(sum(s => s.layerBytesPushed))}`
    )
    return
  }
  const tree = await readRestoredTree(snapshotFile(snapshotDir, plan.kind))
  const present = tree?.present ?? {}
  entry.downloadedBytes = totalBytes(changedSince(present, now))
  entry.reusedBytes = totalBytes(unchangedIn(tree?.restored ?? {}, now))
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
  if (entry.hit === 'exact' && !changed) return said('unchanged', `Content unchanged since the exact hit on ${entry.matchedKey}; not uploading.`)
  if (bytesOnDisk === 0) return said('empty', `Nothing to save: ${partPaths(plan.spec).join(', ')} holds no files.`)
  const key = revisionKey(plan.key)
  try {
    const result = await context.backend.save(plan.spec, key)
    entry.uploadedBytes = result.archiveBytes ?? 0
    core.info(`Saved ${key}${result.archiveBytes === null ? '' : ` (${formatBytes(result.archiveBytes)} archive)`}`)
    return 'saved'
  } catch (error) {
    const problem = `save failed, the job goes on: ${stringifyError(error)}`
    core.warning(`${plan.kind}: ${problem}`)
    entry.problems.push(problem)
    return 'failed'
  }
}

function said<T>(outcome: T, message: string): T {
  core.info(message)
  return outcome
}
