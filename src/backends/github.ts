import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import * as path from 'node:path'
import { captureLog, parseLogLine } from '../util/capture.js'
import { DEFAULT_IDLE_TIMEOUT_MS } from '../util/idle.js'
import { watchRequests } from '../util/request-watch.js'
import { runnerTemp } from '../util/temp.js'
import { type ArchivePart, type ArchiveSpec, type CacheBackend, type Miss, missed, type RestoreResult, type SaveResult } from './backend.js'

/**
 * Loaded on first use: the library and its Azure SDK take ~300 ms to load, which runs on the local
 * backend would pay for nothing.
 */
function loadCacheLibrary(): Promise<typeof import('@actions/cache')> {
  return import('@actions/cache')
}

export interface GitHubBackendOptions {
  /** A restore whose download goes this long without a byte is cut and becomes a miss (the `idle-timeout` input). */
  idleTimeoutMs?: number
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
  private readonly environment = new LibraryEnvironment()
  private readonly idleTimeoutMs: number

  constructor(options: GitHubBackendOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  }

  async restore(spec: ArchiveSpec, key: string, restoreKeys: string[]): Promise<RestoreResult | Miss> {
    const cache = await loadCacheLibrary()
    const { result: matchedKey, lines } = await this.environment.around('restore', spec, patterns =>
      captureLog(() => watchRequests(this.idleTimeoutMs, 'the cache service stalled', () => cache.restoreCache(patterns, key, restoreKeys)))
    )
    if (matchedKey) return { matchedKey, archiveBytes: archiveSize(lines, /^Cache Size: ~\d+ MB \((\d+) B\)$/) }
    // The library swallows faults and returns undefined as for a miss; its warning tells them apart.
    const problem = failure(lines, 'Failed to restore: ')
    if (problem) throw new Error(problem)
    return missed(versionNote(lines, spec))
  }

  async save(spec: ArchiveSpec, key: string): Promise<SaveResult> {
    const cache = await loadCacheLibrary()
    const { result: id, lines } = await this.environment.around('save', spec, patterns => captureLog(() => cache.saveCache(patterns, key)))
    if (id === -1) throw new Error(failure(lines, 'Failed to save: ') ?? 'the cache service did not accept the entry')
    return { archiveBytes: archiveSize(lines, /^File Size: (\d+)$/) }
  }
}

type CallMode = 'restore' | 'save'

interface Waiting {
  mode: CallMode
  spec: ArchiveSpec
  names: PortableName[]
  admit: () => void
  refuse: (error: unknown) => void
}

/**
 * The process-wide state the library reads: GITHUB_WORKSPACE (a directory of links, one per part, see
 * portableNames), TAR_OPTIONS (what our archives need) and, to resolve a save's paths, the cwd. Restores
 * set the two variables alike and never need the cwd (the library's tar extracts with -C GITHUB_WORKSPACE),
 * so any number of them run at once in one directory, each adding its links (two that need one name for
 * different directories take turns), and the cwd stays where it is for whatever else runs meanwhile: other
 * kinds' afterRestore hooks start while restores still go on. Those hooks see the two variables changed
 * until the last restore leaves; none reads them (the compose build, the one that runs the user's code,
 * waits for every restore). A save's TAR_OPTIONS carry its kind's never-archive patterns and it needs the
 * cwd, so a save has the process to itself. Calls are admitted in the order they came; everything is put
 * back when the last one leaves.
 */
class LibraryEnvironment {
  private mode: CallMode | null = null
  private calls = 0
  private dir = ''
  private saved: { cwd: string; workspace: string | undefined; tar: string | undefined } | null = null
  private readonly links = new Map<string, { target: string; users: number }>()
  private readonly queue: Waiting[] = []

  async around<T>(mode: CallMode, spec: ArchiveSpec, work: (patterns: string[]) => Promise<T>): Promise<T> {
    const names = spec.parts.map(portableNames)
    await new Promise<void>((admit, refuse) => {
      this.queue.push({ mode, spec, names, admit, refuse })
      this.admitWaiting()
    })
    try {
      return await work(names.map(name => name.pattern))
    } finally {
      this.leave(names)
      this.admitWaiting()
    }
  }

  private admitWaiting(): void {
    while (this.queue.length > 0 && this.admits(this.queue[0])) {
      const next = this.queue.shift()!
      try {
        this.enter(next)
        next.admit()
      } catch (error) {
        next.refuse(error)
      }
    }
  }

  private admits(next: Waiting): boolean {
    if (this.calls === 0) return true
    return (
      this.mode === 'restore' &&
      next.mode === 'restore' &&
      next.names.every(name => (this.links.get(name.link)?.target ?? name.target) === name.target)
    )
  }

  /** Synchronous, so nothing else runs between the check that admitted a call and its links being there. */
  private enter({ mode, spec, names }: Waiting): void {
    if (this.calls === 0) this.setUp(mode, spec)
    this.calls++
    const added: PortableName[] = []
    try {
      for (const name of names) {
        this.addLink(name, mode)
        added.push(name)
      }
    } catch (error) {
      this.leave(added)
      throw error
    }
  }

  private setUp(mode: CallMode, spec: ArchiveSpec): void {
    this.dir = mkdtempSync(path.join(runnerTemp(), 'qdc-links-'))
    this.saved = { cwd: process.cwd(), workspace: process.env.GITHUB_WORKSPACE, tar: process.env.TAR_OPTIONS }
    this.mode = mode
    if (mode === 'save') process.chdir(this.dir)
    process.env.GITHUB_WORKSPACE = this.dir
    process.env.TAR_OPTIONS = [this.saved.tar, ...tarOptions(spec, mode)].filter(Boolean).join(' ')
  }

  /** Before a restore the directories are made, so tar extracts through the links into them. */
  private addLink(name: PortableName, mode: CallMode): void {
    const held = this.links.get(name.link)
    if (held) {
      held.users++
      return
    }
    if (mode === 'restore') mkdirSync(name.target, { recursive: true })
    symlinkSync(name.target, path.join(this.dir, name.link))
    this.links.set(name.link, { target: name.target, users: 1 })
  }

  private leave(names: PortableName[]): void {
    for (const name of names) {
      const held = this.links.get(name.link)
      if (held && --held.users === 0) {
        this.links.delete(name.link)
        // Removes the link only: unlink never follows a symlink.
        rmSync(path.join(this.dir, name.link), { force: true })
      }
    }
    if (--this.calls === 0) this.tearDown()
  }

  private tearDown(): void {
    const saved = this.saved!
    if (this.mode === 'save') process.chdir(saved.cwd)
    restoreEnv('GITHUB_WORKSPACE', saved.workspace)
    restoreEnv('TAR_OPTIONS', saved.tar)
    rmSync(this.dir, { recursive: true, force: true })
    this.mode = null
    this.saved = null
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
