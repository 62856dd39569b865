import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readConfig, spellPath } from '../src/config/config.js'
import { parseAge, parseSize } from '../src/config/inputs.js'
import { accessMode } from '../src/config/mode.js'
import { clearInputs, setInputs } from './support/inputs.js'

describe('readConfig', () => {
  beforeEach(() => {
    process.env.GITHUB_WORKSPACE = '/work/space'
    delete process.env.ACTIONS_CACHE_MODE
  })
  afterEach(clearInputs)

  test('defaults', () => {
    setInputs({ caches: 'pip' })
    const config = readConfig()
    expect(config.kinds).toEqual(['pip'])
    expect(config.backend).toBe('auto')
    expect(config.save).toBe('on-success')
    expect(config.readOnly).toBe(false)
    expect(config.summary).toBe(true)
    expect(config.keyPrefix).toBe('qdc')
    expect(config.local.maxAgeMs).toBe(30 * 86_400_000)
    expect(config.local.maxBytes).toBe(20 * 1024 ** 3)
    expect(config.local.dir).toBe(path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'qdc-action', 'store'))
  })

  test('kinds from commas and lines, deduplicated, custom paths appended', () => {
    setInputs({ caches: 'pip, huggingface\nnix\npip', paths: 'build/out\n~/data', key: 'mine-1', 'restore-keys': 'mine-' })
    const config = readConfig()
    expect(config.kinds).toEqual(['pip', 'huggingface', 'nix', 'custom'])
    expect(config.paths).toEqual({
      paths: [
        { spelled: 'build/out', path: '/work/space/build/out' },
        { spelled: '~/data', path: path.join(os.homedir(), 'data') }
      ],
      key: 'mine-1',
      restoreKeys: ['mine-']
    })
  })

  test('models: repo, globs and sha256 pins per line; they imply the huggingface kind', () => {
    const pin = 'AB'.repeat(32)
    setInputs({
      caches: 'pip',
      models: `org/a@v1 *.json **/*.safetensors\ndatasets/org/b model.bin=sha256:${pin}`,
      'hf-endpoint': 'http://127.0.0.1:9/'
    })
    const config = readConfig()
    expect(config.kinds).toEqual(['pip', 'huggingface'])
    expect(config.hf.models).toEqual([
      { repo: 'org/a@v1', globs: ['*.json', '**/*.safetensors'], pins: {} },
      { repo: 'datasets/org/b', globs: [], pins: { 'model.bin': pin.toLowerCase() } }
    ])
    expect(config.hf.endpoint).toBe('http://127.0.0.1:9')
  })

  test('models from a manifest file when the input names one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-models-'))
    fs.writeFileSync(path.join(dir, 'models.txt'), '# models\norg/a *.json\n\norg/b@main\n')
    process.env.GITHUB_WORKSPACE = dir
    setInputs({ models: 'models.txt' })
    expect(readConfig().hf.models).toEqual([
      { repo: 'org/a', globs: ['*.json'], pins: {} },
      { repo: 'org/b@main', globs: [], pins: {} }
    ])
    fs.rmSync(dir, { recursive: true })
  })

  test.each([
    [{ models: 'not a repo' }, "Input 'models': 'not' is not a repo"],
    [{ models: 'org/a m.bin=sha256:1234' }, "Input 'models': pin for 'm.bin' is not a sha256"],
    [{ caches: 'pip, pipx' }, "Input 'caches': unknown cache kind 'pipx'"],
    [{ caches: '' }, "Input 'caches': nothing to cache"],
    [{ caches: '[pip]' }, "Input 'caches': unknown cache kind '[pip]'"],
    [{ paths: 'dir' }, "Input 'key': is empty; a key is required when 'paths' is set"],
    [{ paths: 'dir', key: '   ' }, "Input 'key': is empty"],
    [{ paths: 'dir', key: 'a,b' }, "Input 'key': 'a,b' contains a comma"],
    [{ paths: 'src/**/*.o', key: 'k' }, "Input 'paths': 'src/**/*.o' is a pattern"],
    [{ caches: 'pip', key: 'k' }, "Input 'key': only used with 'paths'"],
    [{ caches: 'pip', backend: 'gcs' }, "Input 'backend': expected one of auto, github, local, s3, got 'gcs'"],
    [{ caches: 'pip', save: 'sometimes' }, "Input 'save': expected one of on-success, always, never"],
    [{ caches: 'pip', 'read-only': 'maybe' }, "Input 'read-only': expected true or false, got 'maybe'"],
    [{ caches: 'pip', 'local-max-size': 'lots' }, "Input 'local-max-size': 'lots' is not a size"],
    [{ caches: 'pip', 'local-max-age': '3 months' }, "Input 'local-max-age': '3 months' is not an age"],
    [{ caches: 'pip', 'key-prefix': 'x~ry' }, "Input 'key-prefix': 'x~ry' contains '~r'"],
    [{ caches: 'pip', 'max-downloaded': 'a lot' }, "Input 'max-downloaded': 'a lot' is not a size"],
    [
      { caches: 'pip', 'max-downloaded-per-kind': 'pip:200M' },
      "Input 'max-downloaded-per-kind': 'pip:200M' should be kind=size, like pip=200M"
    ],
    [{ caches: 'pip', 'max-downloaded-per-kind': 'rust=1G' }, "Input 'max-downloaded-per-kind': 'rust' is not a cache kind"],
    [{ caches: 'pip', 'on-budget': 'panic' }, "Input 'on-budget': expected one of warn, fail, got 'panic'"],
    [{ caches: 'pip', 'baseline-runs': '0' }, "Input 'baseline-runs': '0' is not a whole number of runs"]
  ])('bad input %j fails with one line naming the input', (inputs, message) => {
    setInputs(inputs)
    expect(() => readConfig()).toThrow(message)
    try {
      readConfig()
    } catch (error) {
      expect((error as Error).message).not.toContain('\n')
    }
  })
})

describe('sizes and ages', () => {
  test.each([
    ['1024', 1024],
    ['500M', 500 * 1024 ** 2],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['20g', 20 * 1024 ** 3],
    ['2TB', 2 * 1024 ** 4]
  ])('parseSize(%s)', (raw, bytes) => expect(parseSize('x', raw)).toBe(bytes))

  test.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['2w', 14 * 86_400_000]
  ])('parseAge(%s)', (raw, ms) => expect(parseAge('x', raw)).toBe(ms))
})

describe('accessMode', () => {
  afterEach(() => {
    clearInputs()
    delete process.env.ACTIONS_CACHE_MODE
  })

  test.each(['pull_request_target', 'workflow_run', 'issue_comment'])(
    'the %s trigger restores but never saves, unless save-on-untrusted-triggers',
    event => {
      process.env.GITHUB_EVENT_NAME = event
      try {
        setInputs({ caches: 'pip' })
        expect(accessMode(readConfig())).toMatchObject({
          read: true,
          write: false,
          reason: expect.stringContaining(`the ${event} trigger runs pull-request code`)
        })
        setInputs({ caches: 'pip', 'save-on-untrusted-triggers': 'true' })
        expect(accessMode(readConfig())).toMatchObject({ read: true, write: true })
      } finally {
        delete process.env.GITHUB_EVENT_NAME
      }
    }
  )

  test.each([
    ['', false, true, true],
    ['read', false, true, false],
    ['write', false, true, true],
    ['write-only', false, false, true],
    ['none', false, false, false],
    ['', true, true, false],
    ['write', true, true, false]
  ])('ACTIONS_CACHE_MODE=%j read-only=%j → read %j write %j', (mode, readOnly, read, write) => {
    process.env.ACTIONS_CACHE_MODE = mode
    setInputs({ caches: 'pip', 'read-only': String(readOnly) })
    expect(accessMode(readConfig())).toMatchObject({ read, write })
  })
})

describe('spelled paths: the name a custom path has on every machine', () => {
  test.each([
    ['build/ccache/', 'build/ccache', '/w/build/ccache'],
    ['./data', 'data', '/w/data'],
    ['~/.gradle//caches', '~/.gradle/caches', path.join(os.homedir(), '.gradle/caches')],
    ['~', '~', os.homedir()],
    ['/opt/sdk/', '/opt/sdk', '/opt/sdk'],
    ['/w/out', 'out', '/w/out'],
    ['/w', '.', '/w'],
    ['../shared', '../shared', '/shared'],
    ['/wx/y', '/wx/y', '/wx/y']
  ])('%s is spelled %s and resolves to %s with the workspace at /w', (raw, spelled, resolved) => {
    expect(spellPath(raw, '/w')).toEqual({ spelled, path: resolved })
  })
})

describe('download-connections and idle-timeout', () => {
  afterEach(clearInputs)

  test('defaults: 4 connections, 60 s; durations in s, m or ms', () => {
    setInputs({ caches: 'pip' })
    expect(readConfig().transfer).toEqual({ connections: 4, idleTimeoutMs: 60_000 })
    for (const [raw, ms] of [
      ['90', 90_000],
      ['90s', 90_000],
      ['2m', 120_000],
      ['500ms', 500],
      ['1.5s', 1500]
    ] as const) {
      setInputs({ caches: 'pip', 'idle-timeout': raw, 'download-connections': '1' })
      expect(readConfig().transfer).toEqual({ connections: 1, idleTimeoutMs: ms })
    }
  })

  test.each([
    [
      { 'download-connections': '0' },
      "Input 'download-connections': '0' is not a whole number from 1 to 16; 1 downloads each file as one stream"
    ],
    [{ 'download-connections': '64' }, "Input 'download-connections': '64' is not a whole number from 1 to 16"],
    [{ 'download-connections': 'many' }, "Input 'download-connections': 'many' is not a whole number"],
    [{ 'idle-timeout': '0' }, "Input 'idle-timeout': '0' is not a duration above 0; write it like 60, 90s or 2m"],
    [{ 'idle-timeout': '1h' }, "Input 'idle-timeout': '1h' is not a duration above 0"],
    [{ 'idle-timeout': 'soon' }, "Input 'idle-timeout': 'soon' is not a duration above 0"]
  ])('bad input %j fails with one line naming the input', (inputs, message) => {
    setInputs({ caches: 'pip', ...inputs })
    expect(() => readConfig()).toThrow(message)
  })
})
