import { readHistory, type HistoryLine } from '../backends/local/history.js'
import { inPlaceDir, inPlaceKinds } from '../inplace/layout.js'
import { countLiveLeases } from '../inplace/lease.js'
import { listFiles } from '../backends/local/prune.js'
import { formatBytes } from '../report/format.js'
import { COMMON_OPTIONS, parseCommand, STORE_OPTIONS, STORE_USAGE } from './args.js'
import { EXIT } from './errors.js'
import { ago, kindOfEntry, openStore } from './store.js'
import { displayWidth, styleFor } from './terminal.js'

export const usage = `Usage: qdc stats [--store DIR | --config FILE | --backend s3 --s3-bucket NAME ...] [--json]

Per cache kind and per store (archive entries, in-place directory): how many entries or files,
their size, when they were last used, and the hits of the most recent runs (the local store
keeps the run history; an s3 store does not).

Options:
${STORE_USAGE}
  --json         print the figures as JSON
  -h, --help     show this help`

const RECENT_RUNS = 10

export interface KindStats {
  kind: string
  store: 'archive' | 'in-place'
  /** Archive entries, or files in place. */
  items: number
  bytes: number
  /** Milliseconds since the epoch; null when empty. */
  lastUsed: number | null
  /** Jobs holding the in-place directory right now. */
  activeJobs: number
  /** Hits of the latest runs, oldest first. */
  recentHits: HistoryLine['hit'][]
}

export async function stats(argv: string[]): Promise<number> {
  const { values } = parseCommand('stats', argv, { ...COMMON_OPTIONS, ...STORE_OPTIONS })
  if (values.help) {
    process.stdout.write(usage + '\n')
    return EXIT.ok
  }
  const { root, store, localDir } = openStore(values)
  const history = localDir === null ? [] : await readHistory(localDir)
  const rows: KindStats[] = []
  const archive = new Map<string, KindStats>()
  for (const entry of await store.listEntries()) {
    const kind = kindOfEntry(entry)
    const row = archive.get(kind) ?? { kind, store: 'archive' as const, items: 0, bytes: 0, lastUsed: null, activeJobs: 0, recentHits: [] }
    row.items++
    row.bytes += entry.bytes
    row.lastUsed = Math.max(row.lastUsed ?? 0, entry.lastUsed)
    archive.set(kind, row)
  }
  rows.push(...archive.values())
  for (const kind of localDir === null ? [] : await inPlaceKinds(localDir)) {
    const files = await listFiles(kind, inPlaceDir(localDir!, kind))
    rows.push({
      kind,
      store: 'in-place',
      items: files.length,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0),
      lastUsed: files.length > 0 ? Math.max(...files.map(f => f.lastUsed)) : null,
      activeJobs: await countLiveLeases(localDir!, kind),
      recentHits: []
    })
  }
  for (const row of rows) {
    const backend = row.store === 'archive' ? (localDir === null ? 's3' : 'local') : 'in-place'
    row.recentHits = history
      .filter(line => line.kind === row.kind && line.backend === backend)
      .slice(-RECENT_RUNS)
      .map(line => line.hit)
  }
  rows.sort((a, b) => (a.kind === b.kind ? a.store.localeCompare(b.store) : a.kind.localeCompare(b.kind)))
  if (values.json) {
    process.stdout.write(JSON.stringify({ store: root, kinds: rows, runs: history.length }, null, 2) + '\n')
    return EXIT.ok
  }
  printTable(root, rows, history.length)
  return EXIT.ok
}

const HIT_MARKS = { exact: '✓', partial: '~', miss: '✗' } as const

function printTable(root: string, rows: KindStats[], runs: number): void {
  const style = styleFor(process.stdout)
  const total = rows.reduce((sum, row) => sum + row.bytes, 0)
  const lines = [`Store ${root}: ${formatBytes(total)}, ${runs} run(s) recorded`]
  if (rows.length === 0) {
    process.stdout.write(`${lines[0]}\nNothing cached yet.\n`)
    return
  }
  const table = [
    ['KIND', 'STORE', 'ITEMS', 'SIZE', 'LAST USE', 'RECENT RUNS (✓ exact, ~ partial, ✗ miss; newest last)'],
    ...rows.map(row => [
      row.kind,
      row.store + (row.activeJobs > 0 ? ` (${row.activeJobs} job${row.activeJobs === 1 ? '' : 's'} using it)` : ''),
      `${row.items} ${row.store === 'archive' ? (row.items === 1 ? 'entry' : 'entries') : row.items === 1 ? 'file' : 'files'}`,
      formatBytes(row.bytes),
      row.lastUsed === null ? '—' : `${new Date(row.lastUsed).toISOString().slice(0, 16).replace('T', ' ')} (${ago(row.lastUsed)})`,
      row.recentHits.length === 0 ? '—' : `${row.recentHits.map(hit => HIT_MARKS[hit]).join('')}  ${hitRate(row.recentHits)}`
    ])
  ]
  const widths = table[0].map((_, c) => Math.max(...table.map(row => displayWidth(row[c]))))
  const render = (row: string[]) =>
    row
      .map((cell, c) => cell + ' '.repeat(widths[c] - displayWidth(cell)))
      .join('  ')
      .trimEnd()
  lines.push(style.bold(render(table[0])), ...table.slice(1).map(render))
  process.stdout.write(lines.join('\n') + '\n')
}

function hitRate(hits: HistoryLine['hit'][]): string {
  const useful = hits.filter(hit => hit !== 'miss').length
  return `${Math.round((useful / hits.length) * 100)}% hit`
}
