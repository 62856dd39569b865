import type { S3Client } from '@aws-sdk/client-s3'
import type { S3Settings } from '../../config/s3.js'
import { forEachLimited } from '../../util/limit.js'
import { clientConfig, loadSdk, maskResolvedCredentials, type Sdk, skipPayloadHashing, StallGuard, type Storage } from './client.js'
import { faultKind, faultOf } from './faults.js'

/*
 * The bucket's objects, one SDK call each: what the fleet store (store.ts) builds its entries from. Every
 * call waits for the credentials to be resolved and masked, and every failure leaves as an S3Fault naming
 * what was being done, or as the stall that ended the store's use of the connection.
 */

/** Small calls in flight at once when many objects are read or removed (stats, prune, verify). */
export const SMALL_CALLS = 16

export interface Connection {
  s3: S3Client
  sdk: Sdk
  storage: Storage
  guard: StallGuard
}

export interface ListedObject {
  name: string
  size: number
  /** LastModified, milliseconds since the epoch: the server's clock. */
  modified: number
}

export class Bucket {
  private readonly masked = new Set<string>()
  private connection: Promise<Connection> | undefined

  constructor(
    private readonly settings: S3Settings,
    /** Masks a secret before anything can log it. */
    private readonly mask: (secret: string) => void
  ) {}

  /** The SDK client built from the settings (tests watch its requests). */
  async client(): Promise<S3Client> {
    return (await this.connect()).s3
  }

  /** Lets the process exit: the client's keep-alive sockets would hold it. */
  async close(): Promise<void> {
    if (this.connection) (await this.connection.catch(() => null))?.s3.destroy()
    this.connection = undefined
  }

  private connect(): Promise<Connection> {
    this.connection ??= loadSdk().then(({ sdk, storage }) => {
      const s3 = new sdk.S3Client(clientConfig(this.settings))
      const guard = new StallGuard(this.settings.idleTimeoutMs)
      guard.install(s3)
      skipPayloadHashing(s3)
      return { s3, sdk, storage, guard }
    })
    return this.connection
  }

  /** The connection, with the credentials resolved and masked before any call can log anything. */
  async ready(): Promise<Connection> {
    const connection = await this.connect()
    connection.guard.assertOpen()
    try {
      await maskResolvedCredentials(connection.s3, this.mask, this.masked)
    } catch (error) {
      throw faultOf(error, 'resolving the AWS credentials')
    }
    return connection
  }

  /** An SDK call; whatever it throws becomes an S3Fault naming `what`, or the stall that ended everything. */
  async call<T>(what: string, run: (connection: Connection) => Promise<T>): Promise<T> {
    const connection = await this.ready()
    try {
      return await run(connection)
    } catch (error) {
      throw connection.guard.tripped ?? faultOf(error, what)
    }
  }

  /** The object's content, null when there is none (404). */
  async getText(name: string, what: string): Promise<string | null> {
    try {
      return await this.call(what, async ({ s3, sdk }) => {
        const got = await s3.send(new sdk.GetObjectCommand({ Bucket: this.settings.bucket, Key: name }))
        return got.Body!.transformToString()
      })
    } catch (error) {
      if (faultKind(error) === 'not-found') return null
      throw error
    }
  }

  async exists(name: string, what: string): Promise<boolean> {
    try {
      await this.call(what, ({ s3, sdk }) => s3.send(new sdk.HeadObjectCommand({ Bucket: this.settings.bucket, Key: name })))
      return true
    } catch (error) {
      if (faultKind(error) === 'not-found') return false
      throw error
    }
  }

  async put(name: string, body: string, what: string, createOnly = false): Promise<void> {
    await this.call(what, ({ s3, sdk }) =>
      s3.send(
        new sdk.PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: name,
          Body: Buffer.from(body),
          ContentType: body === '' ? undefined : 'application/json',
          ...(createOnly ? { IfNoneMatch: '*' } : {})
        })
      )
    )
  }

  /** Deleting what is not there succeeds (204), as S3 has it. */
  async delete(name: string): Promise<void> {
    await this.call(`deleting ${name}`, ({ s3, sdk }) => s3.send(new sdk.DeleteObjectCommand({ Bucket: this.settings.bucket, Key: name })))
  }

  /** One DeleteObject per name, several at once: DeleteObjects needs a Content-MD5 that not every server takes. */
  async removeObjects(names: string[]): Promise<void> {
    await forEachLimited(names, SMALL_CALLS, name => this.delete(name))
  }

  /** Every object whose name starts with `prefix`, page after page (a page holds at most 1000). */
  async *list(prefix: string): AsyncGenerator<ListedObject> {
    let token: string | undefined
    do {
      const page = await this.call(`listing ${prefix}`, ({ s3, sdk }) =>
        s3.send(new sdk.ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: prefix, ContinuationToken: token }))
      )
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { name: object.Key, size: object.Size ?? 0, modified: object.LastModified?.getTime() ?? 0 }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  async staleUploads(prefix: string, cutoff: number): Promise<Array<{ name: string; uploadId: string; modified: number }>> {
    const stale: Array<{ name: string; uploadId: string; modified: number }> = []
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    do {
      const page = await this.call(`listing the multipart uploads below ${prefix}`, ({ s3, sdk }) =>
        s3.send(
          new sdk.ListMultipartUploadsCommand({
            Bucket: this.settings.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker
          })
        )
      )
      for (const upload of page.Uploads ?? []) {
        const modified = upload.Initiated?.getTime() ?? 0
        if (upload.Key && upload.UploadId && modified < cutoff) stale.push({ name: upload.Key, uploadId: upload.UploadId, modified })
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined
    } while (keyMarker)
    return stale
  }

  async abortUpload(name: string, uploadId: string): Promise<void> {
    await this.call(`aborting the upload of ${name}`, ({ s3, sdk }) =>
      s3.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: name, UploadId: uploadId }))
    )
  }
}
