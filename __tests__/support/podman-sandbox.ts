/**
 * Podman "machines" for tests: each has its own storage (graphroot/runroot via CONTAINERS_STORAGE_CONF)
 * and its own TMPDIR (where cache mounts live), so nothing touches the host's /var/lib/containers or
 * /var/tmp/buildah-cache. The base image is made here (busybox-static rootfs, `podman import`) and served
 * by an "upstream" registry on loopback that counts the bytes it sends.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { LayoutRegistry } from '../../src/podman/registry/server.js'

export interface PodmanMachine {
  dir: string
  /** Environment for podman, podman-compose and qdc on this machine. */
  env: Record<string, string>
  tmpdir: string
}

export interface Upstream {
  host: string
  /** The base image as a Containerfile names it. */
  image: string
  servedBytes(): number
  reset(): void
  close(): Promise<void>
}

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find(file => fs.existsSync(file))

/** A registries.conf that lets podman talk plain HTTP to the upstream on loopback, and nothing else. */
export function writeUpstreamRegistriesConf(dir: string, upstreamHost: string): string {
  const file = path.join(dir, 'registries.conf')
  fs.writeFileSync(file, `unqualified-search-registries = []\n\n[[registry]]\nlocation = "${upstreamHost}"\ninsecure = true\n`)
  return file
}

export function newPodmanMachine(root: string, name: string, registriesConf: string): PodmanMachine {
  const dir = path.join(root, name)
  const tmpdir = path.join(dir, 'tmp')
  fs.mkdirSync(tmpdir, { recursive: true })
  const storageConf = path.join(dir, 'storage.conf')
  fs.writeFileSync(storageConf, `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`)
  return { dir, tmpdir, env: { CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_REGISTRIES_CONF: registriesConf, TMPDIR: tmpdir } }
}

export function podmanOn(machine: PodmanMachine, args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync('podman', args, { env: { ...process.env, ...machine.env }, encoding: 'utf8' })
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

export function podmanOnAsync(machine: PodmanMachine, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, { env: { ...process.env, ...machine.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

export function imageId(machine: PodmanMachine, image: string): string {
  const result = podmanOn(machine, ['image', 'inspect', '--format', '{{.Id}}', image])
  if (result.code !== 0) throw new Error(`podman image inspect ${image}: ${result.stderr}`)
  return result.stdout.trim()
}

/** Unmounts and deletes the machine's storage (overlay leaves root-owned, mounted layers otherwise). */
export function destroyPodmanMachine(machine: PodmanMachine): void {
  podmanOn(machine, ['system', 'reset', '--force'])
  fs.rmSync(machine.dir, { recursive: true, force: true })
}

/**
 * A busybox root filesystem tarball. `lib`/`lib64` point into `/usr`, so a build can mount the host's
 * /usr (`-v /usr:/usr:ro`) and run its python3 and pip: no Python image is downloadable here.
 */
export function busyboxRootfs(dir: string): string {
  if (!BUSYBOX) throw new Error('busybox is missing: scripts/setup.sh installs busybox-static')
  const rootfs = path.join(dir, 'rootfs')
  for (const sub of ['bin', 'etc', 'tmp', 'usr', 'root']) fs.mkdirSync(path.join(rootfs, sub), { recursive: true })
  fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'))
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755)
  for (const applet of ['sh', 'echo', 'cat', 'ls', 'mkdir', 'touch', 'test', 'rm', 'true', 'false', 'sleep', 'head', 'dd']) {
    fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet))
  }
  fs.symlinkSync('usr/lib', path.join(rootfs, 'lib'))
  fs.symlinkSync('usr/lib64', path.join(rootfs, 'lib64'))
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  const tarball = path.join(dir, 'busybox-rootfs.tar')
  const tar = spawnSync('tar', ['-C', rootfs, '-cf', tarball, '.'], { encoding: 'utf8' })
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`)
  return tarball
}

/** The same registry qdc uses, on another port, seeded with the base image from a throwaway machine. */
export async function startUpstream(root: string): Promise<Upstream> {
  const registry = new LayoutRegistry(path.join(root, 'upstream-registry'))
  const host = await registry.start()
  const image = `${host}/library/busybox:1`
  const seed = newPodmanMachine(root, 'upstream-seed', writeUpstreamRegistriesConf(root, host))
  try {
    const tarball = busyboxRootfs(seed.dir)
    for (const args of [['import', tarball, image], ['push', image]]) {
      // Async: the registry answering this push runs in this process.
      const result = await podmanOnAsync(seed, args)
      if (result.code !== 0) throw new Error(`podman ${args[0]}: ${result.stderr}`)
    }
  } finally {
    destroyPodmanMachine(seed)
  }
  const served = () => [...registry.traffic.values()].reduce((total, t) => total + t.servedBytes, 0)
  let baseline = served()
  return {
    host,
    image,
    servedBytes: () => served() - baseline,
    reset: () => {
      baseline = served()
    },
    close: () => registry.stop()
  }
}
