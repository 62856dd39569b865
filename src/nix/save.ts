import * as core from '@actions/core'
import { type LedgerEntry, warnAbout } from '../ledger.js'
import { formatBytes } from '../report/format.js'
import { readJson } from '../util/atomic.js'
import { stringifyError } from '../util/errors.js'
import { choosePrunable, hashPartOf, listCache, type NixAccount, type PathTally, readLastUsed, removeEntries, stampUsed, tally, writeLastUsed } from './binary-cache.js'
import { copyToCache } from './copy.js'
import { baselineFile, type NixCacheSettings, type NixRestoreRecord, recordFile } from './restore.js'
import { withKeyFile } from './signing.js'
import { listValidPaths, newPaths, type Origin, originOf, type PathInfo, pathInfos, readPathList } from './store-paths.js'

/**
 * Before the nix kind is measured and saved: classify the store paths the job added, copy them into the
 * binary cache directory (when this run may add to it), prune it. Returns the figures, or null when Nix was
 * not set up in main; never fails the job.
 */
export async function collectNixPaths(settings: NixCacheSettings, entry: LedgerEntry, snapshotDir: string, mayAdd: boolean): Promise<NixAccount | null> {
  return core.group('Collect Nix store paths', async () => {
    try {
      return await collect(settings, snapshotDir, mayAdd)
    } catch (error) {
      warnAbout(entry, `collecting Nix store paths failed, the cache is saved as restored: ${stringifyError(error)}`)
      return null
    }
  })
}

async function collect(settings: NixCacheSettings, snapshotDir: string, mayAdd: boolean): Promise<NixAccount | null> {
  const record = await readJson<NixRestoreRecord>(recordFile(snapshotDir))
  if (!record) {
    core.info('Nix was not set up in the main step; the cache directory is saved as it is.')
    return null
  }
  const valid = await listValidPaths()
  const added = await pathInfos(newPaths(await readPathList(baselineFile(snapshotDir)), valid))
  const byOrigin = classify(added, new Set(record.accepted))
  const account: NixAccount = {
    built: tally(byOrigin.built),
    fromCache: tally(byOrigin.fromCache),
    fromUpstream: tally(byOrigin.fromUpstream),
    copied: { paths: 0, narBytes: 0 },
    pruned: { paths: 0, narBytes: 0 }
  }
  logAccount(account)
  const dir = settings.dir
  if (!record.saveable || !mayAdd) {
    core.info('Not adding to the binary cache: it belongs to another store, or this run does not save.')
    return account
  }
  const before = await listCache(dir)
  const missing = added.filter(info => !before.entries.has(hashPartOf(info.path))).map(info => info.path)
  if (missing.length > 0) await withKeyFile(settings.signing, file => copyToCache(dir, missing, file))
  const after = await listCache(dir)
  account.copied = tally([...after.entries.values()].filter(info => !before.entries.has(info.hash)))
  account.pruned = await prune(dir, after.entries, new Set(valid.map(hashPartOf)), settings)
  core.info(`Binary cache: ${fmt(account.copied)} added, ${fmt(account.pruned)} pruned`)
  return account
}

function classify(infos: PathInfo[], accepted: Set<string>): Record<Origin, PathInfo[]> {
  const groups: Record<Origin, PathInfo[]> = { built: [], fromCache: [], fromUpstream: [] }
  for (const info of infos) groups[originOf(info, accepted)].push(info)
  return groups
}

/** Stamps what this run's store holds as used today, then drops what is stale or over the size limit. */
async function prune(dir: string, entries: Awaited<ReturnType<typeof listCache>>['entries'], validHashes: Set<string>, settings: NixCacheSettings): Promise<PathTally> {
  const today = new Date()
  const used = new Set([...entries.keys()].filter(hash => validHashes.has(hash)))
  const lastUsed = stampUsed(await readLastUsed(dir), entries, used, today.toISOString().slice(0, 10))
  const drop = choosePrunable(entries, lastUsed, { maxBytes: settings.maxBytes, maxAgeMs: settings.maxAgeMs, now: today })
  if (drop.size > 0) await removeEntries(dir, entries, drop)
  for (const hash of drop) delete lastUsed[hash]
  await writeLastUsed(dir, lastUsed)
  return tally([...entries.values()].filter(info => drop.has(info.hash)))
}

function logAccount(account: NixAccount): void {
  core.info(`New store paths: built here ${fmt(account.built)}; from the restored cache ${fmt(account.fromCache)}; downloaded from upstream ${fmt(account.fromUpstream)}`)
}

function fmt(t: PathTally): string {
  return `${t.paths} (${formatBytes(t.narBytes)})`
}
