/**
 * A real S3 server for tests: a throwaway single-host Ceph cluster (one mon, one memstore OSD, radosgw)
 * on loopback, with `auth none` between the daemons and SigV4 users on the gateway.
 *
 * Everything lives under one temp dir (config, mon store, OSD metadata, run dir, admin sockets, pid files,
 * logs, crash dir; keyring = /dev/null), and the object data lives in the OSD's RAM, so `close()` leaves
 * nothing behind. The daemons run in the foreground as our children (their exit is seen at once, where a
 * daemonized ceph stays a zombie until init reaps it) under `setpriv --pdeathsig SIGKILL`, so a test
 * process that exits or dies without calling `close()` takes them with it (jest's sandboxed `process`
 * never runs an 'exit' listener, so a hook could not do this).
 *
 * Facts, settings and the SDK's traps: /work/shared/reference/s3-fleet-store.md and docs/s3-fixture.md.
 */
import { CreateBucketCommand, ListBucketsCommand, PutBucketPolicyCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

/** What `describeWithTools` must find for a suite that starts this server. */
export const CEPH_TOOLS = ['setpriv', 'monmaptool', 'ceph-mon', 'ceph', 'ceph-osd', 'radosgw', 'radosgw-admin']

export interface S3Keys {
  accessKeyId: string
  secretAccessKey: string
}

export interface S3StartupTimes {
  /** From nothing to the mon answering (`ceph osd new` returned). */
  monMs: number
  /** ... to `ceph osd stat` showing the OSD up. */
  osdUpMs: number
  /** ... to the gateway answering a signed ListBuckets with the admin user's keys: the whole start-up. */
  gatewayMs: number
}

export interface S3Server {
  /** `http://127.0.0.1:PORT`; use path-style addressing (`forcePathStyle: true`). */
  endpoint: string
  port: number
  /** radosgw takes any region in the signature scope; this is the one to configure. */
  region: string
  /** The admin user's keys (an ordinary S3 user that owns the buckets the helpers create). */
  accessKeyId: string
  secretAccessKey: string
  /** The temp dir that holds the whole cluster. */
  dir: string
  /** The daemons' pids, radosgw's as it is now (it changes after `startGateway`). */
  pids: () => { mon: number; osd: number; radosgw: number | null }
  startup: S3StartupTimes
  /**
   * An SDK client as the backend must configure one against S3-compatible servers: path-style, and
   * checksums only where an operation requires them (otherwise the SDK sends aws-chunked CRC32 bodies
   * that radosgw answers with 411 MissingContentLength). `keys` defaults to the admin user's.
   */
  client(keys?: S3Keys, config?: Partial<S3ClientConfig>): S3Client
  /** A new S3 user with random keys; `uid` is also its name in bucket policies (`arn:aws:iam:::user/<uid>`). */
  createUser(uid: string): Promise<S3Keys>
  /** A bucket owned by the admin user (or by the owner of `keys`). */
  createBucket(bucket: string, keys?: S3Keys): Promise<void>
  /** Sets a bucket policy (as the bucket's owner, the admin user unless `keys`). */
  setBucketPolicy(bucket: string, policy: object, keys?: S3Keys): Promise<void>
  /** Stops radosgw only (SIGTERM, SIGKILL after a bound): the endpoint is down, the data stays. */
  stopGateway(): Promise<void>
  /** Starts radosgw again on the same port and waits until it answers a signed request. */
  startGateway(): Promise<void>
  /**
   * SIGSTOPs radosgw: connections still open and new ones accepted by the kernel, but no byte is sent,
   * which is a stalled endpoint (for idle timeouts), where `stopGateway` is a refused one.
   */
  freezeGateway(): void
  /** SIGCONTs a frozen radosgw. */
  thawGateway(): void
  /** The last `lines` lines of each daemon's log, for error messages. */
  logTail(lines?: number): string
  /** SIGTERMs radosgw, then the OSD, then the mon, by pid, and removes the temp dir. Idempotent. */
  close(): Promise<void>
}

export interface S3ServerOptions {
  /** The OSD's RAM cap for object data (`memstore device bytes`). Default 2 GiB; it is not preallocated. */
  memoryBytes?: number
  /** Bound for the whole start-up, and for each `startGateway`. Default 60 s (about 2 s on an idle machine). */
  timeoutMs?: number
  /** Parent of the temp dir; default os.tmpdir(). Its path must stay short: admin sockets are Unix sockets. */
  parentDir?: string
}

/** A policy that lets `uids` read (GetObject, HeadObject, ListBucket) `bucket` and nothing more. */
export function readOnlyPolicy(bucket: string, uids: string[]): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'read-only',
        Effect: 'Allow',
        Principal: { AWS: uids.map(uid => `arn:aws:iam:::user/${uid}`) },
        Action: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'],
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]
      }
    ]
  }
}

const REGION = 'us-east-1'
const RGW_NAME = 'client.rgw.a'
const MON_ID = 'a'
/** Daemons' start-up output and logs, for error messages: every daemon logs to <dir>/log/<name>.log. */
const LOG_NAMES = ['mon.a', 'osd.0', RGW_NAME]

export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const started = Date.now()
  const deadline = started + timeoutMs
  const dir = fs.mkdtempSync(path.join(options.parentDir ?? os.tmpdir(), 'qdc-s3-'))
  const asokLength = path.join(dir, 'run', `ceph-${RGW_NAME}.asok`).length
  if (asokLength > 100) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw new Error(`the S3 fixture's dir ${dir} is too long for an admin socket path; pass a shorter parentDir`)
  }
  for (const sub of ['run', 'log', 'crash', 'mon', 'osd', 'rgw', 'tmp']) fs.mkdirSync(path.join(dir, sub))
  const conf = path.join(dir, 'ceph.conf')
  const children: { mon?: ChildProcess; osd?: ChildProcess; radosgw?: ChildProcess } = {}
  let closed = false

  const logTail = (lines = 20): string =>
    LOG_NAMES.flatMap(name => {
      const out: string[] = []
      for (const file of [`${name}.log`, `${name}.stderr`]) {
        const full = path.join(dir, 'log', file)
        if (!fs.existsSync(full)) continue
        const text = fs.readFileSync(full, 'utf8').trimEnd()
        if (text === '') continue
        out.push(`--- ${file} (last ${lines} lines) ---`, ...text.split('\n').slice(-lines))
      }
      return out
    }).join('\n')

  let frozen = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    // A stopped process does not act on SIGTERM until it is continued.
    if (frozen) children.radosgw?.kill('SIGCONT')
    // The OSD tells the mon it is going down and waits for the answer, so the mon goes last.
    for (const child of [children.radosgw, children.osd, children.mon]) if (child) await stopChild(child, 15_000)
    fs.rmSync(dir, { recursive: true, force: true })
  }

  try {
    const [monPort, rgwPort] = await freePorts(2)
    const fsid = randomUUID()
    fs.writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort, options.memoryBytes ?? 2 * 1024 ** 3))
    const admin: S3Keys = newKeys()
    const endpoint = `http://127.0.0.1:${rgwPort}`

    const tool = (command: string, args: string[]) =>
      run(command, ['-c', conf, ...args], dir, Math.max(1000, deadline - Date.now()), logTail)

    // 1. The mon, from a one-mon monmap.
    const monmap = path.join(dir, 'monmap')
    await tool('monmaptool', ['--create', '--fsid', fsid, '--addv', MON_ID, `[v2:127.0.0.1:${monPort}]`, monmap])
    await tool('ceph-mon', ['--mkfs', '-i', MON_ID, '--monmap', monmap])
    children.mon = daemon('ceph-mon', ['-c', conf, '-f', '-i', MON_ID], dir, 'mon.a')
    // 2. One OSD; `ceph osd new` is also the first command that needs the mon up (it waits for it).
    const osdUuid = randomUUID()
    const osdId = (await tool('ceph', ['--connect-timeout', '30', 'osd', 'new', osdUuid])).trim()
    if (osdId !== '0') throw new Error(`ceph osd new gave id ${JSON.stringify(osdId)}, expected 0`)
    const monMs = Date.now() - started
    fs.mkdirSync(path.join(dir, 'osd', `ceph-${osdId}`))
    await tool('ceph-osd', ['-i', osdId, '--mkfs', '--osd-uuid', osdUuid])
    children.osd = daemon('ceph-osd', ['-c', conf, '-f', '-i', osdId], dir, 'osd.0')
    // 3. Wait for it to be up; radosgw's pools need an active PG.
    await until(deadline, 'the OSD to be up', children, logTail, async () => {
      const stat = JSON.parse(await tool('ceph', ['--connect-timeout', '10', 'osd', 'stat', '--format', 'json'])) as {
        num_up_osds?: number
      }
      return stat.num_up_osds === 1
    })
    const osdUpMs = Date.now() - started
    // 4. radosgw, and the admin user (radosgw-admin creates the gateway's pools itself if it gets there first).
    children.radosgw = daemon('radosgw', ['-c', conf, '-f', '-n', RGW_NAME], dir, RGW_NAME)
    await tool('radosgw-admin', [
      'user',
      'create',
      '--uid=admin',
      '--display-name=admin',
      `--access-key=${admin.accessKeyId}`,
      `--secret-key=${admin.secretAccessKey}`
    ])

    const client = (keys: S3Keys = admin, config: Partial<S3ClientConfig> = {}): S3Client =>
      new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        ...config
      })

    // 5. The HTTP port answering a signed request: the user exists and the gateway is serving. A radosgw
    // whose frontend cannot bind logs it and stays up, serving nothing, so its log is watched too.
    const rgwLog = path.join(dir, 'log', `${RGW_NAME}.log`)
    const waitForGateway = async (bound: number, logFrom: number) => {
      // requestTimeout alone only logs a warning in this SDK: throwOnRequestTimeout makes it abort.
      const probe = client(admin, {
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true }
      })
      const frontendFailed = () => {
        const fresh = fs.existsSync(rgwLog) ? fs.readFileSync(rgwLog).subarray(logFrom).toString('utf8') : ''
        return /^.*(failed to bind address|failed initializing frontend).*$/m.exec(fresh)?.[0] ?? null
      }
      try {
        await until(bound, `radosgw to answer a signed request on ${endpoint}`, children, logTail, async () => {
          const failed = frontendFailed()
          if (failed !== null) throw new Fatal(`radosgw could not start its HTTP frontend: ${failed}`)
          await probe.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(3000) })
          return true
        })
      } finally {
        probe.destroy()
      }
    }
    const logSize = () => (fs.existsSync(rgwLog) ? fs.statSync(rgwLog).size : 0)
    await waitForGateway(deadline, 0)
    const startup: S3StartupTimes = { monMs, osdUpMs, gatewayMs: Date.now() - started }

    const withClient = async <T>(keys: S3Keys, action: (s3: S3Client) => Promise<T>): Promise<T> => {
      const s3 = client(keys)
      try {
        return await action(s3)
      } finally {
        s3.destroy()
      }
    }

    return {
      endpoint,
      port: rgwPort,
      region: REGION,
      accessKeyId: admin.accessKeyId,
      secretAccessKey: admin.secretAccessKey,
      dir,
      startup,
      pids: () => ({ mon: children.mon!.pid!, osd: children.osd!.pid!, radosgw: children.radosgw?.pid ?? null }),
      client,
      logTail,
      close,
      createUser: async uid => {
        if (!/^[a-z0-9][a-z0-9_-]*$/.test(uid)) throw new Error(`createUser: ${JSON.stringify(uid)} is not a plain uid`)
        const keys = newKeys()
        await run(
          'radosgw-admin',
          [
            '-c',
            conf,
            'user',
            'create',
            `--uid=${uid}`,
            `--display-name=${uid}`,
            `--access-key=${keys.accessKeyId}`,
            `--secret-key=${keys.secretAccessKey}`
          ],
          dir,
          30_000,
          logTail
        )
        return keys
      },
      createBucket: async (bucket, keys = admin) => {
        await withClient(keys, s3 => s3.send(new CreateBucketCommand({ Bucket: bucket })))
      },
      setBucketPolicy: async (bucket, policy, keys = admin) => {
        await withClient(keys, s3 => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) })))
      },
      stopGateway: async () => {
        const gateway = children.radosgw
        children.radosgw = undefined
        if (gateway && frozen) gateway.kill('SIGCONT')
        frozen = false
        if (gateway) await stopChild(gateway, 10_000)
      },
      freezeGateway: () => {
        if (!children.radosgw) throw new Error('freezeGateway: radosgw is not running')
        children.radosgw.kill('SIGSTOP')
        frozen = true
      },
      thawGateway: () => {
        if (!frozen) throw new Error('thawGateway: radosgw is not frozen')
        children.radosgw?.kill('SIGCONT')
        frozen = false
      },
      startGateway: async () => {
        if (closed) throw new Error('startGateway after close()')
        if (children.radosgw) throw new Error('startGateway: radosgw is already running')
        const logFrom = logSize()
        children.radosgw = daemon('radosgw', ['-c', conf, '-f', '-n', RGW_NAME], dir, RGW_NAME)
        try {
          await waitForGateway(Date.now() + timeoutMs, logFrom)
        } catch (error) {
          const gateway = children.radosgw
          children.radosgw = undefined
          await stopChild(gateway, 10_000)
          throw error
        }
      }
    }
  } catch (error) {
    const message = typeof (error as { message?: unknown })?.message === 'string' ? (error as Error).message : String(error)
    await close()
    throw new Error(`the S3 fixture (Ceph ${dir}) did not start: ${message}`, { cause: error })
  }
}

/** Every path under `dir`; loopback only, msgr2 only; pools of one replica; the settings that make it fast. */
function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number, memoryBytes: number): string {
  const at = (...parts: string[]) => path.join(dir, ...parts)
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = ${MON_ID}
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
run dir = ${at('run')}
admin socket = ${at('run')}/$cluster-$name.asok
pid file = ${at('run')}/$name.pid
log file = ${at('log')}/$name.log
log to syslog = false
err to syslog = false
mon cluster log file = ${at('log')}/cluster.log
mon debug dump location = ${at('log')}/$name.tdump
crash dir = ${at('crash')}
tmp dir = ${at('tmp')}
mon data = ${at('mon')}/$cluster-$id
osd data = ${at('osd')}/$cluster-$id
osd journal = ${at('osd')}/$cluster-$id/journal
ms bind msgr1 = false
ms bind ipv6 = false
public addr = 127.0.0.1
cluster addr = 127.0.0.1
osd objectstore = memstore
memstore device bytes = ${memoryBytes}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false

[mon]
# Every pool radosgw creates waits for a map commit: 17 s of start-up without these, 2 s with.
paxos propose interval = 0.1
paxos min wait = 0.01

[client]
# radosgw asks the mon for a "secure" link by default, which auth none cannot give (-13 forever).
ms mon client mode = crc secure
# Command-line clients (ceph, radosgw-admin) run side by side: no admin socket, or they collide.
admin socket =

[${RGW_NAME}]
admin socket = ${at('run')}/ceph-${RGW_NAME}.asok
rgw data = ${at('rgw')}
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw luarocks location = ${at('tmp')}/luarocks
# A stopped gateway stops now, not after waiting up to 120 s for requests still in flight.
rgw exit timeout secs = 5
`
}

function newKeys(): S3Keys {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const accessKeyId = [...randomBytes(20)].map(byte => alphabet[byte % alphabet.length]).join('')
  return { accessKeyId, secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x') }
}

/** Ports the kernel hands out for 127.0.0.1 right now (held together, so they are distinct). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        })
    )
  )
  const ports = servers.map(server => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map(server => new Promise(resolve => server.close(resolve))))
  return ports
}

/** The child's environment: no inherited CEPH_* variable may point a tool at another cluster or keyring. */
function cephEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CEPH_')) env[name] = value
  return { ...env, CEPH_CONF: path.join(dir, 'ceph.conf'), TMPDIR: path.join(dir, 'tmp') }
}

/** A daemon in the foreground as our child, its stdout and stderr in <dir>/log/<name>.stderr. */
function daemon(command: string, args: string[], dir: string, name: string): ChildProcess {
  const out = fs.openSync(path.join(dir, 'log', `${name}.stderr`), 'a')
  const child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', command, ...args], {
    cwd: dir,
    env: cephEnv(dir),
    stdio: ['ignore', out, out]
  })
  fs.closeSync(out)
  return child
}

/** Runs a command-line tool to completion; its stdout, or an error with its output and the daemons' logs. */
function run(command: string, args: string[], dir: string, timeoutMs: number, logTail: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: dir,
      env: cephEnv(dir),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL'
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(stdout)
      const how = signal === 'SIGKILL' ? `was killed after ${timeoutMs} ms` : signal ? `died of ${signal}` : `exited with ${code}`
      reject(new Error(`${command} ${args.join(' ')} ${how}:\n${stderr.trim() || stdout.trim()}\n${logTail()}`))
    })
  })
}

/** A failure that waiting longer cannot cure. */
class Fatal extends Error {}

/**
 * Polls `ready` until it says yes (false or an error: not yet); fails at `deadline`, as soon as a daemon
 * has exited, or when `ready` throws a Fatal, with the tail of the daemons' logs.
 */
async function until(
  deadline: number,
  what: string,
  children: Record<string, ChildProcess | undefined>,
  logTail: () => string,
  ready: () => Promise<boolean>
): Promise<void> {
  for (;;) {
    for (const [name, child] of Object.entries(children)) {
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`${name} exited (${exitStatus(child)}) while waiting for ${what}\n${logTail()}`)
      }
    }
    let last: unknown = null
    const yes = await ready().catch(error => {
      if (error instanceof Fatal) throw new Error(`${error.message}\n${logTail()}`)
      last = error
      return false
    })
    if (yes) return
    if (Date.now() > deadline) {
      // Duck-typed: a Node error (spawn, socket) is another realm's Error under jest.
      const lastMessage = (last as { message?: unknown } | null)?.message
      const because = typeof lastMessage === 'string' ? ` (last: ${lastMessage})` : ''
      throw new Error(`timed out waiting for ${what}${because}\n${logTail()}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** `98, EADDRINUSE`: ceph daemons exit with the errno of what failed. */
function exitStatus(child: ChildProcess): string {
  if (child.exitCode === null) return String(child.signalCode)
  const name = Object.entries(os.constants.errno).find(([, value]) => value === child.exitCode)?.[0]
  return name ? `${child.exitCode}, ${name}` : String(child.exitCode)
}

/** SIGTERM, and SIGKILL if it has not exited within `graceMs`. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
