/**
 * The "upstream" for Nix tests: a loopback HTTP binary cache over a file:// cache directory, like
 * cache.nixos.org (Priority 40), counting the NAR bytes it sends (as stored: compressed when the directory
 * was written with `nix copy --to 'file://DIR?compression=xz'`). With priority null its nix-cache-info
 * names no Priority, as a self-made cache may not: Nix then takes it for 0 and asks it first.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'

export interface BinaryCacheServer {
  url: string
  /** Body bytes of `/nar/*` responses since start or the last reset. */
  readonly narBytesServed: number
  readonly narRequests: number
  resetCounters(): void
  close(): Promise<void>
}

export async function startBinaryCache(dir: string, priority: number | null = 40): Promise<BinaryCacheServer> {
  let narBytesServed = 0
  let narRequests = 0
  const server = http.createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '')
    const file = path.resolve(dir, name)
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end()
      return
    }
    let body = fs.readFileSync(file)
    if (name === 'nix-cache-info') {
      const lines = body
        .toString()
        .split('\n')
        .filter(line => line && !line.startsWith('Priority:'))
      body = Buffer.from([...lines, ...(priority === null ? [] : [`Priority: ${priority}`]), ''].join('\n'))
    }
    if (name.startsWith('nar/')) {
      narRequests++
      if (request.method !== 'HEAD') narBytesServed += body.length
    }
    response.writeHead(200, { 'content-length': body.length })
    response.end(request.method === 'HEAD' ? undefined : body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get narBytesServed() {
      return narBytesServed
    },
    get narRequests() {
      return narRequests
    },
    resetCounters() {
      narBytesServed = 0
      narRequests = 0
    },
    close: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}
