/** Runs at most `max` of the works handed to it at once; the others start in the order they came. */
export function limiter(max: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: Array<() => void> = []
  return async work => {
    if (running < max) running++
    // A finishing work hands its slot straight to the next one, so `running` stays as it is.
    else await new Promise<void>(resolve => waiting.push(resolve))
    try {
      return await work()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}

/** Runs `work` over `items`, at most `max` at a time; the first failure is thrown once all have settled. */
export async function forEachLimited<T>(items: T[], max: number, work: (item: T) => Promise<void>): Promise<void> {
  const limited = limiter(max)
  const outcomes = await Promise.allSettled(items.map(item => limited(() => work(item))))
  const failed = outcomes.find(outcome => outcome.status === 'rejected')
  if (failed) throw failed.reason
}
