import * as core from '@actions/core'
import type { ArchiveSpec } from '../backends/backend.js'
import type { ActionConfig, KindName } from '../config/config.js'
import { KEY_SCHEME, REVISION_SEPARATOR } from '../constants.js'
import { kindNamed } from '../kinds/index.js'
import type { KeyPart } from '../kinds/kind.js'

/** What one cache kind will restore and save, and why its key is what it is. */
export interface CachePlan {
  kind: KindName
  /** What the entry holds: parts named the same on every machine, resolved on this one. */
  spec: ArchiveSpec
  key: string
  restoreKeys: string[]
  keyParts: KeyPart[]
  notes: string[]
}

export async function planCaches(config: ActionConfig): Promise<CachePlan[]> {
  return Promise.all(config.kinds.map(name => planKind(config, name)))
}

async function planKind(config: ActionConfig, name: KindName): Promise<CachePlan> {
  const kind = kindNamed(name)
  const location = await kind.locate(config)
  const spec: ArchiveSpec = { parts: location.parts, exclude: location.exclude, kind: name }
  if (name === 'custom' && config.custom) {
    const { key, restoreKeys } = config.custom
    return { kind: name, spec, notes: location.notes, key, restoreKeys: [revisionsOf(key), ...restoreKeys], keyParts: [] }
  }
  const { parts, droppable } = await kind.key(config, location)
  const stem = [config.keyPrefix, name, KEY_SCHEME]
  const key = joinKey([...stem, ...parts.map(p => p.value)])
  const fallbacks = Array.from({ length: droppable }, (_, i) => joinKey([...stem, ...parts.slice(0, parts.length - 1 - i).map(p => p.value)]) + '-')
  return { kind: name, spec, notes: location.notes, key, restoreKeys: [revisionsOf(key), ...fallbacks], keyParts: parts }
}

function joinKey(values: string[]): string {
  return values.map(v => v.replace(/[\s,]+/g, '_')).join('-')
}

/**
 * Entries are immutable, so a save appends a revision to the primary key; the newest revision of the
 * primary key is still an exact hit. This is what lets a changed cache be saved again under the same key.
 */
export function revisionsOf(key: string): string {
  return key + REVISION_SEPARATOR
}

export function revisionKey(key: string): string {
  const runId = process.env.GITHUB_RUN_ID
  const revision = runId ? `${runId}-${process.env.GITHUB_RUN_ATTEMPT || '1'}` : Date.now().toString(36)
  return `${key}${REVISION_SEPARATOR}${revision}`
}

export function isExactMatch(key: string, matchedKey: string): boolean {
  // GitHub compares keys case-insensitively; so do we, so both backends agree.
  const wanted = key.toLowerCase()
  const matched = matchedKey.toLowerCase()
  return matched === wanted || matched.startsWith(revisionsOf(wanted))
}

/** The configuration group: every key with the parts that went into it, so a miss explains itself. */
export function logPlans(config: ActionConfig, backendName: string, plans: CachePlan[]): void {
  core.info(`backend: ${backendName}${backendName === 'local' ? ` (${config.localDir})` : ''}`)
  core.info(`save: ${config.save}${config.readOnly ? ', read-only' : ''}`)
  for (const plan of plans) {
    core.info(``)
    core.info(`[${plan.kind}]`)
    // The names are the entry's identity on every machine; the paths are where they are on this one.
    for (const part of plan.spec.parts) core.info(`  ${part.origin === 'role' ? part.name : `path ${part.name}`}: ${part.path}`)
    if (plan.spec.exclude.length > 0) core.info(`  never archived: ${plan.spec.exclude.join(', ')}`)
    for (const note of plan.notes) core.info(`  ${note}`)
    core.info(`  key: ${plan.key}`)
    for (const part of plan.keyParts) core.info(`    ${part.name} = ${part.value}  (${part.source})`)
    core.info(`  restore keys: ${plan.restoreKeys.join(' | ')}`)
  }
}
