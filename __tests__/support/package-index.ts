/**
 * A local PEP 503 "simple" package index serving real wheels, so tests can run the real
 * `python3 -m pip` against it and compare what pip caches with what the index actually sent.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface PackageSpec {
  name: string
  version: string
  /** Size of the random (incompressible) data file inside the wheel. */
  payloadBytes: number
  /** Requirement strings written as `Requires-Dist`, e.g. `['base-pkg']`. */
  dependencies?: string[]
}

export interface Wheel {
  /** PEP 503 normalized project name, the `/simple/<project>/` segment. */
  project: string
  /** The importable module directory inside the wheel. */
  module: string
  file: string
  path: string
  bytes: number
  sha256: string
}

export interface RequestLogEntry {
  method: string
  path: string
  status: number
  /** Body bytes sent (headers are not counted). */
  bytes: number
}

export interface PackageIndex {
  /** Index URL for `pip --index-url`, e.g. `http://127.0.0.1:PORT/simple`. */
  url: string
  /** `127.0.0.1:PORT`, for `--trusted-host`. */
  host: string
  wheels: Wheel[]
  /** Body bytes of `/files/*` responses (wheels) since start or the last reset. */
  readonly filesBytesServed: number
  /** Body bytes of `/simple/*` responses (index pages) since start or the last reset. */
  readonly pagesBytesServed: number
  readonly requests: readonly RequestLogEntry[]
  resetCounters(): void
  close(): Promise<void>
}

export interface PackageIndexOptions {
  packages: PackageSpec[]
  /** Where the wheels are written; defaults to a temporary directory removed by `close()`. */
  dir?: string
  /**
   * `Cache-Control` for index pages. Unset by default, so pip does not cache pages and the pip
   * cache holds wheels only; PyPI sends `max-age=600, public`, which makes pip store pages too.
   */
  pageCacheControl?: string
}

/** What PyPI's file host sends for wheels; pip only caches files that allow it. */
const FILE_CACHE_CONTROL = 'max-age=365000000, immutable, public'

const WHEEL_BUILDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'make_wheel.py')

export async function startPackageIndex(opts: PackageIndexOptions): Promise<PackageIndex> {
  const ownsDir = opts.dir === undefined
  const dir = opts.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'qdc-index-')))
  await fs.mkdir(dir, { recursive: true })
  const wheels = await Promise.all(opts.packages.map(spec => buildWheel(dir, spec)))

  const counters: Counters = { files: 0, pages: 0, requests: [] }
  const server = http.createServer((req, res) => respond(req, res, route(req, wheels, opts.pageCacheControl), counters))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: `http://${host}/simple`,
    host,
    wheels,
    get filesBytesServed() {
      return counters.files
    },
    get pagesBytesServed() {
      return counters.pages
    },
    get requests() {
      return counters.requests
    },
    resetCounters() {
      Object.assign(counters, { files: 0, pages: 0, requests: [] })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      if (ownsDir) await fs.rm(dir, { recursive: true, force: true })
    }
  }
}

/** PEP 503 name normalization. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase()
}

async function buildWheel(dir: string, spec: PackageSpec): Promise<Wheel> {
  const args = [WHEEL_BUILDER, dir, spec.name, spec.version, String(spec.payloadBytes), ...(spec.dependencies ?? [])]
  const run = await runProcess('python3', args, process.env)
  if (run.code !== 0) throw new Error(`building wheel for ${spec.name} failed: ${run.stderr}`)
  const file = run.stdout.trim()
  const data = await fs.readFile(path.join(dir, file))
  return {
    project: normalizeName(spec.name),
    module: spec.name.replace(/[-_.]+/g, '_').toLowerCase(),
    file,
    path: path.join(dir, file),
    bytes: data.length,
    sha256: createHash('sha256').update(data).digest('hex')
  }
}

interface Counters {
  files: number
  pages: number
  requests: RequestLogEntry[]
}

function respond(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply, counters: Counters): void {
  const body = req.method === 'HEAD' ? Buffer.alloc(0) : (reply.body ?? Buffer.alloc(0))
  // Count on 'finish' (the whole body handed to the socket) so an aborted send is not counted.
  res.on('finish', () => {
    if (reply.kind === 'file') counters.files += body.length
    if (reply.kind === 'page') counters.pages += body.length
    counters.requests.push({ method: req.method ?? '', path: req.url ?? '', status: reply.status, bytes: body.length })
  })
  res.writeHead(reply.status, { 'Content-Length': reply.body?.length ?? 0, ...reply.headers })
  res.end(body)
}

interface Reply {
  kind: 'page' | 'file' | 'other'
  status: number
  headers?: Record<string, string>
  body?: Buffer
}

function route(req: http.IncomingMessage, wheels: Wheel[], pageCacheControl?: string): Reply {
  if (req.method !== 'GET' && req.method !== 'HEAD') return notFound()
  const urlPath = new URL(req.url ?? '/', 'http://index').pathname

  const pageHeaders = { 'Content-Type': 'text/html; charset=utf-8', ...(pageCacheControl ? { 'Cache-Control': pageCacheControl } : {}) }
  if (urlPath === '/simple/') {
    const projects = [...new Set(wheels.map(w => w.project))]
    return { kind: 'page', status: 200, headers: pageHeaders, body: html(projects.map(p => `<a href="/simple/${p}/">${p}</a>`)) }
  }
  const project = /^\/simple\/([^/]+)\/$/.exec(urlPath)?.[1]
  if (project !== undefined) {
    const files = wheels.filter(w => w.project === project)
    if (files.length === 0) return notFound()
    return {
      kind: 'page',
      status: 200,
      headers: pageHeaders,
      body: html(files.map(w => `<a href="/files/${w.file}#sha256=${w.sha256}">${w.file}</a>`))
    }
  }
  const file = /^\/files\/([^/]+)$/.exec(urlPath)?.[1]
  const wheel = wheels.find(w => w.file === file)
  if (wheel) {
    return {
      kind: 'file',
      status: 200,
      headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': FILE_CACHE_CONTROL },
      // Read per request rather than held in memory: wheels can be large, requests are few.
      body: readFileSync(wheel.path)
    }
  }
  return notFound()
}

function html(anchors: string[]): Buffer {
  return Buffer.from(`<!DOCTYPE html>\n<html><body>\n${anchors.join('<br>\n')}\n</body></html>\n`)
}

function notFound(): Reply {
  return { kind: 'other', status: 404, body: Buffer.from('not found\n') }
}

export interface ProcessResult {
  code: number
  stdout: string
  stderr: string
}

/** argv (after `python3`) for a real `pip install` from `index` into `target`. */
export function pipInstallArgs(index: Pick<PackageIndex, 'url' | 'host'>, target: string, requirements: string[]): string[] {
  return [
    '-m',
    'pip',
    'install',
    '--index-url',
    index.url,
    // pip caches only https origins and trusted hosts: without this nothing would be cached.
    '--trusted-host',
    index.host.split(':')[0],
    // Otherwise pip queries the index for its own version and writes selfcheck/ into the cache.
    '--disable-pip-version-check',
    '--no-input',
    '--target',
    target,
    ...requirements
  ]
}

/**
 * Runs `python3 <args>` with `PIP_CACHE_DIR=cacheDir` and no other pip configuration: the
 * runner's own config files and PIP_* variables (find-links, extra index URLs, no-cache-dir)
 * would otherwise change where pip downloads from and what it caches.
 */
export function runPip(args: string[], opts: { cacheDir: string; env?: NodeJS.ProcessEnv }): Promise<ProcessResult> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PIP_')))
  return runProcess('python3', args, { ...inherited, PIP_CONFIG_FILE: os.devNull, PIP_CACHE_DIR: opts.cacheDir, ...opts.env })
}

function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }))
  })
}
