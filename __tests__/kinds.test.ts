import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { type ActionConfig, readConfig } from '../src/config/config.js'
import { buildah } from '../src/kinds/buildah.js'
import { hubCacheDir, huggingface } from '../src/kinds/huggingface.js'
import type { CacheKind } from '../src/kinds/kind.js'
import { pip } from '../src/kinds/pip.js'
import { isExactMatch, planCaches } from '../src/plan/plan.js'
import { clearInputs, setInputs } from './support/inputs.js'

const saved = { ...process.env }
let workspace: string

beforeAll(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-kinds-'))
})
afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }))
beforeEach(() => {
  process.env = { ...saved, GITHUB_WORKSPACE: workspace, RUNNER_OS: 'Linux' }
  for (const name of ['PIP_CACHE_DIR', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME', 'TMPDIR'])
    delete process.env[name]
  clearInputs()
})

function config(inputs: Record<string, string>): ActionConfig {
  setInputs(inputs)
  return readConfig()
}

/** A kind's plan outside in-place mode. */
function planOf(kind: CacheKind, c: ActionConfig) {
  return kind.plan({ config: c, inPlaceDir: null })
}

describe('pip', () => {
  test('PIP_CACHE_DIR wins', async () => {
    process.env.PIP_CACHE_DIR = path.join(workspace, 'pipcache')
    expect((await planOf(pip, config({ caches: 'pip' }))).parts.map(p => p.path)).toEqual([path.join(workspace, 'pipcache')])
  })

  test('otherwise asks pip itself', async () => {
    process.env.XDG_CACHE_HOME = path.join(workspace, 'xdg')
    const location = await planOf(pip, config({ caches: 'pip' }))
    expect(location.parts).toEqual([{ origin: 'role', name: 'pip-cache', path: path.join(workspace, 'xdg', 'pip') }])
    expect(location.notes.join()).toContain('pip cache dir')
  })

  test('key: os, arch, python, hash of dependency files; changes when a requirements file changes', async () => {
    fs.writeFileSync(path.join(workspace, 'requirements.txt'), 'numpy==2.0\n')
    fs.mkdirSync(path.join(workspace, 'node_modules/x'), { recursive: true })
    fs.writeFileSync(path.join(workspace, 'node_modules/x/requirements.txt'), 'ignored\n')
    const c = config({ caches: 'pip' })
    const first = await planOf(pip, c)
    expect(first.keyParts.map(p => p.name)).toEqual(['os', 'arch', 'python', 'dependencies'])
    expect(first.keyParts[0].value).toBe('Linux')
    expect(first.keyParts[2].value).toMatch(/^py3\.\d+$/)
    expect(first.keyParts[3].value).toMatch(/^[0-9a-f]{16}$/)
    expect(first.keyParts[3].source).toBe('requirements.txt')
    fs.writeFileSync(path.join(workspace, 'requirements.txt'), 'numpy==2.1\n')
    const second = await planOf(pip, c)
    expect(second.keyParts[3].value).not.toBe(first.keyParts[3].value)
  })

  test('restore keys fall back to the same python, then any python', async () => {
    const [plan] = await planCaches(config({ caches: 'pip', 'key-prefix': 'ci' }), {})
    expect(plan.key).toMatch(/^ci-pip-v1-Linux-[a-z0-9]+-py3\.\d+-[0-9a-f]{16}$/)
    const stem = plan.key.split('-').slice(0, 5).join('-')
    expect(plan.restoreKeys).toEqual([`${plan.key}~r`, `${plan.key.split('-').slice(0, 6).join('-')}-`, `${stem}-`])
  })
})

describe('huggingface', () => {
  test.each([
    [{ HF_HUB_CACHE: '/a/hub' }, '/a/hub'],
    [{ HUGGINGFACE_HUB_CACHE: '/legacy' }, '/legacy'],
    [{ HF_HOME: '/hf' }, '/hf/hub'],
    [{ XDG_CACHE_HOME: '/xdg' }, '/xdg/huggingface/hub'],
    [{}, path.join(os.homedir(), '.cache/huggingface/hub')]
  ])('%j → %s', (env, dir) => {
    Object.assign(process.env, env)
    expect(hubCacheDir().dir).toBe(dir)
  })

  test('never archives the token, locks or partial downloads', async () => {
    const location = await planOf(huggingface, config({ caches: 'huggingface' }))
    expect(location.exclude).toEqual(expect.arrayContaining(['token', '.locks', '*.incomplete']))
  })
})

describe('buildah', () => {
  test('cache-mount directory under TMPDIR, keyed on the builder version', async () => {
    process.env.TMPDIR = path.join(workspace, 'tmp')
    const c = config({ caches: 'buildah' })
    const location = await planOf(buildah, c)
    expect(location.parts[0].name).toBe('buildah-cache-mounts')
    expect(location.parts[0].path).toMatch(new RegExp(`^${path.join(workspace, 'tmp')}/buildah-cache(-\\d+)?$`))
    expect(location.keyParts.map(p => p.name)).toEqual(['os', 'arch', 'builder'])
    expect(location.droppable).toBe(0)
  })
})

describe('custom paths', () => {
  test('the user key is taken as given, revisions of it first, then the user restore keys', async () => {
    const [plan] = await planCaches(config({ paths: 'out', key: 'build-abc', 'restore-keys': 'build-' }), {})
    expect(plan).toMatchObject({ kind: 'custom', key: 'build-abc', restoreKeys: ['build-abc~r', 'build-'] })
    expect(plan.spec.parts).toEqual([{ origin: 'spelled', name: 'out', path: path.join(workspace, 'out') }])
  })
})

describe('isExactMatch', () => {
  test.each([
    ['k', 'k', true],
    ['k', 'k~r12-1', true],
    ['K', 'k~r12-1', true],
    ['k', 'k-other', false],
    ['k-abc', 'k-', false]
  ])('%s vs %s', (key, matched, exact) => expect(isExactMatch(key, matched)).toBe(exact))
})
