import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { hubToken } from '../config/hub.js'
import { Env, Inputs } from '../constants.js'
import { addTransfer, type FetchedDetails, fetchedFiles, renderFiles } from '../fetch/files.js'
import { downloadRepo } from '../fetch/huggingface/download.js'
import { shortHash } from '../plan/hash-files.js'
import { formatBytes } from '../report/format.js'
import { type CacheKind, type KindRun, rolePart } from './kind.js'

/**
 * The HuggingFace hub cache. Models are the same on every platform, so the key has no OS part, only
 * the models asked for; content changes roll the entry forward through revisions instead of new keys.
 * Once restored, every model the `models` input names is verified in, or downloaded into, the cache.
 */
export const huggingface: CacheKind = {
  name: 'huggingface',

  async plan({ config, inPlaceDir }) {
    const found = inPlaceDir === null ? hubCacheDir() : { dir: inPlaceDir, source: 'the local store (in place)' }
    const models = config.hf.models
    return {
      parts: [rolePart('hf-hub-cache', found.dir)],
      // Credentials and lock/partial files must never travel in an archive (huggingface-hub.md §1.5).
      exclude: ['token', 'stored_tokens', '.locks', '*.incomplete'],
      notes: [`hub cache from ${found.source}`],
      // The models asked for name the entry; any other hub cache entry is still a useful partial hit.
      keyParts:
        models.length === 0
          ? []
          : [{ name: 'models', value: shortHash(JSON.stringify(models)), source: models.map(m => m.repo).join(', ') }],
      droppable: models.length === 0 ? 0 : 1,
      inPlace: inPlaceDir !== null,
      // Later steps (transformers, huggingface_hub) read the same cache, offline if asked.
      env: { [Env.HfHubCache]: found.dir, ...(config.hf.offline ? { [Env.HfHubOffline]: '1' } : {}) }
    }
  },

  async afterRestore(run) {
    if (run.config.hf.models.length > 0) await core.group('Fetch models', () => fetchModels(run))
  },

  summarize(entry) {
    const files = fetchedFiles(entry)
    return files?.length ? renderFiles(files) : []
  }
}

/** Anything asked for that cannot be had fails the step. */
async function fetchModels({ config, plan, entry }: KindRun): Promise<void> {
  // The input, else the token huggingface_hub itself would use; masked before anything can log it.
  const token = hubToken(core.getInput(Inputs.HfToken))
  if (token) core.setSecret(token)
  const details: FetchedDetails = { files: [] }
  entry.details = details
  for (const model of config.hf.models) {
    const started = performance.now()
    const result = await downloadRepo(model, {
      endpoint: config.hf.endpoint,
      cacheDir: plan.spec.parts[0].path,
      token,
      mask: secret => core.setSecret(secret),
      log: line => core.info(line),
      symlinks: process.env.HF_HUB_DISABLE_SYMLINKS !== '1',
      ...config.transfer
    })
    details.files.push(...result.files)
    if (result.bytesDownloaded > 0) addTransfer(entry, result.bytesDownloaded, performance.now() - started)
    core.info(
      `${result.repo} at ${result.commit}: ${result.files.length} file(s) verified, ` +
        `${formatBytes(result.bytesDownloaded)} downloaded, ${formatBytes(result.bytesReused)} from the cache`
    )
  }
}

/** Same order as huggingface_hub: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME, ~/.cache. */
export function hubCacheDir(): { dir: string; source: string } {
  const env = process.env
  if (env.HF_HUB_CACHE) return { dir: path.resolve(env.HF_HUB_CACHE), source: 'HF_HUB_CACHE' }
  if (env.HUGGINGFACE_HUB_CACHE) return { dir: path.resolve(env.HUGGINGFACE_HUB_CACHE), source: 'HUGGINGFACE_HUB_CACHE' }
  if (env.HF_HOME) return { dir: path.resolve(env.HF_HOME, 'hub'), source: 'HF_HOME' }
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return { dir: path.join(cacheHome, 'huggingface', 'hub'), source: env.XDG_CACHE_HOME ? 'XDG_CACHE_HOME' : 'the default ~/.cache' }
}
