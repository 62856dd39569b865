import type { LedgerEntry } from '../ledger.js'
import type { NixAccount, PathTally } from '../nix/binary-cache.js'
import { type NixCacheSettings, setUpNix } from '../nix/restore.js'
import { collectNixPaths } from '../nix/save.js'
import { resolveSigningKey } from '../nix/signing.js'
import { formatBytes } from '../report/format.js'
import { toolVersion } from '../util/exec.js'
import { type CacheKind, platformParts, rolePart } from './kind.js'

/** The nix kind's ledger details: the job's new store paths by origin, and what the save did to the cache. */
interface NixDetails {
  nix: NixAccount
}

/**
 * A `file://` binary cache (see src/nix/): once restored it becomes the first substituter of every later
 * step; before saving, the store paths the job added are classified and copied into it. Its figures come
 * from that classification, since the directory diff cannot tell a path built here from one downloaded:
 * downloaded is the compressed bytes upstream caches sent (their narinfos' FileSize), reused what the
 * restored cache holds for the paths Nix took from it.
 */
export const nix: CacheKind = {
  name: 'nix',

  async plan({ config, inPlaceDir }) {
    const signing = await resolveSigningKey(config.nix.signingKey)
    const version = await toolVersion('nix')
    const settings: NixCacheSettings = {
      dir: inPlaceDir ?? config.nix.dir,
      publicKeys: [...new Set([...config.nix.publicKeys, ...(signing ? [signing.publicKey] : [])])],
      trusted: config.nix.trusted,
      signing,
      maxBytes: config.nix.maxBytes,
      maxAgeMs: config.nix.maxAgeMs
    }
    return {
      parts: [rolePart('nix-binary-cache', settings.dir)],
      exclude: [],
      notes: ['file:// binary cache directory (nix-cache-info, *.narinfo, nar/)'],
      keyParts: [...platformParts(), { name: 'nix', value: `nix${version ?? '-none'}`, source: 'nix --version' }],
      droppable: 0,
      inPlace: inPlaceDir !== null,
      data: settings
    }
  },

  async afterRestore({ plan, entry, snapshotDir }) {
    await setUpNix(plan.data as NixCacheSettings, entry, snapshotDir)
  },

  async beforeSave({ config, plan, entry, mode, snapshotDir }) {
    const account = await collectNixPaths(plan.data as NixCacheSettings, entry, snapshotDir, mode.write && config.save !== 'never')
    if (account) entry.details = { nix: account } satisfies NixDetails
  },

  account(entry) {
    const account = (entry.details as NixDetails | undefined)?.nix
    if (!account) return null
    const { fromUpstream, fromCache } = account
    return {
      downloadedBytes: fromUpstream.fileBytes,
      reusedBytes: fromCache.fileBytes,
      explanation:
        `Downloaded from upstream caches: ${formatBytes(fromUpstream.fileBytes)} over the wire (${formatBytes(fromUpstream.narBytes)} as NARs); ` +
        `reused from the restored cache: ${formatBytes(fromCache.fileBytes)} as it stores them (${formatBytes(fromCache.narBytes)} as NARs)`
    }
  },

  summarize(entry: LedgerEntry) {
    const account = (entry.details as NixDetails | undefined)?.nix
    if (!account) return []
    const row = (label: string, t: PathTally, compressed = true) =>
      `| ${label} | ${t.paths} | ${formatBytes(t.narBytes)} | ${compressed ? formatBytes(t.fileBytes) : '–'} |`
    return [
      '| Nix store paths | Paths | NAR bytes | Compressed bytes |',
      '| --- | ---: | ---: | ---: |',
      row('built on this runner', account.built, false),
      row('from the restored cache', account.fromCache),
      row('downloaded from upstream caches', account.fromUpstream),
      ...(account.unattributed.paths > 0 ? [row('… from a store qdc cannot see (counted at NAR size)', account.unattributed)] : []),
      row('added to the cache', account.copied),
      row('pruned from the cache', account.pruned)
    ]
  }
}
