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
import {
  gatherTrustFacts,
  listSetting,
  readNixSettings,
  requiresSignatures,
  substituterAccepted,
  substituterConf,
  userConfFiles,
  untrustedAdvice,
  type TrustFacts
} from '../src/nix/settings.js'
import { versionAtLeast } from '../src/util/exec.js'
import { publicKeyOf } from '../src/config/nix-key.js'
import { verifySignature } from '../src/nix/signing.js'
import { parsePathInfoJson, pathInfos } from '../src/nix/store-paths.js'
import { tracePaths } from '../src/nix/origins.js'
import { askedBefore, inNixOrder, otherSubstituters, priorityAhead } from '../src/nix/substituters.js'
import { setUpNix } from '../src/nix/restore.js'
import type { LedgerEntry } from '../src/ledger.js'
import { startBinaryCache } from './support/binary-cache.js'
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
    expect(wrong.problems).toEqual([
      expect.stringMatching(/^the restored cache is signed by unit-1 but no signature verifies with the trusted keys \(elsewhere-1\)/)
    ])
    const trusted = await checkCache(dir, sandbox.storeDir, [], true)
    expect(trusted.accepted).toHaveLength(4)
    const unsignedDir = path.join(root, 'unsigned')
    await mustRun('nix', ['copy', '--to', `file://${unsignedDir}`, outs.d], env)
    const unsigned = await checkCache(unsignedDir, sandbox.storeDir, [key.publicKey], false)
    expect(unsigned.accepted).toEqual([])
    expect(unsigned.problems).toEqual([
      expect.stringMatching(/^the restored cache is unsigned, so Nix refuses it .*nix-signing-key .* or nix-trusted: true/)
    ])
    // With require-sigs = false Nix takes unsigned substitutes, so the same cache is usable.
    const lax = await checkCache(unsignedDir, sandbox.storeDir, [key.publicKey], false, false)
    expect(lax).toMatchObject({
      problems: [],
      notes: [expect.stringContaining('1 usable (require-sigs = false: Nix takes them unsigned)')]
    })
    expect(lax.accepted).toHaveLength(1)
  })

  test('a cache for another store dir is neither used nor added to', async () => {
    const dir = await freshCache('otherstore')
    fs.writeFileSync(path.join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\n')
    const check = await checkCache(dir, sandbox.storeDir, [key.publicKey], false)
    expect(check).toMatchObject({ saveable: false, accepted: [] })
    expect(check.problems).toEqual([
      expect.stringContaining(`is for the Nix store /nix/store, but this Nix uses ${sandbox.storeDir}: not using it and not adding to it`)
    ])
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

  test("trust settings are Nix's own answer (config show or 2.8's show-config, NIX_CONFIG included), and so is the user's trust", async () => {
    const other = await generateKey(path.join(root, 'trust-keys'), 'extra-1')
    const conf = createNixSandbox(path.join(root, 'nix-trust'), {
      trustedPublicKeys: [key.publicKey],
      extraConf: ['require-sigs = false', 'trusted-substituters = file:///srv/cache?priority=10', 'trusted-users = root @wheel']
    })
    const before = { ...process.env }
    Object.assign(process.env, conf.env, { NIX_CONFIG: `extra-trusted-public-keys = ${other.publicKey}` })
    try {
      const settings = await readNixSettings()
      const facts = await gatherTrustFacts(settings)
      expect(facts).toMatchObject({
        requireSigs: false,
        trustedPublicKeys: [key.publicKey, other.publicKey],
        trustedSubstituters: ['file:///srv/cache?priority=10'],
        trustedUsers: ['root', '@wheel'],
        localStore: true
      })
      // A store opened directly trusts its user; Nix 2.8 has no --json answer to read, newer ones say so.
      const version = (await mustRun('nix', ['--version'], {})).match(/\d+\.\d+/)![0]
      if (versionAtLeast(version, [2, 19])) expect(facts.trustedByStore).toBe(true)
      if (!versionAtLeast(version, [2, 15])) expect(facts.trustedByStore).toBeNull()
      process.env.NIX_CONFIG = 'require-sigs = true'
      expect(requiresSignatures(await readNixSettings())).toBe(true)
    } finally {
      process.env = before
    }
  })

  test("path-info records: this Nix's JSON shape, a binary cache's compressed size, and what a store lacks left out", async () => {
    const [a] = await pathInfos([outs.a])
    expect(a).toMatchObject({ path: outs.a, ultimate: true, downloadSize: null, narHash: expect.stringMatching(/^sha256[-:]/) })
    // The shape this Nix prints: 2.8 an array of records with `path`, 2.19+ an object keyed by path.
    const version = (await mustRun('nix', ['--version'], {})).match(/\d+\.\d+/)![0]
    const raw = JSON.parse(await mustRun('nix', ['path-info', '--json', outs.a], env)) as unknown
    expect(Array.isArray(raw)).toBe(!versionAtLeast(version, [2, 19]))
    expect(parsePathInfoJson(JSON.stringify(raw))).toEqual([a])
    // A binary cache's record of the same path: not ultimate, signed by the key that copied it, its compressed NAR's size.
    const dir = await freshCache('shapes')
    const narinfo = (await listCache(dir)).entries.get(path.basename(outs.a).slice(0, 32))!
    const [cached] = await pathInfos([outs.a], `file://${dir}`)
    expect(cached).toMatchObject({
      path: outs.a,
      narHash: a.narHash,
      narSize: a.narSize,
      downloadSize: narinfo.fileSize,
      ultimate: false,
      signatures: [expect.stringMatching(/^unit-1:/)],
      ca: null
    })
    // Without b's narinfo the cache lacks b: 2.8 says valid: false, 2.19+ null; either way it is left out.
    fs.rmSync(path.join(dir, `${path.basename(outs.b).slice(0, 32)}.narinfo`))
    expect((await pathInfos([outs.a, outs.b], `file://${dir}`)).map(i => i.path)).toEqual([outs.a])
    expect(parsePathInfoJson(JSON.stringify({ '/nix/store/x-y': { narSize: 5, ultimate: true }, '/nix/store/z-w': null }))).toEqual([
      { path: '/nix/store/x-y', narHash: '', narSize: 5, downloadSize: null, ultimate: true, signatures: [], ca: null }
    ])
  })

  test('where a substituted path came from: the store whose narinfo has exactly its signatures, else the first Nix asks', async () => {
    const [a] = await pathInfos([outs.a])
    const upKey = await generateKey(path.join(root, 'origin-keys'), 'up-1')
    const upDir = path.join(root, 'origin-up')
    const ourDir = path.join(root, 'origin-ours')
    // The same path in an "upstream" (xz, signed up-1) and in the restored cache (zstd, signed with qdc's key too, as post copies it).
    await mustRun('nix', ['copy', '--to', `file://${upDir}?compression=xz&secret-key=${upKey.secretFile}`, outs.a], env)
    const [upInfo] = await pathInfos([outs.a], `file://${upDir}`)
    const asSubstituted = (signatures: string[]) => ({ ...a, ultimate: false, signatures })
    const upSig = upInfo.signatures[0]
    await mustRun('nix', ['copy', '--to', `file://${ourDir}?compression=zstd&secret-key=${key.secretFile}`, outs.a], env)
    fs.writeFileSync(
      path.join(ourDir, `${path.basename(outs.a).slice(0, 32)}.narinfo`),
      fs.readFileSync(path.join(ourDir, `${path.basename(outs.a).slice(0, 32)}.narinfo`), 'utf8') + `Sig: ${upSig}\n`
    )
    const [ourInfo] = await pathInfos([outs.a], `file://${ourDir}`)
    expect(ourInfo.signatures.sort()).toEqual([upSig, expect.stringMatching(/^unit-1:/)].sort())
    const hashA = path.basename(outs.a).slice(0, 32)
    const ours = (priority: number, accepted = [hashA]) => ({ url: `file://${ourDir}`, priority, accepted: new Set(accepted) })
    const upstream = (priority: number) => ({ url: `file://${upDir}`, priority })
    // Asked first (10 < 40) or not (0 < 10): the signatures say which store Nix copied the path from.
    for (const stores of [
      [ours(10), upstream(40)],
      [upstream(0), ours(10)]
    ]) {
      const [fromUpstream] = await tracePaths([asSubstituted([upSig])], stores)
      expect(fromUpstream).toMatchObject({ origin: 'fromUpstream', store: `file://${upDir}`, fileSize: upInfo.downloadSize })
      const [fromCache] = await tracePaths([asSubstituted(ourInfo.signatures)], stores)
      expect(fromCache).toMatchObject({ origin: 'fromCache', store: `file://${ourDir}`, fileSize: ourInfo.downloadSize })
    }
    expect(upInfo.downloadSize).toBeLessThan(a.narSize)
    // A substituter that does not answer is passed over, quickly: the others still tell.
    const started = Date.now()
    const [despiteDeadStore] = await tracePaths(
      [asSubstituted(ourInfo.signatures)],
      [{ url: 'http://127.0.0.1:9', priority: 0 }, ours(10), upstream(40)]
    )
    expect(despiteDeadStore).toMatchObject({ origin: 'fromCache', store: `file://${ourDir}` })
    expect(Date.now() - started).toBeLessThan(15_000)
    // A cache entry Nix did not accept cannot have served the path.
    const [refused] = await tracePaths([asSubstituted(ourInfo.signatures)], [ours(10, []), upstream(40)])
    expect(refused).toMatchObject({ origin: 'fromUpstream', store: `file://${upDir}` })
    // Signed again locally after substitution: the store whose signatures it all carries.
    const [resigned] = await tracePaths([asSubstituted([upSig, 'local-1:c2ln'])], [ours(10), upstream(40)])
    expect(resigned).toMatchObject({ origin: 'fromUpstream', store: `file://${upDir}` })
    // Signatures no configured store's narinfo has: a download from somewhere qdc cannot see, at NAR size.
    const [unseen] = await tracePaths([asSubstituted(['elsewhere-1:c2ln'])], [ours(10), upstream(40)])
    expect(unseen).toMatchObject({ origin: 'fromUpstream', store: null, fileSize: a.narSize })
    // Built here, and a content-addressed path nobody signed (a source evaluation added): built, whoever else has it.
    const [built] = await tracePaths([a], [ours(10), upstream(40)])
    expect(built).toMatchObject({ origin: 'built', store: null, fileSize: 0 })
    const [source] = await tracePaths([{ ...asSubstituted([]), ca: 'fixed:r:sha256:x' }], [ours(10), upstream(40)])
    expect(source.origin).toBe('built')
    // Both unsigned (nix-trusted): nothing tells them apart, so the store Nix asks first is the one.
    const plainUp = path.join(root, 'origin-up-plain')
    const plainOurs = path.join(root, 'origin-ours-plain')
    for (const dir of [plainUp, plainOurs]) await mustRun('nix', ['copy', '--to', `file://${dir}`, outs.a], env)
    const unsigned = asSubstituted([])
    const plain = (url: string, priority: number, accepted?: string[]) => ({
      url: `file://${url}`,
      priority,
      ...(accepted ? { accepted: new Set(accepted) } : {})
    })
    expect((await tracePaths([unsigned], [plain(plainOurs, 10, [hashA]), plain(plainUp, 40)]))[0]).toMatchObject({ origin: 'fromCache' })
    expect((await tracePaths([unsigned], [plain(plainUp, 0), plain(plainOurs, 10, [hashA])]))[0]).toMatchObject({
      origin: 'fromUpstream',
      store: `file://${plainUp}`
    })
  })

  test('substituter priorities as Nix takes them: the URL parameter, else the Priority nix-cache-info announces, else 0', async () => {
    const announced = await freshCache('priority-30')
    fs.appendFileSync(path.join(announced, 'nix-cache-info'), 'Priority: 30\n')
    const silent = await freshCache('priority-none')
    const http0 = await startBinaryCache(silent, null)
    const http41 = await startBinaryCache(silent, 41)
    const own = path.join(root, 'own-cache')
    try {
      const unreachable = 'http://127.0.0.1:9'
      const settings = new Map([
        [
          'substituters',
          `file://${announced} file://${announced}?priority=50 file://${silent} ${http0.url} ${http41.url}/ ${unreachable} daemon file://${own}?priority=10`
        ]
      ])
      const others = await otherSubstituters(settings, own)
      expect(others.map(s => [s.url, s.priority, s.from])).toEqual([
        [`file://${announced}`, 30, 'nix-cache-info'],
        [`file://${announced}?priority=50`, 50, 'url'],
        [`file://${silent}`, 0, 'unannounced'],
        [http0.url, 0, 'unannounced'],
        [`${http41.url}/`, 41, 'nix-cache-info'],
        [unreachable, 0, 'unread'],
        ['daemon', 0, 'unread']
      ])
      expect(priorityAhead(others, 10)).toBe(-1)
      expect(askedBefore(others, 10).map(s => s.url)).toEqual([`file://${silent}`, http0.url, unreachable, 'daemon'])
      const usual = others.filter(s => s.priority > 10)
      expect(priorityAhead(usual, 10)).toBe(10)
      expect(priorityAhead([{ url: 'x', priority: 10, from: 'url' }], 10)).toBe(9)
      expect(inNixOrder([...usual, { url: 'ours', priority: 30, from: 'url' }]).map(s => s.url)).toEqual([
        `file://${announced}`,
        'ours',
        `${http41.url}/`,
        `file://${announced}?priority=50`
      ])
      // What Nix reports as its substituters includes extra-substituters from any conf or NIX_CONFIG.
      const before = { ...process.env }
      process.env.NIX_CONFIG = `extra-substituters = ${http41.url}`
      try {
        expect(listSetting(await readNixSettings(), 'substituters')).toContain(http41.url)
      } finally {
        process.env = before
      }
    } finally {
      await http0.close()
      await http41.close()
    }
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
    const facts: TrustFacts = {
      user: 'runner',
      groups: ['runner'],
      root: false,
      localStore: false,
      trustedUsers: ['root', '@wheel'],
      trustedSubstituters: []
    }
    const url = 'file:///home/runner/.cache/qdc-action/nix-cache?priority=10'
    expect(substituterAccepted(facts, url)).toBe(false)
    expect(substituterAccepted({ ...facts, groups: ['wheel'] }, url)).toBe(true)
    expect(substituterAccepted({ ...facts, trustedSubstituters: [url] }, url)).toBe(true)
    // The daemon's own answer beats reading trusted-users (and is all there is for a user trusted another way).
    expect(substituterAccepted({ ...facts, groups: ['wheel'], trustedByStore: false }, url)).toBe(false)
    expect(substituterAccepted({ ...facts, trustedByStore: true }, url)).toBe(true)
    // An allowed URL with a key the daemon lacks passes only when the daemon does not require signatures.
    expect(substituterAccepted({ ...facts, trustedSubstituters: [url], trustedPublicKeys: [] }, url, ['qdc-1:PUB='])).toBe(false)
    expect(
      substituterAccepted({ ...facts, trustedSubstituters: [url], trustedPublicKeys: [], requireSigs: false }, url, ['qdc-1:PUB='])
    ).toBe(true)
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
