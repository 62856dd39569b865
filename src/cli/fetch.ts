import * as path from 'node:path'
import { fetchDownload } from '../fetch/downloads.js'
import { downloadRepo } from '../fetch/huggingface/download.js'
import { parseRepoRef } from '../fetch/huggingface/repo.js'
import { hubCacheDir } from '../kinds/huggingface.js'
import { formatBytes } from '../report/format.js'
import { COMMON_OPTIONS, hubEndpointFlag, parseCommand } from './args.js'
import { exportInputs, readConfigFile } from './config-file.js'
import { readDownloadSettings } from '../config/config.js'
import { hubToken } from '../config/hub.js'
import { EXIT, UsageError } from './errors.js'
import { Progress } from './progress.js'

export const fetchUsage = `Usage: qdc fetch URL --sha256 HEX -o DEST [--cache-dir DIR] [--config FILE] [--json]

Downloads URL to DEST, verified against its SHA-256: nothing appears at DEST unless the bytes
match. The file is kept by its digest in the download cache, so the next fetch of the same bytes
(from any URL) is a local copy. Prints DEST.

Options:
  --sha256 HEX     the SHA-256 the file must have (64 hex digits)
  -o, --output DEST  where to put it
  --cache-dir DIR  the download cache (default: the config's downloads-dir, else ~/.cache/qdc-action/downloads)
  --config FILE    a qdc run config file
  --json           print the result as JSON
  -h, --help       show this help

Exit status: 0 when DEST holds the verified file, 1 when it could not be had (a wrong hash
included), 2 for bad usage.`

export async function fetch(argv: string[]): Promise<number> {
  const options = {
    ...COMMON_OPTIONS,
    sha256: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'cache-dir': { type: 'string' },
    config: { type: 'string' }
  } as const
  const { values, positionals } = parseCommand('fetch', argv, options, true)
  if (values.help) {
    process.stdout.write(fetchUsage + '\n')
    return EXIT.ok
  }
  if (positionals.length !== 1) throw new UsageError('fetch: give exactly one URL; see qdc fetch --help')
  const url = positionals[0]
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`fetch: '${url}' is not an http(s) URL`)
  const sha256 = (values.sha256 ?? '').replace(/^sha256:/i, '').toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new UsageError(
      `--sha256: ${values.sha256 === undefined ? 'missing' : `'${values.sha256}' is not 64 hex digits`}; every fetch is verified`
    )
  if (!values.output) throw new UsageError('-o: missing; say where the file goes (-o DEST)')
  exportInputs(readConfigFile(values.config))
  const cacheDir = path.resolve(values['cache-dir'] ?? readDownloadSettings(process.cwd()).dir)
  const dest = path.resolve(values.output)
  const progress = new Progress(path.basename(dest), 0)
  let received = 0
  const file = await fetchDownload({ url, sha256, dest }, cacheDir, (done, total) => progress.update((received = done), total))
  if (received > 0) progress.finish(received)
  if (values.json) process.stdout.write(JSON.stringify(file, null, 2) + '\n')
  else {
    process.stderr.write(
      `${file.source === 'cache' ? 'from the cache' : file.source}: ${formatBytes(file.size)}, sha256 ${sha256.slice(0, 12)}… verified\n`
    )
    process.stdout.write(dest + '\n')
  }
  return EXIT.ok
}

export const fetchModelUsage = `Usage: qdc fetch-model ORG/NAME[@REVISION] [GLOB...] [--pin PATH=sha256:HEX]... [--endpoint URL] [--cache-dir DIR] [--json]

Fetches a HuggingFace repo (datasets/ORG/NAME for a dataset) at one commit into the hub cache,
every file verified (sha256 for LFS files, the git blob id for others), reusing what is already
there. GLOBs select files (* and ? within a segment, ** across). Prints the snapshot directory,
which from_pretrained() can load. HF_TOKEN is sent to the Hub for private or gated repos.

Options:
  --pin PATH=sha256:HEX  also require this sha256 for PATH (repeatable)
  --endpoint URL   the Hub (default: HF_ENDPOINT, else https://huggingface.co)
  --cache-dir DIR  the hub cache (default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)
  --json           print the result (files, digests, bytes) as JSON
  -h, --help       show this help

Exit status: 0 when every selected file verified, 1 when one could not be had, 2 for bad usage.`

export async function fetchModel(argv: string[]): Promise<number> {
  const options = {
    ...COMMON_OPTIONS,
    pin: { type: 'string', multiple: true },
    endpoint: { type: 'string' },
    'cache-dir': { type: 'string' }
  } as const
  const { values, positionals } = parseCommand('fetch-model', argv, options, true)
  if (values.help) {
    process.stdout.write(fetchModelUsage + '\n')
    return EXIT.ok
  }
  const [repo, ...globs] = positionals
  if (!repo) throw new UsageError('fetch-model: name the repo (org/name[@revision]); see qdc fetch-model --help')
  try {
    parseRepoRef(repo)
  } catch (error) {
    throw new UsageError(`fetch-model: ${(error as Error).message}`)
  }
  const pins: Record<string, string> = {}
  for (const pin of values.pin ?? []) {
    const match = /^(.+)=sha256:([0-9a-fA-F]{64})$/.exec(pin)
    if (!match) throw new UsageError(`--pin: '${pin}' should be PATH=sha256:<64 hex digits>`)
    pins[match[1]] = match[2].toLowerCase()
  }
  const endpoint = hubEndpointFlag('--endpoint', values.endpoint)
  const progress = new Progress(repo, 0)
  const result = await downloadRepo(
    { repo, globs, pins },
    {
      endpoint,
      cacheDir: path.resolve(values['cache-dir'] ?? hubCacheDir().dir),
      token: hubToken(),
      log: line => progress.note(line),
      progressIntervalMs: process.stderr.isTTY ? 200 : undefined
    }
  )
  if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n')
  else {
    progress.clear()
    process.stderr.write(
      `${result.repo} at ${result.commit}: ${result.files.length} file(s) verified, ${formatBytes(result.bytesDownloaded)} downloaded, ${formatBytes(result.bytesReused)} from the cache\n`
    )
    process.stdout.write(result.snapshot + '\n')
  }
  return EXIT.ok
}
