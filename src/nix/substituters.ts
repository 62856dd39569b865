import * as path from 'node:path'
import { parseCacheInfo, readCacheInfo } from './binary-cache.js'
import { listSetting } from './settings.js'

/**
 * A substituter Nix is configured with and its priority. Nix asks substituters lowest priority first (a
 * stable sort, so a tie keeps the configured order, where ours, an extra-substituter, comes last). A
 * store's priority is its URL's `priority=` parameter, else the `Priority:` its nix-cache-info announces,
 * else 0 (Nix's default: an HTTP cache without `Priority` is asked before anything that names one).
 */
export interface Substituter {
  url: string
  priority: number
  /** Where the priority comes from; `unread` when the store could not be asked, so 0 is assumed. */
  from: 'url' | 'nix-cache-info' | 'unannounced' | 'unread'
}

/** nix-cache-info is tiny: a store that does not answer within this long is taken to announce nothing. */
const CACHE_INFO_TIMEOUT_MS = 5000
const NIX_DEFAULT_PRIORITY = 0

/** The substituters Nix's effective settings list, other than the cache directory `ownDir`, with their priorities. */
export async function otherSubstituters(settings: Map<string, string>, ownDir: string): Promise<Substituter[]> {
  const urls = listSetting(settings, 'substituters').filter(url => !isCacheDirectory(url, ownDir))
  return Promise.all(urls.map(priorityOf))
}

/** A priority that puts ours before every other substituter: `preferred` when that already does. */
export function priorityAhead(others: Substituter[], preferred: number): number {
  return Math.min(preferred, ...others.map(s => s.priority - 1))
}

/** The substituters Nix asks before a store of priority `ours` (ties go first: ours is listed last). */
export function askedBefore(others: Substituter[], ours: number): Substituter[] {
  return others.filter(s => s.priority <= ours)
}

/** Every store in the order Nix asks them (Array.prototype.sort is stable, as Nix's is). */
export function inNixOrder<T extends { priority: number }>(stores: T[]): T[] {
  return [...stores].sort((a, b) => a.priority - b.priority)
}

const PRIORITY_SOURCES: Record<Substituter['from'], string> = {
  url: 'set in its URL',
  'nix-cache-info': 'announced in its nix-cache-info',
  unannounced: "its nix-cache-info names none, Nix's default",
  unread: "its nix-cache-info could not be read, Nix's default assumed"
}

/** `<url> (priority N: where that comes from)`, for log lines and warnings. */
export function describePriority(s: Substituter): string {
  return `${s.url} (priority ${s.priority}: ${PRIORITY_SOURCES[s.from]})`
}

async function priorityOf(url: string): Promise<Substituter> {
  const param = parsedUrl(url)?.searchParams.get('priority') ?? null
  if (param !== null && /^-?\d+$/.test(param.trim())) return { url, priority: Number(param), from: 'url' }
  const info = await fetchCacheInfo(url)
  if (info === null) return { url, priority: NIX_DEFAULT_PRIORITY, from: 'unread' }
  const announced = info.get('Priority')?.trim() ?? ''
  return /^-?\d+$/.test(announced)
    ? { url, priority: Number(announced), from: 'nix-cache-info' }
    : { url, priority: NIX_DEFAULT_PRIORITY, from: 'unannounced' }
}

/** The store's nix-cache-info: read from a file:// directory, fetched from an http(s) cache; null for other stores or on any fault. */
async function fetchCacheInfo(url: string): Promise<Map<string, string> | null> {
  const parsed = parsedUrl(url)
  if (!parsed) return null
  if (parsed.protocol === 'file:') return readCacheInfo(decodeURIComponent(parsed.pathname))
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
  try {
    const response = await fetch(`${url.split('?')[0].replace(/\/+$/, '')}/nix-cache-info`, {
      signal: AbortSignal.timeout(CACHE_INFO_TIMEOUT_MS)
    })
    return response.ok ? parseCacheInfo(await response.text()) : null
  } catch {
    return null
  }
}

function isCacheDirectory(url: string, dir: string): boolean {
  const parsed = parsedUrl(url)
  return parsed?.protocol === 'file:' && path.resolve(decodeURIComponent(parsed.pathname)) === path.resolve(dir)
}

/** Store URLs such as `daemon` or `auto` are not URLs at all. */
function parsedUrl(url: string): URL | null {
  try {
    return new URL(url)
  } catch {
    return null
  }
}
