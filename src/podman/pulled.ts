import * as path from 'node:path'
import * as core from '@actions/core'
import { readJson } from '../util/atomic.js'
import { stringifyError } from '../util/errors.js'
import { podman, reason } from './podman.js'

/** An image as containers-storage records it (`<graphroot>/<driver>-images/images.json`): the fields qdc reads. */
interface StoredImage {
  id: string
  /** The image's top layer. */
  layer?: string
  /** Sizes of what the pull stored beside the layers: `manifest-<digest>` for each manifest fetched, `sha256:<id>` for the config. */
  'big-data-sizes'?: Record<string, number>
}

/** A layer as containers-storage records it (`<driver>-layers/layers.json`). */
interface StoredLayer {
  id: string
  parent?: string
  /** The blob the layer was made from, as the registry sent it. */
  'compressed-diff-digest'?: string
  'compressed-size'?: number
  'diff-digest'?: string
  'diff-size'?: number
}

interface StorageRecords {
  images: Map<string, StoredImage>
  layers: Map<string, StoredLayer>
}

/** What was in podman's storage before the build: image IDs, and the digests of every layer blob (null when storage's records could not be read). */
export interface StorageBaseline {
  imageIds: Set<string>
  blobs: Set<string> | null
}

export async function storageBaseline(env: Record<string, string>): Promise<StorageBaseline> {
  const imageIds = await localImageIds(env)
  const records = await readStorageRecords(env).catch(() => null)
  return { imageIds, blobs: records ? new Set([...records.layers.values()].flatMap(blobDigests)) : null }
}

/**
 * The bytes each base image's pull fetched from its registry, from what containers-storage recorded when
 * it stored the pull: each manifest fetched (the tag's index too, when it names one) and the config, byte
 * for byte, and each layer blob at its compressed size, as the registry sent it. A layer whose blob
 * (compressed or uncompressed digest) storage already had is not fetched again, so it counts once per
 * build at most, and an image whose ID was in storage before the build was not pulled at all: 0. `podman
 * image inspect` knows only uncompressed sizes, which is what a base image counted at when these records
 * cannot be read: more than crossed the wire, and said so in a warning.
 */
export async function bytesPulled(refs: string[], before: StorageBaseline, env: Record<string, string>): Promise<Map<string, number>> {
  const pulled = new Map<string, number>()
  const ids = new Map<string, string>()
  for (const ref of refs) {
    const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', ref], env)).stdout.trim()
    if (!id) continue
    if (before.imageIds.has(id)) pulled.set(ref, 0)
    else ids.set(ref, id)
  }
  if (ids.size === 0) return pulled
  let records: StorageRecords | null = null
  try {
    if (before.blobs === null) throw new Error('they could not be read before the build')
    records = await readStorageRecords(env)
  } catch (error) {
    core.warning(
      `podman: containers-storage's records of the pulls could not be read (${stringifyError(error)}); base images pulled are counted at their uncompressed size, more than crossed the wire`
    )
  }
  const fetched = new Set(before.blobs ?? [])
  for (const [ref, id] of ids) {
    const image = records?.images.get(id)
    pulled.set(ref, image && records ? pullSize(image, records.layers, fetched) : await uncompressedSize(ref, env))
  }
  return pulled
}

/** Manifests and config as stored, plus the layer blobs not in `fetched` yet (which it then holds). */
function pullSize(image: StoredImage, layers: Map<string, StoredLayer>, fetched: Set<string>): number {
  const config = `sha256:${image.id}`
  let bytes = 0
  for (const [key, size] of Object.entries(image['big-data-sizes'] ?? {})) if (key.startsWith('manifest-') || key === config) bytes += size
  for (let layer = layers.get(image.layer ?? ''); layer; layer = layers.get(layer.parent ?? '')) {
    const digests = blobDigests(layer)
    if (digests.some(digest => fetched.has(digest))) continue
    for (const digest of digests) fetched.add(digest)
    bytes += layer['compressed-size'] ?? layer['diff-size'] ?? 0
  }
  return bytes
}

function blobDigests(layer: StoredLayer): string[] {
  return [layer['compressed-diff-digest'], layer['diff-digest']].filter((d): d is string => typeof d === 'string' && d !== '')
}

/** images.json and layers.json of the storage podman uses here (a fresh storage has neither yet). */
async function readStorageRecords(env: Record<string, string>): Promise<StorageRecords> {
  const info = await podman(['info', '--format', '{{.Store.GraphRoot}}\n{{.Store.GraphDriverName}}'], env)
  const [graphRoot, driver] = info.stdout.trim().split('\n')
  if (info.code !== 0 || !graphRoot || !driver) throw new Error(`podman info: ${reason(info)}`)
  const images = (await readJson<StoredImage[]>(path.join(graphRoot, `${driver}-images`, 'images.json'))) ?? []
  const layers = (await readJson<StoredLayer[]>(path.join(graphRoot, `${driver}-layers`, 'layers.json'))) ?? []
  return { images: new Map(images.map(i => [i.id, i])), layers: new Map(layers.map(l => [l.id, l])) }
}

async function uncompressedSize(ref: string, env: Record<string, string>): Promise<number> {
  return Number((await podman(['image', 'inspect', '--format', '{{.Size}}', ref], env)).stdout.trim()) || 0
}

/** IDs of every image in podman's storage. */
async function localImageIds(env: Record<string, string>): Promise<Set<string>> {
  const listed = await podman(['images', '--all', '--quiet', '--no-trunc'], env)
  return new Set(
    listed.stdout
      .split('\n')
      .map(line => line.trim().replace(/^sha256:/, ''))
      .filter(Boolean)
  )
}
