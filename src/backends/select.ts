import * as core from '@actions/core'
import type { ActionConfig } from '../config/config.js'
import type { BackendName, CacheBackend } from './backend.js'
import { gitHubCacheAvailable, GitHubBackend } from './github.js'
import { LocalStore } from './local/store.js'

/** `auto` is the GitHub cache service when the runner offers one, else the local store. */
export async function chooseBackend(config: ActionConfig): Promise<BackendName> {
  if (config.backend !== 'auto') return config.backend
  return (await gitHubCacheAvailable()) ? 'github' : 'local'
}

export function openBackend(name: BackendName, config: ActionConfig): CacheBackend {
  if (name === 'github') return new GitHubBackend({ idleTimeoutMs: config.transfer.idleTimeoutMs })
  const { dir, maxAgeMs, maxBytes } = config.local
  return new LocalStore(dir, Date.now, { log: line => core.info(line), pruning: { maxAgeMs, maxBytes } })
}
