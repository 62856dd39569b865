import * as os from 'node:os'
import * as path from 'node:path'
import { Inputs, REVISION_SEPARATOR } from '../constants.js'
import { runnerTemp } from '../util/temp.js'
import { type DownloadSpec, parseDownloads } from './downloads.js'
import { hubEndpoint } from './hub.js'
import { getBool, getChoice, getList, getString, getStringOrNull, InputError, parseAge, parseSize } from './inputs.js'
import { type ModelSpec, parseModels } from './models.js'
import { readS3Settings, type S3Settings } from './s3.js'
import { publicKeyOf, SECRET_KEY_FORMAT } from './nix-key.js'
import { readTransferSettings, type TransferInputs } from './transfer.js'

export const PRESET_KINDS = ['pip', 'buildah', 'huggingface', 'podman', 'nix', 'downloads'] as const
export type PresetKind = (typeof PRESET_KINDS)[number]
export type KindName = PresetKind | 'custom'

export const BACKEND_CHOICES = ['auto', 'github', 'local', 's3'] as const
export const SAVE_CHOICES = ['on-success', 'always', 'never'] as const
export const LOCAL_MODES = ['archive', 'in-place'] as const
export type SaveWhen = (typeof SAVE_CHOICES)[number]
export const ISOLATION_CHOICES = ['oci', 'chroot', 'rootless'] as const
/** auto: `registry` where podman has --cache-from/--cache-to (≥ 4.2), else `images`. */
export const PODMAN_CACHE_MODES = ['auto', 'registry', 'images'] as const
export type PodmanCacheMode = (typeof PODMAN_CACHE_MODES)[number]

/** A path of the `paths` input: its machine-independent spelling, and where that is on this machine. */
export interface SpelledPath {
  /** Relative to the workspace (`build/ccache`), to home (`~/.gradle/caches`), or absolute (`/opt/sdk`). */
  spelled: string
  path: string
}

/** The user's own directories under the user's own key, like actions/cache. */
export interface CustomCache {
  paths: SpelledPath[]
  key: string
  restoreKeys: string[]
}

export interface LocalSettings {
  dir: string
  maxAgeMs: number
  maxBytes: number
  /** archive: entries are copied in and out; in-place: the kinds' directories live under the store root. */
  mode: (typeof LOCAL_MODES)[number]
}

export interface HubSettings {
  models: ModelSpec[]
  endpoint: string
  offline: boolean
}

export interface DownloadSettings {
  dir: string
  specs: DownloadSpec[]
}

/** Where the Nix signing key comes from; the secret itself is never part of the configuration. */
export type SigningKeySource = { file: string } | { inline: { publicKey: string } }

export interface NixSettings {
  dir: string
  signingKey: SigningKeySource | null
  /** Keys the restored cache may be signed with (the signing key's own public half is added by the nix kind). */
  publicKeys: string[]
  trusted: boolean
  maxBytes: number
  maxAgeMs: number
}

export const ON_BUDGET_CHOICES = ['warn', 'fail'] as const

/** The user's bandwidth gate, and what the summary compares and estimates with. */
export interface ReportSettings {
  /** The whole job's upstream bytes at most; null = no budget. */
  maxDownloaded: number | null
  maxDownloadedPerKind: Partial<Record<KindName, number>>
  onBudget: (typeof ON_BUDGET_CHOICES)[number]
  /** Keep each run's downloads in the store, for the comparison with the base branch. */
  history: boolean
  /** Post the summary as a sticky comment on the pull request (the token is read where it is used). */
  prComment: boolean
  /** How many recent base-branch runs a pull request is compared with. */
  baselineRuns: number
  /** Upstream bytes per second when no download was measured (does a cache pay off?). */
  assumedBandwidth: number
}

export interface PodmanSettings {
  dir: string
  /** The podman-compose file to build with the layer cache (read by the podman kind); null = no build. */
  composeFile: string | null
  composeServices: string[]
  /** Extra flags for every `podman build`, as one shell-split string. */
  buildArgs: string
  isolation: (typeof ISOLATION_CHOICES)[number] | null
  cacheMode: PodmanCacheMode
}

/**
 * Everything the inputs say, grouped by what uses it: parsed once in main, with no effect on anything
 * (files the inputs name are read by the phases that use them), and carried to post in state.
 */
export interface ActionConfig {
  kinds: KindName[]
  keyPrefix: string
  workspace: string
  backend: (typeof BACKEND_CHOICES)[number]
  save: SaveWhen
  readOnly: boolean
  /** Save even on triggers that run pull-request code with the repository's cache (config/mode.ts). */
  saveOnUntrustedTriggers: boolean
  summary: boolean
  reportPath: string
  report: ReportSettings
  local: LocalSettings
  /** Only with `backend: s3`: the s3-* inputs are not read otherwise. */
  s3: S3Settings | null
  paths: CustomCache | null
  pip: { dependencyFiles: string[] }
  hf: HubSettings
  downloads: DownloadSettings
  nix: NixSettings
  podman: PodmanSettings
  /** How model files and downloads are fetched: connections per large file, idle timeout. */
  transfer: TransferInputs
}

const MAX_KEY_LENGTH = 512
const DEFAULT_PIP_DEPENDENCY_FILES = [
  '**/requirements*.txt',
  '**/pyproject.toml',
  '**/poetry.lock',
  '**/Pipfile.lock',
  '**/uv.lock',
  '**/pdm.lock',
  '!**/node_modules/**',
  '!**/.venv/**'
]

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p
}

/** Where qdc keeps directories of its own by default. */
export function qdcHome(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(cacheHome, 'qdc-action')
}

export function readConfig(): ActionConfig {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  const paths = readCustomCache(workspace)
  const hf = readHubSettings(workspace)
  const downloads = readDownloadSettings(workspace)
  const podman = readPodmanSettings(workspace)
  const backend = getChoice(Inputs.Backend, BACKEND_CHOICES, 'auto')
  return {
    kinds: readKinds(paths !== null, hf.models.length > 0, downloads.specs.length > 0, podman.composeFile !== null),
    keyPrefix: readKeyPart(Inputs.KeyPrefix, getString(Inputs.KeyPrefix, 'qdc')),
    workspace,
    backend,
    save: getChoice(Inputs.Save, SAVE_CHOICES, 'on-success'),
    readOnly: getBool(Inputs.ReadOnly, false),
    saveOnUntrustedTriggers: getBool(Inputs.SaveOnUntrustedTriggers, false),
    summary: getBool(Inputs.Summary, true),
    reportPath: absolute(getString(Inputs.ReportPath, path.join(runnerTemp(), 'qdc-report.json')), workspace),
    report: readReportSettings(),
    local: readLocalSettings(workspace),
    s3: backend === 's3' ? readS3Settings() : null,
    paths,
    pip: { dependencyFiles: readPipDependencyFiles() },
    hf,
    downloads,
    nix: readNixSettings(workspace),
    podman,
    transfer: readTransferSettings()
  }
}

function readReportSettings(): ReportSettings {
  const max = getStringOrNull(Inputs.MaxDownloaded)
  return {
    maxDownloaded: max === null ? null : parseSize(Inputs.MaxDownloaded, max),
    maxDownloadedPerKind: readPerKindBudgets(),
    onBudget: getChoice(Inputs.OnBudget, ON_BUDGET_CHOICES, 'warn'),
    history: getBool(Inputs.History, true),
    prComment: getBool(Inputs.PrComment, false),
    baselineRuns: parseCount(Inputs.BaselineRuns, getString(Inputs.BaselineRuns, '5')),
    assumedBandwidth: parseSize(Inputs.AssumedBandwidth, getString(Inputs.AssumedBandwidth, '100M'))
  }
}

/** `pip=200M, huggingface=0`: a size per kind the job caches. */
function readPerKindBudgets(): Partial<Record<KindName, number>> {
  const budgets: Partial<Record<KindName, number>> = {}
  for (const item of getList(Inputs.MaxDownloadedPerKind, 'lines-and-commas')) {
    const match = /^([a-z]+)\s*=\s*(\S+)$/i.exec(item)
    if (!match) throw new InputError(Inputs.MaxDownloadedPerKind, `'${item}' should be kind=size, like pip=200M`)
    const kind = match[1].toLowerCase()
    if (!([...PRESET_KINDS, 'custom'] as string[]).includes(kind)) {
      throw new InputError(Inputs.MaxDownloadedPerKind, `'${kind}' is not a cache kind; use any of ${PRESET_KINDS.join(', ')}, custom`)
    }
    budgets[kind as KindName] = parseSize(Inputs.MaxDownloadedPerKind, match[2])
  }
  return budgets
}

function parseCount(input: string, raw: string): number {
  if (!/^[1-9]\d*$/.test(raw)) throw new InputError(input, `'${raw}' is not a whole number of runs (1 or more)`)
  return Number(raw)
}

/** The local store's settings; also what `qdc prune` and `qdc stats` read from a config file. */
export function readLocalSettings(workspace: string): LocalSettings {
  return {
    dir: absolute(getString(Inputs.LocalDir, path.join(qdcHome(), 'store')), workspace),
    maxAgeMs: parseAge(Inputs.LocalMaxAge, getString(Inputs.LocalMaxAge, '30d')),
    maxBytes: parseSize(Inputs.LocalMaxSize, getString(Inputs.LocalMaxSize, '20G')),
    mode: getChoice(Inputs.LocalMode, LOCAL_MODES, 'archive')
  }
}

export function readHubSettings(workspace: string): HubSettings {
  return {
    models: parseModels(getList(Inputs.Models, 'lines'), workspace),
    endpoint: hubEndpoint(Inputs.HfEndpoint, getStringOrNull(Inputs.HfEndpoint)),
    offline: getBool(Inputs.HfOffline, false)
  }
}

export function readDownloadSettings(workspace: string): DownloadSettings {
  return {
    dir: absolute(getString(Inputs.DownloadsDir, path.join(qdcHome(), 'downloads')), workspace),
    specs: parseDownloads(getList(Inputs.Downloads, 'lines'), workspace)
  }
}

function readNixSettings(workspace: string): NixSettings {
  return {
    dir: absolute(getString(Inputs.NixDir, path.join(qdcHome(), 'nix-cache')), workspace),
    signingKey: readSigningKeySource(workspace),
    publicKeys: getList(Inputs.NixPublicKeys, 'lines-and-commas'),
    trusted: getBool(Inputs.NixTrusted, false),
    maxBytes: parseSize(Inputs.NixMaxSize, getString(Inputs.NixMaxSize, '5G')),
    maxAgeMs: parseAge(Inputs.NixMaxAge, getString(Inputs.NixMaxAge, '30d'))
  }
}

/**
 * The `nix-signing-key` input: the key itself (typically a secret; checked here, kept as its public half
 * only) or a file holding it (read and checked by the nix kind). A malformed key fails with one line that
 * never repeats the value.
 */
function readSigningKeySource(workspace: string): SigningKeySource | null {
  const raw = getStringOrNull(Inputs.NixSigningKey)
  if (raw === null) return null
  if (!isInlineKey(raw)) return { file: path.resolve(workspace, raw) }
  const publicKey = publicKeyOf(raw)
  if (!publicKey) throw new InputError(Inputs.NixSigningKey, `is not a Nix secret key (${SECRET_KEY_FORMAT})`)
  return { inline: { publicKey } }
}

/** A key is `name:base64`; a file name has neither a colon nor a line break. */
export function isInlineKey(raw: string): boolean {
  return raw.includes(':') || raw.includes('\n')
}

function readPodmanSettings(workspace: string): PodmanSettings {
  const composeFile = getStringOrNull(Inputs.ComposeFile)
  return {
    dir: absolute(getString(Inputs.PodmanDir, path.join(qdcHome(), 'podman')), workspace),
    composeFile: composeFile === null ? null : absolute(composeFile, workspace),
    composeServices: getList(Inputs.ComposeServices, 'lines-and-commas'),
    buildArgs: getString(Inputs.PodmanBuildArgs, ''),
    isolation: getStringOrNull(Inputs.Isolation) === null ? null : getChoice(Inputs.Isolation, ISOLATION_CHOICES, 'oci'),
    cacheMode: getChoice(Inputs.PodmanCacheMode, PODMAN_CACHE_MODES, 'auto')
  }
}

function readKinds(hasCustomPaths: boolean, hasModels: boolean, hasDownloads: boolean, hasComposeBuild: boolean): KindName[] {
  const names = getList(Inputs.Caches, 'lines-and-commas').map(name => name.toLowerCase())
  for (const name of names) {
    if (!(PRESET_KINDS as readonly string[]).includes(name)) {
      throw new InputError(
        Inputs.Caches,
        `unknown cache kind '${name}'; use any of ${PRESET_KINDS.join(', ')} (own directories go in '${Inputs.Paths}')`
      )
    }
  }
  // Models land in the hub cache and downloads in the download cache, so asking for them caches those too.
  // A compose build is cached by the podman kind's layer cache.
  const implied: PresetKind[] = [
    ...(hasModels ? (['huggingface'] as const) : []),
    ...(hasDownloads ? (['downloads'] as const) : []),
    ...(hasComposeBuild ? (['podman'] as const) : [])
  ]
  const kinds: KindName[] = [...new Set([...(names as PresetKind[]), ...implied])]
  if (hasCustomPaths) kinds.push('custom')
  if (kinds.length === 0) {
    throw new InputError(
      Inputs.Caches,
      `nothing to cache; name at least one kind (e.g. 'pip') or set '${Inputs.Paths}' and '${Inputs.Key}'`
    )
  }
  return kinds
}

function readCustomCache(workspace: string): CustomCache | null {
  const paths = getList(Inputs.Paths, 'lines')
  const key = getStringOrNull(Inputs.Key)
  const restoreKeys = getList(Inputs.RestoreKeys, 'lines')
  if (paths.length === 0) {
    if (key !== null) throw new InputError(Inputs.Key, `only used with '${Inputs.Paths}'; set the paths to cache or remove the key`)
    if (restoreKeys.length > 0) throw new InputError(Inputs.RestoreKeys, `only used with '${Inputs.Paths}' and '${Inputs.Key}'`)
    return null
  }
  if (key === null) throw new InputError(Inputs.Key, `is empty; a key is required when '${Inputs.Paths}' is set`)
  const pattern = paths.find(p => /[*?[\]!]/.test(p))
  if (pattern) throw new InputError(Inputs.Paths, `'${pattern}' is a pattern; list directories or files, one per line`)
  return {
    paths: paths.map(p => spellPath(p, workspace)),
    key: readKeyPart(Inputs.Key, key),
    restoreKeys: restoreKeys.map(k => readKeyPart(Inputs.RestoreKeys, k))
  }
}

function readPipDependencyFiles(): string[] {
  const globs = getList(Inputs.PipDependencyFiles, 'lines')
  return globs.length > 0 ? globs : DEFAULT_PIP_DEPENDENCY_FILES
}

/** Keys share GitHub's rules (no commas, 512 characters) and may not contain our revision separator. */
function readKeyPart(input: string, value: string): string {
  if (value.includes(',')) throw new InputError(input, `'${value}' contains a comma, which cache keys cannot hold`)
  if (value.includes(REVISION_SEPARATOR))
    throw new InputError(input, `'${value}' contains '${REVISION_SEPARATOR}', which qdc reserves for revisions`)
  if (value.length > MAX_KEY_LENGTH - 64)
    throw new InputError(input, `'${value.slice(0, 40)}…' is longer than ${MAX_KEY_LENGTH - 64} characters`)
  return value
}

/**
 * The spelling an entry is known by on every machine: normalised, relative to home when written with `~`,
 * and relative to the workspace when written inside it (`${{ github.workspace }}/data` is `data` on a runner
 * whose workspace is elsewhere). Other absolute paths stay absolute, as written.
 */
export function spellPath(raw: string, workspace: string): SpelledPath {
  const trimmed = raw.length > 1 ? raw.replace(/\/+$/, '') : raw
  if (trimmed === '~' || trimmed.startsWith('~/')) {
    const rest = path.posix.normalize(trimmed.slice(1).replace(/^\/+/, '') || '.')
    return { spelled: rest === '.' ? '~' : `~/${rest}`, path: path.resolve(os.homedir(), rest) }
  }
  const resolved = path.resolve(workspace, trimmed)
  if (!path.isAbsolute(trimmed)) return { spelled: path.posix.normalize(trimmed), path: resolved }
  const inside = path.relative(workspace, resolved)
  const outside = inside === '..' || inside.startsWith('../') || path.isAbsolute(inside)
  return { spelled: outside ? path.posix.normalize(trimmed) : inside || '.', path: resolved }
}

function absolute(p: string, workspace: string): string {
  return path.resolve(workspace, expandHome(p))
}
