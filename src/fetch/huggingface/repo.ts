/** A Hub repository and the revision asked for. */
export interface RepoRef {
  type: 'model' | 'dataset'
  /** `org/name`. */
  id: string
  /** Branch, tag, `refs/pr/N` or a 40-hex commit; `main` when not given. */
  revision: string
}

/** Hub names: letters, digits, `-`, `_`, `.`; `--` and `..` are reserved (the cache folder uses `--`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/
export const COMMIT = /^[0-9a-f]{40}$/

/** Parses `org/name[@revision]` or `datasets/org/name[@revision]`. */
export function parseRepoRef(spec: string): RepoRef {
  const at = spec.indexOf('@')
  const name = at < 0 ? spec : spec.slice(0, at)
  const revision = at < 0 ? 'main' : spec.slice(at + 1)
  const parts = name.split('/')
  const type = parts.length === 3 && parts[0] === 'datasets' ? 'dataset' : 'model'
  const [org, repo] = type === 'dataset' ? parts.slice(1) : parts
  const valid = (s: string | undefined) => s !== undefined && NAME.test(s) && !s.includes('--') && !s.includes('..')
  if (parts.length !== (type === 'dataset' ? 3 : 2) || !valid(org) || !valid(repo)) {
    throw new Error(`"${spec}" is not a Hub repo: expected org/name[@revision] or datasets/org/name[@revision]`)
  }
  if (revision === '' || /\s|\.\.|^\/|\/$|\\/.test(revision)) throw new Error(`"${spec}": bad revision "${revision}"`)
  return { type, id: `${org}/${repo}`, revision }
}

/** `org/name` or `datasets/org/name`: how users and messages name the repo. */
export function displayName(ref: Pick<RepoRef, 'type' | 'id'>): string {
  return ref.type === 'dataset' ? `datasets/${ref.id}` : ref.id
}

/**
 * A path from the Hub's listing, accepted only if it stays inside the snapshot: relative, `/`-
 * separated, no `.`/`..`/empty segments, no backslashes or NULs (a hostile or broken API must not
 * make us write outside the cache).
 */
export function assertSafeRepoPath(p: string): void {
  const segments = p.split('/')
  const bad =
    p === '' || p.includes('\\') || p.includes('\0') || /^[A-Za-z]:/.test(p) || segments.some(s => s === '' || s === '.' || s === '..')
  if (bad) throw new Error(`the Hub listed an unsafe file path ${JSON.stringify(p)}; refusing to write it`)
}
