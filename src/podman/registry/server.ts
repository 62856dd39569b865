import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { pipeline } from 'node:stream/promises'
import { DEFAULT_IDLE_TIMEOUT_MS, IdleTimeoutError } from '../../util/idle.js'
import { DigestMismatch, hexOf, OciLayout } from './layout.js'

/** Bytes that crossed the registry for one label (a service being built, or base-image restore/save). */
export interface Traffic {
  /** Blob and manifest bytes sent to clients (cache pulled: reused). */
  servedBytes: number
  /** Blob and manifest bytes received and stored (cache pushed: new). */
  receivedBytes: number
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
]
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.*)$/

/**
 * An OCI distribution registry, on 127.0.0.1 only, over an OCI image layout: what podman and buildah need
 * to push and pull images and `--cache-to/--cache-from` tags (monolithic and chunked uploads, HEAD, tags
 * list). It records every repository:tag read or written, which is the set of cache images this build
 * used, and the bytes sent and received under the current label.
 */
export class LayoutRegistry {
  readonly layout: OciLayout
  /** repository:tag names read (found) or written since start. */
  readonly touched = new Set<string>()
  readonly traffic = new Map<string, Traffic>()
  /** Attributes traffic to whatever is happening now (the service being built); set by the caller. */
  label = 'other'
  /**
   * Requests dropped because their connection went `idleTimeoutMs` without a byte either way (podman
   * stopped sending an upload or reading a blob): `PATCH /v2/buildcache/blobs/uploads/<id>: no byte for 60 s`.
   */
  readonly stalls: string[] = []
  private server: http.Server | null = null
  private readonly uploads = new Map<string, string>()
  private readonly idleTimeoutMs: number

  constructor(dir: string, options: { idleTimeoutMs?: number } = {}) {
    this.layout = new OciLayout(dir)
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  }

  /** Listens on 127.0.0.1 at a free port (or `port`); returns `127.0.0.1:<port>`. */
  async start(port = 0): Promise<string> {
    await this.layout.open()
    const inFlight = new WeakMap<Socket, string>()
    const server = http.createServer((req, res) => {
      inFlight.set(req.socket, `${req.method} ${req.url?.split('?')[0]}`)
      res.once('close', () => inFlight.delete(req.socket))
      this.handle(req, res).catch(error => {
        if (!res.headersSent) sendError(res, 500, 'UNKNOWN', String(error))
        else res.destroy()
      })
    })
    // Node's socket timeout is an idle timeout: any byte read or written re-arms it. A connection kept
    // alive between requests is closed by keepAliveTimeout long before, and one that times out idle is
    // nothing to report.
    server.setTimeout(this.idleTimeoutMs, (socket: Socket) => {
      const request = inFlight.get(socket)
      if (request) this.stalls.push(new IdleTimeoutError(this.idleTimeoutMs, request).message)
      socket.destroy()
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.server = server
    return `127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (server) {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
    await this.layout.close()
  }

  trafficOf(label: string): Traffic {
    let traffic = this.traffic.get(label)
    if (!traffic) {
      traffic = { servedBytes: 0, receivedBytes: 0 }
      this.traffic.set(label, traffic)
    }
    return traffic
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0')
    const url = new URL(req.url ?? '/', 'http://registry')
    if (url.pathname === '/v2/' || url.pathname === '/v2') return sendJson(res, 200, {})
    const match = ROUTE.exec(url.pathname)
    if (!match) return sendError(res, 404, 'NAME_UNKNOWN', 'not found')
    const [, repository, area, rest] = match
    const method = req.method ?? 'GET'
    if (area === 'tags' && rest === 'list' && method === 'GET') {
      return sendJson(res, 200, { name: repository, tags: this.layout.tags(repository) })
    }
    if (area === 'manifests') return this.manifest(method, repository, decodeURIComponent(rest), req, res)
    if (area === 'blobs' && rest.startsWith('uploads'))
      return this.upload(method, repository, rest.slice('uploads'.length).replace(/^\//, ''), url, req, res)
    if (area === 'blobs' && (method === 'GET' || method === 'HEAD')) return this.blob(method, decodeURIComponent(rest), res)
    sendError(res, 405, 'UNSUPPORTED', `${method} ${url.pathname}`)
  }

  private async manifest(
    method: string,
    repository: string,
    reference: string,
    req: http.IncomingMessage,
    res: http.ServerResponse
  ): Promise<void> {
    if (method === 'PUT') {
      const body = await readBody(req, MAX_MANIFEST_BYTES)
      const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim() || mediaTypeOf(body)
      try {
        const descriptor = await this.layout.putManifest(repository, reference, body, mediaType)
        if (!reference.startsWith('sha256:')) this.touched.add(`${repository}:${reference}`)
        this.trafficOf(this.label).receivedBytes += body.length
        res.setHeader('Location', `/v2/${repository}/manifests/${descriptor.digest}`)
        res.setHeader('Docker-Content-Digest', descriptor.digest)
        res.writeHead(201).end()
      } catch (error) {
        if (error instanceof DigestMismatch) return sendError(res, 400, 'DIGEST_INVALID', error.message)
        throw error
      }
      return
    }
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'UNSUPPORTED', method)
    const byDigest = reference.startsWith('sha256:')
    const descriptor = byDigest ? this.layout.descriptorOf(reference) : this.layout.tagged(repository, reference)
    const digest = byDigest ? reference : descriptor?.digest
    const size = digest ? await this.layout.blobSize(digest) : null
    if (!digest || size === null) return sendError(res, 404, 'MANIFEST_UNKNOWN', `${repository}:${reference} not found`)
    if (!byDigest) this.touched.add(`${repository}:${reference}`)
    const body = method === 'GET' || !descriptor ? await readAll(this.layout, digest) : null
    res.setHeader('Content-Type', descriptor?.mediaType ?? mediaTypeOf(body!))
    res.setHeader('Docker-Content-Digest', digest)
    res.setHeader('Content-Length', size)
    if (method === 'HEAD') return void res.writeHead(200).end()
    this.trafficOf(this.label).servedBytes += size
    res.writeHead(200).end(body)
  }

  private async blob(method: string, digest: string, res: http.ServerResponse): Promise<void> {
    const size = await this.layout.blobSize(digest)
    if (size === null) return sendError(res, 404, 'BLOB_UNKNOWN', `${digest} not found`)
    res.setHeader('Content-Type', 'application/octet-stream')
    res.setHeader('Docker-Content-Digest', digest)
    res.setHeader('Content-Length', size)
    if (method === 'HEAD') return void res.writeHead(200).end()
    res.writeHead(200)
    this.trafficOf(this.label).servedBytes += size
    await pipeline(this.layout.readBlob(digest), res)
  }

  private async upload(
    method: string,
    repository: string,
    id: string,
    url: URL,
    req: http.IncomingMessage,
    res: http.ServerResponse
  ): Promise<void> {
    if (method === 'POST') {
      const mount = url.searchParams.get('mount')
      if (mount && (await this.layout.blobSize(mount)) !== null) {
        req.resume()
        return this.created(res, repository, mount)
      }
      const file = this.layout.newUploadPath()
      const uuid = file.slice(file.lastIndexOf('/') + 1)
      this.uploads.set(uuid, file)
      const length = await this.layout.appendUpload(file, req)
      const digest = url.searchParams.get('digest')
      if (digest) return this.finish(res, repository, uuid, digest)
      return this.accepted(res, repository, uuid, length)
    }
    const file = this.uploads.get(id)
    if (!file) return sendError(res, 404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} not found`)
    if (method === 'PATCH') return this.accepted(res, repository, id, await this.layout.appendUpload(file, req))
    if (method === 'PUT') {
      await this.layout.appendUpload(file, req)
      return this.finish(res, repository, id, url.searchParams.get('digest') ?? '')
    }
    if (method === 'GET') return this.accepted(res, repository, id, await this.layout.uploadLength(file), 204)
    if (method === 'DELETE') {
      this.uploads.delete(id)
      req.resume()
      return void res.writeHead(204).end()
    }
    sendError(res, 405, 'UNSUPPORTED', method)
  }

  private async finish(res: http.ServerResponse, repository: string, uuid: string, digest: string): Promise<void> {
    const file = this.uploads.get(uuid)!
    this.uploads.delete(uuid)
    if (!hexOf(digest)) return sendError(res, 400, 'DIGEST_INVALID', `bad digest '${digest}'`)
    try {
      this.trafficOf(this.label).receivedBytes += await this.layout.commitUpload(file, digest)
    } catch (error) {
      if (error instanceof DigestMismatch) return sendError(res, 400, 'DIGEST_INVALID', error.message)
      throw error
    }
    this.created(res, repository, digest)
  }

  private created(res: http.ServerResponse, repository: string, digest: string): void {
    res.setHeader('Location', `/v2/${repository}/blobs/${digest}`)
    res.setHeader('Docker-Content-Digest', digest)
    res.writeHead(201).end()
  }

  private accepted(res: http.ServerResponse, repository: string, uuid: string, length: number, status = 202): void {
    res.setHeader('Location', `/v2/${repository}/blobs/uploads/${uuid}`)
    res.setHeader('Docker-Upload-UUID', uuid)
    res.setHeader('Range', `0-${Math.max(0, length - 1)}`)
    res.setHeader('Content-Length', 0)
    res.writeHead(status).end()
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text)
}

/** The distribution spec's error body, so clients print the reason. */
function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ code, message }] })
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of req) {
    length += (chunk as Buffer).length
    if (length > limit) throw new Error(`body larger than ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

async function readAll(layout: OciLayout, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of layout.readBlob(digest)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function mediaTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: string; manifests?: unknown }
    if (parsed.mediaType && MANIFEST_TYPES.includes(parsed.mediaType)) return parsed.mediaType
    return parsed.manifests ? MANIFEST_TYPES[1] : MANIFEST_TYPES[0]
  } catch {
    return MANIFEST_TYPES[0]
  }
}
