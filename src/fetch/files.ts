import type { FetchedFile, LedgerEntry } from '../ledger.js'
import { escapeCell, formatBytes } from '../report/format.js'

/** The ledger details of a kind that fetches files (models, downloads): a row per verified file. */
export interface FetchedDetails {
  files: FetchedFile[]
}

export function fetchedFiles(entry: LedgerEntry): FetchedFile[] | undefined {
  return (entry.details as FetchedDetails | undefined)?.files
}

/** Counts bytes the kind fetched from upstream itself, and the time they took: the bandwidth a miss is priced at. */
export function addTransfer(entry: LedgerEntry, bytes: number, ms: number): void {
  entry.fetched = { bytes: (entry.fetched?.bytes ?? 0) + bytes, ms: (entry.fetched?.ms ?? 0) + ms }
}

/** One row per verified file: where it came from and what it was checked against. */
export function renderFiles(files: FetchedFile[]): string[] {
  return [
    '| Repo | File | Size | Digest | Source | Verified |',
    '| --- | --- | ---: | --- | --- | --- |',
    ...files.map(f => {
      const [algorithm, hex] = f.digest.split(':')
      return `| ${escapeCell(f.repo)} | \`${escapeCell(f.path)}\` | ${formatBytes(f.size)} | ${algorithm}:${hex.slice(0, 12)}… | ${f.source} | ✓ |`
    })
  ]
}
