/*
 * Object layout of the s3 store, below the `s3-prefix`:
 *
 *   manifests/<key>/<version>                    the commit point of an entry: its manifest (entry-meta.ts), created once
 *   archives/<key>/<version>/<saveId>-<i>.tar.zst one archive per part (archive.ts), under the save's random id
 *   used/<key>/<version>                         empty; its LastModified is the entry's last restore
 *   documents/<sha256 of the key>.json           a small JSON document replaced whole (the run history)
 *
 * <key> is the cache key with every byte outside [A-Za-z0-9._-] written `!XX`. The encoding is a prefix code,
 * so a restore key's encoding is a prefix of the encoding of every key it prefixes: ListObjectsV2 with
 * `Prefix=manifests/<encoded restore key>` makes the server return exactly the candidates of a lookup,
 * key and LastModified in the listing, and nothing else is read until the newest is chosen. The key comes
 * before the version so that the same listing also finds the key under other identities (to explain a
 * miss). `!` needs no escaping in a URL path that a proxy might decode, unlike `%`.
 */
import { createHash } from 'node:crypto'

/** S3's limit for an object name, in UTF-8 bytes. */
const MAX_NAME_BYTES = 1024
const SAFE = /^[A-Za-z0-9._-]$/
const ESCAPE = '!'
const VERSION = /^[0-9a-f]{64}$/
const ARCHIVE_FILE = /^([0-9a-f]{16})-\d+\.tar\.zst$/
/** The longest name the layout makes for a key: an archive's, `archives/<key>/<version>/<saveId>-<i>.tar.zst`. */
const ARCHIVE_OVERHEAD = 'archives/'.length + 1 + 64 + 1 + 16 + 1 + 6 + '.tar.zst'.length

export function encodeKey(key: string): string {
  let encoded = ''
  for (const char of key) {
    if (SAFE.test(char)) encoded += char
    else for (const byte of Buffer.from(char, 'utf8')) encoded += ESCAPE + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return encoded
}

/** null when `encoded` is not something encodeKey makes. */
export function decodeKey(encoded: string): string | null {
  const bytes: number[] = []
  for (let i = 0; i < encoded.length;) {
    if (encoded[i] === ESCAPE) {
      const hex = encoded.slice(i + 1, i + 3)
      if (!/^[0-9A-F]{2}$/.test(hex)) return null
      bytes.push(parseInt(hex, 16))
      i += 3
    } else if (SAFE.test(encoded[i])) {
      bytes.push(encoded.charCodeAt(i))
      i += 1
    } else {
      return null
    }
  }
  const key = Buffer.from(bytes).toString('utf8')
  // Not the one encoding of its key (invalid UTF-8, a safe character escaped): not ours.
  return encodeKey(key) === encoded ? key : null
}

export interface EntryName {
  key: string
  version: string
}

export interface ArchiveName extends EntryName {
  file: string
  saveId: string
}

export class S3Layout {
  constructor(readonly prefix: string) {}

  get manifestsRoot(): string {
    return `${this.prefix}manifests/`
  }

  get archivesRoot(): string {
    return `${this.prefix}archives/`
  }

  get usedRoot(): string {
    return `${this.prefix}used/`
  }

  get documentsRoot(): string {
    return `${this.prefix}documents/`
  }

  /** Hashed: a document's key may be longer than an object name allows, and is never listed by prefix. */
  document(key: string): string {
    return `${this.documentsRoot}${createHash('sha256').update(key).digest('hex')}.json`
  }

  manifest(key: string, version: string): string {
    return `${this.manifestsRoot}${encodeKey(key)}/${version}`
  }

  /** Where the manifests of every key starting with `keyPrefix` are listed, in every version. */
  manifestsStartingWith(keyPrefix: string): string {
    return `${this.manifestsRoot}${encodeKey(keyPrefix)}`
  }

  archive(key: string, version: string, file: string): string {
    return `${this.archivesRoot}${encodeKey(key)}/${version}/${file}`
  }

  used(key: string, version: string): string {
    return `${this.usedRoot}${encodeKey(key)}/${version}`
  }

  /** Why the store cannot hold `key`, or null: S3 names are at most 1024 bytes. */
  keyProblem(key: string): string | null {
    const longest = Buffer.byteLength(this.prefix) + encodeKey(key).length + ARCHIVE_OVERHEAD
    return longest > MAX_NAME_BYTES
      ? `the key is too long for an S3 object name once encoded (${longest} of at most ${MAX_NAME_BYTES} bytes)`
      : null
  }

  parseManifest(name: string): EntryName | null {
    return this.parseEntry(name, this.manifestsRoot)
  }

  parseUsed(name: string): EntryName | null {
    return this.parseEntry(name, this.usedRoot)
  }

  parseArchive(name: string): ArchiveName | null {
    if (!name.startsWith(this.archivesRoot)) return null
    const segments = name.slice(this.archivesRoot.length).split('/')
    if (segments.length !== 3) return null
    const [encoded, version, file] = segments
    const key = decodeKey(encoded)
    const saveId = ARCHIVE_FILE.exec(file)?.[1]
    if (key === null || !VERSION.test(version) || saveId === undefined) return null
    return { key, version, file, saveId }
  }

  /** `<root><key>/<version>`: anything else below the root (another tool's objects) is not an entry. */
  private parseEntry(name: string, root: string): EntryName | null {
    if (!name.startsWith(root)) return null
    const segments = name.slice(root.length).split('/')
    if (segments.length !== 2) return null
    const key = decodeKey(segments[0])
    return key === null || !VERSION.test(segments[1]) ? null : { key, version: segments[1] }
  }
}
