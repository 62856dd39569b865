import { type Headers, headerValue } from './headers.js'

/** Statuses worth another try: timeouts, rate limits and server-side outages (huggingface_hub's set). */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504])

export interface RetryPolicy {
  /** Consecutive failed tries allowed per request before giving up (a try that moved bytes resets it). */
  attempts: number
  /** First backoff; doubles per failure up to `maxDelayMs`, unless the server says how long to wait. */
  baseDelayMs: number
  maxDelayMs: number
  /** Injectable so tests run without real waits. */
  sleep: (ms: number) => Promise<void>
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
}

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE.has(status)
}

/**
 * The consecutive failures of one request under a policy. Every retrying loop counts with one of
 * these, so all of them give up, back off and obey server hints alike.
 */
export class Attempts {
  private failures = 0

  constructor(private readonly policy: RetryPolicy) {}

  get tries(): number {
    return this.failures
  }

  /** A try that moved bytes: the count starts again. */
  progressed(): void {
    this.failures = 0
  }

  /** Counts a failure: the wait before the next try, or undefined once the policy's tries are used up. */
  failed(headers: Headers = {}): number | undefined {
    this.failures++
    return this.failures >= this.policy.attempts ? undefined : retryDelayMs(this.policy, this.failures, headers)
  }
}

/**
 * How long to wait before try `failures + 1`. A rate-limited Hub says when its window resets
 * (`RateLimit: "resolvers";r=0;t=<s>`, draft-ietf-httpapi-ratelimit-headers); `Retry-After` is the
 * older form. Server hints are capped too, so a hostile header cannot park the job for hours.
 */
function retryDelayMs(policy: RetryPolicy, failures: number, headers: Headers = {}): number {
  const cap = Math.max(policy.maxDelayMs, policy.baseDelayMs)
  const hinted = rateLimitResetSeconds(headers) ?? retryAfterSeconds(headers)
  if (hinted !== undefined) return Math.min(hinted * 1000, cap * 8)
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, failures - 1), cap)
}

/** `t=` of a `RateLimit` header whose remaining quota `r` is 0 (otherwise the limit is not why we failed). */
export function rateLimitResetSeconds(headers: Headers): number | undefined {
  const value = headerValue(headers, 'ratelimit')
  if (value === undefined) return undefined
  const remaining = /(?:^|;)\s*r=(\d+)/.exec(value)?.[1]
  const reset = /(?:^|;)\s*t=(\d+)/.exec(value)?.[1]
  if (reset === undefined || (remaining !== undefined && remaining !== '0')) return undefined
  return Number(reset)
}

/** `Retry-After` as seconds, or an HTTP date converted to seconds from now. */
export function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headerValue(headers, 'retry-after')?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}
