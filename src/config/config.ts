import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Inputs, REVISION_SEPARATOR } from '../constants.js'
import { getBool, getChoice, getList, getString, getStringOrNull, InputError, parseAge, parseSize } from './inputs.js'
import { type ComposeService, readComposeServices } from '../build/compose-file.js'
import { stringifyError } from '../util/errors.js'
import { type DownloadSpec, parseDownloads } from './downloads.js'
import { type ModelSpec, parseModels } from './models.js'
import { readNixSigningKey } from '../nix/signing.js'
import { readDownloadConnections, readIdleTimeoutMs } from './transfer.js'

export const PRESET_KINDS = ['pip', 'buildah', 'huggingface', 'podman', 'nix', 'downloads'] as const
export type PresetKind = (typeof PRESET_KINDS)[number]
export type KindName = PresetKind | 'custom'

export const BACKEND_CHOICES = ['auto', 'github', 'local'] as const
export const SAVE_CHOICES = ['on-success', 'always', 'never'] as const
export const LOCAL_MODES = ['archive', 'in-place'] as const
export type SaveWhen = (typeof SAVE_CHOICES)[number]
export const ISOLATION_CHOICES = ['oci', 'chroot', 'rootless'] as const
/** auto: `registry` where podman has --cache-from/--cache-to (≥ 4.2), else `images`. */
export const PODMAN_CACHE_MODES = ['auto', 'registry', 'images'] as const
export type PodmanCacheMode = (typeof PODMAN_CACHE_MODES)[number]

export interface CustomCache {
  paths: string[]
  key: string
  restoreKeys: string[]
}

/** Everything the inputs say, parsed and checked once in main and carried to post in state. */
export interface ActionConfig {
  kinds: KindName[]
  custom: CustomCache | null
  keyPrefix: string
  backend: (typeof BACKEND_CHOICES)[number]
  localDir: string
  localMaxAgeMs: number
  localMaxBytes: number
  save: SaveWhen
  readOnly: boolean
  summary: boolean
  reportPath: string
  pipDependencyFiles: string[]
  podmanDir: string
  nixDir: string
  downloadsDir: string
  models: ModelSpec[]
  downloads: DownloadSpec[]
  hfEndpoint: string
  hfOffline: boolean
  workspace: string
  /** A private copy of the Nix secret key (the input may be the key itself); null when not signing. */
  nixSigningKeyFile: string | null
  /** Keys the restored Nix cache may be signed with, including the signing key's own public half. */
  nixPublicKeys: string[]
  nixTrusted: boolean
  nixMaxBytes: number
  nixMaxAgeMs: number
  /** archive: entries are copied in and out; in-place: the kinds' directories live under the store root. */
  localMode: (typeof LOCAL_MODES)[number]
  /** podman-compose file to build with the podman layer cache; null = no build. */
  composeFile: string | null
  /** The services the compose file builds and the image each is tagged with, read once here. */
  composeBuilds: ComposeService[]
  composeServices: string[]
  /** Extra flags for every `podman build`, as one shell-split string. */
  podmanBuildArgs: string
  isolation: (typeof ISOLATION_CHOICES)[number] | null
  podmanCacheMode: PodmanCacheMode
  /** Connections for one large model file or download (ranged requests); 1 = one stream. */
  downloadConnections: number
  /** A download request that brings no byte for this long is cut and retried. */
  idleTimeoutMs: number
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

/** Where qdc keeps directories of its own; stable across runs so GitHub's path-based entry version stays the same. */
export function qdcHome(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(cacheHome, 'qdc-action')
}

export function readConfig(): ActionConfig {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  const custom = readCustomCache()
  const models = parseModels(getList(Inputs.Models, 'lines'), workspace)
  const downloads = parseDownloads(getList(Inputs.Downloads, 'lines'), workspace)
  const compose = readComposeFile(workspace)
  const kinds = readKinds(custom !== null, models.length > 0, downloads.length > 0, compose !== null)
  const home = qdcHome()
  const signing = readNixSigningKey(workspace)
  return {
    kinds,
    custom,
    keyPrefix: readKeyPart(Inputs.KeyPrefix, getString(Inputs.KeyPrefix, 'qdc')),
    backend: getChoice(Inputs.Backend, BACKEND_CHOICES, 'auto'),
    localDir: absolute(getString(Inputs.LocalDir, path.join(home, 'store')), workspace),
    localMaxAgeMs: parseAge(Inputs.LocalMaxAge, getString(Inputs.LocalMaxAge, '30d')),
    localMaxBytes: parseSize(Inputs.LocalMaxSize, getString(Inputs.LocalMaxSize, '20G')),
    save: getChoice(Inputs.Save, SAVE_CHOICES, 'on-success'),
    readOnly: getBool(Inputs.ReadOnly, false),
    summary: getBool(Inputs.Summary, true),
    reportPath: absolute(
      getString(Inputs.ReportPath, path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'qdc-report.json')),
      workspace
    ),
    pipDependencyFiles: readPipDependencyFiles(),
    podmanDir: absolute(getString(Inputs.PodmanDir, path.join(home, 'podman')), workspace),
    nixDir: absolute(getString(Inputs.NixDir, path.join(home, 'nix-cache')), workspace),
    downloadsDir: absolute(getString(Inputs.DownloadsDir, path.join(home, 'downloads')), workspace),
    models,
    downloads,
    hfEndpoint: readEndpoint(),
    hfOffline: getBool(Inputs.HfOffline, false),
    workspace,
    nixSigningKeyFile: signing?.file ?? null,
    nixPublicKeys: [...new Set([...getList(Inputs.NixPublicKeys, 'lines-and-commas'), ...(signing ? [signing.publicKey] : [])])],
    nixTrusted: getBool(Inputs.NixTrusted, false),
    nixMaxBytes: parseSize(Inputs.NixMaxSize, getString(Inputs.NixMaxSize, '5G')),
    nixMaxAgeMs: parseAge(Inputs.NixMaxAge, getString(Inputs.NixMaxAge, '30d')),
    localMode: getChoice(Inputs.LocalMode, LOCAL_MODES, 'archive'),
    composeFile: compose?.file ?? null,
    composeBuilds: compose?.services ?? [],
    composeServices: getList(Inputs.ComposeServices, 'lines-and-commas'),
    podmanBuildArgs: getString(Inputs.PodmanBuildArgs, ''),
    isolation: getStringOrNull(Inputs.Isolation) === null ? null : getChoice(Inputs.Isolation, ISOLATION_CHOICES, 'oci'),
    podmanCacheMode: getChoice(Inputs.PodmanCacheMode, PODMAN_CACHE_MODES, 'auto'),
    downloadConnections: readDownloadConnections(),
    idleTimeoutMs: readIdleTimeoutMs()
  }
}

/** The Hub to fetch from: the input, else HF_ENDPOINT like huggingface_hub, else huggingface.co. */
function readEndpoint(): string {
  const endpoint = getString(Inputs.HfEndpoint, process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(endpoint)) throw new InputError(Inputs.HfEndpoint, `'${endpoint}' is not an http(s) URL`)
  return endpoint
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
    throw new InputError(Inputs.Caches, `nothing to cache; name at least one kind (e.g. 'pip') or set '${Inputs.Paths}' and '${Inputs.Key}'`)
  }
  return kinds
}

function readCustomCache(): CustomCache | null {
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
    paths: paths.map(p => absolute(p, process.env.GITHUB_WORKSPACE || process.cwd())),
    key: readKeyPart(Inputs.Key, key),
    restoreKeys: restoreKeys.map(k => readKeyPart(Inputs.RestoreKeys, k))
  }
}

/** Checked here, so a wrong path fails main with one line before anything is restored. */
function readComposeFile(workspace: string): { file: string; services: ComposeService[] } | null {
  const file = getStringOrNull(Inputs.ComposeFile)
  if (file === null) return null
  const resolved = absolute(file, workspace)
  if (!fs.statSync(resolved, { throwIfNoEntry: false })?.isFile()) {
    throw new InputError(Inputs.ComposeFile, `${resolved} does not exist; give the path of your compose file relative to the workspace`)
  }
  let services: ComposeService[]
  try {
    services = readComposeServices(resolved)
  } catch (error) {
    throw new InputError(Inputs.ComposeFile, stringifyError(error))
  }
  const unknown = getList(Inputs.ComposeServices, 'lines-and-commas').find(name => !services.some(service => service.name === name))
  if (unknown !== undefined) {
    throw new InputError(Inputs.ComposeServices, `'${unknown}' is not a service with a build section in ${resolved}; it has ${services.map(s => s.name).join(', ')}`)
  }
  return { file: resolved, services }
}

function readPipDependencyFiles(): string[] {
  const globs = getList(Inputs.PipDependencyFiles, 'lines')
  return globs.length > 0 ? globs : DEFAULT_PIP_DEPENDENCY_FILES
}

/** Keys share GitHub's rules (no commas, 512 characters) and may not contain our revision separator. */
function readKeyPart(input: string, value: string): string {
  if (value.includes(',')) throw new InputError(input, `'${value}' contains a comma, which cache keys cannot hold`)
  if (value.includes(REVISION_SEPARATOR)) throw new InputError(input, `'${value}' contains '${REVISION_SEPARATOR}', which qdc reserves for revisions`)
  if (value.length > MAX_KEY_LENGTH - 64) throw new InputError(input, `'${value.slice(0, 40)}…' is longer than ${MAX_KEY_LENGTH - 64} characters`)
  return value
}

function absolute(p: string, workspace: string): string {
  return path.resolve(workspace, expandHome(p))
}
