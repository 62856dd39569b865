import * as fs from 'node:fs'
import { parse } from 'yaml'
import { Inputs } from '../constants.js'
import { UsageError } from './errors.js'

/** The action's inputs by name, as the runner would hand them over (strings). */
export type InputValues = Record<string, string>

const INPUT_NAMES: readonly string[] = Object.values(Inputs)

/**
 * A YAML mapping with the action's input names as keys. Lists become one item per line and
 * scalars strings, so every value means what it means in a workflow's `with:`.
 */
export function readConfigFile(file: string | undefined): InputValues {
  if (file === undefined) return {}
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  let document: unknown
  try {
    document = parse(text)
  } catch (error) {
    throw new UsageError(`--config: ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`)
  }
  if (document === null || document === undefined) return {}
  if (typeof document !== 'object' || Array.isArray(document))
    throw new UsageError(`--config: ${file} must be a mapping of the action's inputs (caches: pip, ...)`)
  const values: InputValues = {}
  for (const [key, value] of Object.entries(document)) {
    if (!INPUT_NAMES.includes(key))
      throw new UsageError(`--config: ${file}: unknown key '${key}'; use the action's input names (${INPUT_NAMES.join(', ')})`)
    values[key] = inputText(file, key, value)
  }
  return values
}

function inputText(file: string, key: string, value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value) && value.every(item => typeof item !== 'object' || item === null)) return value.map(String).join('\n')
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new UsageError(`--config: ${file}: '${key}' must be a string, number, boolean or list`)
}

/** Puts the values where @actions/core's getInput looks, every other input emptied (its default). */
export function exportInputs(values: InputValues): void {
  for (const name of INPUT_NAMES) process.env[`INPUT_${name.toUpperCase()}`] = values[name] ?? ''
}
