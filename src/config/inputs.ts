import * as fs from 'node:fs'
import * as core from '@actions/core'

/** Input errors name the input and say what to do; main fails with this one line before touching anything. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    /** The message without the input's name, for callers that name it their own way (qdc's flags). */
    readonly problem: string
  ) {
    super(`Input '${input}': ${problem}`)
    this.name = 'InputError'
  }
}

export function getString(name: string, fallback: string): string {
  const value = core.getInput(name).trim()
  return value === '' ? fallback : value
}

export function getStringOrNull(name: string): string | null {
  const value = core.getInput(name).trim()
  return value === '' ? null : value
}

export function getBool(name: string, fallback: boolean): boolean {
  const value = core.getInput(name).trim().toLowerCase()
  if (value === '') return fallback
  if (['true', 'yes', '1', 'on'].includes(value)) return true
  if (['false', 'no', '0', 'off'].includes(value)) return false
  throw new InputError(name, `expected true or false, got '${value}'`)
}

export function getChoice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const value = core.getInput(name).trim().toLowerCase()
  if (value === '') return fallback
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new InputError(name, `expected one of ${choices.join(', ')}, got '${value}'`)
}

/** One item per line; commas also separate items unless `lines` says the items may hold commas. */
export function getList(name: string, separators: 'lines' | 'lines-and-commas'): string[] {
  const raw = core.getInput(name)
  const pattern = separators === 'lines' ? /\r?\n/ : /\r?\n|,/
  return raw
    .split(pattern)
    .map(item => item.trim())
    .filter(item => item !== '' && !item.startsWith('#'))
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4
}

/** Parses `500M`, `50G`, `1.5GiB`, `1024` (bytes); null when unset. */
export function parseSize(name: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)$/i.exec(raw.trim())
  const unit = match?.[2].toLowerCase().replace('i', '')
  if (!match || unit === undefined || !(unit in SIZE_UNITS)) {
    throw new InputError(name, `'${raw}' is not a size; write it like 500M, 20G or 1T`)
  }
  return Math.round(Number(match[1]) * SIZE_UNITS[unit])
}

const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** Parses `30d`, `12h`, `90m`, `2w`. */
export function parseAge(name: string, raw: string): number {
  const match = /^(\d+)\s*([smhdw])$/i.exec(raw.trim())
  if (!match) throw new InputError(name, `'${raw}' is not an age; write it like 30d, 12h or 2w`)
  return Number(match[1]) * AGE_UNITS[match[2].toLowerCase()]
}

/** A manifest file's lines, as an input's: trimmed, without blanks and `#` comments. */
export function readManifestLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
}
