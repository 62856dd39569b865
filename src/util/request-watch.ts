import { AsyncLocalStorage } from 'node:async_hooks'
import { subscribe } from 'node:diagnostics_channel'
import type { ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import { hookStdout } from './capture.js'
import { type IdleTimeoutError, IdleWatch } from './idle.js'

/*
 * Idle timeouts for a library's own HTTP, without its help and without protocol code of ours. Node publishes
 * every node:http(s) request it makes on the `http.client.request.created` diagnostics channel, synchronously
 * in the async context that made it; @actions/cache's client, and the Azure SDK it downloads with from Azure
 * blob storage, are both node:http(s). So each request made inside `watchRequests` gets one IdleWatch, touched by
 * every chunk its socket receives and held while its reader pauses it; a request that goes `idleMs` without a byte is destroyed, naming its host
 * and path. From then on every request of that work is refused at once (the library's retries end without
 * waiting out their own timeouts), and `watchRequests` rejects right away: the library's call is left to wind
 * down on its own, its log muted, with every download it might still try refused.
 */

interface Watch {
  idleMs: number
  /** Starts the message: `the cache service stalled`. */
  label: string
  stalled: IdleTimeoutError | null
  onStall: (error: IdleTimeoutError) => void
}

const watching = new AsyncLocalStorage<Watch>()
let subscribed = false

/** The channel passes `{ request }`, in the constructor: before the request has a socket or sent a byte. */
function onRequestCreated(message: unknown): void {
  const watch = watching.getStore()
  if (watch) watchRequest((message as { request: ClientRequest }).request, watch)
}

/**
 * Runs `work`, destroying any request it makes through node:http(s) that goes `idleMs` without a byte, and
 * rejects with that IdleTimeoutError as soon as one does; what the abandoned work logs after that is dropped
 * (its own complaint about the destroyed request would only repeat the stall, outside its group).
 */
export async function watchRequests<T>(idleMs: number, label: string, work: () => Promise<T>): Promise<T> {
  if (!subscribed) {
    subscribe('http.client.request.created', onRequestCreated)
    subscribed = true
  }
  let stall!: (error: IdleTimeoutError) => void
  const stalled = new Promise<never>((_, reject) => (stall = reject))
  const watch: Watch = {
    idleMs,
    label,
    stalled: null,
    onStall: stall
  }
  const running = watching.run(watch, () => hookStdout(() => watch.stalled === null, work))
  // The abandoned work may still fail later; it was reported through the stall already.
  running.catch(() => undefined)
  return Promise.race([running, stalled])
}

function watchRequest(request: ClientRequest, watch: Watch): void {
  if (watch.stalled) {
    request.destroy(watch.stalled)
    return
  }
  const idle = new IdleWatch(watch.idleMs, () => `${watch.label}: ${describe(request)}`)
  idle.signal.addEventListener('abort', () => {
    const error = idle.signal.reason as IdleTimeoutError
    watch.stalled = error
    request.destroy(error)
    watch.onStall(error)
  })
  const touch = (): void => idle.touch()
  // A socket paused by its reader is our side (a slow disk) holding the bytes back, not the server.
  const hold = (): void => idle.hold()
  const release = (): void => idle.release()
  request.once('socket', (socket: Socket) => {
    socket.on('data', touch).on('pause', hold).on('resume', release)
    request.once('close', () => socket.off('data', touch).off('pause', hold).off('resume', release))
  })
  request.once('close', () => idle.stop())
}

/** `127.0.0.1:40123, GET /devstoreaccount1/cache/entry-3`: no query, which holds the URL's signature. */
function describe(request: ClientRequest): string {
  const host = request.getHeader('host') ?? request.host
  return `${String(host)}, ${request.method} ${request.path.split('?')[0]}`
}
