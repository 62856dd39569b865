import { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { CopyingDigest } from '../../util/hash-pool.js'
import type { ArchiveDigest, TarOutput } from '../archive.js'
import type { StallGuard, Storage } from './client.js'

/** Parts of `partSize` bytes (S3's minimum is 5 MiB), `queueSize` of them uploading at once (and in memory). */
export interface PartPlan {
  partSize: number
  queueSize: number
}

export interface UploadContext {
  s3: S3Client
  storage: Storage
  guard: StallGuard
  bucket: string
}

/**
 * Streams tar's output into one object while a worker hashes it: one PutObject when it fits in a part, else
 * a multipart upload of parallel parts (lib-storage). No temp file: the archive goes up as tar makes it.
 * A failed upload is aborted by lib-storage (AbortMultipartUpload), so no half-uploaded object stays billed;
 * one that cannot even be aborted (the endpoint went away) is left to the store's orphan sweep and the
 * bucket's lifecycle rule.
 */
export async function uploadArchive(
  context: UploadContext,
  name: string,
  tar: TarOutput,
  plan: PartPlan,
  onProgress: (bytes: number) => void
): Promise<ArchiveDigest> {
  const digest = new CopyingDigest([{ algorithm: 'sha256' }])
  let bytes = 0
  const body = Readable.from(
    hashedOutput(tar, digest, count => {
      bytes += count
      onProgress(count)
    })
  )
  const upload = new context.storage.Upload({
    client: context.s3,
    params: { Bucket: context.bucket, Key: name, Body: body, ContentType: 'application/zstd' },
    partSize: plan.partSize,
    queueSize: plan.queueSize,
    leavePartsOnError: false
  })
  const abort = () => void upload.abort()
  context.guard.signal.addEventListener('abort', abort)
  try {
    await upload.done()
    return { sha256: (await digest.digests())[0], bytes }
  } catch (error) {
    // tar blocks on a pipe nobody reads any more.
    tar.stop()
    body.destroy()
    throw context.guard.tripped ?? error
  } finally {
    context.guard.signal.removeEventListener('abort', abort)
    digest.close()
  }
}

/**
 * tar's output, passed through unchanged while copies go to the hashing worker. A tar that fails ends its
 * output early: waiting for its exit makes that fail the upload instead of completing a truncated object.
 */
async function* hashedOutput(tar: TarOutput, digest: CopyingDigest, count: (bytes: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of tar.stdout) {
    digest.update(chunk)
    count(chunk.length)
    yield chunk
  }
  await tar.exited
}
