import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import { type LedgerEntry, warnAbout } from '../ledger.js'
import { writeFileAtomic } from '../util/atomic.js'
import { stringifyError } from '../util/errors.js'
import { toolVersion } from '../util/exec.js'
import { fingerprintOf, listCache, type NarInfo, readCacheInfo } from './binary-cache.js'
import { run } from './cli.js'
import {
  CACHE_PRIORITY,
  exportSubstituter,
  gatherTrustFacts,
  listSetting,
  readNixSettings,
  requiresSignatures,
  substituterAccepted,
  substituterUrl,
  type TrustFacts,
  untrustedAdvice
} from './settings.js'
import { askedBefore, describePriority, otherSubstituters, priorityAhead } from './substituters.js'
import { keyName, type SigningKey, verifySignature } from './signing.js'
import { listValidPaths, writePathList } from './store-paths.js'

/** The nix kind's settings once planned: the input's, with the signing key resolved. */
export interface NixCacheSettings {
  dir: string
  /** Keys the restored cache may be signed with: nix-public-keys and the signing key's public half. */
  publicKeys: string[]
  trusted: boolean
  signing: SigningKey | null
  maxBytes: number
  maxAgeMs: number
}

/** What main learnt about Nix and the restored cache, for post (in the run's snapshot directory). */
export interface NixRestoreRecord {
  storeDir: string
  /** False when the directory belongs to another store: post must not add to it. */
  saveable: boolean
  /** Hash parts Nix will accept from the restored cache (signed by a trusted key, or all with nix-trusted). */
  accepted: string[]
  /** The restored cache's substituter priority: where post puts it among the stores Nix asks. */
  priority: number
}

export function recordFile(snapshotDir: string): string {
  return path.join(snapshotDir, 'nix.json')
}

export function baselineFile(snapshotDir: string): string {
  return path.join(snapshotDir, 'nix-valid-paths.txt')
}

/**
 * After the restore: check the binary cache, make it the first substituter of every later step, and
 * record the store's valid paths so post can tell which ones the job added. Never fails the job.
 */
export async function setUpNix(settings: NixCacheSettings, entry: LedgerEntry, snapshotDir: string): Promise<void> {
  await core.group('Nix substituter', async () => {
    try {
      await setUp(settings, entry, snapshotDir)
    } catch (error) {
      warnAbout(entry, `setting up the Nix cache failed, builds go on without it: ${stringifyError(error)}`)
    }
  })
}

async function setUp(settings: NixCacheSettings, entry: LedgerEntry, snapshotDir: string): Promise<void> {
  if ((await toolVersion('nix')) === null) {
    warnAbout(
      entry,
      'nix is not installed (no working `nix` on PATH): the cache directory is restored and saved, but nothing uses it. Install Nix before this action.'
    )
    return
  }
  const storeDir = JSON.parse(await run('nix-instantiate', ['--eval', '-E', 'builtins.storeDir'])) as string
  await writePathList(baselineFile(snapshotDir), await listValidPaths())
  // Which caches Nix accepts is for Nix to say: its effective require-sigs and trusted-public-keys.
  const nixConf = await readNixSettings()
  const trustedKeys = [...listSetting(nixConf, 'trusted-public-keys'), ...settings.publicKeys]
  const check = await checkCache(settings.dir, storeDir, trustedKeys, settings.trusted, requiresSignatures(nixConf))
  for (const problem of check.problems) warnAbout(entry, problem)
  for (const note of check.notes) core.info(note)
  if (check.accepted.length === 0) {
    await writeRecord(snapshotDir, { storeDir, saveable: check.saveable, accepted: [], priority: CACHE_PRIORITY })
    return
  }
  // The settings were read before our conf is exported, whose extra-trusted-public-keys the daemon would not see.
  const facts = await gatherTrustFacts(nixConf)
  const { url, priority } = await firstSubstituter(settings, nixConf, facts, entry)
  await writeRecord(snapshotDir, { storeDir, saveable: check.saveable, accepted: check.accepted, priority })
  await exportSubstituter(path.join(snapshotDir, 'nix.conf'), url, settings.publicKeys)
  core.info(`Later steps substitute from ${url} first (${check.accepted.length} store paths)`)
  if (!substituterAccepted(facts, url, settings.publicKeys)) warnAbout(entry, untrustedAdvice(facts, url, settings.publicKeys))
}

async function writeRecord(snapshotDir: string, record: NixRestoreRecord): Promise<void> {
  await writeFileAtomic(recordFile(snapshotDir), JSON.stringify(record))
}

/**
 * The restored cache's URL, with a priority that has Nix ask it before every other substituter it is
 * configured with: 10 when that already does (cache.nixos.org is 40), else one below the lowest (an HTTP
 * cache whose nix-cache-info names no Priority counts as 0). A daemon that allows only the URL its admin
 * listed (priority 10) would ignore a lowered one: then that URL stays, and a warning says what Nix asks first.
 */
async function firstSubstituter(
  settings: NixCacheSettings,
  nixConf: Map<string, string>,
  facts: TrustFacts,
  entry: LedgerEntry
): Promise<{ url: string; priority: number }> {
  const others = await otherSubstituters(nixConf, settings.dir)
  for (const other of others) core.info(`Nix also substitutes from ${describePriority(other)}`)
  const priority = priorityAhead(others, CACHE_PRIORITY)
  const url = substituterUrl(settings.dir, settings.trusted, priority)
  if (priority === CACHE_PRIORITY) return { url, priority }
  const ahead = askedBefore(others, CACHE_PRIORITY).map(describePriority).join(', ')
  const usual = substituterUrl(settings.dir, settings.trusted)
  if (!substituterAccepted(facts, url, settings.publicKeys) && substituterAccepted(facts, usual, settings.publicKeys)) {
    warnAbout(
      entry,
      `Nix asks ${ahead} before the restored cache, and the nix-daemon allows the cache only as ${usual}: store paths both hold are downloaded again. ` +
        `Give those substituters a priority above ${CACHE_PRIORITY} (?priority=40 on their URL), or allow ${url} in trusted-substituters too.`
    )
    return { url: usual, priority: CACHE_PRIORITY }
  }
  core.info(`The restored cache gets priority ${priority}, so that Nix asks it before ${ahead}`)
  return { url, priority }
}

interface CacheCheck {
  saveable: boolean
  accepted: string[]
  /** Faults a person should act on (annotations and summary lines). */
  problems: string[]
  notes: string[]
}

/**
 * Validates a restored file:// cache before Nix sees it: the store it was made for, narinfos that do not
 * parse or lack their NAR (removed, so Nix never trips on them), and signatures Nix will accept.
 */
export async function checkCache(
  dir: string,
  storeDir: string,
  trustedKeys: string[],
  trusted: boolean,
  requireSigs = true
): Promise<CacheCheck> {
  const info = await readCacheInfo(dir)
  if (info === null)
    return { saveable: true, accepted: [], problems: [], notes: [`No binary cache in ${dir} yet; this job's store paths will start one.`] }
  const cacheStore = info.get('StoreDir')
  if (cacheStore !== storeDir) {
    const problem = `the restored cache ${dir} is for the Nix store ${cacheStore ?? '(none given)'}, but this Nix uses ${storeDir}: not using it and not adding to it. Give this runner its own nix-dir or key-prefix.`
    return { saveable: false, accepted: [], problems: [problem], notes: [] }
  }
  const listing = await listCache(dir)
  const broken = [...listing.corrupt, ...(await withoutNar(dir, listing.entries)).map(i => `${i.hash}.narinfo`)]
  for (const name of broken) {
    listing.entries.delete(name.slice(0, -'.narinfo'.length))
    await fs.rm(path.join(dir, name), { force: true })
  }
  const problems =
    broken.length > 0
      ? [
          `removed ${broken.length} corrupt narinfo file(s) from the restored cache (first: ${broken[0]}); Nix fetches or builds those paths instead.`
        ]
      : []
  const entries = [...listing.entries.values()]
  const unchecked = trusted
    ? ' (nix-trusted: signatures not checked)'
    : !requireSigs
      ? ' (require-sigs = false: Nix takes them unsigned)'
      : ''
  const accepted = unchecked
    ? entries
    : entries.filter(e => e.sigs.some(sig => trustedKeys.some(key => verifySignature(fingerprintOf(e, storeDir), sig, key))))
  const notes = [`Restored binary cache: ${entries.length} store paths, ${accepted.length} usable${unchecked}.`]
  if (entries.length > 0 && accepted.length === 0) problems.push(signatureProblem(entries, trustedKeys))
  else if (accepted.length < entries.length)
    notes.push(`${entries.length - accepted.length} store paths carry no signature by a trusted key; Nix fetches or builds those instead.`)
  return { saveable: true, accepted: accepted.map(e => e.hash), problems, notes }
}

async function withoutNar(dir: string, entries: Map<string, NarInfo>): Promise<NarInfo[]> {
  const missing: NarInfo[] = []
  for (const info of entries.values()) {
    const nar = path.resolve(dir, info.url)
    if (!nar.startsWith(dir + path.sep) || !(await fs.stat(nar).catch(() => null))?.isFile()) missing.push(info)
  }
  return missing
}

function signatureProblem(entries: NarInfo[], trustedKeys: string[]): string {
  const signers = [...new Set(entries.flatMap(e => e.sigs.map(keyName)))]
  const trustedNames = trustedKeys.map(keyName).join(', ') || 'none'
  if (signers.length === 0) {
    return `the restored cache is unsigned, so Nix refuses it and fetches or builds everything again: set nix-signing-key (and keep the same key) or nix-trusted: true.`
  }
  return `the restored cache is signed by ${signers.join(', ')} but no signature verifies with the trusted keys (${trustedNames}), so Nix refuses it and fetches or builds instead: check nix-public-keys and nix-signing-key.`
}
