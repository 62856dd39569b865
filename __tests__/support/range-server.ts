/**
 * A plain file server for the downloader's transport: Range requests (206/416), a per-connection rate
 * cap, and the faults a CDN or a proxy produces, each countable per request. Used by the tests
 * in-process and by `npm run bench:downloads` in a child process (scripts/range-server-child.ts), so
 * its pacing does not share an event loop with the client it measures.
 *
 * - Rate cap: a token bucket per TCP connection (the way CDNs, S3 and Azure cap a connection, not
 *   a client), so N connections get N times the rate of one.
 * - Stall: send `afterBytes` of the body, then nothing, with the socket left open: only the client's
 *   idle timeout ends it. The time of the last byte and of the close are recorded for the benchmark.
 */
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { parseRange } from './hub.js'

/** Restricts a fault to requests whose `Range` header is exactly this (`bytes=0-99`); any request when omitted. */
export interface RangeTargeted {
  range?: string
  /** Fires on the next `times` matching requests, forever when omitted. */
  times?: number
}

export interface RangeServerFaults {
  /** Answer every ranged request 200 with the whole file, as a server without Range support does. */
  ignoreRange?: RangeTargeted
  /** Send `afterBytes` of the body, then nothing more; the socket stays open. */
  stall?: RangeTargeted & { afterBytes: number }
  /** Send `afterBytes` of the body, then reset the connection. */
  drop?: RangeTargeted & { afterBytes: number }
  /** Answer `status` instead of serving. */
  status?: RangeTargeted & { status: number }
}

export interface RangeRequest {
  range?: string
  status: number
  /** Body bytes written. */
  bytes: number
  /** Which TCP connection, numbered from 1 in order of arrival. */
  connection: number
  authorization: boolean
  /** performance.now() when the request arrived. */
  startedAt: number
  /** performance.now() of the last body byte handed to the socket. */
  lastByteAt?: number
  /** performance.now() when the response closed (finished, or cut by either side). */
  closedAt?: number
  complete?: boolean
}

export interface RangeServerOptions {
  /** What every path serves: bytes in memory, or a file read as it is sent (a 1 GiB benchmark file). */
  source: Buffer | string
  /** Token bucket per connection, bytes per second; unlimited when omitted. */
  bytesPerSecondPerConnection?: number
}

export interface RangeServer {
  readonly url: string
  faults: RangeServerFaults
  readonly requests: RangeRequest[]
  /** TCP connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

const PIECE = 64 * 1024

export async function startRangeServer(options: RangeServerOptions): Promise<RangeServer> {
  const source = typeof options.source === 'string' ? await fs.open(options.source, 'r') : options.source
  const size = Buffer.isBuffer(source) ? source.length : (await source.stat()).size
  const buckets = new WeakMap<Socket, TokenBucket>()
  const connectionIds = new WeakMap<Socket, number>()
  let connections = 0
  const state: { faults: RangeServerFaults; requests: RangeRequest[] } = { faults: {}, requests: [] }

  const server = http.createServer((req, res) => {
    const socket = req.socket
    const entry: RangeRequest = {
      range: req.headers.range,
      status: 0,
      bytes: 0,
      connection: connectionIds.get(socket) ?? 0,
      authorization: req.headers.authorization !== undefined,
      startedAt: performance.now()
    }
    state.requests.push(entry)
    res.on('close', () => {
      entry.closedAt = performance.now()
      entry.complete = res.writableFinished
    })
    const status = fire(state.faults, 'status', req.headers.range)
    if (status) {
      entry.status = status.status
      res.writeHead(status.status, { 'content-length': 0 }).end()
      return
    }
    const range = fire(state.faults, 'ignoreRange', req.headers.range) ? undefined : parseRange(req.headers.range, size)
    if (range === 'unsatisfiable') {
      entry.status = 416
      res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 }).end()
      return
    }
    const start = range?.start ?? 0
    const end = range?.end ?? size - 1
    entry.status = range ? 206 : 200
    res.writeHead(entry.status, {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'content-length': end - start + 1,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {})
    })
    const stall = fire(state.faults, 'stall', req.headers.range)
    const drop = stall ? undefined : fire(state.faults, 'drop', req.headers.range)
    const cutAfter = stall?.afterBytes ?? drop?.afterBytes
    let bucket = buckets.get(socket)
    if (!bucket && options.bytesPerSecondPerConnection) buckets.set(socket, (bucket = new TokenBucket(options.bytesPerSecondPerConnection)))
    void sendBody({ res, entry, source, start, length: Math.min(end - start + 1, cutAfter ?? Infinity), bucket }).then(() => {
      if (res.destroyed) return
      if (stall) return // nothing more: the client's idle timeout has to end this
      if (drop) socket.resetAndDestroy()
      else res.end()
    })
  })
  server.on('connection', socket => connectionIds.set(socket, ++connections))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin`
  return {
    url,
    get faults() {
      return state.faults
    },
    set faults(value) {
      state.faults = value
    },
    requests: state.requests,
    get connections() {
      return connections
    },
    async close() {
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
      if (!Buffer.isBuffer(source)) await source.close()
    }
  }
}

/** Bytes per second with a short burst allowance, refilled by the clock, one bucket per connection. */
class TokenBucket {
  private tokens: number
  private last = performance.now()
  private readonly capacity: number

  constructor(private readonly rate: number) {
    // 20 ms of burst: enough to absorb timer lateness, too little to change the rate.
    this.capacity = Math.max(PIECE, rate / 50)
    this.tokens = this.capacity
  }

  /** Waits until `bytes` may be sent, then spends them. */
  async take(bytes: number): Promise<void> {
    for (;;) {
      const now = performance.now()
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate)
      this.last = now
      if (this.tokens >= bytes) break
      await sleep(((bytes - this.tokens) / this.rate) * 1000)
    }
    this.tokens -= bytes
  }
}

async function sendBody(args: {
  res: http.ServerResponse
  entry: RangeRequest
  source: Buffer | fs.FileHandle
  start: number
  length: number
  bucket?: TokenBucket
}): Promise<void> {
  const { res, entry, source, start, length, bucket } = args
  const closed = new Promise<void>(resolve => res.once('close', resolve))
  for (let offset = 0; offset < length && !res.destroyed;) {
    const n = Math.min(PIECE, length - offset)
    if (bucket) await bucket.take(n)
    const piece = Buffer.isBuffer(source) ? source.subarray(start + offset, start + offset + n) : await readPiece(source, start + offset, n)
    entry.bytes += n
    offset += n
    entry.lastByteAt = performance.now()
    // Backpressure: wait for the socket to take the piece (or to close) before reading the next.
    if (!res.write(piece)) await Promise.race([new Promise(resolve => res.once('drain', resolve)), closed])
  }
}

async function readPiece(file: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length)
  const { bytesRead } = await file.read(buffer, 0, length, position)
  return buffer.subarray(0, bytesRead)
}

/** Consumes one firing of `faults[name]` if it targets `range`; clears it when spent. */
function fire<K extends keyof RangeServerFaults>(
  faults: RangeServerFaults,
  name: K,
  range: string | undefined
): RangeServerFaults[K] | undefined {
  const fault = faults[name]
  if (!fault || (fault.range !== undefined && fault.range !== range)) return undefined
  if (fault.times !== undefined) {
    fault.times -= 1
    if (fault.times <= 0) delete faults[name]
  }
  return fault
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
