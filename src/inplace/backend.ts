import * as fs from 'node:fs/promises'
import {
  type ArchiveSpec,
  type CacheBackend,
  type Miss,
  missed,
  partPaths,
  type RestoreResult,
  type SaveResult
} from '../backends/backend.js'
import type { KindName } from '../config/config.js'
import { readJson, writeFileAtomic } from '../util/atomic.js'
import { metaFile } from './layout.js'

interface InPlaceMeta {
  /** The revision key of the last save. */
  key: string
  saved: number
}

/**
 * A kind whose directory lives in the store: restore finds what is there, save records the key.
 * Nothing is copied either way; the hit says whether the content was last saved under this key.
 */
export class InPlaceBackend implements CacheBackend {
  readonly name = 'in-place' as const
  readonly restoresInPlace = true

  constructor(
    private readonly storeRoot: string,
    private readonly kind: KindName
  ) {}

  async restore(spec: ArchiveSpec, key: string): Promise<RestoreResult | Miss> {
    // The tools find their directory in the store from the first job on, empty or not.
    for (const dir of partPaths(spec)) await fs.mkdir(dir, { recursive: true })
    if (!(await anyEntry(partPaths(spec)))) return missed()
    const meta = await readJson<InPlaceMeta>(metaFile(this.storeRoot, this.kind)).catch(() => null)
    // Content no save recorded (a job that died, files put there by hand) is still a useful partial hit.
    return { matchedKey: meta?.key ?? `${key} (in place, never saved)`, archiveBytes: null }
  }

  async save(_spec: ArchiveSpec, key: string): Promise<SaveResult> {
    await writeFileAtomic(metaFile(this.storeRoot, this.kind), JSON.stringify({ key, saved: Date.now() } satisfies InPlaceMeta))
    return { archiveBytes: null }
  }
}

async function anyEntry(paths: string[]): Promise<boolean> {
  for (const dir of paths) {
    if ((await fs.readdir(dir).catch(() => [])).length > 0) return true
  }
  return false
}
