/**
 * A local Hugging Face Hub with its CDN on a second origin, faithful enough that real clients
 * (`@huggingface/hub`, `huggingface_hub` via HF_ENDPOINT) and our own downloader can run against it,
 * with every byte counted and the CDN/Hub failures they must survive injectable at runtime.
 *
 * Protocol facts (docs: /work/shared/reference/huggingface-hub.md §2, §7):
 * - Regular (git) files: `/resolve/{rev}/{path}` answers 307 with a RELATIVE Location to the
 *   commit-pinned `/api/resolve-cache/...`, which serves the bytes with `ETag: "<git blob sha1>"`.
 * - LFS files: `/resolve` answers 302 with an ABSOLUTE Location on the CDN origin. The digest
 *   headers (`X-Linked-Etag: "<sha256>"`, `X-Linked-Size`, `X-Repo-Commit`) exist only on that 302;
 *   its Content-Length is the redirect text's, never the file's.
 * - The CDN URL is signed and expires; like S3 it refuses a request that also carries
 *   `Authorization` (400 "Only one auth mechanism allowed"), so a client must drop the token when
 *   it leaves the Hub's origin (different ports are different origins).
 * - Errors carry `X-Error-Code`: Python maps 401s to RepositoryNotFoundError only from the code on
 *   a plain-http endpoint, so the fixture must never rely on the status alone.
 * - Gated repos: metadata, tree and paths-info are public; only file content needs approval.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'

export type RepoType = 'model' | 'dataset'
export type RepoAccess = 'public' | 'private' | 'gated'

export interface HubFileSpec {
  /** Path inside the repo, `/`-separated, no leading slash. */
  path: string
  bytes: Buffer
  /** Stored in git-LFS: served from the CDN, digest sha256. Otherwise a git blob, digest git sha1. */
  lfs: boolean
}

export interface HubRepoSpec {
  /** `org/name`. */
  id: string
  type?: RepoType
  access?: RepoAccess
  /** Every request answers 403 `Access to this resource is disabled.`. */
  disabled?: boolean
  /** Branch, tag and PR refs (`main`, `v1.0`, `refs/pr/1`) → 40-hex commit. `main` is the default branch. */
  refs: Record<string, string>
  /**
   * 40-hex commit → the full file list at that commit. Declaration order is taken as one linear
   * history, oldest first: it dates the commits and decides `lastCommit` in expanded listings.
   */
  commits: Record<string, HubFileSpec[]>
}

export interface HubOptions {
  repos: HubRepoSpec[]
  /**
   * Valid tokens (must start with `hf_` for @huggingface/hub) → the private repos they may read and
   * the gated repos they are approved for, as `org/name` or `datasets/org/name`. Any listed token
   * may read public repos; a token not listed here is rejected everywhere, like an expired one.
   */
  tokens?: Record<string, string[]>
  /** Tree entries per page; small so clients must follow `Link: rel="next"`. Default 2. */
  treePageSize?: number
  /** Lifetime of signed CDN URLs; negative makes them expired as issued. Default 3600. */
  signedUrlTtlSeconds?: number
  /** `redirect` (default): 307 to /api/resolve-cache; `direct`: the 200 straight from /resolve. */
  regularFiles?: 'redirect' | 'direct'
  /**
   * Text files (.json/.txt/.md) answer a whole-file GET that accepts gzip with `Content-Encoding:
   * gzip` and no Content-Length, as the Hub's CDN sometimes does; HEAD still gives the real size.
   * Off by default.
   */
  gzipText?: boolean
  /** The CDN sends `ETag: "<sha256>"` (default true); @huggingface/hub's fileDownloadInfo needs it. */
  cdnEtag?: boolean
  /** Add Xet headers (`X-Xet-Hash`, `Link: rel="xet-auth"`) to LFS redirects; off by default. */
  xetHeaders?: boolean
}

/** A file as served at one commit, with the digests a client can check it against. */
export interface HubFile {
  path: string
  bytes: Buffer
  lfs: boolean
  size: number
  sha256: string
  /** Git blob id of the content: `sha1("blob <len>\0" + content)`. */
  gitSha1: string
  /** The git-LFS pointer text (LFS files only). */
  pointer?: string
  /** Git blob id of the pointer: the tree `oid` and the 302's `ETag` (LFS files only). */
  pointerOid?: string
  /** What the tree API calls `oid`: `pointerOid` for LFS, else `gitSha1`. */
  oid: string
  /** The blob name in the HF cache: `sha256` for LFS, else `gitSha1`. */
  etag: string
}

/** A fault fires on the next `times` matching requests (forever when omitted), then clears itself. */
export interface Countdown {
  times?: number
}

/** Restricts a fault to one file, by its path in the repo, and/or to one exact `Range` header; every request when omitted. */
export interface Targeted {
  path?: string
  /** e.g. `bytes=16777216-33554431`: how a test fails one range of a parallel download. */
  range?: string
}

/** Answer `status` instead of serving. 429s carry `RateLimit` (`t=rateLimitReset`) and/or `Retry-After`. */
export interface StatusFault extends Countdown, Targeted {
  status: number
  retryAfterSeconds?: number
  rateLimitResetSeconds?: number
}

/** Faults of a file-serving endpoint: the CDN, or the Hub's regular-file 200 path. */
export interface BodyFaults {
  status?: StatusFault
  /** Declare the full Content-Length, send `afterBytes` of body, then close the socket cleanly (FIN). */
  truncate?: Countdown & Targeted & { afterBytes: number }
  /** Send `afterBytes` (default half the body), then reset the connection (RST). */
  drop?: Countdown & Targeted & { afterBytes?: number }
  /** Answer a Range request 200 with the whole file. */
  ignoreRange?: Countdown & Targeted
  /** Flip one byte in the middle of the body: right length, wrong digest. */
  corrupt?: Countdown & Targeted
  /** Drip the body at `bytesPerSecond`. */
  slow?: Countdown & Targeted & { bytesPerSecond: number }
  /** Send `afterBytes` of the body (0: headers only), then nothing more, leaving the socket open. */
  stall?: Countdown & Targeted & { afterBytes: number }
}

export interface HubFaults {
  /** The CDN; `expired` answers 403 as if the signed URL had expired. */
  cdn?: BodyFaults & { expired?: Countdown & Targeted }
  /** The Hub's regular-file 200 path: /api/resolve-cache, /raw, and /resolve in `direct` mode. */
  file?: BodyFaults
  /** `/resolve` and `/raw` themselves, before any redirect (the "resolvers" rate-limit bucket). */
  resolve?: StatusFault
  /** The JSON APIs: repo info, tree, paths-info (the "api" bucket). */
  api?: StatusFault
}

export interface HubRequest {
  origin: 'hub' | 'cdn'
  method: string
  /** Path and query exactly as received. */
  path: string
  /** What the body was: file content, API JSON, or anything else (redirect text, errors, 304). */
  kind: 'file' | 'api' | 'other'
  /** Status sent, recorded with the headers; 0 until then (or if the socket died first). */
  status: number
  /** Body bytes handed to the socket (headers not counted). */
  bytes: number
  /**
   * Set when the response closes: false if the body was cut short, by a fault or by the client
   * going away. Undefined while in flight (it can close after the client has read everything).
   */
  complete?: boolean
  authorization: boolean
  range?: string
  ifNoneMatch?: string
  acceptEncoding?: string
}

export interface Hub {
  /** The Hub origin, e.g. `http://127.0.0.1:PORT` (HF_ENDPOINT / `hubUrl`). */
  readonly url: string
  /** The CDN origin: a different port, hence a different origin. */
  readonly cdnUrl: string
  /** Mutable at runtime; each fault removes itself when its countdown reaches zero. */
  faults: HubFaults
  /** The modes of HubOptions, all switchable at runtime. */
  signedUrlTtlSeconds: number
  treePageSize: number
  regularFiles: 'redirect' | 'direct'
  gzipText: boolean
  cdnEtag: boolean
  xetHeaders: boolean
  /** Every request on both origins, in arrival order. */
  readonly requests: readonly HubRequest[]
  /** File content served by the Hub origin (regular files). */
  readonly hubFileBytes: number
  /** JSON served by the Hub's APIs (errors included). */
  readonly hubApiBytes: number
  /** Redirect texts, error and 304 bodies on the Hub's file endpoints. */
  readonly hubOtherBytes: number
  /** File content served by the CDN (LFS files). */
  readonly cdnBytes: number
  /** CDN error bodies. */
  readonly cdnOtherBytes: number
  /** The commit `rev` (branch, tag, `refs/pr/N`, `HEAD` or commit) resolves to in `repo` (`org/name` or `datasets/org/name`). */
  commit(repo: string, rev?: string): string
  /** A file with its digests at `rev` (default `main`). */
  file(repo: string, path: string, rev?: string): HubFile
  /** A signed CDN URL for an LFS blob, with the current TTL (or `expires`, epoch seconds). */
  signedUrl(sha256: string, expires?: number): string
  resetCounters(): void
  close(): Promise<void>
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const hub = new MiniHub(opts)
  await hub.listen()
  return hub
}

// ---- digests and the repo model -----------------------------------------------------------------

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex')
}

export function lfsPointer(sha256: string, size: number): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`
}

function describeFile(spec: HubFileSpec): HubFile {
  const sha256 = createHash('sha256').update(spec.bytes).digest('hex')
  const gitSha1 = gitBlobSha1(spec.bytes)
  const base = { path: spec.path, bytes: spec.bytes, lfs: spec.lfs, size: spec.bytes.length, sha256, gitSha1 }
  if (!spec.lfs) return { ...base, oid: gitSha1, etag: gitSha1 }
  const pointer = lfsPointer(sha256, spec.bytes.length)
  const pointerOid = gitBlobSha1(Buffer.from(pointer))
  return { ...base, pointer, pointerOid, oid: pointerOid, etag: sha256 }
}

interface Commit {
  id: string
  /** Position in the declared history, oldest first. */
  index: number
  date: string
  title: string
  files: Map<string, HubFile>
  /** Directory path (`''` for the root) → git tree id. */
  dirs: Map<string, string>
}

interface Repo {
  /** `models/org/name` or `datasets/org/name`: the key tokens and URLs use. */
  key: string
  id: string
  type: RepoType
  access: RepoAccess
  disabled: boolean
  refs: Map<string, string>
  /** Oldest first. */
  history: Commit[]
  commits: Map<string, Commit>
}

const COMMIT_RE = /^[0-9a-f]{40}$/
/** Day 0 of the synthetic history; commit i is dated i days later. */
const EPOCH = Date.UTC(2026, 0, 1)

function buildRepo(spec: HubRepoSpec): Repo {
  if (!/^[^/]+\/[^/]+$/.test(spec.id)) throw new Error(`repo id must be org/name: ${spec.id}`)
  const type = spec.type ?? 'model'
  const history = Object.entries(spec.commits).map(([id, files], index): Commit => {
    if (!COMMIT_RE.test(id)) throw new Error(`${spec.id}: commit ${id} is not 40 lowercase hex`)
    const described = new Map<string, HubFile>()
    for (const file of files) {
      if (file.path === '' || file.path.startsWith('/') || file.path.endsWith('/') || described.has(file.path)) {
        throw new Error(`${spec.id}@${id}: bad or duplicate path "${file.path}"`)
      }
      described.set(file.path, describeFile(file))
    }
    const date = new Date(EPOCH + index * 86_400_000).toISOString()
    return { id, index, date, title: `Commit ${index + 1}`, files: described, dirs: treeIds(described) }
  })
  const commits = new Map(history.map(c => [c.id, c]))
  for (const [ref, commit] of Object.entries(spec.refs)) {
    if (!commits.has(commit)) throw new Error(`${spec.id}: ref ${ref} points to undeclared commit ${commit}`)
  }
  return {
    key: repoKey(type, spec.id),
    id: spec.id,
    type,
    access: spec.access ?? 'public',
    disabled: spec.disabled ?? false,
    refs: new Map(Object.entries(spec.refs)),
    history,
    commits
  }
}

function repoKey(type: RepoType, id: string): string {
  return `${type}s/${id}`
}

/** `org/name` → models/…, `datasets/org/name` → datasets/… (the @huggingface/hub designation). */
function keyOfDesignation(designation: string): string {
  return designation.startsWith('datasets/') ? designation : repoKey('model', designation)
}

/** Real git tree ids for every directory, so directory `oid`s look and behave like the Hub's. */
function treeIds(files: Map<string, HubFile>): Map<string, string> {
  const children = new Map<string, Map<string, { mode: string; path: string }>>()
  const addChild = (dir: string, name: string, entry: { mode: string; path: string }) => {
    if (!children.has(dir)) children.set(dir, new Map())
    children.get(dir)?.set(name, entry)
  }
  children.set('', new Map())
  for (const filePath of files.keys()) {
    const parts = filePath.split('/')
    for (let depth = 0; depth < parts.length; depth++) {
      const dir = parts.slice(0, depth).join('/')
      const childPath = parts.slice(0, depth + 1).join('/')
      addChild(dir, parts[depth], { mode: depth === parts.length - 1 ? '100644' : '40000', path: childPath })
    }
  }
  const ids = new Map<string, string>()
  const idOf = (dir: string): string => {
    const known = ids.get(dir)
    if (known) return known
    // git orders tree entries by name, comparing directory names as if they ended in '/'.
    const entries = [...(children.get(dir) ?? new Map<string, { mode: string; path: string }>()).entries()]
      .map(([name, e]) => ({ ...e, name, sortKey: e.mode === '40000' ? `${name}/` : name }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.sortKey), Buffer.from(b.sortKey)))
    const body = Buffer.concat(
      entries.map(e => {
        const oid = e.mode === '40000' ? idOf(e.path) : (files.get(e.path) as HubFile).oid
        return Buffer.concat([Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(oid, 'hex')])
      })
    )
    const id = createHash('sha1').update(`tree ${body.length}\0`).update(body).digest('hex')
    ids.set(dir, id)
    return id
  }
  for (const dir of children.keys()) idOf(dir)
  return ids
}

function pointerSize(file: HubFile): number {
  return Buffer.byteLength(file.pointer ?? '')
}

function parentOf(p: string): string {
  const slash = p.lastIndexOf('/')
  return slash < 0 ? '' : p.slice(0, slash)
}

/** The git id of a path (file or directory) at a commit, or undefined. */
function oidAt(commit: Commit, p: string): string | undefined {
  return commit.files.get(p)?.oid ?? commit.dirs.get(p)
}

/** The newest commit up to `commit` in the declared history that changed `p`. */
function lastCommitOf(repo: Repo, commit: Commit, p: string): Commit {
  const oid = oidAt(commit, p)
  let last = commit
  for (let i = commit.index - 1; i >= 0 && oidAt(repo.history[i], p) === oid; i--) last = repo.history[i]
  return last
}

// ---- errors --------------------------------------------------------------------------------------

/** Thrown by handlers; rendered as Hub JSON (with X-Error-Code) or as CDN XML. */
class HubError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
  }
}

/** The codes the Hub sends as X-Error-Code; others (S3's) only appear in CDN XML. */
const HUB_ERROR_CODES = new Set(['RepoNotFound', 'GatedRepo', 'RevisionNotFound', 'EntryNotFound'])
const MSG_NO_AUTH = 'Invalid username or password.'
const MSG_BAD_TOKEN = 'Invalid credentials in Authorization header'
const MSG_DISABLED = 'Access to this resource is disabled.'
/** S3's answer to a presigned URL that also carries Authorization. */
const ONE_AUTH_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'

// ---- the server ------------------------------------------------------------------------------------

interface Ctx {
  req: http.IncomingMessage
  res: http.ServerResponse
  url: URL
  entry: HubRequest
  /** Decoded path segments (so `refs%2Fpr%2F1` is one segment). */
  segments: string[]
  /** Valid bearer token, if one was sent. */
  token?: string
}

const CHUNK = 64 * 1024
const RATE_LIMIT_POLICY = { resolvers: 3000, api: 1000 } as const

class MiniHub implements Hub {
  faults: HubFaults = {}
  signedUrlTtlSeconds: number
  treePageSize: number
  regularFiles: 'redirect' | 'direct'
  gzipText: boolean
  cdnEtag: boolean
  xetHeaders: boolean
  readonly requests: HubRequest[] = []
  hubFileBytes = 0
  hubApiBytes = 0
  hubOtherBytes = 0
  cdnBytes = 0
  cdnOtherBytes = 0

  private readonly repos = new Map<string, Repo>()
  private readonly grants = new Map<string, Set<string>>()
  /** sha256 → every LFS file with that content (any repo/commit), for the CDN. */
  private readonly lfsBlobs = new Map<string, HubFile[]>()
  private readonly secret = randomBytes(32)
  private readonly hubServer: http.Server
  private readonly cdnServer: http.Server
  private hubPort = 0
  private cdnPort = 0

  constructor(opts: HubOptions) {
    for (const spec of opts.repos) {
      const repo = buildRepo(spec)
      if (this.repos.has(repo.key)) throw new Error(`duplicate repo ${repo.key}`)
      this.repos.set(repo.key, repo)
      for (const file of repo.history.flatMap(c => [...c.files.values()])) {
        if (file.lfs) this.lfsBlobs.set(file.sha256, [...(this.lfsBlobs.get(file.sha256) ?? []), file])
      }
    }
    for (const [token, designations] of Object.entries(opts.tokens ?? {})) {
      this.grants.set(token, new Set(designations.map(keyOfDesignation)))
    }
    this.signedUrlTtlSeconds = opts.signedUrlTtlSeconds ?? 3600
    this.treePageSize = opts.treePageSize ?? 2
    this.regularFiles = opts.regularFiles ?? 'redirect'
    this.gzipText = opts.gzipText ?? false
    this.cdnEtag = opts.cdnEtag ?? true
    this.xetHeaders = opts.xetHeaders ?? false
    this.hubServer = http.createServer((req, res) => void this.handle('hub', req, res))
    this.cdnServer = http.createServer((req, res) => void this.handle('cdn', req, res))
  }

  get url(): string {
    return `http://127.0.0.1:${this.hubPort}`
  }

  get cdnUrl(): string {
    return `http://127.0.0.1:${this.cdnPort}`
  }

  async listen(): Promise<void> {
    this.hubPort = await listenOn(this.hubServer)
    this.cdnPort = await listenOn(this.cdnServer)
  }

  commit(repo: string, rev = 'main'): string {
    const r = this.repos.get(keyOfDesignation(repo))
    const commit = r && this.resolveRevision(r, rev)
    if (!commit) throw new Error(`no revision ${rev} in ${repo}`)
    return commit.id
  }

  file(repo: string, path: string, rev = 'main'): HubFile {
    const commit = this.commit(repo, rev)
    const file = this.repos.get(keyOfDesignation(repo))?.commits.get(commit)?.files.get(path)
    if (!file) throw new Error(`no file ${path} in ${repo}@${rev}`)
    return file
  }

  signedUrl(sha256: string, expires = Math.floor(Date.now() / 1000) + this.signedUrlTtlSeconds): string {
    return `${this.cdnUrl}/lfs/${sha256}?Expires=${expires}&Signature=${this.sign(sha256, expires)}`
  }

  resetCounters(): void {
    this.requests.length = 0
    this.hubFileBytes = this.hubApiBytes = this.hubOtherBytes = this.cdnBytes = this.cdnOtherBytes = 0
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.hubServer, this.cdnServer].map(server => {
        const closed = new Promise<void>(resolve => server.close(() => resolve()))
        // Clients pool keep-alive sockets; without this close() would wait for them to idle out.
        server.closeAllConnections()
        return closed
      })
    )
  }

  // ---- request plumbing ----------------------------------------------------------------------------

  private async handle(origin: 'hub' | 'cdn', req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const entry: HubRequest = {
      origin,
      method: req.method ?? '',
      path: req.url ?? '/',
      kind: 'other',
      status: 0,
      bytes: 0,
      authorization: req.headers.authorization !== undefined,
      ...optionalHeader('range', req.headers.range),
      ...optionalHeader('ifNoneMatch', req.headers['if-none-match']),
      ...optionalHeader('acceptEncoding', req.headers['accept-encoding'])
    }
    this.requests.push(entry)
    res.on('close', () => (entry.complete = res.writableFinished))
    let segments: string[]
    try {
      segments = url.pathname.split('/').slice(1).map(decodeURIComponent)
    } catch {
      segments = []
    }
    const ctx: Ctx = { req, res, url, entry, segments }
    try {
      if (origin === 'cdn') await this.serveCdn(ctx)
      else await this.routeHub(ctx)
    } catch (error) {
      const e = error instanceof HubError ? error : new HubError(500, `fixture error: ${String(error)}`)
      if (res.headersSent) {
        res.destroy()
        return
      }
      await drain(req)
      if (origin === 'cdn') this.sendCdnError(ctx, e)
      else this.sendHubError(ctx, e)
    }
  }

  /** Adds body bytes to the request's entry and to its origin/kind counter. */
  private count(ctx: Ctx, n: number): void {
    ctx.entry.bytes += n
    const { origin, kind } = ctx.entry
    if (origin === 'cdn') {
      if (kind === 'file') this.cdnBytes += n
      else this.cdnOtherBytes += n
    } else if (kind === 'file') this.hubFileBytes += n
    else if (kind === 'api') this.hubApiBytes += n
    else this.hubOtherBytes += n
  }

  /** Every response starts here, so the log has status and kind before the client sees either. */
  private writeHead(ctx: Ctx, kind: HubRequest['kind'], status: number, headers: Record<string, string>): void {
    ctx.entry.kind = kind
    ctx.entry.status = status
    ctx.res.writeHead(status, headers)
  }

  /** Sends a small in-memory body (nothing on HEAD) and counts it. */
  private send(ctx: Ctx, kind: HubRequest['kind'], status: number, headers: Record<string, string>, body: Buffer | string = ''): void {
    const data = Buffer.from(body)
    this.writeHead(ctx, kind, status, { ...headers, 'Content-Length': String(data.length) })
    if (ctx.req.method === 'HEAD') {
      ctx.res.end()
      return
    }
    this.count(ctx, data.length)
    ctx.res.end(data)
  }

  private sendJson(ctx: Ctx, value: unknown, headers: Record<string, string> = {}): void {
    this.send(
      ctx,
      'api',
      200,
      { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': requestId(), ...headers },
      JSON.stringify(value)
    )
  }

  private sendHubError(ctx: Ctx, e: HubError): void {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Request-Id': requestId(),
      'X-Error-Message': e.message,
      ...(e.code && HUB_ERROR_CODES.has(e.code) ? { 'X-Error-Code': e.code } : {}),
      ...e.headers
    }
    const isApi = ctx.segments[0] === 'api' && ctx.segments[1] !== 'resolve-cache'
    this.send(ctx, isApi ? 'api' : 'other', e.status, headers, JSON.stringify({ error: e.message }))
  }

  /** S3/CloudFront-style XML errors: the CDN is not the Hub and sends no X-Error-Code. */
  private sendCdnError(ctx: Ctx, e: HubError): void {
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code ?? s3Code(e.status)}</Code>` +
      `<Message>${escapeXml(e.message)}</Message><RequestId>${requestId()}</RequestId></Error>`
    this.send(ctx, 'other', e.status, { 'Content-Type': 'application/xml', ...e.headers }, xml)
  }

  // ---- auth and revisions ------------------------------------------------------------------------

  /** The repo at `key` if this request may see it; `content` = file bytes (gating applies). */
  private authorize(ctx: Ctx, key: string, content: boolean): Repo {
    const header = ctx.req.headers.authorization
    if (header !== undefined) {
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1]
      // A bad or expired token is refused even on public repos, with no X-Error-Code.
      if (!token || !this.grants.has(token)) throw new HubError(401, MSG_BAD_TOKEN)
      ctx.token = token
    }
    const granted = ctx.token !== undefined && (this.grants.get(ctx.token)?.has(key) ?? false)
    const repo = this.repos.get(key)
    if (!repo || (repo.access === 'private' && !granted)) {
      // Anonymous callers cannot tell "missing" from "private": both are 401.
      if (ctx.token === undefined) throw new HubError(401, MSG_NO_AUTH, 'RepoNotFound')
      throw new HubError(404, 'Repository not found', 'RepoNotFound')
    }
    if (repo.disabled) throw new HubError(403, MSG_DISABLED)
    if (content && repo.access === 'gated' && !granted) {
      const what = `${repo.type} ${repo.id}`
      if (ctx.token === undefined) {
        const message = `Access to ${what} is restricted. You must have access to it and be authenticated to access it. Please log in.`
        throw new HubError(401, message, 'GatedRepo')
      }
      const page = `${this.url}/${repo.type === 'dataset' ? 'datasets/' : ''}${repo.id}`
      throw new HubError(
        403,
        `Access to ${what} is restricted and you are not in the authorized list. Visit ${page} to ask for access.`,
        'GatedRepo'
      )
    }
    return repo
  }

  private resolveRevision(repo: Repo, rev: string): Commit | undefined {
    const name = rev === 'HEAD' ? 'main' : rev
    return repo.commits.get(repo.refs.get(name) ?? (COMMIT_RE.test(name) ? name : ''))
  }

  private requireRevision(repo: Repo, rev: string): Commit {
    const commit = this.resolveRevision(repo, rev)
    if (!commit) throw new HubError(404, `Invalid rev id: ${rev}`, 'RevisionNotFound')
    return commit
  }

  private requireFile(commit: Commit, path: string): HubFile {
    const file = commit.files.get(path)
    if (!file) throw new HubError(404, 'Entry not found', 'EntryNotFound', { 'X-Repo-Commit': commit.id })
    return file
  }

  // ---- Hub routes ------------------------------------------------------------------------------------

  private async routeHub(ctx: Ctx): Promise<void> {
    const s = ctx.segments
    const method = ctx.req.method
    if (s[0] === 'api' && s[1] === 'resolve-cache' && isGetOrHead(method)) return this.serveResolveCache(ctx)
    if (s[0] === 'api' && (s[1] === 'models' || s[1] === 'datasets') && s.length >= 4) return this.routeApi(ctx)
    const prefixed = s[0] === 'datasets'
    const [org, name, action, rev, ...rest] = prefixed ? s.slice(1) : s
    if ((action === 'resolve' || action === 'raw') && rev && rest.length > 0 && isGetOrHead(method)) {
      const key = repoKey(prefixed ? 'dataset' : 'model', `${org}/${name}`)
      return this.serveResolve(ctx, key, action, rev, rest.join('/'))
    }
    throw new HubError(404, "Sorry, we can't find the page you are looking for.")
  }

  /** `/[datasets/]{org}/{name}/{resolve|raw}/{rev}/{path}`. */
  private async serveResolve(ctx: Ctx, key: string, action: 'resolve' | 'raw', rev: string, path: string): Promise<void> {
    const repo = this.authorize(ctx, key, true)
    this.injectStatus(this.faults, 'resolve', [path], 'resolvers')
    const commit = this.requireRevision(repo, rev)
    const file = this.requireFile(commit, path)

    if (action === 'raw') {
      // /raw is the git blob: the pointer text for LFS files.
      const blob = file.lfs ? Buffer.from(file.pointer as string) : file.bytes
      const etag = file.oid
      if (this.notModified(ctx, commit, [etag], { ETag: quote(etag) })) return
      return this.serveHubFile(ctx, file, blob, commit, etag)
    }
    if (file.lfs) return this.redirectToCdn(ctx, repo, commit, file)
    if (this.notModified(ctx, commit, [file.gitSha1], { ETag: quote(file.gitSha1) })) return
    if (this.regularFiles === 'direct') return this.serveHubFile(ctx, file, file.bytes, commit, file.gitSha1)

    const location = `/api/resolve-cache/${repo.type}s/${repo.id}/${commit.id}/${encodePath(path)}?etag=${encodeURIComponent(quote(file.gitSha1))}`
    const headers = { Location: location, 'X-Repo-Commit': commit.id, 'Content-Type': 'text/plain; charset=utf-8' }
    this.send(ctx, 'other', 307, headers, `Temporary Redirect. Redirecting to ${location}`)
  }

  /** `/api/resolve-cache/{models|datasets}/{org}/{name}/{commit}/{path}`: the commit-pinned 200. */
  private async serveResolveCache(ctx: Ctx): Promise<void> {
    const [, , types, org, name, commitId, ...rest] = ctx.segments
    const type = types === 'datasets' ? 'dataset' : types === 'models' ? 'model' : undefined
    if (!type || !commitId || rest.length === 0) throw new HubError(404, "Sorry, we can't find the page you are looking for.")
    const repo = this.authorize(ctx, repoKey(type, `${org}/${name}`), true)
    const commit = repo.commits.get(commitId)
    if (!commit) throw new HubError(404, `Invalid rev id: ${commitId}`, 'RevisionNotFound')
    const file = this.requireFile(commit, rest.join('/'))
    if (file.lfs) return this.redirectToCdn(ctx, repo, commit, file)
    return this.serveHubFile(ctx, file, file.bytes, commit, file.gitSha1)
  }

  /** The LFS 302: digest headers here and only here; the body is the redirect text. */
  private redirectToCdn(ctx: Ctx, repo: Repo, commit: Commit, file: HubFile): void {
    const linked = quote(file.sha256)
    const headers: Record<string, string> = {
      'X-Repo-Commit': commit.id,
      'X-Linked-Etag': linked,
      'X-Linked-Size': String(file.size),
      ETag: quote(file.pointerOid as string)
    }
    if (this.notModified(ctx, commit, [file.sha256, file.pointerOid as string], headers)) return
    const location = this.signedUrl(file.sha256)
    if (this.xetHeaders) {
      // A stand-in Xet hash: 64 hex but deliberately not the sha256, like the real one.
      headers['X-Xet-Hash'] = createHash('sha256').update('xet\0').update(file.bytes).digest('hex')
      const api = `${this.url}/api/${repo.type}s/${repo.id}`
      headers.Link =
        `<${api}/xet-read-token/${commit.id}>; rel="xet-auth", ` +
        `<${api}/xet-reconstruction/${headers['X-Xet-Hash']}>; rel="xet-reconstruction-info"`
    }
    this.send(
      ctx,
      'other',
      302,
      { ...headers, Location: location, 'Content-Type': 'text/plain; charset=utf-8' },
      `Found. Redirecting to ${location}`
    )
  }

  /** 304 when If-None-Match names one of `etags`; true if it answered. */
  private notModified(ctx: Ctx, commit: Commit, etags: string[], headers: Record<string, string>): boolean {
    const header = ctx.req.headers['if-none-match']
    if (!header) return false
    const wanted = header.split(',').map(t => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    if (!wanted.some(t => etags.includes(t))) return false
    this.send(ctx, 'other', 304, { ...headers, 'X-Repo-Commit': commit.id })
    return true
  }

  private serveHubFile(ctx: Ctx, file: HubFile, content: Buffer, commit: Commit, etag: string): Promise<void> {
    const name = file.path.split('/').pop() as string
    const headers = {
      'X-Repo-Commit': commit.id,
      ETag: quote(etag),
      'Content-Type': contentType(name),
      'Content-Disposition': contentDisposition(name)
    }
    const gzip =
      this.gzipText && headers['Content-Type'] !== 'application/octet-stream' && /\bgzip\b/.test(ctx.req.headers['accept-encoding'] ?? '')
    return this.serveContent(ctx, this.faults.file, [file.path], content, headers, { bucket: 'resolvers', gzip })
  }

  // ---- CDN ---------------------------------------------------------------------------------------------

  /** `/lfs/{sha256}?Expires=&Signature=`: signed, expiring, and allergic to Authorization. */
  private serveCdn(ctx: Ctx): Promise<void> {
    const sha256 = /^\/lfs\/([0-9a-f]{64})$/.exec(ctx.url.pathname)?.[1]
    if (!sha256 || !isGetOrHead(ctx.req.method)) throw new HubError(404, 'The specified key does not exist.', 'NoSuchKey')
    if (ctx.req.headers.authorization !== undefined) {
      throw new HubError(400, ONE_AUTH_MECHANISM, 'InvalidArgument')
    }
    const files = this.lfsBlobs.get(sha256) ?? []
    const paths = files.map(f => f.path)
    this.injectStatus(this.faults.cdn, 'status', paths, undefined, ctx.req.headers.range)
    const expires = Number(ctx.url.searchParams.get('Expires'))
    const signature = ctx.url.searchParams.get('Signature') ?? ''
    if (!Number.isInteger(expires) || signature !== this.sign(sha256, expires)) throw new HubError(403, 'Access denied', 'AccessDenied')
    if (Date.now() / 1000 > expires || fire(this.faults.cdn, 'expired', paths, ctx.req.headers.range))
      throw new HubError(403, 'Request has expired', 'AccessDenied')
    if (files.length === 0) throw new HubError(404, 'The specified key does not exist.', 'NoSuchKey')
    const name = files[0].path.split('/').pop() as string
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': contentDisposition(name),
      'Cache-Control': 'public, max-age=31536000',
      'Last-Modified': new Date(EPOCH).toUTCString(),
      ...(this.cdnEtag ? { ETag: quote(sha256) } : {})
    }
    return this.serveContent(ctx, this.faults.cdn, paths, files[0].bytes, headers)
  }

  private sign(sha256: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${sha256}\n${expires}`).digest('hex')
  }

  // ---- file bodies with faults --------------------------------------------------------------------

  /** Answers a status fault of `group[name]` for these paths, if one fires. */
  private injectStatus<G extends object>(
    group: G | undefined,
    name: keyof G & string,
    paths: string[],
    bucket?: keyof typeof RATE_LIMIT_POLICY,
    range?: string
  ): void {
    const fault = fire(group, name, paths, range) as StatusFault | undefined
    if (!fault) return
    const headers: Record<string, string> = {}
    if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds)
    if (fault.rateLimitResetSeconds !== undefined) {
      const b = bucket ?? 'resolvers'
      headers.RateLimit = `"${b}";r=0;t=${fault.rateLimitResetSeconds}`
      headers['RateLimit-Policy'] = `"fixed window";"${b}";q=${RATE_LIMIT_POLICY[b]};w=300`
    }
    const message = fault.status === 429 ? 'You have been rate-limited; you can retry this action later.' : `injected ${fault.status}`
    throw new HubError(fault.status, message, undefined, headers)
  }

  /**
   * 200/206/416 for `content`, with Range support and the body faults of `group`: the shared
   * file-serving path of the CDN and of the Hub's regular files.
   */
  private async serveContent(
    ctx: Ctx,
    group: BodyFaults | undefined,
    paths: string[],
    content: Buffer,
    headers: Record<string, string>,
    opts: { bucket?: 'resolvers'; gzip?: boolean } = {}
  ): Promise<void> {
    const asked = ctx.req.headers.range
    if (ctx.entry.origin === 'hub') this.injectStatus(group, 'status', paths, opts.bucket, asked)
    const total = content.length
    const isGet = ctx.req.method === 'GET'
    // Body faults are consumed by GETs only: a HEAD has no body to spoil.
    const ignoreRange = isGet && fire(group, 'ignoreRange', paths, asked) !== undefined
    const range = ignoreRange ? undefined : parseRange(ctx.req.headers.range, total)
    if (range === 'unsatisfiable') {
      throw new HubError(416, 'The requested range is not satisfiable', 'InvalidRange', { 'Content-Range': `bytes */${total}` })
    }
    const start = range?.start ?? 0
    const end = range?.end ?? total - 1
    let body = content.subarray(start, end + 1)
    if (isGet && body.length > 0 && fire(group, 'corrupt', paths, asked)) {
      body = Buffer.from(body)
      body[Math.floor(body.length / 2)] ^= 0xff
    }
    const truncate = isGet ? fire(group, 'truncate', paths, asked) : undefined
    const drop = isGet && !truncate ? fire(group, 'drop', paths, asked) : undefined
    const stall = isGet && !truncate && !drop ? fire(group, 'stall', paths, asked) : undefined
    const slow = isGet ? fire(group, 'slow', paths, asked) : undefined
    // Encoded bodies are never ranged, and carry no Content-Length (chunked, as on the Hub).
    const gzip = isGet && !range && opts.gzip === true
    if (gzip) body = gzipSync(body)

    this.writeHead(ctx, 'file', range ? 206 : 200, {
      ...headers,
      'Accept-Ranges': 'bytes',
      ...(gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : { 'Content-Length': String(body.length) }),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${total}` } : {})
    })
    if (!isGet) {
      ctx.res.end()
      return
    }
    const cutAt = truncate ? truncate.afterBytes : drop ? (drop.afterBytes ?? Math.floor(body.length / 2)) : stall?.afterBytes
    await this.writeBody(ctx, body.subarray(0, cutAt), slow?.bytesPerSecond)
    if (ctx.res.destroyed) return
    if (stall) {
      // Nothing more, and no close: only the client's idle timeout ends this response.
    } else if (truncate) {
      // FIN after what was written: the client sees a clean close short of Content-Length.
      ctx.res.socket?.end()
    } else if (drop) {
      ctx.res.socket?.resetAndDestroy()
    } else {
      ctx.res.end()
    }
  }

  /** Writes `body` in chunks, honouring backpressure, optionally at `bytesPerSecond`. */
  private async writeBody(ctx: Ctx, body: Buffer, bytesPerSecond?: number): Promise<void> {
    const res = ctx.res
    const closed = new Promise<void>(resolve => res.once('close', resolve))
    // ~20 writes per second when dripping, so a throttled body still arrives in many pieces.
    const chunk = bytesPerSecond ? Math.max(1, Math.floor(bytesPerSecond / 20)) : CHUNK
    for (let offset = 0; offset < body.length && !res.destroyed; offset += chunk) {
      // Pace before each piece but the first: a pause after the last one would only delay end().
      if (bytesPerSecond && offset > 0) await sleep((chunk / bytesPerSecond) * 1000)
      const piece = body.subarray(offset, offset + chunk)
      this.count(ctx, piece.length)
      // Wait for each write to reach the socket, so a cut that follows really comes after it.
      await Promise.race([new Promise<void>(resolve => res.write(piece, () => resolve())), closed])
    }
  }

  // ---- JSON APIs -------------------------------------------------------------------------------------

  /** `/api/{models|datasets}/{org}/{name}[/revision|/tree|/paths-info|/xet-read-token/...]`. */
  private async routeApi(ctx: Ctx): Promise<void> {
    const [, types, org, name, action, rev, ...rest] = ctx.segments
    const repo = this.authorize(ctx, repoKey(types === 'datasets' ? 'dataset' : 'model', `${org}/${name}`), false)
    this.injectStatus(this.faults, 'api', [], 'api')
    const method = ctx.req.method
    if (action === undefined && isGetOrHead(method)) return this.repoInfo(ctx, repo, this.requireRevision(repo, 'main'))
    if (action === 'revision' && rev && rest.length === 0 && isGetOrHead(method))
      return this.repoInfo(ctx, repo, this.requireRevision(repo, rev))
    if (action === 'tree' && rev && isGetOrHead(method)) return this.tree(ctx, repo, this.requireRevision(repo, rev), rest.join('/'))
    if (action === 'paths-info' && rev && rest.length === 0 && method === 'POST')
      return this.pathsInfo(ctx, repo, this.requireRevision(repo, rev))
    // Nothing here speaks Xet: the token route exists only to show nobody needs it.
    if (action === 'xet-read-token') throw new HubError(404, 'Xet is not enabled for this repository')
    throw new HubError(404, "Sorry, we can't find the page you are looking for.")
  }

  /** Repo info (§2.7a); `expand=` narrows it to those keys, `blobs=true` adds file metadata. */
  private repoInfo(ctx: Ctx, repo: Repo, commit: Commit): void {
    const blobs = isTrue(ctx.url.searchParams.get('blobs'))
    const siblings = [...commit.files.values()]
      .sort((a, b) => compare(a.path, b.path))
      .map(f => {
        if (!blobs) return { rfilename: f.path }
        const lfs = f.lfs ? { lfs: { sha256: f.sha256, size: f.size, pointerSize: pointerSize(f) } } : {}
        return { rfilename: f.path, blobId: f.oid, size: f.size, ...lfs }
      })
    const info: Record<string, unknown> = {
      _id: createHash('sha1').update(repo.key).digest('hex').slice(0, 24),
      id: repo.id,
      author: repo.id.split('/')[0],
      sha: commit.id,
      lastModified: commit.date,
      createdAt: repo.history[0].date,
      private: repo.access === 'private',
      gated: repo.access === 'gated' ? 'manual' : false,
      disabled: repo.disabled,
      downloads: 0,
      likes: 0,
      tags: [],
      siblings
    }
    const expand = ctx.url.searchParams.getAll('expand')
    if (expand.length === 0) return this.sendJson(ctx, info)
    // Like the Hub: with expand[], only _id, id and the expanded keys come back.
    this.sendJson(ctx, Object.fromEntries(Object.entries(info).filter(([k]) => k === '_id' || k === 'id' || expand.includes(k))))
  }

  /** `tree/{rev}[/{path}]` (§2.7b): one page, `Link: <absolute next>; rel="next"` while more remain. */
  private tree(ctx: Ctx, repo: Repo, commit: Commit, dir: string): void {
    const params = ctx.url.searchParams
    if (dir !== '' && !commit.dirs.has(dir)) throw new HubError(404, `Entry not found`, 'EntryNotFound', { 'X-Repo-Commit': commit.id })
    const recursive = isTrue(params.get('recursive'))
    const expand = isTrue(params.get('expand'))
    const all = listDir(commit, dir, recursive)
    const offset = decodeCursor(params.get('cursor'))
    const pageSize = Math.max(1, this.treePageSize)
    const page = all.slice(offset, offset + pageSize)
    const headers: Record<string, string> = {}
    if (offset + pageSize < all.length) {
      const next = new URLSearchParams(params)
      next.set('cursor', Buffer.from(JSON.stringify({ offset: offset + pageSize })).toString('base64url'))
      headers.Link = `<${this.url}${ctx.url.pathname}?${next.toString()}>; rel="next"`
    }
    this.sendJson(
      ctx,
      page.map(p => this.entry(repo, commit, p, expand)),
      headers
    )
  }

  /** `paths-info/{rev}`: form (`paths=a&paths=b&expand=False`, Python) or JSON (`{"paths":[...]}`, JS). */
  private async pathsInfo(ctx: Ctx, repo: Repo, commit: Commit): Promise<void> {
    const text = (await readBody(ctx.req)).toString('utf8')
    let paths: string[]
    let expand: boolean
    if ((ctx.req.headers['content-type'] ?? '').includes('application/json')) {
      let body: { paths?: unknown; expand?: unknown }
      try {
        body = JSON.parse(text) as { paths?: unknown; expand?: unknown }
      } catch {
        throw new HubError(400, 'Invalid JSON body')
      }
      paths = (Array.isArray(body.paths) ? body.paths : [body.paths]).filter((p): p is string => typeof p === 'string')
      expand = body.expand === true || isTrue(typeof body.expand === 'string' ? body.expand : null)
    } else {
      const form = new URLSearchParams(text)
      paths = form.getAll('paths')
      expand = isTrue(form.get('expand'))
    }
    const existing = [...new Set(paths.map(p => p.replace(/^\/+|\/+$/g, '')))].filter(p => p !== '' && oidAt(commit, p) !== undefined)
    this.sendJson(
      ctx,
      existing.map(p => this.entry(repo, commit, p, expand))
    )
  }

  /** One tree/paths-info entry; `size` of an LFS file is the real size, `oid` the pointer's. */
  private entry(repo: Repo, commit: Commit, p: string, expand: boolean): Record<string, unknown> {
    const file = commit.files.get(p)
    const lfs = file?.lfs ? { lfs: { oid: file.sha256, size: file.size, pointerSize: pointerSize(file) } } : {}
    const base: Record<string, unknown> = file
      ? { type: 'file', oid: file.oid, size: file.size, path: p, ...lfs }
      : { type: 'directory', oid: commit.dirs.get(p), size: 0, path: p }
    if (!expand) return base
    const last = lastCommitOf(repo, commit, p)
    const security = file ? { securityFileStatus: { status: 'safe' } } : {}
    return { ...base, lastCommit: { id: last.id, title: last.title, date: last.date }, ...security }
  }
}

// ---- free helpers -----------------------------------------------------------------------------------

/** Consumes one firing of `group[name]` if it applies to one of `paths` (and to `range`); clears it when spent. */
function fire<G extends object, K extends keyof G>(
  group: G | undefined,
  name: K,
  paths: readonly string[],
  range?: string
): G[K] | undefined {
  const fault = group?.[name] as (Countdown & Targeted) | undefined
  if (!group || !fault) return undefined
  if (fault.path !== undefined && !paths.includes(fault.path)) return undefined
  if (fault.range !== undefined && fault.range !== range) return undefined
  if (fault.times !== undefined) {
    if (fault.times <= 0) {
      delete group[name]
      return undefined
    }
    fault.times -= 1
    if (fault.times === 0) delete group[name]
  }
  return fault as G[K]
}

/** Entries under `dir`, each directory followed by its contents when recursive. */
function listDir(commit: Commit, dir: string, recursive: boolean): string[] {
  const children = [...new Set([...commit.files.keys(), ...commit.dirs.keys()])].filter(p => p !== '' && parentOf(p) === dir).sort(compare)
  return children.flatMap(p => (recursive && commit.dirs.has(p) ? [p, ...listDir(commit, p, true)] : [p]))
}

function decodeCursor(cursor: string | null): number {
  if (!cursor) return 0
  try {
    const offset = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { offset?: unknown }).offset
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset
  } catch {
    // fall through
  }
  throw new HubError(400, 'Invalid cursor')
}

/**
 * One `bytes=` range: `{start,end}`, `'unsatisfiable'` (416), or undefined for none/multiple/
 * malformed, which RFC 9110 lets a server ignore (200 with the whole body).
 */
export function parseRange(header: string | undefined, total: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || total === 0) return 'unsatisfiable'
    return { start: Math.max(0, total - suffix), end: total - 1 }
  }
  const start = Number(m[1])
  if (m[2] !== '' && Number(m[2]) < start) return undefined
  if (start >= total) return 'unsatisfiable'
  return { start, end: m[2] === '' ? total - 1 : Math.min(Number(m[2]), total - 1) }
}

function isTrue(value: string | null): boolean {
  return value !== null && ['true', '1'].includes(value.toLowerCase())
}

function isGetOrHead(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD'
}

function quote(etag: string): string {
  return `"${etag}"`
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/')
}

function contentType(name: string): string {
  if (name.endsWith('.json')) return 'application/json'
  if (/\.(txt|md)$/.test(name)) return 'text/plain; charset=utf-8'
  return 'application/octet-stream'
}

function contentDisposition(name: string): string {
  return `inline; filename*=UTF-8''${encodeURIComponent(name)}; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}";`
}

function requestId(): string {
  return `Root=1-${randomUUID().replace(/-/g, '')}`
}

function s3Code(status: number): string {
  return status === 503 ? 'ServiceUnavailable' : status === 429 ? 'SlowDown' : 'InternalError'
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function optionalHeader<K extends string>(key: K, value: string | string[] | undefined): Partial<Record<K, string>> {
  const v = Array.isArray(value) ? value.join(', ') : value
  return v === undefined ? {} : ({ [key]: v } as Record<K, string>)
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

async function listenOn(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Consume an unread request body before answering an error, so the client sees our status. */
async function drain(req: http.IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return
  await new Promise<void>(resolve => {
    req
      .on('end', resolve)
      .on('error', () => resolve())
      .on('close', resolve)
    req.resume()
  })
}
