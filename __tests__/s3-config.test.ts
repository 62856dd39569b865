/**
 * The s3 backend's inputs (a pure parse: defaults, path-style with an endpoint, every bad value one line
 * naming the input, credentials refused in the URL), its object names (a prefix code, so listing by a
 * restore key finds exactly what it prefixes), and the fault classification it reports by.
 */
import { afterEach, describe, expect, test } from '@jest/globals'
import { decodeKey, encodeKey, S3Layout } from '../src/backends/s3/layout.js'
import { faultKind, reasonOf } from '../src/backends/s3/faults.js'
import { readConfig } from '../src/config/config.js'
import { clearInputs, setInputs } from './support/inputs.js'

afterEach(clearInputs)

describe('s3 inputs', () => {
  test('read only with backend: s3; defaults: qdc/, 60 s idle timeout, no pruning; path-style follows the endpoint', () => {
    setInputs({ caches: 'pip', 's3-bucket': 'Not_Read' })
    expect(readConfig().s3).toBeNull()
    setInputs({ caches: 'pip', backend: 's3', 's3-bucket': 'ci-cache' })
    expect(readConfig().s3).toEqual({
      bucket: 'ci-cache',
      prefix: 'qdc/',
      endpoint: null,
      region: null,
      forcePathStyle: false,
      idleTimeoutMs: 60_000,
      maxAgeMs: null,
      maxBytes: null
    })
    setInputs({
      caches: 'pip',
      backend: 's3',
      's3-bucket': 'ci.cache-1',
      's3-endpoint': 'http://10.0.0.5:7480/',
      's3-prefix': 'team-a/qdc',
      's3-region': 'default',
      's3-idle-timeout': '90',
      's3-max-age': '14d',
      's3-max-size': '500G'
    })
    expect(readConfig().s3).toEqual({
      bucket: 'ci.cache-1',
      prefix: 'team-a/qdc/',
      endpoint: 'http://10.0.0.5:7480',
      region: 'default',
      forcePathStyle: true,
      idleTimeoutMs: 90_000,
      maxAgeMs: 14 * 86_400_000,
      maxBytes: 500 * 1024 ** 3
    })
    setInputs({
      caches: 'pip',
      backend: 's3',
      's3-bucket': 'ci-cache',
      's3-endpoint': 'https://r2.example.com',
      's3-force-path-style': 'false',
      's3-idle-timeout': '2m'
    })
    expect(readConfig().s3).toMatchObject({ forcePathStyle: false, idleTimeoutMs: 120_000 })
  })

  test.each([
    [{ 's3-bucket': '' }, "Input 's3-bucket': is empty; name the bucket the s3 backend keeps its entries in"],
    [{ 's3-bucket': 'ab' }, "Input 's3-bucket': 'ab' is not a bucket name: it is not 3 to 63 characters long"],
    [{ 's3-bucket': 'Caches' }, "Input 's3-bucket': 'Caches' is not a bucket name: it may hold only lowercase letters"],
    [{ 's3-bucket': 'a..b' }, "Input 's3-bucket': 'a..b' is not a bucket name: it contains '..'"],
    [{ 's3-bucket': '192.168.1.1' }, "Input 's3-bucket': '192.168.1.1' is not a bucket name: it is shaped like an IP address"],
    [
      { 's3-endpoint': 's3.example.org' },
      "Input 's3-endpoint': 's3.example.org' is not a URL; write it like https://s3.example.org or http://127.0.0.1:7480"
    ],
    [{ 's3-endpoint': 'ftp://s3.example.org' }, "Input 's3-endpoint': 'ftp://s3.example.org' is not an http:// or https:// URL"],
    [{ 's3-endpoint': 'https://s3.example.org/?x=1' }, "Input 's3-endpoint': 'https://s3.example.org/?x=1' has a query or fragment"],
    [{ 's3-region': 'us east' }, "Input 's3-region': 'us east' is not a region name"],
    [{ 's3-prefix': '/qdc' }, "Input 's3-prefix': '/qdc' starts with '/'"],
    [{ 's3-prefix': 'a~b' }, "Input 's3-prefix': 'a~b' contains characters S3 object names should not hold"],
    [{ 's3-force-path-style': 'sometimes' }, "Input 's3-force-path-style': expected true or false, got 'sometimes'"],
    [{ 's3-idle-timeout': 'soon' }, "Input 's3-idle-timeout': 'soon' is not an age"],
    [{ 's3-idle-timeout': '0' }, "Input 's3-idle-timeout': '0' is shorter than a second"],
    [{ 's3-max-age': 'forever' }, "Input 's3-max-age': 'forever' is not an age"],
    [{ 's3-max-size': 'lots' }, "Input 's3-max-size': 'lots' is not a size"]
  ])('bad input %j fails with one line naming the input', (inputs, message) => {
    setInputs({ caches: 'pip', backend: 's3', 's3-bucket': 'ci-cache', ...inputs })
    expect(() => readConfig()).toThrow(message)
    expect(() => readConfig()).toThrow(/^[^\n]+$/)
  })

  test('an endpoint with credentials in it is refused without repeating them', () => {
    setInputs({ caches: 'pip', backend: 's3', 's3-bucket': 'ci-cache', 's3-endpoint': 'https://AKIAXYZ:hunter2@s3.example.org' })
    let message = ''
    try {
      readConfig()
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe(
      "Input 's3-endpoint': 'https://…@s3.example.org' holds credentials; give them through the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, web identity), never in an input"
    )
  })
})

describe('object names', () => {
  test.each(['qdc-pip-v1-Linux-x64-py3.11-0123abcd~r123-1', 'build/ccache key', 'ümlaut ✓', 'a!b%c', '~r', ''])(
    '%j encodes to safe characters and back',
    key => {
      const encoded = encodeKey(key)
      expect(encoded).toMatch(/^[A-Za-z0-9._!-]*$/)
      expect(decodeKey(encoded)).toBe(key)
    }
  )

  test('a restore key encodes to a prefix of every key it prefixes, and of no other', () => {
    const keys = ['k~r1-1', 'k~r10-1', 'k-x', 'k', 'kk', 'k!', 'k~', 'j~r1']
    for (const prefix of ['k~r', 'k~', 'k', 'k!', 'k-']) {
      expect([prefix, keys.filter(key => encodeKey(key).startsWith(encodeKey(prefix)))]).toEqual([
        prefix,
        keys.filter(key => key.startsWith(prefix))
      ])
    }
  })

  test('names that are not the one encoding of a key are not entries', () => {
    for (const bad of ['a!7e', 'a!', 'a!G0', 'a~b', 'a%7E', '!61']) expect([bad, decodeKey(bad)]).toEqual([bad, null])
    const layout = new S3Layout('qdc/')
    const version = 'a'.repeat(64)
    expect(layout.parseManifest(`qdc/manifests/k!7Er1-1/${version}`)).toEqual({ key: 'k~r1-1', version })
    expect(layout.parseManifest(`qdc/manifests/k/${version}/extra`)).toBeNull()
    expect(layout.parseManifest(`qdc/manifests/k/not-a-version`)).toBeNull()
    expect(layout.parseArchive(`qdc/archives/k/${version}/0123456789abcdef-0.tar.zst`)).toEqual({
      key: 'k',
      version,
      file: '0123456789abcdef-0.tar.zst',
      saveId: '0123456789abcdef'
    })
    expect(layout.parseArchive(`qdc/archives/k/${version}/evil.sh`)).toBeNull()
  })

  test('a key too long for an S3 object name is refused with a reason', () => {
    const layout = new S3Layout('qdc/')
    expect(layout.keyProblem('k'.repeat(400))).toBeNull()
    expect(layout.keyProblem('✓'.repeat(120))).toMatch(
      /^the key is too long for an S3 object name once encoded \(\d+ of at most 1024 bytes\)$/
    )
  })
})

describe('faults', () => {
  const sdkError = (name: string, status?: number, message = 'UnknownError') =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } })

  test.each([
    [sdkError('AccessDenied', 403), 'access-denied', 'access denied (403 AccessDenied)'],
    [sdkError('Unknown', 403), 'access-denied', 'access denied (403 Unknown)'],
    [sdkError('NoSuchBucket', 404), 'no-bucket', 'the bucket does not exist (404 NoSuchBucket)'],
    [sdkError('NoSuchKey', 404), 'not-found', 'not found (404 NoSuchKey)'],
    [sdkError('PreconditionFailed', 412), 'precondition', 'it exists already (412 PreconditionFailed)'],
    [sdkError('SlowDown', 503), 'throttled', 'the server kept throttling requests after backing off (503 SlowDown)'],
    [
      sdkError('InternalError', 500, 'We encountered an internal error.'),
      'server',
      'server error (500 InternalError): We encountered an internal error.'
    ],
    [
      Object.assign(new Error('the request socket timed out after 1500 ms of inactivity'), { name: 'TimeoutError' }),
      'stalled',
      'the connection stalled: the request socket timed out after 1500 ms of inactivity'
    ],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      'connection',
      'cannot reach the server: connect ECONNREFUSED 127.0.0.1:9'
    ],
    // What jest leaves of a Node error from another realm (aws-sdk-js-v3 #4273): the message only.
    [
      new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9'),
      'connection',
      'cannot reach the server: connect ECONNREFUSED 127.0.0.1:9'
    ],
    [
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      'setup',
      expect.stringMatching(/^no AWS credentials: /)
    ]
  ])('%s', (error, kind, reason) => {
    expect([faultKind(error), reasonOf(error)]).toEqual([kind, reason])
  })
})
