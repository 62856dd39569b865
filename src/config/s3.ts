import { Inputs } from '../constants.js'
import { getBool, getString, getStringOrNull, InputError, parseAge, parseSize } from './inputs.js'

/**
 * Where the s3 backend keeps its entries. No credential is among these: the SDK finds them in the standard
 * AWS chain (the variables aws-actions/configure-aws-credentials exports, profiles, web identity), so a
 * secret never has to be written into a workflow file, and never enters the run state.
 */
export interface S3Settings {
  bucket: string
  /** Every object name starts with it; empty or ending in `/`. */
  prefix: string
  /** null: AWS, where the SDK derives the endpoint from the region. */
  endpoint: string | null
  /** null: AWS_REGION, AWS_DEFAULT_REGION, the profile, else `us-east-1` for a custom endpoint. */
  region: string | null
  /** Bucket in the path (`https://host/bucket/key`) rather than in the host name. */
  forcePathStyle: boolean
  /** A connection that delivers no byte for this long is aborted (and retried once). */
  idleTimeoutMs: number
  /** Post prunes entries unused for longer, when set. */
  maxAgeMs: number | null
  /** Post prunes the least recently used entries until the store fits, when set. */
  maxBytes: number | null
}

const DEFAULT_PREFIX = 'qdc/'
const DEFAULT_IDLE_TIMEOUT = '60s'

/** The `s3-*` inputs, checked: a wrong endpoint URL or a malformed bucket name fails main with one line. */
export function readS3Settings(): S3Settings {
  const endpoint = readEndpoint(getStringOrNull(Inputs.S3Endpoint))
  const maxAge = getStringOrNull(Inputs.S3MaxAge)
  const maxSize = getStringOrNull(Inputs.S3MaxSize)
  return {
    bucket: readBucket(getStringOrNull(Inputs.S3Bucket)),
    prefix: readPrefix(getString(Inputs.S3Prefix, DEFAULT_PREFIX)),
    endpoint,
    region: readRegion(getStringOrNull(Inputs.S3Region)),
    // Self-hosted servers (MinIO, Ceph RGW, Garage, versitygw) rarely have a wildcard DNS name per bucket.
    forcePathStyle: getBool(Inputs.S3ForcePathStyle, endpoint !== null),
    idleTimeoutMs: readIdleTimeout(getString(Inputs.S3IdleTimeout, DEFAULT_IDLE_TIMEOUT)),
    maxAgeMs: maxAge === null ? null : parseAge(Inputs.S3MaxAge, maxAge),
    maxBytes: maxSize === null ? null : parseSize(Inputs.S3MaxSize, maxSize)
  }
}

/** `s3://bucket/prefix/`, how logs and `qdc` name the store. */
export function describeS3Store(settings: S3Settings): string {
  return `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`
}

/**
 * The S3 naming rules every server enforces for new buckets: 3-63 characters, lowercase letters, digits,
 * dots and hyphens, starting and ending with a letter or digit, no `..`, not shaped like an IP address.
 */
function readBucket(raw: string | null): string {
  if (raw === null) throw new InputError(Inputs.S3Bucket, `is empty; name the bucket the s3 backend keeps its entries in`)
  const problem =
    raw.length < 3 || raw.length > 63
      ? 'is not 3 to 63 characters long'
      : !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(raw)
        ? 'may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit'
        : raw.includes('..')
          ? "contains '..'"
          : /^\d+\.\d+\.\d+\.\d+$/.test(raw)
            ? 'is shaped like an IP address'
            : null
  if (problem) throw new InputError(Inputs.S3Bucket, `'${raw}' is not a bucket name: it ${problem}`)
  return raw
}

/**
 * http(s)://host[:port][/path], nothing else: credentials in the URL would be a secret in the workflow file
 * (and in the run state), and a query or fragment has no meaning for an endpoint.
 */
function readEndpoint(raw: string | null): string | null {
  if (raw === null) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(Inputs.S3Endpoint, `'${raw}' is not a URL; write it like https://s3.example.org or http://127.0.0.1:7480`)
  }
  // Never echo a value that carries credentials.
  const shown = url.username || url.password ? `${url.protocol}//…@${url.host}` : raw
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(Inputs.S3Endpoint, `'${shown}' is not an http:// or https:// URL`)
  if (url.username || url.password) {
    throw new InputError(
      Inputs.S3Endpoint,
      `'${shown}' holds credentials; give them through the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, web identity), never in an input`
    )
  }
  if (url.search || url.hash) throw new InputError(Inputs.S3Endpoint, `'${shown}' has a query or fragment; give the server's base URL only`)
  return url.href.replace(/\/$/, '')
}

function readRegion(raw: string | null): string | null {
  if (raw !== null && !/^[a-z0-9-]+$/i.test(raw)) throw new InputError(Inputs.S3Region, `'${raw}' is not a region name (like us-east-1)`)
  return raw
}

/** Object names are relative to the prefix: no leading slash, and a trailing one added. */
function readPrefix(raw: string): string {
  if (raw.startsWith('/')) throw new InputError(Inputs.S3Prefix, `'${raw}' starts with '/'; write it like qdc/ or team-a/qdc/`)
  if (/[\\{}^%`"<>#|~]/.test(raw) || [...raw].some(char => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f))
    throw new InputError(Inputs.S3Prefix, `'${raw}' contains characters S3 object names should not hold`)
  if (raw.length > 200) throw new InputError(Inputs.S3Prefix, `is longer than 200 characters`)
  return raw === '' || raw.endsWith('/') ? raw : `${raw}/`
}

/** `60s`, `2m`, or a bare number of seconds. */
function readIdleTimeout(raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : parseAge(Inputs.S3IdleTimeout, raw)
  if (ms < 1000) throw new InputError(Inputs.S3IdleTimeout, `'${raw}' is shorter than a second`)
  return ms
}
