/**
 * Podman "machines" for tests: each has its own storage (graphroot/runroot via CONTAINERS_STORAGE_CONF)
 * and its own TMPDIR (where cache mounts live), so nothing touches the host's /var/lib/containers or
 * /var/tmp/buildah-cache. The base image is made here (a busybox-static rootfs and a compressible text
 * layer, gzip) and served by an "upstream" registry on loopback that counts the bytes it sends.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
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
  /** Another base image: the same busybox layer, another text layer. */
  siblingImage: string
  /** What pulling `image` into an empty storage fetches: index, manifest, config and every layer blob. */
  bytesOf(image: string): number
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
 * `podman build` flags that let a busybox image run the host's python3 and pip: its /usr, and the CA
 * bundle, which pip 25 (Debian 13) loads when it starts (requests 2.32 preloads an SSL context) even
 * for a plain-HTTP index. A real Python image has both.
 */
export const HOST_PYTHON_BUILD_ARGS = '--network=host -v /usr:/usr:ro -v /etc/ssl/certs:/etc/ssl/certs:ro'

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

/** gzip level 1, as some image builders write: podman re-compresses at its own level, so a layer's pulled size differs from what podman pushes elsewhere. */
const UPSTREAM_GZIP_LEVEL = 1
/** Text that gzip shrinks about fivefold: a pulled base image's size in storage (uncompressed) is far from its bytes on the wire. */
const TEXT_LAYER_BYTES = 4 * 1024 * 1024

/**
 * The same registry qdc uses, on another port, serving a base image made here the way a registry image is:
 * a tag naming an OCI index (one platform), its manifest, a config, and gzip layers (busybox, and a
 * compressible text file). Written straight into the registry's layout, not pushed with podman, so the
 * compression is the upstream's own and not what podman would choose.
 */
export async function startUpstream(root: string): Promise<Upstream> {
  const registry = new LayoutRegistry(path.join(root, 'upstream-registry'))
  const host = await registry.start()
  const [image, siblingImage] = [`${host}/library/busybox:1`, `${host}/library/busybox:2`]
  const work = path.join(root, 'upstream-seed')
  fs.mkdirSync(work, { recursive: true })
  const sizes = new Map<string, number>()
  try {
    const busybox = fs.readFileSync(busyboxRootfs(work))
    sizes.set(image, await writeImage(registry.layout, 'library/busybox', '1', [busybox, textLayer(work, 'one')]))
    sizes.set(siblingImage, await writeImage(registry.layout, 'library/busybox', '2', [busybox, textLayer(work, 'two')]))
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
  const served = () => [...registry.traffic.values()].reduce((total, t) => total + t.servedBytes, 0)
  let baseline = served()
  return {
    host,
    image,
    siblingImage,
    bytesOf: ref => sizes.get(ref) ?? 0,
    servedBytes: () => served() - baseline,
    reset: () => {
      baseline = served()
    },
    close: () => registry.stop()
  }
}

/** A layer tarball with /opt/qdc/paths.sh: shell lines naming store-like paths, compressible like real text. */
function textLayer(dir: string, salt: string): Buffer {
  const tree = path.join(dir, `text-${salt}`)
  fs.mkdirSync(path.join(tree, 'opt', 'qdc'), { recursive: true })
  const lines: string[] = []
  let length = 0
  for (let i = 0; length < TEXT_LAYER_BYTES; i++) {
    const line = `export PATH_${i % 977}="/nix/store/${((i * 2654435761) >>> 0).toString(36)}-${salt}-${i % 97}/bin"\n`
    lines.push(line)
    length += line.length
  }
  fs.writeFileSync(path.join(tree, 'opt', 'qdc', 'paths.sh'), lines.join(''))
  const tarball = path.join(dir, `text-${salt}.tar`)
  const tar = spawnSync('tar', ['-C', tree, '--owner=0', '--group=0', '--mtime=2026-01-01', '-cf', tarball, '.'], { encoding: 'utf8' })
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`)
  return fs.readFileSync(tarball)
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

/** Publishes an image (index → manifest → config and gzip layers) under repository:tag; returns the bytes of all of them. */
async function writeImage(layout: LayoutRegistry['layout'], repository: string, tag: string, layerTars: Buffer[]): Promise<number> {
  const platform = { architecture: ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch, os: 'linux' }
  const created = '2026-01-01T00:00:00Z'
  const layers = []
  for (const tar of layerTars) {
    const blob = zlib.gzipSync(tar, { level: UPSTREAM_GZIP_LEVEL })
    layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: await writeBlob(layout, blob),
      size: blob.length,
      diffId: sha256(tar)
    })
  }
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      created,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map(l => l.diffId) },
      history: layers.map((_, i) => ({ created, created_by: `qdc test upstream layer ${i + 1}` }))
    })
  )
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await writeBlob(layout, config), size: config.length },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size }))
    })
  )
  const child = await layout.putManifest(repository, sha256(manifest), manifest, OCI_MANIFEST)
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.size, platform }]
    })
  )
  await layout.putManifest(repository, tag, index, OCI_INDEX)
  return index.length + manifest.length + config.length + layers.reduce((total, l) => total + l.size, 0)
}

async function writeBlob(layout: LayoutRegistry['layout'], blob: Buffer): Promise<string> {
  const digest = sha256(blob)
  const file = layout.newUploadPath()
  fs.writeFileSync(file, blob)
  await layout.commitUpload(file, digest)
  return digest
}

function sha256(data: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`
}
