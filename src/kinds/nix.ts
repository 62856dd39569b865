import type { LedgerEntry } from '../ledger.js'
import type { NixAccount } from '../nix/binary-cache.js'
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
 * from that classification, since the directory diff cannot tell a path built here from one downloaded.
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
    return {
      downloadedBytes: account.fromUpstream.narBytes,
      reusedBytes: account.fromCache.narBytes,
      explanation: `Downloaded from upstream caches: ${formatBytes(account.fromUpstream.narBytes)}; reused from cache: ${formatBytes(account.fromCache.narBytes)} (NAR sizes)`
    }
  },

  summarize(entry: LedgerEntry) {
    const account = (entry.details as NixDetails | undefined)?.nix
    if (!account) return []
    const row = (label: string, t: { paths: number; narBytes: number }) => `| ${label} | ${t.paths} | ${formatBytes(t.narBytes)} |`
    return [
      '| Nix store paths | Paths | NAR bytes |',
      '| --- | ---: | ---: |',
      row('built on this runner', account.built),
      row('from the restored cache', account.fromCache),
      row('downloaded from upstream caches', account.fromUpstream),
      row('added to the cache', account.copied),
      row('pruned from the cache', account.pruned)
    ]
  }
}
