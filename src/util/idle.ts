/** The default of the `idle-timeout` input: how long a transfer may go without a byte. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

/** A transfer went `idleMs` without a byte; the message names the connection (host, file, range). */
export class IdleTimeoutError extends Error {
  constructor(
    readonly idleMs: number,
    what: string
  ) {
    super(`${what}: no byte for ${formatSeconds(idleMs)}`)
    this.name = 'IdleTimeoutError'
  }
}

/** `60 s`, `1.5 s`, `0.25 s`. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`
}

/**
 * Aborts a transfer that goes `ms` without a byte. Give `signal` to the request (undici's `request`,
 * `fetch`, a stream's `destroy`), call `touch()` on every byte, `hold()` while we ourselves stop
 * reading (backpressure from our own disk or hasher must not count as the server stalling) and
 * `release()` after, and `stop()` once done. `touch` only re-arms one timer, so it is cheap enough to
 * call per network chunk. When it fires, `signal` aborts with an IdleTimeoutError naming `describe()`.
 */
export class IdleWatch {
  private readonly controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly ms: number,
    private readonly describe: () => string
  ) {
    this.arm()
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  touch(): void {
    this.timer?.refresh()
  }

  hold(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  release(): void {
    if (this.timer === undefined) this.arm()
  }

  stop(): void {
    this.stopped = true
    this.hold()
  }

  /** Aborts now with `reason`: how a transfer cancels its sibling connections. */
  abort(reason: Error): void {
    this.stop()
    this.controller.abort(reason)
  }

  private arm(): void {
    if (this.stopped || this.controller.signal.aborted) return
    this.timer = setTimeout(() => this.abort(new IdleTimeoutError(this.ms, this.describe())), this.ms)
  }
}
