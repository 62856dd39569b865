/** The bound on work running at once: never more than asked for, and the waiting ones start in order. */
import { expect, test } from '@jest/globals'
import { forEachLimited, limiter } from '../src/util/limit.js'

test('at most max run at once; the rest start in the order they came, failures included', async () => {
  const slot = limiter(2)
  let running = 0
  let peak = 0
  const started: number[] = []
  const work = (index: number) =>
    slot(async () => {
      started.push(index)
      peak = Math.max(peak, ++running)
      await new Promise(resolve => setTimeout(resolve, 10 + (index % 3) * 5))
      running--
      if (index === 2) throw new Error('work 2 failed')
      return index
    })

  const outcomes = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(work))

  expect(peak).toBe(2)
  expect(started).toEqual([0, 1, 2, 3, 4, 5])
  expect(outcomes.map(o => (o.status === 'fulfilled' ? o.value : 'failed'))).toEqual([0, 1, 'failed', 3, 4, 5])
  // The slot a failure held was handed on: the last work did run.
  expect(await slot(async () => 'after')).toBe('after')
})

test('forEachLimited works through every item, at most max at once, and throws the first failure after all settled', async () => {
  let running = 0
  let peak = 0
  const done: number[] = []
  const items = Array.from({ length: 20 }, (_, index) => index)

  const outcome = forEachLimited(items, 3, async index => {
    peak = Math.max(peak, ++running)
    await new Promise(resolve => setTimeout(resolve, 2 + (index % 4)))
    running--
    if (index === 4 || index === 9) throw new Error(`item ${index} failed`)
    done.push(index)
  })

  await expect(outcome).rejects.toThrow('item 4 failed')
  expect(peak).toBe(3)
  expect(done.sort((a, b) => a - b)).toEqual(items.filter(index => index !== 4 && index !== 9))
})
