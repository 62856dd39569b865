/**
 * An HTTP proxy in front of the S3 fixture that answers some requests itself with an S3 error, for what
 * radosgw 16 cannot be made to do: 503 SlowDown (it has no rate limiting before Ceph 17) and 5xx. Every
 * other request goes to the gateway unchanged (the Host header too, so SigV4 signatures still verify).
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface InjectedFault {
  status: number
  code: string
  message?: string
}

export interface S3Proxy {
  endpoint: string
  /** Requests seen, injected or forwarded. */
  readonly requests: number
  /** Requests answered with an injected fault. */
  readonly injected: number
  close(): Promise<void>
}

/** `fault(request, n)` (n counts from 1) says which requests get an error instead of the gateway's answer. */
export async function startS3Proxy(
  target: string,
  fault: (request: http.IncomingMessage, n: number) => InjectedFault | null
): Promise<S3Proxy> {
  const upstream = new URL(target)
  const agent = new http.Agent({ keepAlive: true })
  let requests = 0
  let injected = 0
  const server = http.createServer((request, response) => {
    const injection = fault(request, ++requests)
    if (injection) {
      injected++
      // The body is read (and dropped) first, so the client's upload completes and it reads our answer.
      request.resume()
      request.once('end', () => {
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${injection.code}</Code><Message>${injection.message ?? injection.code}</Message></Error>`
        response.writeHead(injection.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body)
      })
      return
    }
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers, agent },
      answer => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    forwarded.once('error', () => response.destroy())
    request.pipe(forwarded)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests
    },
    get injected() {
      return injected
    },
    close: () =>
      new Promise(resolve => {
        agent.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
