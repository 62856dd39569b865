/**
 * A private Nix store for tests (nix-bin 2.8, offline): its own store, state, config and log directories,
 * NIX_REMOTE=local, no sandbox and no build users, so root or not, nothing touches /nix. Derivations use
 * /bin/sh as builder and write deterministic pseudo-random bytes (openssl AES-CTR keystream), so sizes are
 * real and nothing compresses away, unless a path is made compressible.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export interface NixSandbox {
  storeDir: string
  /** Environment for every nix command and for the action's steps (HOME is left to the caller). */
  env: Record<string, string>
}

export interface SandboxOptions {
  /** Substituters the machine's own nix.conf lists: the stand-in for cache.nixos.org. */
  substituters?: string[]
  trustedPublicKeys?: string[]
  /** More nix.conf lines, e.g. `require-sigs = false`. */
  extraConf?: string[]
}

export function createNixSandbox(root: string, options: SandboxOptions = {}): NixSandbox {
  const conf = path.join(root, 'etc')
  fs.mkdirSync(conf, { recursive: true })
  fs.writeFileSync(
    path.join(conf, 'nix.conf'),
    [
      'sandbox = false',
      'build-users-group =',
      'experimental-features = nix-command',
      `substituters = ${(options.substituters ?? []).join(' ')}`,
      `trusted-public-keys = ${(options.trustedPublicKeys ?? []).join(' ')}`,
      'connect-timeout = 2',
      ...(options.extraConf ?? []),
      ''
    ].join('\n')
  )
  const storeDir = path.join(root, 'store')
  return {
    storeDir,
    env: {
      NIX_STORE_DIR: storeDir,
      NIX_STATE_DIR: path.join(root, 'var'),
      NIX_LOG_DIR: path.join(root, 'log'),
      NIX_CONF_DIR: conf,
      NIX_REMOTE: 'local'
    }
  }
}

/** A new runner's empty store at the same path (store paths, and so the cache, depend on the path). */
export function wipeStore(sandbox: NixSandbox): void {
  for (const dir of [sandbox.storeDir, sandbox.env.NIX_STATE_DIR, sandbox.env.NIX_LOG_DIR]) {
    if (fs.existsSync(dir)) spawnSync('chmod', ['-R', 'u+w', dir])
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

export function runCommand(command: string, args: string[], env: Record<string, string>): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

export async function mustRun(command: string, args: string[], env: Record<string, string>): Promise<string> {
  const result = await runCommand(command, args, env)
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
  return result.stdout
}

/** Derivations `nix-build` reported building (its "building '<drv>'..." lines). */
export function builtDerivations(stderr: string): string[] {
  return [...stderr.matchAll(/^building '([^']+)'/gm)].map(m => m[1])
}

export interface SyntheticPath {
  name: string
  bytes: number
  deps?: string[]
  /** A third keystream, the rest zeros: its xz or zstd NAR is about a third of the NAR size, as a real package's is smaller than its NAR. */
  compressible?: boolean
}

/**
 * A Nix file with one attribute per spec: a directory holding `bytes` of keystream and the paths of its
 * deps (so they are real references), plus `all`, which depends on every one.
 */
export function writeSyntheticExpr(file: string, specs: SyntheticPath[], salt = 'qdc'): void {
  const mk = specs.map(s => {
    const deps = (s.deps ?? []).join(' ')
    const script = [
      'set -e',
      '/bin/mkdir $out',
      `/usr/bin/openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:${salt}-${s.name} -in /dev/zero 2>/dev/null | /usr/bin/head -c ${s.compressible ? Math.floor(s.bytes / 3) : s.bytes} > $out/data`,
      ...(s.compressible ? [`/usr/bin/head -c ${s.bytes - Math.floor(s.bytes / 3)} /dev/zero >> $out/data`] : []),
      `echo ${deps ? `\${toString [ ${deps} ]}` : ''} > $out/deps`
    ].join('; ')
    return `  ${s.name} = mk "${s.name}" ''${script}'';`
  })
  const text = [
    'let',
    '  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; };',
    'in rec {',
    ...mk,
    `  all = mk "all" ''/bin/mkdir $out; echo \${toString [ ${specs.map(s => s.name).join(' ')} ]} > $out/deps'';`,
    '}',
    ''
  ].join('\n')
  fs.writeFileSync(file, text)
}

/** Builds `attr` and returns its output path. */
export async function nixBuild(file: string, attr: string, env: Record<string, string>): Promise<{ out: string; stderr: string }> {
  const result = await runCommand('nix-build', [file, '-A', attr, '--no-out-link'], env)
  if (result.code !== 0) throw new Error(`nix-build ${attr} failed: ${result.stderr}`)
  return { out: result.stdout.trim(), stderr: result.stderr }
}

export async function generateKey(dir: string, name: string): Promise<{ secretFile: string; secret: string; publicKey: string }> {
  fs.mkdirSync(dir, { recursive: true })
  const secretFile = path.join(dir, `${name}.sec`)
  const publicFile = path.join(dir, `${name}.pub`)
  await mustRun('nix-store', ['--generate-binary-cache-key', name, secretFile, publicFile], {})
  return { secretFile, secret: fs.readFileSync(secretFile, 'utf8').trim(), publicKey: fs.readFileSync(publicFile, 'utf8').trim() }
}
