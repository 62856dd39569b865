import * as crypto from 'node:crypto'
import { REVISION_SEPARATOR } from '../constants.js'
import { ARCHIVE_COMPRESSION } from './archive.js'
import { type ArchiveSpec, partIdentities } from './backend.js'

/*
 * The manifest of an entry in a store qdc owns: what the entry is (its identity), which archive holds each
 * part, and each archive's size and SHA-256. The identity names no machine: part names, the store format
 * and the compression. Its hash is the entry's version, so an entry made on one runner is found on another.
 */

/**
 * 2: parts are named by role or spelling and archived relative to themselves. 1 (before portable entries):
 * parts were absolute paths of the machine that saved them; such entries still list, verify and prune,
 * but never restore.
 */
export const STORE_FORMAT = 2

export interface EntryIdentity {
  format: number
  compression: string
  /** `role:<name>` or `spelled:<spelling>`, in the spec's order. */
  parts: string[]
}

export type StoredPart =
  { name: string; kind: 'missing' } | { name: string; kind: 'tree' | 'file'; file: string; sha256: string; bytes: number }

export interface EntryMeta {
  format: number
  key: string
  version: string
  saveId: string
  /** Milliseconds since the epoch. */
  created: number
  lastUsed: number
  /** Absent from format 1 entries. */
  identity?: EntryIdentity
  /** Index-aligned with identity.parts. */
  parts: StoredPart[]
  /** The cache kind saved (entries written before it was recorded have none). */
  kind?: string
}

/** What `qdc stats`, `prune` and `clear` know of an entry, whichever store holds it. */
export interface EntryInfo {
  key: string
  kind?: string
  version: string
  /** Compressed bytes of the entry's archives. */
  bytes: number
  /** Milliseconds since the epoch. */
  created: number
  lastUsed: number
}

/** What `qdc verify` found for one entry. */
export interface EntryCheck {
  key: string
  kind?: string
  bytes: number
  /** null when every archive matches its recorded size and SHA-256. */
  problem: string | null
}

const ARCHIVE_NAME = /^[0-9a-f]{16}-\d+\.tar\.zst$/

/** A save's random id: it names the save's archives, so no save ever overwrites another's. */
export function newSaveId(): string {
  return crypto.randomBytes(8).toString('hex')
}

/** The archive of part `index` of save `saveId`. */
export function archiveFileName(saveId: string, index: number): string {
  return `${saveId}-${index}.tar.zst`
}

/** The manifest of a save whose parts are archived (and hashed) already. */
export function newEntryMeta(spec: ArchiveSpec, key: string, saveId: string, parts: StoredPart[], now: number): EntryMeta {
  const identity = identityOf(spec)
  return {
    format: STORE_FORMAT,
    key,
    version: versionOf(identity),
    saveId,
    created: now,
    lastUsed: now,
    identity,
    parts,
    ...(spec.kind ? { kind: spec.kind } : {})
  }
}

export function entryInfo(meta: EntryMeta): EntryInfo {
  return { key: meta.key, kind: meta.kind, version: meta.version, bytes: entryBytes(meta), created: meta.created, lastUsed: meta.lastUsed }
}

export function identityOf(spec: ArchiveSpec): EntryIdentity {
  return { format: STORE_FORMAT, compression: ARCHIVE_COMPRESSION, parts: partIdentities(spec) }
}

export function versionOf(identity: EntryIdentity): string {
  return sha256(JSON.stringify(identity))
}

export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex')
}

export function entryBytes(meta: EntryMeta): number {
  return meta.parts.reduce((sum, part) => sum + (part.kind === 'missing' ? 0 : part.bytes), 0)
}

export function archiveFiles(meta: EntryMeta): string[] {
  return meta.parts.flatMap(part => (part.kind === 'missing' ? [] : [part.file]))
}

/**
 * What is wrong with a manifest read from a store that other jobs write to, or null. Everything later used
 * as a file name or an extraction plan is checked here; `dirName`/`versionDir` are where it was found.
 */
export function metaProblem(meta: EntryMeta, keyHash: string, versionDir: string): string | null {
  if (meta.format !== STORE_FORMAT && meta.format !== 1) return `unknown format ${String(meta.format)}`
  // Lookup by prefix reads key and version from the manifest; they must name the place it sits in.
  if (typeof meta.key !== 'string' || sha256(meta.key) !== keyHash) return 'key does not match its directory'
  if (meta.version !== versionDir) return 'version does not match its directory'
  if (!Number.isFinite(meta.created) || !Number.isFinite(meta.lastUsed)) return 'bad timestamps'
  if (!Array.isArray(meta.parts)) return 'no parts'
  if (meta.format === STORE_FORMAT) {
    const identity = meta.identity
    if (!identity || !Array.isArray(identity.parts) || identity.parts.length !== meta.parts.length) return 'parts do not match the identity'
    if (versionOf(identity) !== meta.version) return 'identity does not match the version'
  }
  for (const part of meta.parts) {
    if (part.kind === 'missing') continue
    if (part.kind !== 'tree' && part.kind !== 'file') return `unknown part kind ${String((part as { kind: unknown }).kind)}`
    if (!ARCHIVE_NAME.test(part.file)) return `bad archive name ${JSON.stringify(part.file)}`
    if (!/^[0-9a-f]{64}$/.test(part.sha256) || !Number.isSafeInteger(part.bytes)) return `bad digest or size for ${part.file}`
  }
  return null
}

/**
 * GitHub's lookup rule, the same in every store qdc owns: the exact key, else for each restore key in order
 * the newest entry it prefixes. Both finders look in the wanted version only.
 */
export async function lookUpEntry<T>(
  key: string,
  restoreKeys: string[],
  exact: (key: string) => Promise<T | null | undefined>,
  newestPrefixed: (prefix: string) => Promise<T | null | undefined>
): Promise<T | undefined> {
  const hit = await exact(key)
  if (hit) return hit
  for (const prefix of restoreKeys) {
    const found = await newestPrefixed(prefix)
    if (found) return found
  }
  return undefined
}

/** The entries a miss on `key` is explained by: the key itself and its revisions. */
export function isKeyOrRevision(candidate: string, key: string): boolean {
  return candidate === key || candidate.startsWith(key + REVISION_SEPARATOR)
}

/**
 * After a miss: one line naming the newest entry of the key (or a revision) stored under another identity
 * and what of its identity differs; null when there is none, or when nothing differs.
 */
export function otherIdentityNote(others: EntryMeta[], wanted: EntryIdentity): string | null {
  if (others.length === 0) return null
  const other = others.reduce((latest, meta) => (meta.created > latest.created ? meta : latest))
  const difference = identityDifference(other, wanted)
  return difference ? `The store holds ${other.key} under another identity, so it does not match: ${difference}.` : null
}

/**
 * One line saying why an entry stored under the wanted key is not this one: which part of the identity
 * differs. null when the identities agree.
 */
export function identityDifference(stored: EntryMeta, wanted: EntryIdentity): string | null {
  if (stored.format !== wanted.format || !stored.identity) {
    return `it was saved in store format ${stored.format}${stored.format === 1 ? ' (before entries were portable: tied to the absolute paths of the machine that saved it)' : ''}, this run uses format ${wanted.format}`
  }
  const have = stored.identity
  if (have.compression !== wanted.compression) return `it was compressed with ${have.compression}, this run uses ${wanted.compression}`
  if (JSON.stringify(have.parts) === JSON.stringify(wanted.parts)) return null
  const missing = wanted.parts.filter(part => !have.parts.includes(part))
  const extra = have.parts.filter(part => !wanted.parts.includes(part))
  if (missing.length === 0 && extra.length === 0) return `its parts are in another order (${have.parts.map(readable).join(', ')})`
  const said = [
    extra.length > 0 ? `it also holds ${extra.map(readable).join(', ')}` : '',
    missing.length > 0 ? `it lacks ${missing.map(readable).join(', ')}` : ''
  ].filter(Boolean)
  return `its paths differ: ${said.join('; ')}`
}

function readable(identity: string): string {
  const [origin, ...rest] = identity.split(':')
  const name = rest.join(':')
  return origin === 'role' ? name : `'${name}'`
}
