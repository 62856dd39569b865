import type { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import { DEFAULT_IDLE_TIMEOUT_MS, IdleWatch } from '../util/idle.js'
import { headerValue } from './headers.js'
import { Attempts, isRetryableStatus, type RetryPolicy } from './retry.js'

/** A bearer token and the one origin it may be sent to: never to a CDN or any other host. */
export interface Credentials {
  token?: string
  origin: string
}

export type ResponseHeaders = Dispatcher.ResponseData['headers']

export interface Reply {
  /** The URL that answered, after redirects. */
  url: string
  /** True when a redirect took us to another origin (a signed CDN URL that may expire). */
  crossOrigin: boolean
  response: Dispatcher.ResponseData
}

/** A final non-2xx answer, with what the server said (a short body excerpt). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly headers: ResponseHeaders,
    readonly body: string
  ) {
    super(`HTTP ${status} from ${redact(url)}${body ? `: ${body}` : ''}`)
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_HOPS = 10
/**
 * undici's own header and body timeouts, past our IdleWatch: only a backstop, since they measure
 * coarsely (a 1 s tick), cannot be held while we pause a body ourselves, and say nothing of which
 * transfer stalled.
 */
const BACKSTOP_MS = 30_000

export interface SendOptions {
  /** Aborts the request, and its body once it arrived (an IdleWatch's signal). */
  signal?: AbortSignal
  /** Called as each response's headers arrive, redirects included: a byte came. */
  onResponse?: () => void
  /** undici's own timeouts are set this far past it. */
  idleTimeoutMs?: number
}

/** The URL without its query: signed CDN URLs carry signatures that have no place in a log. */
export function redact(url: string): string {
  const u = new URL(url)
  return `${u.origin}${u.pathname}`
}

/**
 * One request with redirects followed by hand, because the Hub's 3xx carries what its target
 * lacks and because undici would keep nothing from it. Authorization goes only to
 * `credentials.origin`, so a cross-origin hop (the signed CDN URL) travels without it.
 */
export async function send(
  url: string,
  credentials: Credentials,
  headers: Record<string, string> = {},
  options: SendOptions = {}
): Promise<Reply> {
  let current = url
  let crossOrigin = false
  const backstop = (options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) + BACKSTOP_MS
  for (let hop = 0; ; hop++) {
    const origin = new URL(current).origin
    const auth = credentials.token !== undefined && origin === credentials.origin ? { authorization: `Bearer ${credentials.token}` } : {}
    const response = await request(current, {
      method: 'GET',
      headers: { ...headers, ...auth },
      signal: options.signal,
      headersTimeout: backstop,
      bodyTimeout: backstop
    })
    options.onResponse?.()
    const location = headerValue(response.headers, 'location')
    if (!REDIRECTS.has(response.statusCode) || location === undefined) return { url: current, crossOrigin, response }
    await response.body.dump()
    if (hop === MAX_HOPS) throw new Error(`more than ${MAX_HOPS} redirects from ${redact(url)}`)
    const next = new URL(location, current)
    if (next.protocol !== 'https:' && next.protocol !== 'http:')
      throw new Error(`refusing redirect to ${next.protocol} URL from ${redact(current)}`)
    crossOrigin ||= next.origin !== credentials.origin
    current = next.href
  }
}

/** Reads a failed response's body (bounded) and turns it into an HttpStatusError. */
export async function statusError(reply: Reply): Promise<HttpStatusError> {
  const text = await reply.response.body.text().catch(() => '')
  return new HttpStatusError(reply.response.statusCode, reply.url, reply.response.headers, text.slice(0, 500).trim())
}

/**
 * GET a JSON document, retrying network errors, stalls (no byte for `idleTimeoutMs`) and
 * 408/429/5xx per `policy`.
 */
export async function getJson(
  url: string,
  credentials: Credentials,
  policy: RetryPolicy,
  idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS
): Promise<{ json: unknown; headers: ResponseHeaders }> {
  const attempts = new Attempts(policy)
  for (;;) {
    const watch = new IdleWatch(idleTimeoutMs, () => `${new URL(url).host} (GET ${redact(url).slice(new URL(url).origin.length)})`)
    try {
      let reply: Reply
      let text: string
      try {
        reply = await send(
          url,
          credentials,
          { accept: 'application/json' },
          { signal: watch.signal, onResponse: () => watch.touch(), idleTimeoutMs }
        )
        const status = reply.response.statusCode
        const delay = isRetryableStatus(status) ? attempts.failed(reply.response.headers) : undefined
        if (delay !== undefined) {
          await reply.response.body.dump()
          await policy.sleep(delay)
          continue
        }
        if (status < 200 || status >= 300) throw await statusError(reply)
        text = await readText(reply.response.body, watch)
      } catch (error) {
        const delay = error instanceof HttpStatusError ? undefined : attempts.failed()
        if (delay === undefined) throw error
        await policy.sleep(delay)
        continue
      }
      return { json: JSON.parse(text) as unknown, headers: reply.response.headers }
    } finally {
      watch.stop()
    }
  }
}

/** A whole body as text, each chunk keeping `watch` alive. */
function readText(body: Readable, watch: IdleWatch): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    body.on('data', (chunk: Buffer) => {
      watch.touch()
      chunks.push(chunk)
    })
    body.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    body.on('error', reject)
  })
}
