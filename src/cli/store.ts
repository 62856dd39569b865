import * as path from 'node:path'
import type { PruneOptions } from '../backends/local/prune.js'
import { LocalStore } from '../backends/local/store.js'
import type { ManagedStore } from '../backends/managed.js'
import { S3Store } from '../backends/s3/store.js'
import { expandHome, PRESET_KINDS, readLocalSettings } from '../config/config.js'
import { InputError } from '../config/inputs.js'
import { describeS3Store, readS3Settings } from '../config/s3.js'
import { Inputs, KEY_SCHEME } from '../constants.js'
import { exportInputs, type InputValues, readConfigFile } from './config-file.js'
import { UsageError } from './errors.js'

/** The kind an entry holds: recorded at save, or read from the key for entries saved before that was recorded. */
export function kindOfEntry(entry: { key: string; kind?: string }): string {
  if (entry.kind) return entry.kind
  const kinds = PRESET_KINDS.join('|')
  return new RegExp(`(?:^|-)(${kinds})-${KEY_SCHEME}(?:-|~|$)`).exec(entry.key)?.[1] ?? 'custom'
}

export const KIND_NAMES: readonly string[] = [...PRESET_KINDS, 'custom']

/** The optional KIND of `qdc clear` and `qdc verify`: undefined for every kind. */
export function kindArgument(command: string, positionals: string[]): string | undefined {
  if (positionals.length > 1) throw new UsageError(`${command}: one kind at most, got ${positionals.join(' ')}`)
  const kind = positionals[0]
  if (kind !== undefined && !KIND_NAMES.includes(kind))
    throw new UsageError(`${command}: unknown kind '${kind}'; use one of ${KIND_NAMES.join(', ')}`)
  return kind
}

export interface OpenedStore {
  /** Where the store is, for people and for --json: a directory, or `s3://bucket/prefix/`. */
  root: string
  store: ManagedStore
  /** The local store's directory, which also holds the in-place caches and the run history; null for s3. */
  localDir: string | null
  /** The config file's pruning limits for this store, with the action's defaults for what it leaves out. */
  limits: PruneOptions
  inputs: InputValues
}

/** The flags that stand for the action's s3 inputs: given on the command line, they override the config file. */
const S3_FLAGS = [Inputs.S3Bucket, Inputs.S3Prefix, Inputs.S3Endpoint, Inputs.S3Region, Inputs.S3ForcePathStyle] as const

type StoreFlags = { store?: string; config?: string; backend?: string } & Partial<Record<(typeof S3_FLAGS)[number], string | boolean>>

/**
 * The store the flags and the config file name, read as the action reads its inputs, so that both agree on
 * every default: the local store (`--store`, else the config's local-dir), or with backend s3 the bucket.
 */
export function openStore(values: StoreFlags): OpenedStore {
  const inputs = readConfigFile(values.config)
  if (values.backend !== undefined) inputs[Inputs.Backend] = values.backend
  for (const flag of S3_FLAGS) if (values[flag] !== undefined) inputs[flag] = String(values[flag])
  exportInputs(inputs)
  const backend = (inputs[Inputs.Backend] ?? '').trim().toLowerCase()
  if (backend === 's3') return openS3Store(values, inputs)
  if (!['', 'auto', 'local'].includes(backend)) {
    throw new UsageError(
      `--backend: qdc manages the local and s3 stores, not '${backend}' (the GitHub cache service's entries are managed in the repository's Actions settings)`
    )
  }
  const settings = readLocalSettings(process.cwd())
  const root = values.store === undefined ? settings.dir : path.resolve(expandHome(values.store))
  return { root, store: new LocalStore(root), localDir: root, limits: { maxAgeMs: settings.maxAgeMs, maxBytes: settings.maxBytes }, inputs }
}

function openS3Store(values: StoreFlags, inputs: InputValues): OpenedStore {
  if (values.store !== undefined)
    throw new UsageError('--store names a local store; with --backend s3 the --s3-* flags (or the config file) name the bucket')
  let settings
  try {
    settings = readS3Settings()
  } catch (error) {
    // A bad flag is named as the flag; a bad value from the config file keeps its input's name.
    if (error instanceof InputError && values[error.input as (typeof S3_FLAGS)[number]] !== undefined)
      throw new UsageError(`--${error.input}: ${error.problem}`)
    throw error
  }
  const limits = { maxAgeMs: settings.maxAgeMs ?? undefined, maxBytes: settings.maxBytes ?? undefined }
  return { root: describeS3Store(settings), store: new S3Store(settings), localDir: null, limits, inputs }
}

export function ago(time: number, now = Date.now()): string {
  const minutes = Math.round((now - time) / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 90) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.round(hours / 24)} d ago`
}
