/** Between two progress lines in a log, unless QDC_PROGRESS_INTERVAL_MS says otherwise. */
const DEFAULT_INTERVAL_MS = 10_000

/** `label: 42% of 1200.0 MB, 85.3 MB/s` */
export function progressText(label: string, done: number, total: number, startedMs: number): string {
  const seconds = Math.max((Date.now() - startedMs) / 1000, 0.001)
  const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
  return `${label}: ${percent}% of ${megabytes(total)}, ${megabytes(done / seconds)}/s`
}

/** A counter fed with byte increments that writes a progress line through `log` at a sane rate. */
export function progressLog(label: string, total: number, log: (line: string) => void): (bytes: number) => void {
  const interval = Number(process.env.QDC_PROGRESS_INTERVAL_MS) || DEFAULT_INTERVAL_MS
  const started = Date.now()
  let last = started
  let done = 0
  return bytes => {
    done += bytes
    const now = Date.now()
    if (now - last < interval) return
    last = now
    log(progressText(label, done, total, started))
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}
