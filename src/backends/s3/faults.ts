/*
 * What went wrong talking to an S3 server, in the terms a person acts on. Errors are classified by what is
 * really on them: the HTTP status in `$metadata` (a HeadObject error has no body, so the SDK names a 403
 * "Unknown"; radosgw's messages are often just "UnknownError"), the S3 error code, and for connection
 * errors the Node code or, failing that, the message: under jest the SDK flattens Node's errors from
 * another realm into `Error('AWS SDK error wrapper for Error: connect ECONNREFUSED …')`, losing `code`
 * (aws-sdk-js-v3 #4273).
 */

export type FaultKind =
  /** 403: the credentials may not do this. */
  | 'access-denied'
  /** 404 NoSuchBucket. */
  | 'no-bucket'
  /** 404 on an object: a miss where a miss is meant. */
  | 'not-found'
  /** 412 on a create-only write: someone created it first. */
  | 'precondition'
  /** 416: a range beyond the object's end (it is shorter than its manifest says). */
  | 'range'
  /** 503 SlowDown, 429: the server asks us to slow down (the SDK backed off and retried already). */
  | 'throttled'
  /** Any other 5xx, after the SDK's retries. */
  | 'server'
  /** No byte for the idle timeout. */
  | 'stalled'
  /** Refused, reset, unresolvable: nothing (or nothing whole) came back. */
  | 'connection'
  /** The credential chain found nothing, or the SDK has no region. */
  | 'setup'
  | 'other'

/** An S3 call that failed: one line saying which call, on what, and why. */
export class S3Fault extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
    readonly status?: number,
    /** Why, without which call: what a message about another step reuses. */
    readonly reason: string = message
  ) {
    super(message)
    this.name = 'S3Fault'
  }
}

/** Stall errors of the SDK's socket timeout, and our own watchdog's. */
const STALL = /timed out after \d+ ?ms|of inactivity|TimeoutError|no bytes? for \d/i
const CONNECTION =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED|socket hang up|premature close|aborted|other side closed/i
const CONNECTION_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE'
]

interface SdkErrorShape {
  name?: unknown
  code?: unknown
  Code?: unknown
  message?: unknown
  $metadata?: { httpStatusCode?: number }
}

export function statusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode
}

/** The S3 error code (`AccessDenied`, `NoSuchBucket`, `SlowDown`), or the error's name. */
export function codeOf(error: unknown): string {
  const shaped = (error ?? {}) as SdkErrorShape
  for (const candidate of [shaped.Code, shaped.code, shaped.name]) if (typeof candidate === 'string' && candidate !== '') return candidate
  return 'Error'
}

function messageOf(error: unknown): string {
  const text = (error as SdkErrorShape | undefined)?.message
  return typeof text === 'string' ? text : String(error)
}

export function faultKind(error: unknown): FaultKind {
  if (error instanceof S3Fault) return error.kind
  const status = statusOf(error)
  const code = codeOf(error)
  const message = messageOf(error)
  if (status === 403) return 'access-denied'
  if (code === 'NoSuchBucket') return 'no-bucket'
  if (status === 404) return 'not-found'
  if (status === 412) return 'precondition'
  if (status === 416) return 'range'
  if (status === 429 || ['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'RequestLimitExceeded'].includes(code))
    return 'throttled'
  if (status !== undefined && status >= 500) return 'server'
  if (code === 'TimeoutError' || STALL.test(message)) return 'stalled'
  if (CONNECTION_CODES.includes(code) || CONNECTION.test(message)) return 'connection'
  if (code === 'CredentialsProviderError' || /Could not load credentials|Region is missing/i.test(message)) return 'setup'
  return 'other'
}

/** Why, in a few words: `access denied (403 AccessDenied)`, `connect ECONNREFUSED 127.0.0.1:7480`. */
export function reasonOf(error: unknown): string {
  if (error instanceof S3Fault) return error.reason
  const kind = faultKind(error)
  const status = statusOf(error)
  const code = codeOf(error)
  const detail = status === undefined ? code : `${status} ${code}`
  const message = firstLine(messageOf(error)).replace(/^AWS SDK error wrapper for Error: /, '')
  switch (kind) {
    case 'access-denied':
      return `access denied (${detail})`
    case 'no-bucket':
      return `the bucket does not exist (${detail})`
    case 'not-found':
      return `not found (${detail})`
    case 'precondition':
      return `it exists already (${detail})`
    case 'range':
      return `the object is shorter than its manifest says (${detail})`
    case 'throttled':
      return `the server kept throttling requests after backing off (${detail})`
    case 'server':
      return `server error (${detail})${usefulMessage(message, code)}`
    case 'stalled':
      return `the connection stalled: ${message}`
    case 'connection':
      return `cannot reach the server: ${message}`
    case 'setup':
      return /credentials/i.test(message)
        ? 'no AWS credentials: the SDK found none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (aws-actions/configure-aws-credentials sets them), AWS_PROFILE, web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN) or instance metadata'
        : `the SDK has no region: set s3-region or AWS_REGION`
    default:
      return `${message}${status === undefined ? '' : ` (${detail})`}`
  }
}

/** Wraps anything an SDK call threw as an S3Fault that names the call. */
export function faultOf(error: unknown, what: string): S3Fault {
  if (error instanceof S3Fault) return error
  const reason = reasonOf(error)
  return new S3Fault(faultKind(error), `${what}: ${reason}`, statusOf(error), reason)
}

/** Worth another try at our level (a range, a listing page): what broke was the connection, not the request. */
export function isTransient(error: unknown): boolean {
  return ['stalled', 'connection', 'server', 'throttled'].includes(faultKind(error))
}

function usefulMessage(message: string, code: string): string {
  return message && message !== code && message !== 'UnknownError' ? `: ${message}` : ''
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}
