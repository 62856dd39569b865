import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { Env } from '../constants.js'
import { type LockRetries, withLock } from '../backends/locks.js'
import { readJson, writeFileAtomic } from '../util/atomic.js'
import { leaseDir } from './layout.js'
import { isRunning } from '../util/process.js'

/*
 * Who is using an in-place directory. Jobs take SHARED leases: pip, huggingface_hub, buildah and
 * nix already cope with concurrent writers (unique temp names, atomic renames, their own locks), so
 * jobs on one host use a kind together. Maintenance that deletes files (prune, clear) takes an
 * EXCLUSIVE lease, which it only gets while no job holds the kind. (verify --repair needs none: it
 * replaces a corrupt file by a verified one with an atomic rename, as the downloaders always do.)
 *
 * A lease must outlive the process that took it: the action's main step exits and post runs in
 * another process. So a lease is a file naming a process whose life bounds the job: the runner's
 * worker (main's parent; main and post are both its children) for the action, qdc itself for
 * `qdc run` (QDC_LEASE_PID). Post deletes the file; a job that dies leaves a file whose process is
 * gone, which anyone treats as released. A lease from another host (a store on shared storage)
 * cannot be checked that way and counts until it is MAX_LEASE_MS old; so does any lease, against
 * a reused pid. A short proper-lockfile mutex makes check-and-create atomic.
 */

export type LeaseMode = 'shared' | 'exclusive'

interface LeaseRecord {
  mode: LeaseMode
  pid: number
  host: string
  /** Milliseconds since the epoch. */
  created: number
}

/** Longer than any job; only guards against pid reuse and hosts we cannot ask. */
const MAX_LEASE_MS = 24 * 60 * 60 * 1000
const MUTEX_RETRIES: LockRetries = { retries: 40, factor: 1.3, minTimeout: 20, maxTimeout: 1000 }

export class LeaseBusyError extends Error {}

/** The lease file; deleting it releases the lease. */
export type Lease = string

/**
 * A shared lease waits (up to waitMs) for maintenance to finish; an exclusive one never waits for jobs,
 * it fails with LeaseBusyError at once, so prune can skip a busy kind.
 */
export async function acquireLease(storeRoot: string, kind: string, mode: LeaseMode, waitMs = 10 * 60 * 1000): Promise<Lease> {
  const dir = leaseDir(storeRoot, kind)
  await fs.mkdir(dir, { recursive: true })
  const deadline = Date.now() + waitMs
  for (;;) {
    const taken = await withLock(
      dir,
      async () => {
        const live = await liveLeases(dir)
        const blocked = mode === 'exclusive' ? live.length > 0 : live.some(lease => lease.mode === 'exclusive')
        if (blocked) return null
        const file = path.join(dir, `${crypto.randomBytes(8).toString('hex')}.json`)
        const record: LeaseRecord = { mode, pid: holderPid(), host: os.hostname(), created: Date.now() }
        await writeFileAtomic(file, JSON.stringify(record))
        return file
      },
      MUTEX_RETRIES
    )
    if (taken) return taken
    if (mode === 'exclusive') throw new LeaseBusyError(`${kind} is in use by a running job`)
    if (Date.now() >= deadline)
      throw new LeaseBusyError(`${kind} stayed locked by maintenance (prune or clear) for ${Math.round(waitMs / 1000)} s`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

export async function releaseLease(lease: Lease): Promise<void> {
  await fs.rm(lease, { force: true })
}

/** Leases still held, for stats. */
export async function countLiveLeases(storeRoot: string, kind: string): Promise<number> {
  return (await liveLeases(leaseDir(storeRoot, kind))).length
}

function holderPid(): number {
  const configured = Number(process.env[Env.LeasePid])
  if (Number.isSafeInteger(configured) && configured > 0) return configured
  // Under a runner, main's parent is the worker that also starts post and outlives both.
  return process.env.GITHUB_ACTIONS === 'true' ? process.ppid : process.pid
}

/** Live leases in dir; dead ones (holder gone, too old, unreadable) are removed on the way. */
async function liveLeases(dir: string): Promise<LeaseRecord[]> {
  const live: LeaseRecord[] = []
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue
    const file = path.join(dir, name)
    const record = await readJson<LeaseRecord>(file).catch(() => null)
    if (record && isLive(record)) live.push(record)
    else await fs.rm(file, { force: true })
  }
  return live
}

function isLive(record: LeaseRecord): boolean {
  if (!Number.isFinite(record.created) || Date.now() - record.created > MAX_LEASE_MS) return false
  return record.host !== os.hostname() || isRunning(record.pid)
}
