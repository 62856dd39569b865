import type { ActionConfig } from './config.js'
import { Env } from '../constants.js'

/** What this run may do with the store, and why, for the log and the summary. */
export interface AccessMode {
  read: boolean
  write: boolean
  reason: string
}

/**
 * Triggers that run a contributor's code with the base repository's cache scope: a save there would let a
 * pull request plant files that main's next run restores (setup-uv skips saves on them since v10).
 */
export const UNTRUSTED_TRIGGERS: readonly string[] = ['pull_request_target', 'workflow_run', 'issue_comment']

/**
 * The `read-only` input, the service-enforced ACTIONS_CACHE_MODE (read, write, write-only, none) and the
 * trigger: an untrusted one restores but never saves, unless `save-on-untrusted-triggers` says otherwise.
 */
export function accessMode(config: ActionConfig): AccessMode {
  const serviceMode = (process.env[Env.CacheMode] || '').trim().toLowerCase()
  const event = process.env[Env.EventName] ?? ''
  const untrusted = UNTRUSTED_TRIGGERS.includes(event) && !config.saveOnUntrustedTriggers
  const read = serviceMode === '' || serviceMode === 'read' || serviceMode === 'write'
  const serviceWrite = serviceMode === '' || serviceMode === 'write' || serviceMode === 'write-only'
  const write = serviceWrite && !config.readOnly && !untrusted
  const reasons = []
  if (serviceMode) reasons.push(`${Env.CacheMode}=${serviceMode}`)
  if (config.readOnly) reasons.push('read-only: true')
  if (untrusted)
    reasons.push(
      `the ${event} trigger runs pull-request code with this repository's cache, so it only restores (save-on-untrusted-triggers: true saves)`
    )
  return { read, write, reason: reasons.join(', ') || 'read and write' }
}
