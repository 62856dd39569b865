import * as crypto from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import { readJson, syncPath, writeFileAtomic, writeFileAtomicIfChanged } from '../../util/atomic.js'
import { digestFile } from '../../util/hash-pool.js'

/** OCI image-layout annotation naming a manifest; qdc writes `<repository>:<tag>` so one layout holds many repositories. */
const REF_NAME = 'org.opencontainers.image.ref.name'
const LAYOUT_FILE = 'oci-layout'
const INDEX_FILE = 'index.json'
/** In-progress uploads; inside the cache dir so a finished blob is a rename, never a copy. Never saved. */
const UPLOADS_DIR = '.uploads'
const DIGEST = /^sha256:([a-f0-9]{64})$/

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
}

interface Index {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
}

export class DigestMismatch extends Error {}

export function hexOf(digest: string): string | null {
  return DIGEST.exec(digest)?.[1] ?? null
}

/**
 * An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/*`) used as a registry's storage. Blobs
 * are only ever published by renaming a fully written, fsynced file whose SHA-256 matched, so a crash or
 * a bad upload never leaves a blob whose name lies about its content.
 */
export class OciLayout {
  private index: Index = { schemaVersion: 2, manifests: [] }
  private indexWrite: Promise<void> = Promise.resolve()

  constructor(readonly dir: string) {}

  async open(): Promise<void> {
    await fs.mkdir(path.join(this.dir, 'blobs', 'sha256'), { recursive: true })
    await fs.rm(path.join(this.dir, UPLOADS_DIR), { recursive: true, force: true })
    await fs.mkdir(path.join(this.dir, UPLOADS_DIR), { recursive: true })
    if ((await readJson(path.join(this.dir, LAYOUT_FILE))) === null) {
      await writeFileAtomic(path.join(this.dir, LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
    }
    const index = await readJson<Index>(path.join(this.dir, INDEX_FILE))
    if (index && Array.isArray(index.manifests)) this.index = { ...index, manifests: index.manifests.filter(isNamed) }
  }

  blobPath(digest: string): string {
    const hex = hexOf(digest)
    if (!hex) throw new Error(`not a sha256 digest: ${digest}`)
    return path.join(this.dir, 'blobs', 'sha256', hex)
  }

  async blobSize(digest: string): Promise<number | null> {
    if (!hexOf(digest)) return null
    const stat = await fs.stat(this.blobPath(digest)).catch(() => null)
    return stat?.isFile() ? stat.size : null
  }

  readBlob(digest: string): Readable {
    return createReadStream(this.blobPath(digest))
  }

  /** The manifest tagged `repository:tag`, or null. */
  tagged(repository: string, tag: string): Descriptor | null {
    return this.index.manifests.find(m => m.annotations?.[REF_NAME] === `${repository}:${tag}`) ?? null
  }

  tags(repository: string): string[] {
    const prefix = `${repository}:`
    return this.index.manifests
      .map(m => m.annotations![REF_NAME])
      .filter(n => n.startsWith(prefix))
      .map(n => n.slice(prefix.length))
  }

  refNames(): string[] {
    return this.index.manifests.map(m => m.annotations![REF_NAME])
  }

  descriptorOf(digest: string): Descriptor | null {
    return this.index.manifests.find(m => m.digest === digest) ?? null
  }

  newUploadPath(): string {
    return path.join(this.dir, UPLOADS_DIR, crypto.randomUUID())
  }

  /** Appends a request body to an upload file; returns the upload's new length. */
  async appendUpload(file: string, body: Readable): Promise<number> {
    await pipeline(body, createWriteStream(file, { flags: 'a' }))
    return (await fs.stat(file)).size
  }

  async uploadLength(file: string): Promise<number> {
    return (await fs.stat(file).catch(() => null))?.size ?? 0
  }

  /** Verifies an upload against `digest`, then publishes it as a blob; the upload is gone either way. */
  async commitUpload(file: string, digest: string): Promise<number> {
    try {
      // Already there: nothing to check or write, and leaving the file alone keeps an unchanged cache unchanged.
      const existing = await this.blobSize(digest)
      if (existing !== null) return existing
      // On a worker thread: this process serves podman's other requests meanwhile.
      const { digests } = await digestFile({ path: file }, await this.uploadLength(file), [{ algorithm: 'sha256' }])
      if (`sha256:${digests[0]}` !== digest) throw new DigestMismatch(`upload is sha256:${digests[0]}, not ${digest}`)
      await syncPath(file)
      await fs.rename(file, this.blobPath(digest))
      await syncPath(path.dirname(this.blobPath(digest)))
      return (await fs.stat(this.blobPath(digest))).size
    } finally {
      await fs.rm(file, { force: true })
    }
  }

  async putManifest(repository: string, reference: string, body: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = `sha256:${crypto.createHash('sha256').update(body).digest('hex')}`
    if (hexOf(reference) === null && reference.startsWith('sha256:')) throw new DigestMismatch(`bad digest ${reference}`)
    if (reference.startsWith('sha256:') && reference !== digest) throw new DigestMismatch(`manifest is ${digest}, not ${reference}`)
    if ((await this.blobSize(digest)) === null) await writeFileAtomic(this.blobPath(digest), body)
    const descriptor: Descriptor = { mediaType, digest, size: body.length }
    if (!reference.startsWith('sha256:')) {
      const name = `${repository}:${reference}`
      descriptor.annotations = { [REF_NAME]: name }
      // A tag pushed again keeps its place, so re-pushing what is there rewrites nothing.
      const at = this.index.manifests.findIndex(m => m.annotations?.[REF_NAME] === name)
      if (at < 0) this.index.manifests.push(descriptor)
      else this.index.manifests[at] = descriptor
      await this.writeIndex()
    }
    return descriptor
  }

  /**
   * Keeps only the named manifests and the blobs they reach (config, layers, child manifests); deletes
   * the rest. Returns the bytes deleted.
   */
  async retainOnly(refNames: Set<string>): Promise<{ removedBytes: number; removedBlobs: number; keptManifests: number }> {
    this.index.manifests = this.index.manifests.filter(m => refNames.has(m.annotations![REF_NAME]))
    await this.writeIndex()
    const reachable = new Set<string>()
    for (const m of this.index.manifests) await this.markReachable(m.digest, reachable)
    let removedBytes = 0
    let removedBlobs = 0
    const blobDir = path.join(this.dir, 'blobs', 'sha256')
    for (const hex of await fs.readdir(blobDir)) {
      if (reachable.has(hex)) continue
      const file = path.join(blobDir, hex)
      removedBytes += (await fs.stat(file)).size
      await fs.rm(file, { force: true })
      removedBlobs++
    }
    return { removedBytes, removedBlobs, keptManifests: this.index.manifests.length }
  }

  async close(): Promise<void> {
    await this.indexWrite
    await fs.rm(path.join(this.dir, UPLOADS_DIR), { recursive: true, force: true })
  }

  private async markReachable(digest: string, reachable: Set<string>): Promise<void> {
    const hex = hexOf(digest)
    if (!hex || reachable.has(hex)) return
    const size = await this.blobSize(digest)
    if (size === null) return
    reachable.add(hex)
    if (size > 4 * 1024 * 1024) return // a layer, not a manifest
    const manifest = await readJson<{ config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] }>(this.blobPath(digest)).catch(
      () => null
    )
    if (!manifest || typeof manifest !== 'object') return
    const children = [manifest.config, ...(manifest.layers ?? []), ...(manifest.manifests ?? [])]
    for (const child of children) if (child?.digest) await this.markReachable(child.digest, reachable)
  }

  /** Serialised so two manifest PUTs in flight cannot interleave their index rewrites. */
  private writeIndex(): Promise<void> {
    const snapshot = JSON.stringify({ ...this.index, schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' })
    this.indexWrite = this.indexWrite.then(() => writeFileAtomicIfChanged(path.join(this.dir, INDEX_FILE), snapshot))
    return this.indexWrite
  }
}

function isNamed(m: Descriptor): boolean {
  return typeof m?.digest === 'string' && typeof m.annotations?.[REF_NAME] === 'string'
}
