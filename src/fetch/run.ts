import * as core from '@actions/core'
import type { ActionConfig } from '../config/config.js'
import { Env, Inputs } from '../constants.js'
import { hubCacheDir } from '../kinds/huggingface.js'
import type { LedgerEntry } from '../ledger.js'
import { formatBytes } from '../report/format.js'
import { fetchDownload } from './downloads.js'
import { downloadRepo } from './huggingface/download.js'
import type { TransferSettings } from './verified-download.js'

/**
 * The fetch phase, after restore: models into the hub cache, artifacts into the download cache.
 * Returns whether it added files to the ledger. Anything asked for that cannot be had fails the step.
 */
export async function runFetchPhase(config: ActionConfig, entries: LedgerEntry[]): Promise<boolean> {
  const hub = entries.find(entry => entry.kind === 'huggingface')
  if (hub) exportHubEnvironment(config)
  if (hub && config.models.length > 0) await core.group('Fetch models', () => fetchModels(config, hub))
  const store = entries.find(entry => entry.kind === 'downloads')
  if (store && config.downloads.length > 0) await core.group('Fetch downloads', () => fetchDownloads(config, store))
  return Boolean(hub?.files || store?.files)
}

async function fetchDownloads(config: ActionConfig, entry: LedgerEntry): Promise<void> {
  entry.files = []
  for (const spec of config.downloads) {
    const file = await fetchDownload(spec, config.downloadsDir, undefined, transferSettings(config))
    entry.files.push(file)
    core.info(`${file.path}: ${file.source} (${formatBytes(file.size)}, sha256 ${spec.sha256.slice(0, 12)}…)`)
  }
}

/** Every model the `models` input names is verified in, or downloaded into, the restored hub cache. */
async function fetchModels(config: ActionConfig, entry: LedgerEntry): Promise<void> {
  const token = readToken()
  const cacheDir = hubCacheDir().dir
  entry.files = []
  for (const model of config.models) {
    const result = await downloadRepo(model, {
      endpoint: config.hfEndpoint,
      cacheDir,
      token,
      mask: secret => core.setSecret(secret),
      log: line => core.info(line),
      symlinks: process.env.HF_HUB_DISABLE_SYMLINKS !== '1',
      ...transferSettings(config)
    })
    entry.files.push(...result.files)
    core.info(
      `${result.repo} at ${result.commit}: ${result.files.length} file(s) verified, ` +
        `${formatBytes(result.bytesDownloaded)} downloaded, ${formatBytes(result.bytesReused)} from the cache`
    )
  }
}

/** `download-connections` and `idle-timeout`, for models and downloads alike. */
function transferSettings(config: ActionConfig): TransferSettings {
  return { connections: config.downloadConnections, idleTimeoutMs: config.idleTimeoutMs }
}

/** The input, else the token huggingface_hub itself would use; masked before anything can log it. */
function readToken(): string | undefined {
  const token = core.getInput(Inputs.HfToken).trim() || process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined
  if (token) core.setSecret(token)
  return token
}

/** Later steps (transformers, huggingface_hub) read the same cache, offline if asked. */
function exportHubEnvironment(config: ActionConfig): void {
  core.exportVariable(Env.HfHubCache, hubCacheDir().dir)
  if (config.hfOffline) core.exportVariable(Env.HfHubOffline, '1')
}
