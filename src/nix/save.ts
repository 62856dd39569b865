import * as core from '@actions/core'
import { type LedgerEntry, warnAbout } from '../ledger.js'
import { formatBytes } from '../report/format.js'
import { readJson } from '../util/atomic.js'
import { stringifyError } from '../util/errors.js'
import {
  choosePrunable,
  hashPartOf,
  listCache,
  type NixAccount,
  type PathTally,
  readLastUsed,
  removeEntries,
  stampUsed,
  tally,
  writeLastUsed
} from './binary-cache.js'
import { copyToCache } from './copy.js'
import { type PathOrigin, type SourceStore, tracePaths } from './origins.js'
import { baselineFile, type NixCacheSettings, type NixRestoreRecord, recordFile } from './restore.js'
import { readNixSettings } from './settings.js'
import { withKeyFile } from './signing.js'
import { listValidPaths, newPaths, pathInfos, readPathList } from './store-paths.js'
import { askedBefore, describePriority, inNixOrder, otherSubstituters, type Substituter } from './substituters.js'

/**
 * Before the nix kind is measured and saved: classify the store paths the job added, copy them into the
 * binary cache directory (when this run may add to it), prune it. Returns the figures, or null when Nix was
 * not set up in main; never fails the job.
 */
export async function collectNixPaths(
  settings: NixCacheSettings,
  entry: LedgerEntry,
  snapshotDir: string,
  mayAdd: boolean
): Promise<NixAccount | null> {
  return core.group('Collect Nix store paths', async () => {
    try {
      return await collect(settings, entry, snapshotDir, mayAdd)
    } catch (error) {
      warnAbout(entry, `collecting Nix store paths failed, the cache is saved as restored: ${stringifyError(error)}`)
      return null
    }
  })
}

async function collect(settings: NixCacheSettings, entry: LedgerEntry, snapshotDir: string, mayAdd: boolean): Promise<NixAccount | null> {
  const record = await readJson<NixRestoreRecord>(recordFile(snapshotDir))
  if (!record) {
    core.info('Nix was not set up in the main step; the cache directory is saved as it is.')
    return null
  }
  const valid = await listValidPaths()
  const added = await pathInfos(newPaths(await readPathList(baselineFile(snapshotDir)), valid))
  const { stores, others } = await sourceStores(settings.dir, record)
  const origins = await tracePaths(added, stores)
  const account: NixAccount = {
    built: tallyOrigins(origins, o => o.origin === 'built'),
    fromCache: tallyOrigins(origins, o => o.origin === 'fromCache'),
    fromUpstream: tallyOrigins(origins, o => o.origin === 'fromUpstream'),
    unattributed: tallyOrigins(origins, o => o.origin === 'fromUpstream' && o.store === null),
    copied: { paths: 0, narBytes: 0, fileBytes: 0 },
    pruned: { paths: 0, narBytes: 0, fileBytes: 0 }
  }
  logAccount(account, origins)
  for (const problem of accountingProblems(origins, new Set(record.accepted), others, record.priority)) warnAbout(entry, problem)
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

/**
 * The stores Nix substitutes from, in the order it asks them: the substituters as post finds them
 * configured (a later step may have added one) and the restored cache at the priority main gave it.
 */
async function sourceStores(dir: string, record: NixRestoreRecord): Promise<{ stores: SourceStore[]; others: Substituter[] }> {
  const others = await otherSubstituters(await readNixSettings().catch(() => new Map<string, string>()), dir)
  const restored: SourceStore = { url: `file://${dir}`, priority: record.priority, accepted: new Set(record.accepted) }
  // Listed last: among equal priorities Nix asks ours (an extra-substituter) last.
  return { stores: inNixOrder([...others, restored]), others }
}

function tallyOrigins(origins: PathOrigin[], which: (o: PathOrigin) => boolean): PathTally {
  return tally(origins.filter(which).map(o => ({ narSize: o.info.narSize, fileSize: o.fileSize })))
}

/**
 * What makes the figures or the cache less than they should be, each a warning: paths the restored cache
 * holds that Nix fetched from elsewhere anyway (downloaded twice, and counted so), and paths whose source
 * qdc cannot see (counted at NAR size, more than crossed the wire).
 */
function accountingProblems(origins: PathOrigin[], accepted: Set<string>, others: Substituter[], priority: number): string[] {
  const problems: string[] = []
  const refetched = origins.filter(o => o.origin === 'fromUpstream' && o.store !== null && accepted.has(hashPartOf(o.info.path)))
  if (refetched.length > 0) {
    const from = [...new Set(refetched.map(o => o.store))].join(', ')
    const ahead = askedBefore(others, priority)
    const why =
      ahead.length > 0
        ? `Nix asks ${ahead.map(describePriority).join(', ')} before the restored cache (priority ${priority}): give it a priority above ${priority}, or configure it before this action, which then puts the cache first`
        : 'Nix did not take them from the restored cache (a substituter given on a command line, or a cache entry it refused)'
    problems.push(
      `${refetched.length} store path(s) the restored cache holds were downloaded again from ${from} (${formatBytes(sum(refetched))}): ${why}.`
    )
  }
  const unseen = origins.filter(o => o.origin === 'fromUpstream' && o.store === null)
  if (unseen.length > 0) {
    const configured = others.map(s => s.url).join(', ') || 'none'
    problems.push(
      `${unseen.length} substituted store path(s) match no narinfo that the substituters Nix is configured with (${configured}) gave qdc: counted as downloaded at their NAR size (${formatBytes(sum(unseen))}), more than crossed the wire.`
    )
  }
  return problems
}

/** The bytes the serving stores hold for these paths (NAR size where no store could be seen). */
function sum(origins: PathOrigin[]): number {
  return origins.reduce((total, o) => total + o.fileSize, 0)
}

/** Stamps what this run's store holds as used today, then drops what is stale or over the size limit. */
async function prune(
  dir: string,
  entries: Awaited<ReturnType<typeof listCache>>['entries'],
  validHashes: Set<string>,
  settings: NixCacheSettings
): Promise<PathTally> {
  const today = new Date()
  const used = new Set([...entries.keys()].filter(hash => validHashes.has(hash)))
  const lastUsed = stampUsed(await readLastUsed(dir), entries, used, today.toISOString().slice(0, 10))
  const drop = choosePrunable(entries, lastUsed, { maxBytes: settings.maxBytes, maxAgeMs: settings.maxAgeMs, now: today })
  if (drop.size > 0) await removeEntries(dir, entries, drop)
  for (const hash of drop) delete lastUsed[hash]
  await writeLastUsed(dir, lastUsed)
  return tally([...entries.values()].filter(info => drop.has(info.hash)))
}

function logAccount(account: NixAccount, origins: PathOrigin[]): void {
  core.info(
    `New store paths: built here ${fmt(account.built)}; from the restored cache ${fmt(account.fromCache)}; downloaded from upstream ${fmt(account.fromUpstream)}`
  )
  const unseen = 'a store qdc cannot see'
  const byStore = new Map<string, PathOrigin[]>()
  for (const o of origins.filter(o => o.origin === 'fromUpstream'))
    byStore.set(o.store ?? unseen, [...(byStore.get(o.store ?? unseen) ?? []), o])
  for (const [store, paths] of byStore) core.info(`  from ${store}: ${paths.length} path(s), ${formatBytes(sum(paths))} over the wire`)
}

/** Paths, NAR bytes and, where a binary cache holds them, its compressed bytes. */
function fmt(t: PathTally): string {
  return `${t.paths} (${formatBytes(t.narBytes)} NAR${t.fileBytes > 0 ? `, ${formatBytes(t.fileBytes)} compressed` : ''})`
}
