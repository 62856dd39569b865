import * as core from '@actions/core'
import type { ActionConfig } from '../config/config.js'
import { describeS3Store } from '../config/s3.js'
import { KEY_SCHEME, REVISION_SEPARATOR } from '../constants.js'
import { kindNamed } from '../kinds/index.js'
import type { CachePlan } from '../kinds/kind.js'

/**
 * What every kind will restore and save, and why its key is what it is. `inPlaceDirs` names the store's
 * own directory of each kind that can live in place (in-place mode).
 */
export async function planCaches(config: ActionConfig, inPlaceDirs: Partial<Record<string, string>>): Promise<CachePlan[]> {
  return Promise.all(config.kinds.map(name => planKind(config, name, inPlaceDirs[name] ?? null)))
}

async function planKind(config: ActionConfig, name: ActionConfig['kinds'][number], inPlaceDir: string | null): Promise<CachePlan> {
  const planned = await kindNamed(name).plan({ config, inPlaceDir })
  const stem = [config.keyPrefix, name, KEY_SCHEME]
  const { keyParts, droppable } = planned
  const key = planned.ownKey?.key ?? joinKey([...stem, ...keyParts.map(p => p.value)])
  const fallbacks =
    planned.ownKey?.restoreKeys ??
    Array.from({ length: droppable }, (_, i) => joinKey([...stem, ...keyParts.slice(0, keyParts.length - 1 - i).map(p => p.value)]) + '-')
  return {
    kind: name,
    spec: { parts: planned.parts, exclude: planned.exclude, kind: name },
    key,
    restoreKeys: [revisionsOf(key), ...fallbacks],
    keyParts,
    notes: planned.notes,
    inPlace: planned.inPlace ?? false,
    env: planned.env ?? {},
    data: planned.data
  }
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
  const where =
    backendName === 'local' ? ` (${config.local.dir})` : backendName === 's3' && config.s3 ? ` (${describeS3Store(config.s3)})` : ''
  core.info(`backend: ${backendName}${where}`)
  core.info(`save: ${config.save}${config.readOnly ? ', read-only' : ''}`)
  for (const plan of plans) {
    core.info(``)
    core.info(`[${plan.kind}]`)
    // The names are the entry's identity on every machine; the paths are where they are on this one.
    for (const part of plan.spec.parts) core.info(`  ${part.origin === 'role' ? part.name : `path ${part.name}`}: ${part.path}`)
    if (plan.spec.exclude.length > 0) core.info(`  never archived: ${plan.spec.exclude.join(', ')}`)
    for (const note of plan.notes) core.info(`  ${note}`)
    for (const [name, value] of Object.entries(plan.env)) core.info(`  exported for later steps: ${name}=${value}`)
    core.info(`  key: ${plan.key}`)
    for (const part of plan.keyParts) core.info(`    ${part.name} = ${part.value}  (${part.source})`)
    core.info(`  restore keys: ${plan.restoreKeys.join(' | ')}`)
  }
}
