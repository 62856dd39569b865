import * as fs from 'node:fs/promises'
import { writeFileAtomic } from '../util/atomic.js'
import { inChunks, nix } from './cli.js'

/** What `nix path-info --json` says about one valid store path (the fields qdc reads). */
export interface PathInfo {
  path: string
  /** As this Nix prints it (SRI on 2.8 and 2.26 alike): compared only with what the same Nix printed. */
  narHash: string
  narSize: number
  /** A binary cache's compressed NAR (its narinfo's FileSize); null for a path in a local store. */
  downloadSize: number | null
  /** Built on this machine (or by this machine's daemon); nix 2.8 omits it when false. */
  ultimate: boolean
  signatures: string[]
  /** Content address: derivations and sources added by evaluation, fixed-output downloads. */
  ca: string | null
}

export type Origin = 'built' | 'fromCache' | 'fromUpstream'

export async function listValidPaths(): Promise<string[]> {
  const out = await nix(['path-info', '--all'])
  return out
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
    .sort()
}

export async function writePathList(file: string, paths: string[]): Promise<void> {
  await writeFileAtomic(file, paths.join('\n') + '\n')
}

export async function readPathList(file: string): Promise<string[]> {
  return (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean)
}

/** Paths valid now that were not at restore, without `.drv` files: evaluation writes those, nothing builds them. */
export function newPaths(before: string[], after: string[]): string[] {
  const known = new Set(before)
  return after.filter(p => !known.has(p) && !p.endsWith('.drv'))
}

/**
 * A substituter post cannot reach must not hold it up: Nix's defaults (no connect timeout of its own, five
 * attempts with backoff) could take minutes per path on an offline runner.
 */
const REMOTE_QUERY = ['--option', 'connect-timeout', '5', '--option', 'download-attempts', '1']

/**
 * What Nix knows of `paths` in the local store, or in `store` (a substituter's URL): there, a path the
 * store lacks is left out (2.8 says `valid: false`, 2.19+ null), and Nix answers from its narinfo disk
 * cache when it looked the path up before.
 */
export async function pathInfos(paths: string[], store: string | null = null): Promise<PathInfo[]> {
  const infos: PathInfo[] = []
  const where = store === null ? [] : ['--store', store, ...REMOTE_QUERY]
  for (const chunk of inChunks(paths)) infos.push(...parsePathInfoJson(await nix(['path-info', '--json', ...where, ...chunk])))
  return infos
}

/** Nix < 2.19 prints an array of objects with `path`; later versions an object keyed by path (null when invalid). */
export function parsePathInfoJson(text: string): PathInfo[] {
  const parsed = JSON.parse(text) as unknown
  const records: [string, Record<string, unknown>][] = Array.isArray(parsed)
    ? parsed.map(r => [String((r as Record<string, unknown>).path), r as Record<string, unknown>])
    : Object.entries(parsed as Record<string, Record<string, unknown> | null>).filter(
        (e): e is [string, Record<string, unknown>] => e[1] !== null
      )
  return records
    .filter(([, r]) => r.valid !== false)
    .map(([p, r]) => ({
      path: p,
      narHash: typeof r.narHash === 'string' ? r.narHash : '',
      narSize: Number(r.narSize ?? 0),
      downloadSize: typeof r.downloadSize === 'number' ? r.downloadSize : null,
      ultimate: r.ultimate === true,
      signatures: Array.isArray(r.signatures) ? (r.signatures as string[]) : [],
      ca: typeof r.ca === 'string' ? r.ca : null
    }))
}
