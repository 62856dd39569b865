/**
 * `qdc run`, `stats`, `prune`, `verify` and `clear` with `--backend s3`, the built qdc against the real
 * radosgw: entries saved by `qdc run` (from a config file), the store named by the config file or by
 * --s3-* flags, pruning by age, a corrupt archive found and repaired, clear by kind; bad flags are one line
 * (exit 2); the credentials never show.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { assertBuilt, cleanEnv, qdc, type QdcResult } from './support/qdc.js'
import { CEPH_TOOLS, type S3Server, startS3Server } from './support/s3-server.js'
import { describeWithTools } from './support/tools.js'

const BUCKET = 'qdc-cli'
const DAY = 86_400_000
let root: string
let server: S3Server
let admin: S3Client
let env: Record<string, string>
let config: string

async function names(prefix: string): Promise<string[]> {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))
  return (page.Contents ?? []).map(object => object.Key!)
}

function noSecrets(result: QdcResult): void {
  for (const secret of [server.accessKeyId, server.secretAccessKey])
    expect(result.stdout.includes(secret) || result.stderr.includes(secret)).toBe(false)
}

describeWithTools(CEPH_TOOLS)('qdc with --backend s3', () => {
  const flags = () => ['--backend', 's3', '--s3-bucket', BUCKET, '--s3-endpoint', server.endpoint]

  beforeAll(async () => {
    assertBuilt()
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-s3-cli-'))
    server = await startS3Server()
    admin = server.client()
    await server.createBucket(BUCKET)
    env = cleanEnv(path.join(root, 'home'), { AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey })
    for (const key of ['old-data', 'new-data']) {
      const data = path.join(root, key)
      fs.mkdirSync(data)
      fs.writeFileSync(path.join(data, 'payload'), crypto.randomBytes(300_000))
      const file = path.join(root, `${key}.yml`)
      fs.writeFileSync(file, `paths: ${data}\nkey: ${key}\nbackend: s3\ns3-bucket: ${BUCKET}\ns3-endpoint: ${server.endpoint}\n`)
      const saved = await qdc(['run', '--config', file, '--quiet', '--', 'true'], { env, cwd: root })
      // The summary, rendered for a terminal: the transfer table names the backend and the throughput.
      expect([saved.code, saved.stderr]).toEqual([0, expect.stringMatching(/\ncustom +s3 +— +[\d.]+ KiB in \d+ ms \([\d.]+ [KM]iB\/s\)\n/)])
      noSecrets(saved)
    }
    config = path.join(root, 'store.yml')
    fs.writeFileSync(config, `backend: s3\ns3-bucket: ${BUCKET}\ns3-endpoint: ${server.endpoint}\ns3-max-age: 30d\n`)
    // Nobody has restored old-data for 40 days: its manifest says so, and it has no use marker.
    const [manifest] = await names('qdc/manifests/old-data')
    const got = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: manifest }))
    const meta = JSON.parse(await got.Body!.transformToString())
    await admin.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: manifest,
        Body: JSON.stringify({ ...meta, created: Date.now() - 40 * DAY, lastUsed: Date.now() - 40 * DAY })
      })
    )
  })

  afterAll(async () => {
    admin?.destroy()
    await server?.close()
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  test('stats names the bucket and lists the entries, from flags and from a config file alike', async () => {
    const byFlags = await qdc(['stats', '--json', ...flags()], { env, cwd: root })
    expect(byFlags.code).toBe(0)
    const figures = JSON.parse(byFlags.stdout)
    expect(figures).toMatchObject({
      store: `s3://${BUCKET}/qdc/ at ${server.endpoint}`,
      runs: 0,
      kinds: [{ kind: 'custom', store: 'archive', items: 2 }]
    })
    const byConfig = await qdc(['stats', '--config', config], { env, cwd: root })
    expect(byConfig.code).toBe(0)
    expect(byConfig.stdout).toMatch(
      new RegExp(`^Store s3://${BUCKET}/qdc/ at http://127\\.0\\.0\\.1:\\d+: [\\d.]+ KiB, 0 run\\(s\\) recorded\\n`)
    )
    expect(byConfig.stdout).toMatch(/custom +archive +2 entries/)
    noSecrets(byFlags)
  })

  test('prune --dry-run names what the age rule (s3-max-age from the config) would remove; prune removes it', async () => {
    const dry = await qdc(['prune', '--config', config, '--dry-run'], { env, cwd: root })
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(
      /^Would remove 1 archive entry and 0 in-place file\(s\): [\d.]+ KiB\n {2}entry old-data~r\w+ \([\d.]+ KiB\)\n/
    )
    expect(dry.stdout).toContain('(no size cap)')
    expect(await names('qdc/manifests/old-data')).toHaveLength(1)

    const done = await qdc(['prune', '--config', config, '--json'], { env, cwd: root })
    expect(done.code).toBe(0)
    expect(JSON.parse(done.stdout).entries.map((entry: { key: string }) => entry.key)).toEqual([expect.stringMatching(/^old-data~r/)])
    expect(await names('qdc/manifests/old-data')).toEqual([])
    expect(await names('qdc/archives/old-data')).toEqual([])
    expect(await names('qdc/manifests/new-data')).toHaveLength(1)
  })

  test('verify finds a corrupt archive (exit 1); --repair removes the entry (exit 0)', async () => {
    const [archive] = await names('qdc/archives/new-data')
    const got = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: archive }))
    const bytes = Buffer.from(await got.Body!.transformToByteArray())
    bytes[100] ^= 0xff
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: archive, Body: bytes }))

    const found = await qdc(['verify', 'custom', ...flags()], { env, cwd: root })
    expect(found.code).toBe(1)
    expect(found.stdout).toMatch(
      /^Checked 1 item\(s\), [\d.]+ KiB: 1 corrupt\n {2}custom: archive entry new-data~r\w+: archive for \S+ does not match its SHA-256\n/
    )
    const repaired = await qdc(['verify', 'custom', '--repair', ...flags()], { env, cwd: root })
    expect(repaired.code).toBe(0)
    expect(repaired.stdout).toContain('fixed: removed; the next run saves it afresh')
    // What is left is the run history, a document beside the entries, which no kind owns.
    expect(await names('qdc/')).toEqual([expect.stringMatching(/^qdc\/documents\/[0-9a-f]{64}\.json$/)])
    noSecrets(found)
  })

  test('clear KIND --yes deletes that kind from the bucket', async () => {
    const data = path.join(root, 'again')
    fs.mkdirSync(data)
    fs.writeFileSync(path.join(data, 'f'), 'x')
    const file = path.join(root, 'again.yml')
    fs.writeFileSync(file, `paths: ${data}\nkey: again\nbackend: s3\ns3-bucket: ${BUCKET}\ns3-endpoint: ${server.endpoint}\n`)
    expect((await qdc(['run', '--config', file, '--quiet', '--', 'true'], { env, cwd: root })).code).toBe(0)
    expect((await qdc(['clear', 'pip', '--yes', ...flags()], { env, cwd: root })).stdout).toBe(
      'Nothing to clear in s3://qdc-cli/qdc/ at ' + server.endpoint + '.\n'
    )
    const cleared = await qdc(['clear', 'custom', '--yes', ...flags()], { env, cwd: root })
    expect([cleared.code, cleared.stdout]).toEqual([0, 'Deleted 1 archive entry.\n'])
    // What is left is the run history, a document beside the entries, which no kind owns.
    expect(await names('qdc/')).toEqual([expect.stringMatching(/^qdc\/documents\/[0-9a-f]{64}\.json$/)])
  })

  test.each([
    [
      ['stats', '--backend', 's3', '--s3-endpoint', 'not a url', '--s3-bucket', BUCKET],
      "qdc: --s3-endpoint: 'not a url' is not a URL; write it like https://s3.example.org or http://127.0.0.1:7480\n"
    ],
    [['stats', '--backend', 's3'], "qdc: config: Input 's3-bucket': is empty; name the bucket the s3 backend keeps its entries in\n"],
    [
      ['stats', '--backend', 'github'],
      "qdc: --backend: qdc manages the local and s3 stores, not 'github' (the GitHub cache service's entries are managed in the repository's Actions settings)\n"
    ],
    [
      ['prune', '--backend', 's3', '--s3-bucket', BUCKET, '--store', '/tmp/x'],
      'qdc: --store names a local store; with --backend s3 the --s3-* flags (or the config file) name the bucket\n'
    ]
  ])('bad usage is one line and exit 2: %j', async (args, line) => {
    const result = await qdc(args, { env, cwd: root })
    expect([result.code, result.stderr, result.stdout]).toEqual([2, line, ''])
  })
})
