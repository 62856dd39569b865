import { LocalStore } from '../backends/local.js'
import { PRESET_KINDS } from '../config/config.js'
import { KEY_SCHEME } from '../constants.js'
import { readConfigFile, storeRoot } from './config-file.js'

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
  inputs: Record<string, string>
}

/** The store named by --store, or by the config file's local-dir, or the action's default. */
export function openStore(values: { store?: string; config?: string }): OpenedStore {
  const inputs = readConfigFile(values.config)
  const root = storeRoot(values.store, inputs)
  return { root, store: new LocalStore(root), inputs }
}

export function ago(time: number, now = Date.now()): string {
  const minutes = Math.round((now - time) / 60_000)
  if (minutes < 1) return 'just now'
  if (minutes < 90) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.round(hours / 24)} d ago`
}
