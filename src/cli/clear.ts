import * as fs from 'node:fs/promises'
import * as readline from 'node:readline/promises'
import { inPlaceDir, inPlaceKinds, metaFile } from '../inplace/layout.js'
import { acquireLease, LeaseBusyError, releaseLease } from '../inplace/lease.js'
import { listFiles } from '../backends/local/prune.js'
import { formatBytes } from '../report/format.js'
import { COMMON_OPTIONS, parseCommand, STORE_OPTIONS, STORE_USAGE } from './args.js'
import { EXIT, UsageError } from './errors.js'
import { kindArgument, kindOfEntry, openStore } from './store.js'

export const usage = `Usage: qdc clear [KIND] [--yes] [--store DIR | --config FILE | --backend s3 ...] [--json]

Deletes the archive entries and the in-place directory of KIND (pip, buildah, huggingface, podman,
nix, downloads, custom), or of every kind. Asks first on a terminal; elsewhere it refuses unless
--yes is given. An in-place directory a running job is using is not deleted (exit 1).

Options:
  --yes          delete without asking
${STORE_USAGE}
  --json         print what was deleted as JSON
  -h, --help     show this help`

export async function clear(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('clear', argv, { ...COMMON_OPTIONS, ...STORE_OPTIONS, yes: { type: 'boolean' } }, true)
  if (values.help) {
    process.stdout.write(usage + '\n')
    return EXIT.ok
  }
  const kind = kindArgument('clear', positionals)
  const { root, store, localDir } = openStore(values)
  const wanted = (name: string) => kind === undefined || name === kind
  const entries = (await store.listEntries()).filter(entry => wanted(kindOfEntry(entry)))
  // In-place caches live in the local store's directory only.
  const kinds = localDir === null ? [] : (await inPlaceKinds(localDir)).filter(wanted)
  const files = (await Promise.all(kinds.map(k => listFiles(k, inPlaceDir(localDir!, k))))).flat()
  const bytes = entries.reduce((sum, e) => sum + e.bytes, 0) + files.reduce((sum, f) => sum + f.bytes, 0)
  const what = `${entries.length} archive entr${entries.length === 1 ? 'y' : 'ies'} and ${files.length} in-place file(s) of ${kind ?? 'every kind'} (${formatBytes(bytes)}) in ${root}`
  if (entries.length === 0 && kinds.length === 0) {
    process.stdout.write(
      values.json ? JSON.stringify({ store: root, entries: [], kinds: [], bytes: 0 }) + '\n' : `Nothing to clear in ${root}.\n`
    )
    return EXIT.ok
  }
  if (!values.yes && !(await confirmed(`Delete ${what}? [y/N] `))) {
    process.stderr.write('Nothing deleted.\n')
    return EXIT.failed
  }
  const busy: string[] = []
  for (const k of kinds) {
    if (!(await clearInPlace(localDir!, k))) busy.push(k)
  }
  const removed = await store.removeEntries(entry => wanted(kindOfEntry(entry)))
  const cleared = kinds.filter(k => !busy.includes(k))
  if (values.json) {
    process.stdout.write(JSON.stringify({ store: root, entries: removed, kinds: cleared, busyKinds: busy, bytes }, null, 2) + '\n')
  } else {
    process.stdout.write(
      `Deleted ${removed.length} archive entr${removed.length === 1 ? 'y' : 'ies'}${cleared.length > 0 ? ` and the in-place ${cleared.join(', ')}` : ''}.\n`
    )
    if (busy.length > 0) process.stderr.write(`qdc: not deleted, in use by a running job: ${busy.join(', ')}; try again when it ends\n`)
  }
  return busy.length > 0 ? EXIT.failed : EXIT.ok
}

/** Asks on a terminal; anywhere else a deletion needs --yes. */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('clear: refusing to delete without --yes when not attached to a terminal')
  }
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim())
  } finally {
    prompt.close()
  }
}

/** Empties the kind's directory under an exclusive lease; false when a job holds the kind. */
async function clearInPlace(root: string, kind: string): Promise<boolean> {
  const lease = await acquireLease(root, kind, 'exclusive').catch((error: unknown) => {
    if (error instanceof LeaseBusyError) return null
    throw error
  })
  if (lease === null) return false
  try {
    const dir = inPlaceDir(root, kind)
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) await fs.rm(`${dir}/${name}`, { recursive: true, force: true })
    await fs.rm(metaFile(root, kind), { force: true })
    return true
  } finally {
    await releaseLease(lease)
  }
}
