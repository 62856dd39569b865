/** Bad input to the built qdc: one line on stderr naming what is wrong, exit 2; --help everywhere. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { assertBuilt, cleanEnv, qdc } from './support/qdc.js'

let root: string
let env: Record<string, string>

beforeAll(() => {
  assertBuilt()
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-cli-usage-'))
  env = cleanEnv(root)
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function config(name: string, text: string): string {
  const file = path.join(root, name)
  fs.writeFileSync(file, text)
  return file
}

describe('bad input is one clear line and exit 2', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['no command', () => [], /^qdc: no command given; run qdc --help$/],
    ['an unknown command', () => ['frobnicate'], /^qdc: unknown command 'frobnicate'/],
    ['an unknown flag', () => ['stats', '--frob'], /^qdc: stats: Unknown option '--frob'; see qdc stats --help$/],
    ['a flag without its value', () => ['prune', '--max-size'], /^qdc: prune: Option '--max-size <value>' argument missing/],
    [
      'a bad size',
      () => ['prune', '--store', root, '--max-size', '12 parsecs'],
      /^qdc: --max-size: '12 parsecs' is not a size; write it like 500M, 20G or 1T$/
    ],
    [
      'a bad age',
      () => ['prune', '--store', root, '--max-age', 'forever'],
      /^qdc: --max-age: 'forever' is not an age; write it like 30d, 12h or 2w$/
    ],
    [
      'an unreadable config',
      () => ['run', '--config', path.join(root, 'missing.yml'), '--', 'true'],
      /^qdc: --config: cannot read .*missing\.yml: ENOENT$/
    ],
    [
      'a config that is not YAML',
      () => ['run', '--config', config('broken.yml', 'caches: [pip\n'), '--', 'true'],
      /^qdc: --config: .*broken\.yml is not valid YAML: /
    ],
    [
      'an unknown config key',
      () => ['run', '--config', config('typo.yml', 'cachez: pip\n'), '--', 'true'],
      /^qdc: --config: .*typo\.yml: unknown key 'cachez'; use the action's input names/
    ],
    [
      'a bad config value',
      () => ['run', '--config', config('mode.yml', 'caches: pip\nlocal-mode: sideways\n'), '--', 'true'],
      /^qdc: config: Input 'local-mode': expected one of archive, in-place, got 'sideways'$/
    ],
    ['run without a command', () => ['run'], /^qdc: run: no command given/],
    ['run with the command before --', () => ['run', 'make'], /^qdc: run: put the command after '--'/],
    [
      'fetch without a digest',
      () => ['fetch', 'http://127.0.0.1:9/x', '-o', path.join(root, 'x')],
      /^qdc: --sha256: missing; every fetch is verified$/
    ],
    ['fetch-model with a bad repo', () => ['fetch-model', 'not a repo'], /^qdc: fetch-model: "not a repo" is not a Hub repo/],
    ['clear of an unknown kind', () => ['clear', 'rust', '--store', root], /^qdc: clear: unknown kind 'rust'/]
  ]
  test.each(cases)('%s', async (_, args, expected) => {
    const result = await qdc(args(), { env })
    expect(result.code).toBe(2)
    const lines = result.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(expected)
  })

  test('a bad config value touches nothing: the command does not run', async () => {
    const marker = path.join(root, 'ran')
    const file = config('bad-size.yml', `caches: pip\nlocal-dir: ${root}/store\nlocal-max-size: lots\n`)
    const result = await qdc(['run', '--config', file, '--', 'touch', marker], { env })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^qdc: config: Input 'local-max-size': 'lots' is not a size/)
    expect(fs.existsSync(marker)).toBe(false)
    expect(fs.existsSync(path.join(root, 'store'))).toBe(false)
  })
})

describe('--help', () => {
  test.each(['run', 'stats', 'prune', 'clear', 'verify', 'fetch', 'fetch-model'])('qdc %s --help', async command => {
    const result = await qdc([command, '--help'], { env })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^Usage: qdc ${command} `))
  })

  test('qdc --help lists every command and the exit statuses', async () => {
    const result = await qdc(['--help'], { env })
    expect(result.code).toBe(0)
    for (const command of ['run', 'stats', 'prune', 'clear', 'verify', 'fetch', 'fetch-model'])
      expect(result.stdout).toContain(`  ${command} `)
    expect(result.stdout).toContain('2 bad usage')
  })
})
