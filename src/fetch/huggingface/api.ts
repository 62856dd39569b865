import { headerValue } from '../headers.js'
import { type Credentials, getJson, HttpStatusError } from '../http.js'
import type { RetryPolicy } from '../retry.js'
import { assertSafeRepoPath, COMMIT, displayName, type RepoRef } from './repo.js'

/** One file of a commit, as the tree API lists it. */
export interface TreeFile {
  path: string
  size: number
  /** Git blob id: of the content for regular files, of the LFS pointer for LFS files. */
  oid: string
  lfs?: { oid: string; size: number }
}

export interface HubContext {
  endpoint: string
  credentials: Credentials
  retry: RetryPolicy
  /** An API call that brings no byte for this long is cut and retried. */
  idleTimeoutMs?: number
}

function apiBase(hub: HubContext, ref: RepoRef): string {
  return `${hub.endpoint}/api/${ref.type}s/${ref.id}`
}

/** The 40-hex commit `ref.revision` points to now; a commit is taken as is, without a request. */
export async function resolveCommit(hub: HubContext, ref: RepoRef): Promise<string> {
  if (COMMIT.test(ref.revision)) return ref.revision
  const { json } = await hubJson(hub, ref, `${apiBase(hub, ref)}/revision/${encodeURIComponent(ref.revision)}`)
  const sha = (json as { sha?: unknown }).sha
  if (typeof sha !== 'string' || !COMMIT.test(sha)) throw new Error(`${displayName(ref)}@${ref.revision}: the Hub returned no commit id`)
  return sha
}

/** Every file at `commit`, following `Link: rel="next"` pages; refuses unsafe paths. */
export async function listFiles(hub: HubContext, ref: RepoRef, commit: string): Promise<TreeFile[]> {
  const files: TreeFile[] = []
  let url: string | undefined = `${apiBase(hub, ref)}/tree/${commit}?recursive=true&expand=false`
  while (url !== undefined) {
    const page = await hubJson(hub, ref, url)
    if (!Array.isArray(page.json)) throw new Error(`${displayName(ref)}: the tree API did not return a list`)
    for (const entry of page.json as Record<string, unknown>[]) {
      if (entry.type === 'file') files.push(treeFile(ref, entry))
    }
    url = nextPage(hub, headerValue(page.headers, 'link'))
  }
  return files
}

function treeFile(ref: RepoRef, entry: Record<string, unknown>): TreeFile {
  const { path, size, oid, lfs } = entry as { path: unknown; size: unknown; oid: unknown; lfs?: { oid?: unknown; size?: unknown } }
  if (typeof path !== 'string') throw new Error(`${displayName(ref)}: tree entry without a path`)
  assertSafeRepoPath(path)
  const sizeOk = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
  if (!sizeOk(size) || typeof oid !== 'string' || !/^[0-9a-f]{40}$/.test(oid))
    throw new Error(`${displayName(ref)}: malformed tree entry for ${path}`)
  if (lfs === undefined) return { path, size, oid }
  if (typeof lfs.oid !== 'string' || !/^[0-9a-f]{64}$/.test(lfs.oid) || !sizeOk(lfs.size))
    throw new Error(`${displayName(ref)}: malformed LFS entry for ${path}`)
  return { path, size, oid, lfs: { oid: lfs.oid, size: lfs.size } }
}

/** The `rel="next"` target, only if it stays on the Hub: the token follows it. */
function nextPage(hub: HubContext, link: string | undefined): string | undefined {
  const target = link?.split(',').find(part => /;\s*rel="?next"?/.test(part))
  const href = target && /<([^>]+)>/.exec(target)?.[1]
  if (!href) return undefined
  const next = new URL(href, hub.endpoint)
  if (next.origin !== hub.credentials.origin)
    throw new Error(`the Hub's tree pagination points to another origin (${next.origin}); refusing to follow it`)
  return next.href
}

async function hubJson(hub: HubContext, ref: RepoRef, url: string): ReturnType<typeof getJson> {
  try {
    return await getJson(url, hub.credentials, hub.retry, hub.idleTimeoutMs)
  } catch (error) {
    throw explainHubError(error, ref, hub)
  }
}

/** One clear message per Hub error code (huggingface_hub's hf_raise_for_status order); others pass through. */
export function explainHubError(error: unknown, ref: RepoRef, hub: HubContext, file?: string): unknown {
  // CDN errors carry no Hub codes; their own message (status, redacted URL, body) says more.
  if (!(error instanceof HttpStatusError) || new URL(error.url).origin !== hub.credentials.origin) return error
  const name = displayName(ref)
  const code = headerValue(error.headers, 'x-error-code')
  const message = headerValue(error.headers, 'x-error-message')
  const authed = hub.credentials.token !== undefined
  switch (code) {
    case 'RevisionNotFound':
      return new Error(`${name}: revision "${ref.revision}" does not exist`)
    case 'EntryNotFound':
      return new Error(`${name}@${ref.revision}: file ${file ?? '(unknown)'} does not exist`)
    case 'GatedRepo':
      return new Error(
        authed
          ? `${name} is gated and the hf-token is not approved for it; request access at ${hub.endpoint}/${name}`
          : `${name} is gated: accept its terms at ${hub.endpoint}/${name} and pass an approved hf-token`
      )
    case 'RepoNotFound':
      return new Error(
        authed
          ? `${name} does not exist, or the hf-token cannot read it`
          : `${name} does not exist, or is private (pass an hf-token that can read it)`
      )
  }
  if (error.status === 401) return new Error(`the Hub rejected the hf-token (invalid or expired) while reading ${name}`)
  if (message === 'Access to this resource is disabled.') return new Error(`${name} has been disabled on the Hub`)
  return new Error(`${name}: HTTP ${error.status} from the Hub${message ? `: ${message}` : ''}`)
}
