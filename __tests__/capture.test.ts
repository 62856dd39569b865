/**
 * stdout hooks belong to the work they were set up for: two calls that log at the same time each read only
 * their own lines, a held group comes out in one piece while others write, and stdout is left as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as core from '@actions/core'
import { captureLog, holdOutput, hookStdout } from '../src/util/capture.js'

/** What reached stdout itself; nothing is passed on, so jest's output stays clean. */
const reached: string[] = []
const originalWrite = Object.getOwnPropertyDescriptor(process.stdout, 'write')
const recordingWrite = (chunk: unknown, ...rest: unknown[]): boolean => {
  reached.push(String(chunk))
  ;(rest.find(arg => typeof arg === 'function') as (() => void) | undefined)?.()
  return true
}

beforeAll(() => {
  process.stdout.write = recordingWrite
})

afterAll(() => {
  if (originalWrite) Object.defineProperty(process.stdout, 'write', originalWrite)
  else delete (process.stdout as { write?: unknown }).write
})

const tick = () => new Promise(resolve => setTimeout(resolve, 5))

/** Logs `count` lines named `name`, yielding between them so concurrent callers interleave. */
async function chatter(name: string, count: number): Promise<string> {
  for (let i = 0; i < count; i++) {
    core.info(`${name} ${i}`)
    await tick()
  }
  return name
}

describe('stdout hooks follow the async context', () => {
  test('concurrent captureLog calls each see their own lines only, and everything still reaches stdout', async () => {
    reached.length = 0
    const [a, b] = await Promise.all([captureLog(() => chatter('a', 5)), captureLog(() => chatter('b', 5))])

    expect(a).toEqual({ result: 'a', lines: ['a 0', 'a 1', 'a 2', 'a 3', 'a 4'] })
    expect(b).toEqual({ result: 'b', lines: ['b 0', 'b 1', 'b 2', 'b 3', 'b 4'] })
    // They did run at the same time: their lines reached stdout interleaved.
    expect(reached.join('')).toContain('a 0\nb 0\n')
  })

  test('held groups come out whole, each when its work ends, while other work writes straight through', async () => {
    reached.length = 0
    const slow = holdOutput(() => core.group('Restore slow', () => chatter('slow', 4)))
    const fast = holdOutput(() => core.group('Restore fast', () => chatter('fast', 2)))
    const unheld = chatter('unheld', 3)
    await Promise.all([slow, fast, unheld])

    expect(reached.join('').split('\n').filter(Boolean)).toEqual([
      'unheld 0',
      'unheld 1',
      '::group::Restore fast',
      'fast 0',
      'fast 1',
      '::endgroup::',
      'unheld 2',
      '::group::Restore slow',
      'slow 0',
      'slow 1',
      'slow 2',
      'slow 3',
      '::endgroup::'
    ])
  })

  test('a mask in held work reaches stdout at once, before the group that may show the secret', async () => {
    reached.length = 0
    await holdOutput(() =>
      core.group('Restore s3', async () => {
        core.info('resolving credentials')
        core.setSecret('s3cr3t-value')
        await tick()
        core.info('done')
      })
    )

    expect(reached.join('').split('\n').filter(Boolean)).toEqual([
      '::add-mask::s3cr3t-value',
      '::group::Restore s3',
      'resolving credentials',
      'done',
      '::endgroup::'
    ])
  })

  test('a held group is written even when its work fails, and an outer hook still sees it', async () => {
    const outer: string[] = []
    await hookStdout(
      text => {
        outer.push(text)
        return false
      },
      () =>
        expect(
          holdOutput(async () => {
            core.info('before the failure')
            throw new Error('failed')
          })
        ).rejects.toThrow('failed')
    )
    expect(outer.join('')).toBe('before the failure\n')
  })

  test('once every hook has ended, stdout.write is exactly what it was', async () => {
    await Promise.all([captureLog(() => chatter('x', 2)), holdOutput(() => chatter('y', 1))])
    expect(Object.getOwnPropertyDescriptor(process.stdout, 'write')?.value).toBe(recordingWrite)
  })
})
