import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import * as path from 'node:path'
import type { DownloadSpec } from '../config/downloads.js'
import type { FetchedFile } from '../ledger.js'
import { fileMatches } from './digest.js'
import { writeFileAtomicIfChanged } from '../util/atomic.js'
import { redact } from './http.js'
import { downloadVerified, type TransferSettings } from './verified-download.js'

/**
 * The generic URL cache: files stored by their SHA-256 under `<store>/sha256/<hex>`, so the same bytes
 * are fetched once whatever their URL, then copied to their destination. Only verified bytes are ever
 * stored or copied; a wrong hash fails with the expected and actual digests and leaves nothing behind.
 */
export async function fetchDownload(
  spec: DownloadSpec,
  storeDir: string,
  onProgress?: (received: number, total: number) => void,
  settings: TransferSettings = {}
): Promise<FetchedFile> {
  const stored = storedPath(storeDir, spec.sha256)
  const source = await cachedState(stored, spec.sha256)
  if (source !== 'cache') await downloadInto(storeDir, spec.url, spec.sha256, onProgress, settings)
  await copyAtomically(stored, spec.dest)
  const { size } = await stat(stored)
  return { repo: redact(spec.url), path: spec.dest, size, digest: `sha256:${spec.sha256}`, source, verified: true }
}

export function storedPath(storeDir: string, sha256: string): string {
  return path.join(storeDir, 'sha256', sha256)
}

/**
 * Downloads and verifies `url` into the store under its SHA-256 and records where it came from, so
 * `qdc verify --repair` can fetch it again. A URL with a query is not recorded: it may carry a
 * signature or a token, which has no place in a cache others can read.
 */
export async function downloadInto(
  storeDir: string,
  url: string,
  sha256: string,
  onProgress?: (received: number, total: number) => void,
  settings: TransferSettings = {}
): Promise<void> {
  const stored = storedPath(storeDir, sha256)
  await rm(stored, { force: true })
  await downloadVerified({
    url,
    credentials: { origin: new URL(url).origin },
    destination: stored,
    digest: { sha256 },
    onProgress,
    progressIntervalMs: 200,
    ...settings
  })
  if (new URL(url).search === '') await writeFileAtomicIfChanged(sourceFile(storeDir, sha256), url + '\n')
}

/** The URL a stored file was downloaded from, when it was recorded. */
export async function recordedSource(storeDir: string, sha256: string): Promise<string | null> {
  const text = await readFile(sourceFile(storeDir, sha256), 'utf8').catch(() => null)
  return text?.trim() || null
}

function sourceFile(storeDir: string, sha256: string): string {
  return path.join(storeDir, 'sources', sha256)
}

/** `cache` when a stored copy verifies, `repaired` when one exists but does not, else `downloaded`. */
async function cachedState(stored: string, sha256: string): Promise<FetchedFile['source']> {
  const info = await stat(stored).catch(() => undefined)
  if (!info) return 'downloaded'
  return (await fileMatches(stored, info.size, { sha256 })) ? 'cache' : 'repaired'
}

async function copyAtomically(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true })
  const temp = `${to}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await copyFile(from, temp)
    await rename(temp, to)
  } finally {
    await rm(temp, { force: true })
  }
}
