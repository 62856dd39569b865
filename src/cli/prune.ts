import { formatBytes } from '../report/format.js'
import { ageFlag, COMMON_OPTIONS, parseCommand, sizeFlag, STORE_OPTIONS, STORE_USAGE } from './args.js'
import { EXIT } from './errors.js'
import { openStore } from './store.js'

export const usage = `Usage: qdc prune [--max-age AGE] [--max-size SIZE] [--dry-run] [--store DIR | --config FILE | --backend s3 ...] [--json]

Removes what was used least recently, archive entries and in-place files alike: first everything
unused for longer than AGE, then the oldest until the store fits in SIZE. In-place caches a running
job is using are never touched (their size still counts). Leftovers of crashed saves go too.

Options:
  --max-age AGE    e.g. 30d, 12h, 2w (default: the config's local-max-age, else 30d; for s3 s3-max-age, else none)
  --max-size SIZE  e.g. 50G, 500M (default: the config's local-max-size, else 20G; for s3 s3-max-size, else none)
  --dry-run        only say what would be removed
${STORE_USAGE}
  --json           print the result as JSON
  -h, --help       show this help`

export async function prune(argv: string[]): Promise<number> {
  const options = {
    ...COMMON_OPTIONS,
    ...STORE_OPTIONS,
    'max-age': { type: 'string' },
    'max-size': { type: 'string' },
    'dry-run': { type: 'boolean' }
  } as const
  const { values } = parseCommand('prune', argv, options)
  if (values.help) {
    process.stdout.write(usage + '\n')
    return EXIT.ok
  }
  const { root, store, limits } = openStore(values)
  const maxAgeMs = values['max-age'] === undefined ? limits.maxAgeMs : ageFlag('--max-age', values['max-age'])
  const maxBytes = values['max-size'] === undefined ? limits.maxBytes : sizeFlag('--max-size', values['max-size'])
  const dryRun = values['dry-run'] ?? false
  const result = await store.prune({ maxAgeMs, maxBytes, dryRun })
  if (values.json) {
    process.stdout.write(JSON.stringify({ store: root, dryRun, ...result }, null, 2) + '\n')
    return EXIT.ok
  }
  const verb = dryRun ? 'Would remove' : 'Removed'
  const lines = [
    `${verb} ${result.entries.length} archive entr${result.entries.length === 1 ? 'y' : 'ies'} and ${result.files.length} in-place file(s): ${formatBytes(result.bytes)}`
  ]
  for (const entry of result.entries) lines.push(`  entry ${entry.key} (${formatBytes(entry.bytes)})`)
  for (const file of result.files.slice(0, 20)) lines.push(`  file ${file.file} (${formatBytes(file.bytes)})`)
  if (result.files.length > 20) lines.push(`  ... and ${result.files.length - 20} more file(s)`)
  if (result.busyKinds.length > 0) lines.push(`Skipped, in use by a running job: ${result.busyKinds.join(', ')}`)
  for (const orphan of result.orphans.slice(0, 20)) lines.push(`  leftover ${orphan}`)
  lines.push(
    `The store ${dryRun ? 'would hold' : 'now holds'} ${formatBytes(result.remainingBytes)} (${maxBytes === undefined ? 'no size cap' : `cap ${formatBytes(maxBytes)}`})`
  )
  process.stdout.write(lines.join('\n') + '\n')
  return EXIT.ok
}
