import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { captureLog, parseLogLine } from '../util/capture.js'
import { runnerTemp } from '../util/temp.js'
import { type ArchivePart, type ArchiveSpec, type CacheBackend, type Miss, missed, type RestoreResult, type SaveResult } from './backend.js'

/**
 * Loaded on first use: the library and its Azure SDK take ~300 ms to load, which runs on the local
 * backend would pay for nothing.
 */
function loadCacheLibrary(): Promise<typeof import('@actions/cache')> {
  return import('@actions/cache')
}

/**
 * The GitHub Actions cache service, through @actions/cache (v2 protocol): no protocol code of our own.
 *
 * The library computes an entry's version from the path strings it is handed and names tar members
 * relative to GITHUB_WORKSPACE; resolved paths would tie an entry to one machine's home and workspace.
 * So every call runs in a directory of links named by the parts' machine-independent names (see
 * `portableNames`): the library is handed `pip-cache/*` or `workspace/build/ccache`, its tar reads and
 * writes through the links, and the same names resolve to this machine's directories wherever they are.
 */
export class GitHubBackend implements CacheBackend {
  readonly name = 'github' as const
  readonly restoresInPlace = false
  /** The library reads the cwd, GITHUB_WORKSPACE and TAR_OPTIONS of the process: one call at a time. */
  private queue: Promise<unknown> = Promise.resolve()

  async restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | Miss> {
    const cache = await loadCacheLibrary()
    const { result: matchedKey, lines } = await this.inLinks(spec, 'restore', patterns =>
      captureLog(() => cache.restoreCache(patterns, key, restoreKeys))
    )
    if (matchedKey) return { matchedKey, archiveBytes: archiveSize(lines, /^Cache Size: ~\d+ MB \((\d+) B\)$/) }
    // The library swallows faults and returns undefined as for a miss; its warning tells them apart.
    const problem = failure(lines, 'Failed to restore: ')
    if (problem) throw new Error(problem)
    return missed(versionNote(lines, spec))
  }

  async save(spec: ArchiveSpec, key: string): Promise<SaveResult> {
    const cache = await loadCacheLibrary()
    const { result: id, lines } = await this.inLinks(spec, 'save', patterns => captureLog(() => cache.saveCache(patterns, key)))
    if (id === -1) throw new Error(failure(lines, 'Failed to save: ') ?? 'the cache service did not accept the entry')
    return { archiveBytes: archiveSize(lines, /^File Size: (\d+)$/) }
  }

  /**
   * Runs one library call with GITHUB_WORKSPACE and the cwd in a fresh directory of links (one per part,
   * see portableNames) and TAR_OPTIONS carrying what our archives need; everything is put back after.
   */
  private async inLinks<T>(spec: ArchiveSpec, mode: 'restore' | 'save', work: (patterns: string[]) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const names = spec.parts.map(portableNames)
      const links = await fs.mkdtemp(path.join(runnerTemp(), 'qdc-links-'))
      const saved = { cwd: process.cwd(), workspace: process.env.GITHUB_WORKSPACE, tar: process.env.TAR_OPTIONS }
      try {
        for (const name of names) await makeLink(links, name, mode)
        process.chdir(links)
        process.env.GITHUB_WORKSPACE = links
        process.env.TAR_OPTIONS = [saved.tar, ...tarOptions(spec, mode)].filter(Boolean).join(' ')
        return await work(names.map(name => name.pattern))
      } finally {
        process.chdir(saved.cwd)
        restoreEnv('GITHUB_WORKSPACE', saved.workspace)
        restoreEnv('TAR_OPTIONS', saved.tar)
        // Removes the links only: fs.rm never follows a symlink.
        await fs.rm(links, { recursive: true, force: true })
      }
    })
    this.queue = run.catch(() => undefined)
    return run
  }
}

/** True when the runner gave this job a cache service to talk to. */
export async function gitHubCacheAvailable(): Promise<boolean> {
  // Without either URL no protocol version can be available; skip loading the library to say so.
  if (!process.env.ACTIONS_RESULTS_URL && !process.env.ACTIONS_CACHE_URL) return false
  return (await loadCacheLibrary()).isFeatureAvailable()
}

/** How one part appears to the library: a link in the call's directory and the pattern handed over. */
interface PortableName {
  /** The link's name in the directory the library runs in. */
  link: string
  /** What the link points at on this machine. */
  target: string
  /** The path string the library versions and archives: the same on every machine. */
  pattern: string
}

/**
 * A role is a link to the kind's directory, archived as `<role>/*` (its contents, whatever the directory is
 * called here). A spelled path is archived as written below a link to what it is relative to: `workspace`,
 * `home` or `root` (`/`), with `-up<N>` when the spelling climbs out of it (`../shared` → `workspace-up1`).
 */
export function portableNames(part: ArchivePart): PortableName {
  if (part.origin === 'role') return { link: part.name, target: part.path, pattern: `${part.name}/*` }
  const { base, rest } = spellingRoot(part.name)
  const segments = rest.split('/').filter(segment => segment !== '' && segment !== '.')
  const ups = segments.filter(segment => segment === '..').length
  const below = segments.slice(ups)
  const link = ups > 0 ? `${base}-up${ups}` : base
  const target = below.reduce(dir => path.dirname(dir), part.path)
  return below.length === 0 ? { link, target: part.path, pattern: `${link}/*` } : { link, target, pattern: `${link}/${below.join('/')}` }
}

function spellingRoot(spelled: string): { base: 'home' | 'root' | 'workspace'; rest: string } {
  if (spelled === '~' || spelled.startsWith('~/')) return { base: 'home', rest: spelled.slice(1) }
  if (spelled.startsWith('/')) return { base: 'root', rest: spelled }
  return { base: 'workspace', rest: spelled }
}

/** Before a restore the directories are made, so tar extracts through the links into them. */
async function makeLink(links: string, name: PortableName, mode: 'restore' | 'save'): Promise<void> {
  if (mode === 'restore') await fs.mkdir(name.target, { recursive: true })
  await fs.symlink(name.target, path.join(links, name.link)).catch(async (error: NodeJS.ErrnoException) => {
    // Two spelled parts relative to the same root share its link.
    if (error.code !== 'EEXIST' || (await fs.readlink(path.join(links, name.link))) !== name.target) throw error
  })
}

/**
 * GNU tar reads TAR_OPTIONS, which is how the kinds' never-archive patterns reach the library's tar on
 * save. On restore, --no-same-owner makes the restoring user the owner of everything (an entry saved by
 * root restores for an unprivileged user, and a root without CAP_CHOWN never fails to chown), -p keeps the
 * modes as saved, and --keep-directory-symlink keeps the links extraction goes through.
 */
function tarOptions(spec: ArchiveSpec, mode: 'restore' | 'save'): string[] {
  if (mode === 'restore') return ['--no-same-owner', '--same-permissions', '--keep-directory-symlink']
  return spec.exclude.map(pattern => `--exclude=${pattern.replace(/([\\\s])/g, '\\$1')}`)
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}

/**
 * On a miss the library says (in a debug line) which version it looked for. The service cannot list other
 * versions of a key, so this says what the version is made of: an entry saved under these keys from other
 * paths, another spelling or another compression is under another version and does not match.
 */
function versionNote(lines: string[], spec: ArchiveSpec): string | null {
  const looked = lines.map(parseLogLine).find(line => line.command === 'debug' && line.text.startsWith('Cache not found for version '))
  const version = /^Cache not found for version (\S+)/.exec(looked?.text ?? '')?.[1]
  if (!version) return null
  const patterns = spec.parts.map(part => portableNames(part).pattern).join(', ')
  return `The cache service has no entry for these keys with version ${version.slice(0, 12)}…, which is computed from the paths ${patterns} and the compression; an entry saved under them with other paths, another spelling or another compression has another version.`
}

function archiveSize(lines: string[], pattern: RegExp): number | null {
  for (const { text } of lines.map(parseLogLine)) {
    const match = pattern.exec(text.trim())
    if (match) return Number(match[1])
  }
  return null
}

/**
 * The library's reason for a failure, in one line. Its visible message is often generic ("another job
 * may be creating this cache" also stands for 429 and connection refused); the cause is in a debug line.
 */
function failure(lines: string[], prefix: string): string | null {
  const log = lines.map(parseLogLine)
  const primary =
    log.find(l => l.command !== 'debug' && l.text.startsWith(prefix)) ?? log.find(l => l.command === 'warning' || l.command === 'error')
  if (!primary) return null
  const message = firstLine(primary.text.startsWith(prefix) ? primary.text.slice(prefix.length) : primary.text)
  const cause = log.find(l => l.command === 'debug' && l.text.startsWith(RESERVE_CAUSE))
  return cause ? `${message} (${firstLine(cause.text.slice(RESERVE_CAUSE.length))})` : message
}

const RESERVE_CAUSE = 'Failed to reserve cache: '

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}
