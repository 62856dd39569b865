import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { writeFileAtomic } from '../../util/atomic.js'
import type { HitKind, LedgerEntry, SaveOutcome } from '../../ledger.js'

/** One line per kind per run in `<local-dir>/history.jsonl`, read by `qdc stats`. */
export interface HistoryLine {
  /** Milliseconds since the epoch. */
  time: number
  kind: string
  backend: string
  hit: HitKind
  downloadedBytes: number
  reusedBytes: number
  saved: SaveOutcome
}

const HISTORY_FILE = 'history.jsonl'
/** Kept on append; older lines are dropped so the file stays small on a busy runner. */
const MAX_LINES = 5000

export function historyFile(storeRoot: string): string {
  return path.join(storeRoot, HISTORY_FILE)
}

/**
 * Appends with O_APPEND and one write per run: concurrent jobs' lines never interleave. Trimming is
 * a rare rewrite and may drop a line a concurrent job appended at that moment; it is history, not data.
 */
export async function appendHistory(storeRoot: string, entries: LedgerEntry[], now = Date.now()): Promise<void> {
  const lines = entries.map(e =>
    JSON.stringify({
      time: now,
      kind: e.kind,
      backend: e.backend,
      hit: e.hit,
      downloadedBytes: e.downloadedBytes,
      reusedBytes: e.reusedBytes,
      saved: e.saved
    } satisfies HistoryLine)
  )
  await fs.mkdir(storeRoot, { recursive: true })
  await fs.appendFile(historyFile(storeRoot), lines.map(line => line + '\n').join(''))
  const all = await readHistory(storeRoot)
  if (all.length > MAX_LINES) {
    await writeFileAtomic(
      historyFile(storeRoot),
      all
        .slice(-MAX_LINES / 2)
        .map(line => JSON.stringify(line) + '\n')
        .join('')
    )
  }
}

/** Oldest first; lines that do not parse (a torn write after a crash) are skipped. */
export async function readHistory(storeRoot: string): Promise<HistoryLine[]> {
  const text = await fs.readFile(historyFile(storeRoot), 'utf8').catch(() => '')
  const lines: HistoryLine[] = []
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue
    try {
      lines.push(JSON.parse(raw) as HistoryLine)
    } catch {
      continue
    }
  }
  return lines
}
