/** The layout registry's protocol edges that podman's happy path does not reach. */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { LayoutRegistry } from '../src/podman/registry/server.js'

interface OciErrors {
  errors: { code: string }[]
}

const sha = (data: Buffer | string) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`

describe('LayoutRegistry', () => {
  let dir: string
  let registry: LayoutRegistry
  let base: string

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-registry-'))
    registry = new LayoutRegistry(dir)
    base = `http://${await registry.start()}`
  })

  afterEach(async () => {
    await registry.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('a chunked upload is published under its digest; a wrong digest publishes nothing', async () => {
    const data = crypto.randomBytes(300_000)
    const start = await fetch(`${base}/v2/r/blobs/uploads/`, { method: 'POST' })
    expect(start.status).toBe(202)
    const location = start.headers.get('location')!
    const first = await fetch(`${base}${location}`, { method: 'PATCH', body: data.subarray(0, 100_000) })
    expect(first.headers.get('range')).toBe('0-99999')
    const done = await fetch(`${base}${location}?digest=${sha(data)}`, { method: 'PUT', body: data.subarray(100_000) })
    expect(done.status).toBe(201)
    const blob = await fetch(`${base}/v2/r/blobs/${sha(data)}`)
    expect(Buffer.from(await blob.arrayBuffer()).equals(data)).toBe(true)

    const bad = await fetch(`${base}/v2/r/blobs/uploads/?digest=${sha('other')}`, { method: 'POST', body: data })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as OciErrors).errors[0].code).toBe('DIGEST_INVALID')
    expect(fs.existsSync(path.join(dir, 'blobs', 'sha256', sha('other').slice(7)))).toBe(false)
  })

  test('unknown manifests are 404 with an OCI error; tags and pruning follow what was touched', async () => {
    const missing = await fetch(`${base}/v2/r/manifests/nope`)
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as OciErrors).errors[0].code).toBe('MANIFEST_UNKNOWN')
    const layer = Buffer.from('layer')
    await fetch(`${base}/v2/r/blobs/uploads/?digest=${sha(layer)}`, { method: 'POST', body: layer })
    const manifest = (n: number) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        n,
        layers: [{ digest: sha(layer), size: 5 }]
      })
    for (const tag of ['a', 'b']) {
      const put = await fetch(`${base}/v2/r/manifests/${tag}`, {
        method: 'PUT',
        body: manifest(tag === 'a' ? 1 : 2),
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }
      })
      expect(put.status).toBe(201)
    }
    expect(((await (await fetch(`${base}/v2/r/tags/list`)).json()) as { tags: string[] }).tags).toEqual(['a', 'b'])
    const result = await registry.layout.retainOnly(new Set(['r:a']))
    expect(result).toMatchObject({ keptManifests: 1, removedBlobs: 1 })
    expect(fs.existsSync(path.join(dir, 'blobs', 'sha256', sha(layer).slice(7)))).toBe(true)
    expect(fs.existsSync(path.join(dir, 'blobs', 'sha256', sha(manifest(2)).slice(7)))).toBe(false)
  })

  describe('a client that stops sending', () => {
    let quick: LayoutRegistry
    let host: string

    beforeEach(async () => {
      quick = new LayoutRegistry(dir, { idleTimeoutMs: 500 })
      host = await quick.start()
    })

    afterEach(async () => {
      await quick.stop()
    })

    /** Starts an upload, then sends `chunks` of its body `gapMs` apart on a raw connection; resolves when the server closes it. */
    async function upload(declared: number, chunks: Buffer[], gapMs: number): Promise<{ response: string; closedAfterMs: number }> {
      const location = (await fetch(`http://${host}/v2/r/blobs/uploads/`, { method: 'POST' })).headers.get('location')!
      const [address, port] = host.split(':')
      const socket = net.connect(Number(port), address)
      let response = ''
      socket.on('data', chunk => (response += chunk.toString()))
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${declared}\r\nConnection: close\r\n\r\n`)
      let lastByte = performance.now()
      for (const chunk of chunks) {
        await new Promise(resolve => setTimeout(resolve, gapMs))
        socket.write(chunk)
        lastByte = performance.now()
      }
      await new Promise(resolve => socket.once('close', resolve))
      return { response, closedAfterMs: performance.now() - lastByte }
    }

    test('is dropped after idle-timeout without an answer, and named in stalls', async () => {
      const stalled = await upload(1000, [Buffer.alloc(100, 1)], 0)
      expect(stalled.response).toBe('')
      expect(stalled.closedAfterMs).toBeGreaterThanOrEqual(450)
      expect(stalled.closedAfterMs).toBeLessThan(1500)
      expect(quick.stalls).toEqual([expect.stringMatching(/^PATCH \/v2\/r\/blobs\/uploads\/[^?\s]+: no byte for 0\.5 s$/)])
    })

    test('one that keeps sending, slower than idle-timeout in total, is not', async () => {
      const steady = await upload(
        600,
        Array.from({ length: 6 }, () => Buffer.alloc(100, 2)),
        200
      )
      expect(steady.response).toMatch(/^HTTP\/1\.1 202 /)
      expect(steady.response).toMatch(/\r\nRange: 0-599\r\n/i)
      expect(quick.stalls).toEqual([])
    })
  })
})
