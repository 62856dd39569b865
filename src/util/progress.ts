import { formatBytes } from '../report/format.js'

/** Between two progress lines in a log: QDC_PROGRESS_INTERVAL_MS, else `fallbackMs`. */
export function progressIntervalMs(fallbackMs = 10_000): number {
  const configured = Number(process.env.QDC_PROGRESS_INTERVAL_MS)
  return Number.isFinite(configured) && configured > 0 ? configured : fallbackMs
}

/** `42% 840.0 MiB of 2.00 GiB, 310.5 MiB/s`: the figures of every progress line and bar. */
export function progressFigures(done: number, total: number, startedMs: number): string {
  const seconds = Math.max((Date.now() - startedMs) / 1000, 0.001)
  const percent = total > 0 ? Math.floor(Math.min(done / total, 1) * 100) : 100
  return `${percent}% ${formatBytes(done)} of ${formatBytes(total)}, ${formatBytes(Math.round(done / seconds))}/s`
}

/** `label: 42% 840.0 MiB of 2.00 GiB, 310.5 MiB/s` */
export function progressText(label: string, done: number, total: number, startedMs: number): string {
  return `${label}: ${progressFigures(done, total, startedMs)}`
}

/**
 * A counter fed with byte increments that writes a progress line through `log` at a sane rate. `total` is
 * undefined for a transfer whose size is not known until it ends (an archive tar is still making).
 */
export function progressLog(label: string, total: number | undefined, log: (line: string) => void): (bytes: number) => void {
  const interval = progressIntervalMs()
  const started = Date.now()
  let last = started
  let done = 0
  return bytes => {
    done += bytes
    const now = Date.now()
    if (now - last < interval) return
    last = now
    if (total !== undefined) return log(progressText(label, done, total, started))
    const seconds = Math.max((now - started) / 1000, 0.001)
    log(`${label}: ${formatBytes(done)}, ${formatBytes(Math.round(done / seconds))}/s`)
  }
}
