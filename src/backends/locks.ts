import lockfile from 'proper-lockfile'

/** How long to keep trying for a held lock (proper-lockfile's retry options). */
export interface LockRetries {
  retries: number
  factor: number
  minTimeout: number
  maxTimeout: number
}

/** A publish holds an entry lock for a few renames; waiting up to about a minute covers a busy host. */
const LOCK_RETRIES: LockRetries = { retries: 60, factor: 1.3, minTimeout: 50, maxTimeout: 2000 }

/**
 * Runs work holding a proper-lockfile lock; a holder that died leaves a lock that goes stale
 * (its mtime stops being refreshed) and is taken over. Losing the lock midway makes
 * assertHeld throw, so the caller does not commit under someone else's feet.
 */
export async function withLock<T>(lockPath: string, work: (assertHeld: () => void) => Promise<T>, retries = LOCK_RETRIES): Promise<T> {
  let lost: Error | undefined
  const release = await lockfile.lock(lockPath, {
    realpath: false,
    retries,
    onCompromised: error => {
      lost = error
    }
  })
  try {
    return await work(() => {
      if (lost) throw new Error(`lost the lock ${lockPath}: ${lost.message}`)
    })
  } finally {
    // A compromised lock counts as released already; releasing again would only throw.
    if (!lost) await release()
  }
}

/** A store this user may read but not write (another user's, or mounted read-only): locks cannot be taken. */
export function isReadOnlyError(error: unknown): boolean {
  return ['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '')
}
