import { AsyncLocalStorage } from 'node:async_hooks'

/*
 * The one place qdc intercepts @actions/core's output, which it writes to process.stdout. Hooks belong to
 * the work they were set up for, not to the process: a write is handed to the hooks of the async context
 * it was made in (AsyncLocalStorage), innermost first. So kinds that restore at the same time each keep
 * their own lines (holdOutput), and the GitHub backend reads only its own call's log lines (captureLog)
 * while other calls log beside it.
 */

interface Hook {
  /** Sees a chunk first; false keeps it from the hooks outside and from stdout. */
  accept: (text: string) => boolean
  outer: Hook | undefined
}

const innermost = new AsyncLocalStorage<Hook>()
/** How many hookStdout calls are running: stdout.write is replaced while there is one. */
let running = 0
let replaced: PropertyDescriptor | undefined

/**
 * Runs `work` with every chunk it (and whatever it starts) writes to stdout handed to `hook` first; the
 * chunk goes on to outer hooks and to stdout when `hook` returns true. Writes from other work are not seen.
 */
export async function hookStdout<T>(hook: (text: string) => boolean, work: () => Promise<T>): Promise<T> {
  if (running++ === 0) replaceWrite()
  try {
    return await innermost.run({ accept: hook, outer: innermost.getStore() }, work)
  } finally {
    if (--running === 0) restoreWrite()
  }
}

function replaceWrite(): void {
  const stdout = process.stdout
  replaced = Object.getOwnPropertyDescriptor(stdout, 'write')
  const write = stdout.write.bind(stdout) as (...args: unknown[]) => boolean
  stdout.write = function (chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array<ArrayBuffer>).toString('utf8')
    for (let hook = innermost.getStore(); hook; hook = hook.outer) {
      if (hook.accept(text)) continue
      const callback = rest.find(arg => typeof arg === 'function') as (() => void) | undefined
      callback?.()
      return true
    }
    return write(chunk, ...rest)
  }
}

/** Back to exactly what was there: the stream's own write, or one a test put there. */
function restoreWrite(): void {
  const stdout = process.stdout
  if (replaced) Object.defineProperty(stdout, 'write', replaced)
  else delete (stdout as { write?: unknown }).write
  replaced = undefined
}

/**
 * Runs `work` while copying what @actions/core writes to stdout. @actions/cache reports archive sizes
 * and failure reasons only in its log (saveCache returns just an id), and the ledger needs both.
 * Everything still reaches the runner unchanged.
 */
export async function captureLog<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = []
  let pending = ''
  const result = await hookStdout(text => {
    const complete = (pending + text).split(/\r?\n/)
    pending = complete.pop() ?? ''
    lines.push(...complete)
    return true
  }, work)
  return { result, lines: pending ? [...lines, pending] : lines }
}

/**
 * Runs `work` with what it writes held back, then writes all of it at once, whether `work` succeeded or
 * not: a kind's group (`::group::Restore pip` … `::endgroup::`) stays in one piece while other kinds log
 * at the same time. Written from the caller's context, so outer hooks (the CLI's filter) still see it.
 */
export async function holdOutput<T>(work: () => Promise<T>): Promise<T> {
  const held: string[] = []
  try {
    return await hookStdout(text => {
      // A mask must reach the runner before any line that may hold the secret, whichever kind writes it.
      if (text.startsWith('::add-mask::')) return true
      held.push(text)
      return false
    }, work)
  } finally {
    if (held.length > 0) process.stdout.write(held.join(''))
  }
}

/** A line @actions/core wrote: a workflow command (`::warning::text`) with its data unescaped, or plain text. */
export interface LogLine {
  /** The workflow command's name (`warning`, `group`, `add-mask`, ...); null for plain output. */
  command: string | null
  text: string
}

export function parseLogLine(line: string): LogLine {
  const match = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line)
  if (!match) return { command: null, text: line }
  // Workflow command data escapes %, CR and LF.
  return { command: match[1], text: match[2].replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%') }
}
