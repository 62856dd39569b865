/**
 * The nix modules against real nix 2.8 output: narinfo parsing and signature checks on caches written by
 * `nix copy`, the restore-time checks (StoreDir, corrupt narinfo, missing NAR), pruning that keeps the
 * cache closed under references, path classification, the signing-key input and a missing nix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { readConfig } from '../src/config/config.js'
import { planCaches } from '../src/plan/plan.js'
import { choosePrunable, fingerprintOf, listCache, removeEntries, storedBytes } from '../src/nix/binary-cache.js'
import { checkCache } from '../src/nix/restore.js'
import { substituterAccepted, substituterConf, userConfFiles, untrustedAdvice, type TrustFacts } from '../src/nix/settings.js'
import { publicKeyOf } from '../src/config/nix-key.js'
import { verifySignature } from '../src/nix/signing.js'
import { originOf, parsePathInfoJson, pathInfos } from '../src/nix/store-paths.js'
import { setUpNix } from '../src/nix/restore.js'
import type { LedgerEntry } from '../src/ledger.js'
import { clearInputs, setInputs } from './support/inputs.js'
import { createNixSandbox, generateKey, mustRun, type NixSandbox, nixBuild, wipeStore, writeSyntheticExpr } from './support/nix.js'
import { describeWithTools } from './support/tools.js'

describeWithTools(['nix', 'nix-build'])('a binary cache written by nix copy', () => {
  let root: string
  let sandbox: NixSandbox
  let env: Record<string, string>
  let key: Awaited<ReturnType<typeof generateKey>>
  let outs: Record<string, string>
  const saved: Record<string, string | undefined> = {}

  /** A fresh signed cache of a → b → c (c refers to b, b to a), plus d alone. */
  async function freshCache(name: string): Promise<string> {
    const dir = path.join(root, name)
    fs.rmSync(dir, { recursive: true, force: true })
    await mustRun('nix', ['copy', '--to', `file://${dir}?compression=zstd&secret-key=${key.secretFile}`, outs.c, outs.d], env)
    return dir
  }

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-nix-unit-'))
    sandbox = createNixSandbox(path.join(root, 'nix'))
    env = { ...sandbox.env, HOME: path.join(root, 'home') }
    // The modules run nix in this process: point it at the private store.
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name]
      process.env[name] = value
    }
    key = await generateKey(path.join(root, 'keys'), 'unit-1')
    const expr = path.join(root, 'e.nix')
    writeSyntheticExpr(expr, [
      { name: 'a', bytes: 64 * 1024 },
      { name: 'b', bytes: 128 * 1024, deps: ['a'] },
      { name: 'c', bytes: 32 * 1024, deps: ['b'] },
      { name: 'd', bytes: 256 * 1024 }
    ])
    outs = {}
    for (const name of ['a', 'b', 'c', 'd']) outs[name] = (await nixBuild(expr, name, env)).out
  })

  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    if (sandbox) wipeStore(sandbox)
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  test('narinfos parse with the sizes nix reports, and their signatures verify with the key nix made', async () => {
    const dir = await freshCache('parse')
    const { entries, corrupt } = await listCache(dir)
    expect(corrupt).toEqual([])
    expect([...entries.values()].map(e => path.basename(e.storePath).slice(33)).sort()).toEqual(['a', 'b', 'c', 'd'])
    const infos = await pathInfos([outs.a, outs.b, outs.c, outs.d])
    for (const info of infos) expect(entries.get(path.basename(info.path).slice(0, 32))?.narSize).toBe(info.narSize)
    const c = [...entries.values()].find(e => e.storePath === outs.c)!
    expect(c.references.map(r => r.slice(33))).toEqual(['b'])
    expect(publicKeyOf(key.secret)).toBe(key.publicKey)
    expect(verifySignature(fingerprintOf(c, sandbox.storeDir), c.sigs[0], key.publicKey)).toBe(true)
    const other = await generateKey(path.join(root, 'other'), 'unit-1')
    expect(verifySignature(fingerprintOf(c, sandbox.storeDir), c.sigs[0], other.publicKey)).toBe(false)
    expect(verifySignature(fingerprintOf({ ...c, narSize: c.narSize + 1 }, sandbox.storeDir), c.sigs[0], key.publicKey)).toBe(false)
  })

  test('restore checks: accepted with the right key, refused with another or unsigned, usable with nix-trusted', async () => {
    const dir = await freshCache('check')
    const right = await checkCache(dir, sandbox.storeDir, [key.publicKey], false)
    expect(right).toMatchObject({ saveable: true, problems: [] })
    expect(right.accepted).toHaveLength(4)
    const other = await generateKey(path.join(root, 'other2'), 'elsewhere-1')
    const wrong = await checkCache(dir, sandbox.storeDir, [other.publicKey], false)
    expect(wrong.accepted).toEqual([])
    expect(wrong.problems).toEqual([expect.stringMatching(/^the restored cache is signed by unit-1 but no signature verifies with the trusted keys \(elsewhere-1\)/)])
    const trusted = await checkCache(dir, sandbox.storeDir, [], true)
    expect(trusted.accepted).toHaveLength(4)
    const unsignedDir = path.join(root, 'unsigned')
    await mustRun('nix', ['copy', '--to', `file://${unsignedDir}`, outs.d], env)
    const unsigned = await checkCache(unsignedDir, sandbox.storeDir, [key.publicKey], false)
    expect(unsigned.accepted).toEqual([])
    expect(unsigned.problems).toEqual([expect.stringMatching(/^the restored cache is unsigned, so Nix refuses it .*nix-signing-key .* or nix-trusted: true/)])
  })

  test('a cache for another store dir is neither used nor added to', async () => {
    const dir = await freshCache('otherstore')
    fs.writeFileSync(path.join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n')
    const check = await checkCache(dir, sandbox.storeDir, [key.publicKey], false)
    expect(check).toMatchObject({ saveable: false, accepted: [] })
    expect(check.problems).toEqual([expect.stringContaining(`is for the Nix store /nix/store, but this Nix uses ${sandbox.storeDir}: not using it and not adding to it`)])
  })

  test('corrupt narinfos and narinfos without their NAR are removed with one line', async () => {
    const dir = await freshCache('corrupt')
    const { entries } = await listCache(dir)
    const [first, second] = [...entries.values()]
    fs.writeFileSync(path.join(dir, `${first.hash}.narinfo`), 'StorePath: garbage\nNarSize: lots\n')
    fs.rmSync(path.join(dir, second.url))
    const check = await checkCache(dir, sandbox.storeDir, [key.publicKey], false)
    expect(check.problems).toEqual([expect.stringMatching(/^removed 2 corrupt narinfo file\(s\) from the restored cache/)])
    expect(check.accepted).toHaveLength(2)
    expect(fs.existsSync(path.join(dir, `${first.hash}.narinfo`))).toBe(false)
    expect(fs.existsSync(path.join(dir, `${second.hash}.narinfo`))).toBe(false)
  })

  test('pruning drops stale entries and, over the size limit, the least recently used, with everything that refers to them', async () => {
    const dir = await freshCache('prune')
    const { entries } = await listCache(dir)
    const hashOf = (name: string) => path.basename(outs[name]).slice(0, 32)
    const now = new Date('2030-06-30T12:00:00Z')
    const day = (d: string) => `2030-06-${d}`
    const lastUsed = { [hashOf('a')]: day('01'), [hashOf('b')]: day('29'), [hashOf('c')]: day('30'), [hashOf('d')]: day('30') }
    // a unused for 29 days (> 14): dropped, and b and c, which refer to it, go too.
    const stale = choosePrunable(entries, lastUsed, { maxAgeMs: 14 * 86_400_000, maxBytes: 1e12, now })
    expect([...stale].sort()).toEqual([hashOf('a'), hashOf('b'), hashOf('c')].sort())
    // Nothing stale, but only room for d: the oldest (a) goes first, its referrers with it.
    const fresh = { ...lastUsed, [hashOf('a')]: day('28') }
    const dBytes = storedBytes(entries.get(hashOf('d'))!)
    const oversize = choosePrunable(entries, fresh, { maxAgeMs: 30 * 86_400_000, maxBytes: dBytes, now })
    expect([...oversize].sort()).toEqual([hashOf('a'), hashOf('b'), hashOf('c')].sort())
    await removeEntries(dir, entries, oversize)
    const left = await listCache(dir)
    expect([...left.entries.keys()]).toEqual([hashOf('d')])
    expect(fs.readdirSync(path.join(dir, 'nar'))).toEqual([path.basename(entries.get(hashOf('d'))!.url)])
    // What is left still substitutes: nix verifies the cache's content against the narinfos.
    await mustRun('nix', ['store', 'verify', '--store', `file://${dir}`, '--trusted-public-keys', key.publicKey, outs.d], env)
  })

  test('classification: built paths are ultimate, paths in the restored cache came from it, the rest from upstream', async () => {
    const [a] = await pathInfos([outs.a])
    expect(a.ultimate).toBe(true)
    expect(originOf(a, new Set())).toBe('built')
    const substituted = { ...a, ultimate: false, signatures: ['upstream-1:x'] }
    expect(originOf(substituted, new Set([path.basename(a.path).slice(0, 32)]))).toBe('fromCache')
    expect(originOf(substituted, new Set())).toBe('fromUpstream')
    // Nix 2.19+ prints an object keyed by path, null for invalid paths.
    expect(parsePathInfoJson(JSON.stringify({ '/nix/store/x-y': { narSize: 5, ultimate: true }, '/nix/store/z-w': null }))).toEqual([
      { path: '/nix/store/x-y', narSize: 5, ultimate: true, signatures: [], ca: null }
    ])
  })
})

describe('nix settings and inputs', () => {
  afterEach(clearInputs)

  test('NIX_USER_CONF_FILES puts ours first (Nix applies the list last to first) and keeps the defaults', () => {
    expect(userConfFiles('/t/q.conf', { HOME: '/h' })).toBe('/t/q.conf:/h/.config/nix/nix.conf:/etc/xdg/nix/nix.conf')
    expect(userConfFiles('/t/q.conf', { NIX_USER_CONF_FILES: '/a:/b' })).toBe('/t/q.conf:/a:/b')
    expect(substituterConf('file:///c?priority=10', ['k-1:AAA='])).toContain('extra-trusted-public-keys = k-1:AAA=\nfallback = true')
  })

  test('an untrusted user is told exactly what the admin must add', () => {
    const facts: TrustFacts = { user: 'runner', groups: ['runner'], root: false, localStore: false, trustedUsers: ['root', '@wheel'], trustedSubstituters: [] }
    const url = 'file:///home/runner/.cache/qdc-action/nix-cache?priority=10'
    expect(substituterAccepted(facts, url)).toBe(false)
    expect(substituterAccepted({ ...facts, groups: ['wheel'] }, url)).toBe(true)
    expect(substituterAccepted({ ...facts, trustedSubstituters: [url] }, url)).toBe(true)
    const advice = untrustedAdvice(facts, url, ['qdc-1:PUB='])
    expect(advice).toContain(`nix.settings.trusted-substituters = [ "${url}" ];`)
    expect(advice).toContain('nix.settings.trusted-public-keys = [ "qdc-1:PUB=" ];')
    expect(advice.split('\n')[0]).toMatch(/does not trust user 'runner'/)
  })

  test('a malformed signing key fails with one line that does not repeat it', async () => {
    setInputs({ caches: 'nix', 'nix-signing-key': 'qdc-1:bm90IGEga2V5' })
    expect(() => readConfig()).toThrow(/^Input 'nix-signing-key': is not a Nix secret key \(expected name:base64 of 64 bytes/)
    try {
      readConfig()
    } catch (error) {
      expect(String(error)).not.toContain('bm90IGEga2V5')
    }
    // A key file is read by the nix kind, still while planning: before anything is restored.
    setInputs({ caches: 'nix', 'nix-signing-key': 'no/such/key.sec' })
    await expect(planCaches(readConfig(), {})).rejects.toThrow(/^Input 'nix-signing-key': the file .*no\/such\/key\.sec does not exist/)
  })

  test('without nix on PATH the nix kind says so in one warning and carries on', async () => {
    const entry = { kind: 'nix', problems: [] as string[] } as unknown as LedgerEntry
    const snapshotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-nix-absent-'))
    const pathBefore = process.env.PATH
    process.env.PATH = snapshotDir
    try {
      await setUpNix({ dir: path.join(snapshotDir, 'cache') } as never, entry, snapshotDir)
    } finally {
      process.env.PATH = pathBefore
      fs.rmSync(snapshotDir, { recursive: true, force: true })
    }
    expect(entry.problems).toEqual([expect.stringMatching(/^nix is not installed \(no working `nix` on PATH\)/)])
  })
})
