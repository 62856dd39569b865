/**
 * Runs `work` with every chunk written to stdout handed to `hook` first; the chunk still reaches stdout
 * when `hook` returns true. The one place qdc intercepts @actions/core's output.
 */
export async function hookStdout<T>(hook: (text: string) => boolean, work: () => Promise<T>): Promise<T> {
  const stdout = process.stdout
  const original = Object.getOwnPropertyDescriptor(stdout, 'write')
  const write = stdout.write.bind(stdout) as (...args: unknown[]) => boolean
  stdout.write = function (chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array<ArrayBuffer>).toString('utf8')
    if (hook(text)) return write(chunk, ...rest)
    const callback = rest.find(arg => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    return true
  }
  try {
    return await work()
  } finally {
    // Back to exactly what was there: the stream's own write, or an outer hook's.
    if (original) Object.defineProperty(stdout, 'write', original)
    else delete (stdout as { write?: unknown }).write
  }
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
