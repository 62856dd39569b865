import * as os from 'node:os'
import * as path from 'node:path'
import { shortHash } from '../plan/hash-files.js'
import { type CacheKind, NOTHING_PRUNED, rolePart } from './kind.js'

/**
 * The HuggingFace hub cache. Models are the same on every platform, so the key has no OS part, only
 * the models asked for; content changes roll the entry forward through revisions instead of new keys.
 */
export const huggingface: CacheKind = {
  name: 'huggingface',

  async locate() {
    const { dir, source } = hubCacheDir()
    return {
      parts: [rolePart('hf-hub-cache', dir)],
      // Credentials and lock/partial files must never travel in an archive (huggingface-hub.md §1.5).
      exclude: ['token', 'stored_tokens', '.locks', '*.incomplete'],
      notes: [`hub cache from ${source}`]
    }
  },

  // The models asked for name the entry; any other hub cache entry is still a useful partial hit.
  async key(config) {
    if (config.models.length === 0) return { parts: [], droppable: 0 }
    const spec = JSON.stringify(config.models)
    return { parts: [{ name: 'models', value: shortHash(spec), source: config.models.map(m => m.repo).join(', ') }], droppable: 1 }
  },

  async prune() {
    return NOTHING_PRUNED
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
