import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { Env } from '../constants.js'
import { writeFileAtomic } from '../util/atomic.js'
import { probe } from '../util/exec.js'
import { nix } from './cli.js'

/**
 * Asked before cache.nixos.org (40), nix-serve and harmonia (30) and Cachix (41): a local file beats any
 * network. Lowered at restore when a configured substituter would still come first (see substituters.ts).
 */
export const CACHE_PRIORITY = 10

export function substituterUrl(dir: string, trusted: boolean, priority = CACHE_PRIORITY): string {
  return `file://${dir}?priority=${priority}${trusted ? '&trusted=1' : ''}`
}

/** The nix.conf lines that make the restored cache a substituter for every later step. */
export function substituterConf(url: string, publicKeys: string[]): string {
  return [
    '# Written by qdc-action: the restored binary cache, asked first; on any fault Nix builds instead.',
    `extra-substituters = ${url}`,
    ...(publicKeys.length > 0 ? [`extra-trusted-public-keys = ${publicKeys.join(' ')}`] : []),
    'fallback = true',
    ''
  ].join('\n')
}

/**
 * NIX_USER_CONF_FILES replaces Nix's default user files, so the list keeps them (or the value already
 * set). Nix applies the list last to first, so ours goes first: a plain `substituters =` in the user's
 * own file cannot reset it.
 */
export function userConfFiles(ours: string, env: NodeJS.ProcessEnv = process.env): string {
  const existing = env[Env.NixUserConfFiles]
  if (existing) return `${ours}:${existing}`
  const home = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config')
  const dirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean)
  return [ours, ...[home, ...dirs].map(d => path.join(d, 'nix', 'nix.conf'))].join(':')
}

/** Writes the conf file and exports it for later steps (GITHUB_ENV) and for this process's own nix calls. */
export async function exportSubstituter(confFile: string, url: string, publicKeys: string[]): Promise<void> {
  await writeFileAtomic(confFile, substituterConf(url, publicKeys))
  core.exportVariable(Env.NixUserConfFiles, userConfFiles(confFile))
}

export interface TrustFacts {
  user: string
  groups: string[]
  root: boolean
  /** The store is opened directly (single-user install, root, NIX_REMOTE=local): no daemon to ask. */
  localStore: boolean
  /** What the store says of this user (`nix store info --json`, Nix ≥ 2.15 or so); null when this Nix does not say (2.8). */
  trustedByStore?: boolean | null
  trustedUsers: string[]
  trustedSubstituters: string[]
  /** Keys the daemon checks signatures with: an untrusted user's extra-trusted-public-keys are dropped. */
  trustedPublicKeys?: string[]
  /** Effective `require-sigs`: false means Nix takes substitutes whether signed or not. */
  requireSigs?: boolean
}

/**
 * Nix's effective settings, as Nix itself reports them (nix.conf files, NIX_CONFIG, defaults): `nix config
 * show`, or `nix show-config` on a Nix that predates it (2.8), which newer ones keep only as a deprecated alias.
 */
export async function readNixSettings(): Promise<Map<string, string>> {
  let text: string
  try {
    text = await nix(['config', 'show'])
  } catch {
    text = await nix(['show-config'])
  }
  return parseShowConfig(text)
}

/** Effective `require-sigs` (default true). */
export function requiresSignatures(settings: Map<string, string>): boolean {
  return settings.get('require-sigs') !== 'false'
}

/** From Nix's settings as read before qdc exported its own conf, the store's answer, and who this process runs as. */
export async function gatherTrustFacts(config: Map<string, string>): Promise<TrustFacts> {
  const user = os.userInfo().username
  const groups = ((await probe('id', ['-Gn'])) ?? '').split(/\s+/).filter(Boolean)
  return {
    user,
    groups,
    root: process.getuid?.() === 0,
    localStore: await opensStoreDirectly(config.get('store') ?? 'auto'),
    trustedByStore: await storeTrust(),
    trustedUsers: listSetting(config, 'trusted-users'),
    trustedSubstituters: listSetting(config, 'trusted-substituters'),
    trustedPublicKeys: listSetting(config, 'trusted-public-keys'),
    requireSigs: requiresSignatures(config)
  }
}

/**
 * Whether the store (the daemon, for a multi-user install) trusts this user, as it says itself: `trusted` in
 * `nix store info --json` (`nix store ping --json` before `info` existed). Null when this Nix has no such
 * answer (2.8 has no --json there): then trusted-users is read instead.
 */
export async function storeTrust(): Promise<boolean | null> {
  for (const command of [
    ['store', 'info', '--json'],
    ['store', 'ping', '--json']
  ]) {
    let parsed: unknown
    try {
      parsed = JSON.parse(await nix(command))
    } catch {
      continue
    }
    const trusted = (parsed as { trusted?: unknown } | null)?.trusted
    if (trusted === 1 || trusted === true) return true
    if (trusted === 0 || trusted === false) return false
    return null
  }
  return null
}

/** A whitespace-separated list setting; empty when unset. */
export function listSetting(config: Map<string, string>, name: string): string[] {
  return (config.get(name) ?? '').split(/\s+/).filter(Boolean)
}

export function parseShowConfig(text: string): Map<string, string> {
  const settings = new Map<string, string>()
  for (const line of text.split('\n')) {
    const eq = line.indexOf(' = ')
    if (eq > 0) settings.set(line.slice(0, eq).trim(), line.slice(eq + 3).trim())
  }
  return settings
}

/** `auto` (the default) opens the store itself when it may write the database, else talks to the daemon. */
async function opensStoreDirectly(store: string): Promise<boolean> {
  const remote = process.env.NIX_REMOTE || store
  if (remote === 'daemon' || remote.startsWith('unix://') || remote.startsWith('ssh')) return false
  if (remote !== 'auto') return true
  const db = path.join(process.env.NIX_STATE_DIR || '/nix/var/nix', 'db')
  return fs.access(db, fs.constants.W_OK).then(
    () => true,
    () => false
  )
}

/**
 * Whether the nix-daemon (if any) will honour our extra substituter for this user. A URL in
 * trusted-substituters is not enough: the daemon still checks signatures with its own keys only.
 */
export function substituterAccepted(facts: TrustFacts, url: string, publicKeys: string[] = []): boolean {
  if (facts.root || facts.localStore) return true
  const trustedUser =
    facts.trustedByStore ??
    facts.trustedUsers.some(
      entry => entry === '*' || entry === facts.user || (entry.startsWith('@') && facts.groups.includes(entry.slice(1)))
    )
  if (trustedUser) return true
  const signaturesPass =
    facts.requireSigs === false ||
    new URL(url).searchParams.get('trusted') === '1' ||
    publicKeys.every(key => facts.trustedPublicKeys?.includes(key))
  return facts.trustedSubstituters.includes(url) && signaturesPass
}

/** What a self-hosted runner's admin adds to the NixOS configuration so the daemon uses the cache. */
export function untrustedAdvice(facts: TrustFacts, url: string, publicKeys: string[]): string {
  const lines = [
    `Nix: the nix-daemon does not trust user '${facts.user}', so it ignores the restored cache ${url} and downloads or builds everything again.`,
    'An admin of this runner can allow it in the NixOS configuration:',
    `  nix.settings.trusted-substituters = [ "${url}" ];`,
    ...(publicKeys.length > 0 ? [`  nix.settings.trusted-public-keys = [ ${publicKeys.map(k => `"${k}"`).join(' ')} ];`] : []),
    `or trust the runner's user entirely: nix.settings.trusted-users = [ "${facts.user}" ];`
  ]
  return lines.join('\n')
}
