/**
 * The nix kind against a real root nix-daemon with an unprivileged runner user (`nobody`), as on a
 * self-hosted NixOS runner: the bundled dist/ main and post and the user's nix-build all run as that user
 * and reach the private store only through the daemon. Proves that qdc's trust diagnosis matches what the
 * daemon does: untrusted → one warning with the exact nix.settings lines, and the daemon really ignores
 * the cache; those lines added to the daemon's nix.conf → silence, and everything is substituted.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { JobResult } from '../scripts/runner-sim.js'
import { substituterUrl } from '../src/nix/settings.js'
import { startBinaryCache } from './support/binary-cache.js'
import { builtDerivations, generateKey, writeSyntheticExpr } from './support/nix.js'
import {
  commandMessage,
  describeAsRootWithTools,
  type NixDaemon,
  nixosSettingsToConf,
  removeTree,
  runJobAs,
  startDaemon,
  TEST_USER,
  userIds
} from './support/nix-daemon.js'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

describeAsRootWithTools(['nix', 'nix-build', 'nix-daemon'])('nix kind for a user the nix-daemon does not trust', () => {
  let root: string
  let jobs: string
  let daemon: NixDaemon | null = null
  let expr: string
  let signing: { secret: string; publicKey: string }
  let derivations: string[]
  /** The advice qdc printed in the untrusted run, turned into the daemon's nix.conf lines. */
  let adviceConf: string[]

  beforeAll(async () => {
    if (!fs.existsSync(path.join(actionDir, 'dist/main/index.js'))) throw new Error('dist/ is missing: run npm run build')
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-nix-daemon-'))
    fs.chmodSync(root, 0o755)
    // Everything the runner user writes (machines, the local store) lives here; the daemon's dirs stay root's.
    jobs = path.join(root, 'jobs')
    fs.mkdirSync(jobs)
    const ids = userIds(TEST_USER)!
    fs.chownSync(jobs, ids.uid, ids.gid)
    signing = await generateKey(path.join(root, 'keys'), 'qdc-1')
    expr = path.join(root, 'job.nix')
    writeSyntheticExpr(expr, [
      { name: 'lib', bytes: 256 * 1024 },
      { name: 'app', bytes: 128 * 1024, deps: ['lib'] }
    ])
  })

  afterAll(async () => {
    await daemon?.stop()
    if (root) removeTree(root)
  })

  async function restartDaemon(extraConf: string[]): Promise<NixDaemon> {
    await daemon?.stop()
    daemon = await startDaemon(path.join(root, 'nix'), extraConf)
    return daemon
  }

  /** A new runner VM, always at the same place so the cache URL (and so the admin's setting) stays the same. */
  function freshMachine() {
    const base = path.join(jobs, 'runner')
    fs.rmSync(base, { recursive: true, force: true })
    const machine = { home: path.join(base, 'home'), workspace: path.join(base, 'workspace'), temp: path.join(base, 'runner-temp') }
    const ids = userIds(TEST_USER)!
    for (const dir of [base, ...Object.values(machine)]) {
      fs.mkdirSync(dir, { recursive: true })
      fs.chownSync(dir, ids.uid, ids.gid)
    }
    return machine
  }

  const nixDir = () => path.join(jobs, 'runner', 'home', 'nix-cache')
  const cacheUrl = () => substituterUrl(nixDir(), false)

  async function userJob(runId: number, inputs: Record<string, string> = {}) {
    return runJobAs(TEST_USER, {
      actionDir,
      job: {
        machine: freshMachine(),
        runId,
        inputs: {
          caches: 'nix',
          backend: 'local',
          'local-dir': path.join(jobs, 'store'),
          'nix-dir': nixDir(),
          'nix-signing-key': signing.secret,
          ...inputs
        },
        env: daemon!.clientEnv
      },
      nixBuildArgs: [expr, '-A', 'all', '--no-out-link']
    })
  }

  function warnings(job: JobResult): string[] {
    return job.main.stdout
      .split('\n')
      .filter(line => line.startsWith('::warning'))
      .map(commandMessage)
  }

  function nixEntry(job: JobResult) {
    return JSON.parse(fs.readFileSync(job.main.outputs.report, 'utf8')).caches.find((c: { kind: string }) => c.kind === 'nix')
  }

  test('cold job: the untrusted user builds through the daemon, and post signs and saves the paths', async () => {
    await restartDaemon([])
    const { job, build } = await userJob(700)
    expect(job.main.exitCode).toBe(0)
    expect(job.post?.exitCode).toBe(0)
    expect(warnings(job)).toEqual([])
    derivations = builtDerivations(build!.stderr).map(d => path.basename(d).slice(33))
    expect(derivations.sort()).toEqual(['all.drv', 'app.drv', 'lib.drv'])
    expect(nixEntry(job)).toMatchObject({ saved: 'saved', nix: { built: { paths: 3 }, copied: { paths: 3 } } })
    expect(fs.readdirSync(path.join(jobs, 'store')).length).toBeGreaterThan(0)
  })

  test('untrusted: qdc says so in one warning with the nix.settings lines, and the daemon really ignores the cache', async () => {
    await restartDaemon([])
    const { job, build } = await userJob(701)
    expect(job.main.exitCode).toBe(0)
    expect(job.post?.exitCode).toBe(0)
    expect(job.main.stdout).toMatch(/Restored binary cache: 3 store paths, 3 usable/)
    const [advice, ...others] = warnings(job)
    expect(others).toEqual([])
    expect(advice.split('\n')).toEqual([
      `nix: Nix: the nix-daemon does not trust user '${TEST_USER}', so it ignores the restored cache ${cacheUrl()} and downloads or builds everything again.`,
      'An admin of this runner can allow it in the NixOS configuration:',
      `  nix.settings.trusted-substituters = [ "${cacheUrl()}" ];`,
      `  nix.settings.trusted-public-keys = [ "${signing.publicKey}" ];`,
      `or trust the runner's user entirely: nix.settings.trusted-users = [ "${TEST_USER}" ];`
    ])
    // What the daemon did: refused the substituter qdc exported and built everything again.
    expect(build!.stderr).toContain(`warning: ignoring untrusted substituter '${cacheUrl()}'`)
    expect(
      builtDerivations(build!.stderr)
        .map(d => path.basename(d).slice(33))
        .sort()
    ).toEqual(derivations)
    expect(nixEntry(job).nix).toMatchObject({ built: { paths: 3 }, fromCache: { paths: 0 } })
    adviceConf = nixosSettingsToConf(advice)
  })

  test('the lines qdc printed, added to the daemon nix.conf: no warning, and every path is substituted from the cache', async () => {
    expect(adviceConf).toEqual([`trusted-substituters = ${cacheUrl()}`, `trusted-public-keys = ${signing.publicKey}`])
    await restartDaemon(adviceConf)
    const { job, build } = await userJob(702)
    expect(job.main.exitCode).toBe(0)
    expect(job.post?.exitCode).toBe(0)
    expect(warnings(job)).toEqual([])
    expect(job.main.stdout).toMatch(/Later steps substitute from .* first \(3 store paths\)/)
    expect(builtDerivations(build!.stderr)).toEqual([])
    expect(build!.stderr).not.toContain('ignoring untrusted substituter')
    expect([...build!.stderr.matchAll(/^copying path '[^']+' from '([^']+)'/gm)].map(m => m[1])).toEqual(
      Array(3).fill(`file://${nixDir()}`)
    )
    expect(nixEntry(job).nix).toMatchObject({ built: { paths: 0 }, fromCache: { paths: 3 } })
  })

  test('an upstream without Priority (0) the daemon asks first, and the cache allowed only at priority 10: qdc keeps that URL and says so', async () => {
    // An upstream that holds nothing here: its nix-cache-info names the store but no Priority.
    const silent = path.join(root, 'silent-upstream')
    fs.mkdirSync(silent, { recursive: true })
    fs.writeFileSync(path.join(silent, 'nix-cache-info'), `StoreDir: ${daemon!.storeDir}\n`)
    const first = await startBinaryCache(silent, null)
    try {
      await restartDaemon([...adviceConf, `substituters = ${first.url}`])
      const { job, build } = await userJob(706)
      expect(job.main.exitCode).toBe(0)
      const ahead = `${first.url} (priority 0: its nix-cache-info names none, Nix's default)`
      expect(job.main.stdout).toContain(`Nix also substitutes from ${ahead}`)
      // A lowered URL is not the one the admin allowed, so the daemon would ignore it: the allowed one stays.
      expect(warnings(job)).toEqual([
        `nix: Nix asks ${ahead} before the restored cache, and the nix-daemon allows the cache only as ${cacheUrl()}: store paths both hold are downloaded again. ` +
          `Give those substituters a priority above 10 (?priority=40 on their URL), or allow ${substituterUrl(nixDir(), false, -1)} in trusted-substituters too.`
      ])
      expect(job.exported.NIX_USER_CONF_FILES).toBeDefined()
      expect(build!.stderr).not.toContain('ignoring untrusted substituter')
      expect(builtDerivations(build!.stderr)).toEqual([])
      expect(nixEntry(job).nix).toMatchObject({ built: { paths: 0 }, fromCache: { paths: 3 }, fromUpstream: { paths: 0 } })
    } finally {
      await first.close()
    }
  })

  test('the cache allowed but not its key: the daemon refuses every signature, so qdc still warns', async () => {
    await restartDaemon([`trusted-substituters = ${cacheUrl()}`])
    const { job, build } = await userJob(703)
    expect(job.main.exitCode).toBe(0)
    const [advice, ...others] = warnings(job)
    expect(others).toEqual([])
    expect(nixosSettingsToConf(advice)).toEqual(adviceConf)
    // The daemon took the substituter but not the key qdc exported (a restricted setting, dropped silently).
    expect(build!.stderr).not.toContain('ignoring untrusted substituter')
    // 2.8: "… is not signed by any of the keys …"; 2.26: "ignoring substitute for '…' …, as it's not signed by any of the keys …".
    expect(build!.stderr).toMatch(/not signed by any of the keys in 'trusted-public-keys'/)
    expect(
      builtDerivations(build!.stderr)
        .map(d => path.basename(d).slice(33))
        .sort()
    ).toEqual(derivations)
  })

  test('nix-trusted: the admin allows the URL with trusted=1, no key needed, and the daemon substitutes', async () => {
    const trustedUrl = substituterUrl(nixDir(), true)
    await restartDaemon([`trusted-substituters = ${trustedUrl}`])
    const { job, build } = await userJob(705, { 'nix-trusted': 'true' })
    expect(job.main.stdout).toContain(`Later steps substitute from ${trustedUrl} first`)
    expect(warnings(job)).toEqual([])
    expect(builtDerivations(build!.stderr)).toEqual([])
    expect(nixEntry(job).nix).toMatchObject({ built: { paths: 0 }, fromCache: { paths: 3 } })
  })

  test('trusted user (trusted-users lists it): no warning, substituted without any admin setting for the cache', async () => {
    await restartDaemon([`trusted-users = root ${TEST_USER}`])
    const { job, build } = await userJob(704)
    expect(warnings(job)).toEqual([])
    expect(builtDerivations(build!.stderr)).toEqual([])
    expect(nixEntry(job).nix).toMatchObject({ built: { paths: 0 }, fromCache: { paths: 3 } })
  })
})
