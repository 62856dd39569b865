import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { downloadRepo } from '../fetch/huggingface/download.js'
import { Inputs } from '../constants.js'
import { hubCacheDir } from '../kinds/huggingface.js'
import { inPlaceDir } from '../inplace/layout.js'
import { formatBytes } from '../report/format.js'
import { stringifyError } from '../util/errors.js'
import { COMMON_OPTIONS, hubEndpointFlag, parseCommand, STORE_OPTIONS, STORE_USAGE } from './args.js'
import { readDownloadSettings } from '../config/config.js'
import { hubEndpoint, hubToken } from '../config/hub.js'
import { EXIT } from './errors.js'
import { fileProblem } from '../fetch/digest.js'
import { blobUsers, type DigestedFile, hubBlobs, storedDownloads } from './integrity.js'
import { Progress } from './progress.js'
import { downloadInto, recordedSource } from '../fetch/downloads.js'
import { redact } from '../fetch/http.js'
import { kindArgument, kindOfEntry, type OpenedStore, openStore } from './store.js'

export const usage = `Usage: qdc verify [KIND] [--repair] [--endpoint URL] [--store DIR | --config FILE | --backend s3 ...] [--json]

Re-hashes everything whose digest is known: HuggingFace blobs (sha256 for LFS files, the git blob
id for others) in the store's in-place hub cache and in HF_HUB_CACHE, stored downloads (sha256),
and the store's archives (the SHA-256 recorded at save; an s3 store's are downloaded to be
hashed). KIND limits it to one kind.

With --repair, a corrupt hub blob is downloaded again (verified) for the commit that lists it,
a corrupt download or archive entry is deleted so the next run fetches or saves it afresh.

Options:
  --repair        fix what is corrupt instead of only reporting it
  --endpoint URL  the Hub to re-download from (default: the config's hf-endpoint, else HF_ENDPOINT,
                  else https://huggingface.co); HF_TOKEN is used for private repos
${STORE_USAGE}
  --json          print the findings as JSON
  -h, --help      show this help

Exit status: 0 when everything verifies (or was repaired), 1 when something is still corrupt.`

interface Finding {
  kind: string
  what: string
  bytes: number
  problem: string | null
  /** What --repair did: `repaired`, `removed`, or why it could not. */
  repair?: string
  fixed?: boolean
}

interface Check {
  kind: string
  what: string
  bytes: number
  verify(onBytes: (bytes: number) => void): Promise<string | null>
  /** What --repair did, and whether the item is sound (or gone) afterwards. */
  repair(): Promise<{ note: string; fixed: boolean }>
}

export async function verify(argv: string[]): Promise<number> {
  const options = { ...COMMON_OPTIONS, ...STORE_OPTIONS, repair: { type: 'boolean' }, endpoint: { type: 'string' } } as const
  const { values, positionals } = parseCommand('verify', argv, options, true)
  if (values.help) {
    process.stdout.write(usage + '\n')
    return EXIT.ok
  }
  const kind = kindArgument('verify', positionals)
  const opened = openStore(values)
  const endpoint =
    values.endpoint === undefined
      ? hubEndpoint(Inputs.HfEndpoint, opened.inputs[Inputs.HfEndpoint])
      : hubEndpointFlag('--endpoint', values.endpoint)
  const wanted = (candidate: string) => kind === undefined || candidate === kind
  const checks = (await gatherChecks(opened, endpoint, wanted)).filter(check => wanted(check.kind))
  const findings = await runChecks(checks, values.repair ?? false)
  const corrupt = findings.filter(f => f.problem !== null && !f.fixed)
  if (values.json)
    process.stdout.write(
      JSON.stringify({ store: opened.root, checked: findings.length, findings: findings.filter(f => f.problem !== null) }, null, 2) + '\n'
    )
  else printFindings(findings)
  return corrupt.length > 0 ? EXIT.failed : EXIT.ok
}

async function gatherChecks(opened: OpenedStore, endpoint: string, wanted: (kind: string) => boolean): Promise<Check[]> {
  const checks: Check[] = []
  const inPlace = (kind: string) => (opened.localDir === null ? [] : [inPlaceDir(opened.localDir, kind)])
  const hubDirs = unique([...inPlace('huggingface'), hubCacheDir().dir])
  for (const hubDir of hubDirs) {
    for (const blob of await hubBlobs(hubDir)) checks.push(hubCheck(blob, hubDir, endpoint))
  }
  for (const dir of unique([...inPlace('downloads'), readDownloadSettings(process.cwd()).dir])) {
    for (const stored of await storedDownloads(dir)) {
      checks.push({
        kind: 'downloads',
        what: stored.file,
        bytes: stored.size,
        verify: onBytes => fileProblem(stored.file, stored.size, stored.digest, onBytes),
        repair: () => repairDownload(dir, stored)
      })
    }
  }
  // Hashed here, for the kinds asked about only; each check then reports its answer and counts its bytes.
  for (const entry of await opened.store.verifyEntries(entry => wanted(kindOfEntry(entry)))) {
    checks.push({
      kind: kindOfEntry(entry),
      what: `archive entry ${entry.key}`,
      bytes: entry.bytes,
      verify: async onBytes => (onBytes(entry.bytes), entry.problem),
      repair: async () => (await opened.store.removeCorrupt(entry), { note: 'removed; the next run saves it afresh', fixed: true })
    })
  }
  return checks
}

/** Downloads a stored file again from where it came from; without a recorded source it is removed. */
async function repairDownload(dir: string, stored: DigestedFile): Promise<{ note: string; fixed: boolean }> {
  const sha256 = stored.digest.sha256!
  const url = await recordedSource(dir, sha256)
  if (url === null) {
    await fs.rm(stored.file, { force: true })
    return { note: 'removed (no source URL was recorded); the next fetch of it downloads it again', fixed: true }
  }
  await downloadInto(dir, url, sha256)
  return { note: `downloaded again from ${redact(url)}`, fixed: true }
}

function hubCheck(blob: DigestedFile & { repoFolder: string }, hubDir: string, endpoint: string): Check {
  return {
    kind: 'huggingface',
    what: blob.file,
    bytes: blob.size,
    verify: onBytes => fileProblem(blob.file, blob.size, blob.digest, onBytes),
    repair: async () => {
      const users = await blobUsers(blob.repoFolder, path.basename(blob.file))
      if (users.length === 0)
        return (await fs.rm(blob.file, { force: true }), { note: 'removed; no stored listing names a file with this content', fixed: true })
      const token = hubToken()
      const user = users[0]
      await downloadRepo({ repo: user.repo, globs: user.paths.map(escapeGlob) }, { endpoint, cacheDir: hubDir, token })
      const problem = await fileProblem(blob.file, blob.size, blob.digest)
      return {
        note: `downloaded again from ${endpoint} (${user.repo} ${user.paths.join(', ')})${problem ? `, still corrupt: ${problem}` : ''}`,
        fixed: problem === null
      }
    }
  }
}

async function runChecks(checks: Check[], repair: boolean): Promise<Finding[]> {
  const total = checks.reduce((sum, check) => sum + check.bytes, 0)
  const progress = new Progress('verify', total)
  let done = 0
  const findings: Finding[] = []
  for (const check of checks) {
    const problem = await check.verify(bytes => progress.update((done += bytes)))
    const finding: Finding = { kind: check.kind, what: check.what, bytes: check.bytes, problem }
    if (problem !== null && repair) {
      try {
        const { note, fixed } = await check.repair()
        finding.repair = note
        finding.fixed = fixed
      } catch (error) {
        finding.repair = `repair failed: ${stringifyError(error)}`
        finding.fixed = false
      }
    }
    findings.push(finding)
  }
  if (total > 0) progress.finish(done)
  return findings
}

function printFindings(findings: Finding[]): void {
  const bad = findings.filter(f => f.problem !== null)
  const bytes = findings.reduce((sum, f) => sum + f.bytes, 0)
  const lines = [`Checked ${findings.length} item(s), ${formatBytes(bytes)}: ${bad.length === 0 ? 'all verify' : `${bad.length} corrupt`}`]
  for (const f of bad) {
    lines.push(`  ${f.kind}: ${f.what}: ${f.problem}`)
    if (f.repair) lines.push(`    ${f.fixed ? 'fixed' : 'NOT fixed'}: ${f.repair}`)
  }
  if (bad.some(f => f.repair === undefined)) lines.push('Run qdc verify --repair to fix them.')
  process.stdout.write(lines.join('\n') + '\n')
}

function unique(items: string[]): string[] {
  return [...new Set(items.map(item => path.resolve(item)))]
}

/** The downloader's globs have no escape: a `*` or `?` in a path becomes `?`, which matches it (and little else). */
function escapeGlob(repoPath: string): string {
  return repoPath.replace(/[*?]/g, '?')
}
