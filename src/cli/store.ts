import * as path from 'node:path'
import { LocalStore } from '../backends/local/store.js'
import { expandHome, type LocalSettings, PRESET_KINDS, readLocalSettings } from '../config/config.js'
import { KEY_SCHEME } from '../constants.js'
import { exportInputs, type InputValues, readConfigFile } from './config-file.js'

/** The kind an entry holds: recorded at save, or read from the key for entries saved before that was recorded. */
export function kindOfEntry(entry: { key: string; kind?: string }): string {
  if (entry.kind) return entry.kind
  const kinds = PRESET_KINDS.join('|')
  return new RegExp(`(?:^|-)(${kinds})-${KEY_SCHEME}(?:-|~|$)`).exec(entry.key)?.[1] ?? 'custom'
}

export const KIND_NAMES: readonly string[] = [...PRESET_KINDS, 'custom']

export interface OpenedStore {
  root: string
  store: LocalStore
  /** The config file's local-store settings, with the action's defaults for what it leaves out. */
  settings: LocalSettings
  inputs: InputValues
}

/**
 * The store named by --store, or by the config file's local-dir, or the action's default: the config file
 * is read as the action reads its inputs, so both agree on every default.
 */
export function openStore(values: { store?: string; config?: string }): OpenedStore {
  const inputs = readConfigFile(values.config)
  exportInputs(inputs)
  const settings = readLocalSettings(process.cwd())
  const root = values.store === undefined ? settings.dir : path.resolve(expandHome(values.store))
  return { root, store: new LocalStore(root), settings, inputs }
}

export function ago(time: number, now = Date.now()): string {
  const minutes = Math.round((now - time) / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 90) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.round(hours / 24)} d ago`
}
