import * as http from 'node:http'
import * as https from 'node:https'
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import type { S3Settings } from '../../config/s3.js'
import { faultKind, S3Fault } from './faults.js'

export type Sdk = typeof import('@aws-sdk/client-s3')
export type Storage = typeof import('@aws-sdk/lib-storage')

/**
 * Attempts per request, the first included. The SDK's standard strategy backs off exponentially with jitter
 * (a throttling error such as 503 SlowDown from a 1 s base), so five attempts ride out a short burst of
 * throttling or 5xx; a stall is bounded separately, by the StallGuard.
 */
const MAX_ATTEMPTS = 5
/** Connections per host: the parallel parts and ranges of a transfer, plus the small calls beside them. */
const MAX_SOCKETS = 16

/**
 * Loaded on first use: the SDK takes a moment to load, which runs on the other backends should not pay for
 * (the bundle keeps it in a chunk of its own).
 */
export async function loadSdk(): Promise<{ sdk: Sdk; storage: Storage }> {
  const [sdk, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')])
  return { sdk, storage }
}

/**
 * The client as S3-compatible servers need it: checksums only where an operation requires them (from SDK
 * 3.729 on, the default sends aws-chunked CRC32 bodies that radosgw and others answer with 411), path-style
 * addressing when asked for, the socket's idle timeout as s3-idle-timeout, and the credentials from the
 * SDK's default chain (env, profiles, SSO, web identity, instance metadata): never from an input.
 */
export function clientConfig(settings: S3Settings): S3ClientConfig {
  const region =
    settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (settings.endpoint ? 'us-east-1' : undefined)
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS }
  return {
    ...(region ? { region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: settings.idleTimeoutMs,
      socketTimeout: settings.idleTimeoutMs,
      httpAgent: new http.Agent(agent),
      httpsAgent: new https.Agent(agent)
    }
  }
}

type RequestHandler = NonNullable<S3Client['config']['requestHandler']>
type HandlerArgs = Parameters<RequestHandler['handle']>

/**
 * A stalled connection (no byte for s3-idle-timeout) is aborted by the socket's idle timeout and retried
 * once; when the same call (or range) stalls again the endpoint counts as stalled: every call in flight is
 * aborted and every later one fails at once, so a hung server costs a job about twice the idle timeout,
 * never minutes per part, range or cache kind.
 *
 * It sees every attempt of every SDK call: it wraps the client's request handler, and an attempt's call is
 * the `amz-sdk-invocation-id` header, the same on all attempts of one call. Body stalls of a download, after
 * the SDK has handed back the response, are reported through `bodyStalled`.
 */
export class StallGuard {
  private readonly controller = new AbortController()
  private readonly stalledOnce = new Set<string>()
  private fault: S3Fault | null = null

  constructor(readonly idleTimeoutMs: number) {}

  /** Aborts when the endpoint has stalled twice: what every request and stream of the store listens to. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** The fault once tripped: later calls fail with it at once. */
  get tripped(): S3Fault | null {
    return this.fault
  }

  assertOpen(): void {
    if (this.fault) throw this.fault
  }

  /**
   * Wraps the client's handler (the SDK reads `config.requestHandler` at each send): the wrapper is the
   * handler with `handle` overridden, so everything else (destroy, its configuration) is the handler's own.
   */
  install(client: S3Client): void {
    const inner = client.config.requestHandler as RequestHandler
    const handle: RequestHandler['handle'] = (request, options) => this.attempt(inner, request, options)
    client.config.requestHandler = Object.create(inner, { handle: { value: handle } }) as RequestHandler
  }

  /** True when a stalled body may be fetched again; false (and tripped) when `what` stalled before. */
  bodyStalled(what: string): boolean {
    return this.stalled(`body:${what}`)
  }

  private async attempt(inner: RequestHandler, request: HandlerArgs[0], options: HandlerArgs[1]): ReturnType<RequestHandler['handle']> {
    this.assertOpen()
    const { abortSignal: given } = (options ?? {}) as { abortSignal?: AbortSignal }
    const signals = given ? [this.controller.signal, given] : [this.controller.signal]
    try {
      return await inner.handle(request, { ...options, abortSignal: AbortSignal.any(signals) })
    } catch (error) {
      this.assertOpen()
      const call = (request as { headers?: Record<string, string> }).headers?.['amz-sdk-invocation-id'] ?? ''
      // The first stall goes back to the SDK, which retries a TimeoutError; a second one ends it all.
      if (faultKind(error) === 'stalled' && !this.stalled(`call:${call}`)) throw this.fault!
      throw error
    }
  }

  private stalled(id: string): boolean {
    if (this.fault) return false
    if (!this.stalledOnce.has(id)) {
      this.stalledOnce.add(id)
      return true
    }
    this.fault = new S3Fault(
      'stalled',
      `the endpoint stalled: no byte for ${this.idleTimeoutMs / 1000} s (s3-idle-timeout), twice; not trying it again in this step`
    )
    this.controller.abort(this.fault)
    return false
  }
}

/** The calls that carry an archive's bytes. */
const ARCHIVE_UPLOADS = new Set(['UploadPartCommand', 'PutObjectCommand'])

/**
 * Archive bodies go up with `x-amz-content-sha256: UNSIGNED-PAYLOAD` (a SigV4 mode every S3 server takes):
 * otherwise the signer hashes every part on the main thread, a second SHA-256 pass over the archive beside
 * the one the manifest records, and that one is checked on every download anyway.
 */
export function skipPayloadHashing(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async args => {
      const request = args.request as { headers?: Record<string, string> }
      if (context.commandName && ARCHIVE_UPLOADS.has(context.commandName) && request.headers)
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
      return next(args)
    },
    { step: 'build', name: 'qdcUnsignedArchivePayload' }
  )
}

/** Masks the credentials the SDK resolved (a profile's or web identity's are in no variable main masked). */
export async function maskResolvedCredentials(client: S3Client, mask: (secret: string) => void, masked: Set<string>): Promise<void> {
  const credentials = await client.config.credentials()
  for (const secret of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken]) {
    if (secret && !masked.has(secret)) {
      masked.add(secret)
      mask(secret)
    }
  }
}
