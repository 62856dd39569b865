import * as core from '@actions/core'
import type { ActionConfig } from '../config/config.js'
import { maskSecret } from '../config/secrets.js'
import type { BackendName, CacheBackend } from './backend.js'
import { gitHubCacheAvailable, GitHubBackend } from './github.js'
import { LocalStore } from './local/store.js'
import { S3Store } from './s3/store.js'

/** `auto` is the GitHub cache service when the runner offers one, else the local store; s3 is only ever chosen by name. */
export async function chooseBackend(config: ActionConfig): Promise<BackendName> {
  if (config.backend !== 'auto') return config.backend
  return (await gitHubCacheAvailable()) ? 'github' : 'local'
}

export function openBackend(name: BackendName, config: ActionConfig): CacheBackend {
  if (name === 'github') return new GitHubBackend({ idleTimeoutMs: config.transfer.idleTimeoutMs })
  if (name === 's3') return new S3Store(config.s3!, { log: line => core.info(line), mask: maskSecret })
  const { dir, maxAgeMs, maxBytes } = config.local
  return new LocalStore(dir, Date.now, { log: line => core.info(line), pruning: { maxAgeMs, maxBytes } })
}
