import { progressFigures, progressIntervalMs } from '../util/progress.js'

/**
 * Progress of a long operation on stderr: a bar redrawn in place on a terminal, otherwise a plain
 * line every few seconds (QDC_PROGRESS_INTERVAL_MS) so a CI log or a pipe stays readable.
 */
export class Progress {
  private readonly started = Date.now()
  private lastDraw = 0
  private drawn = false

  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr
  ) {}

  private get intervalMs(): number {
    if (this.stream.isTTY) return 100
    return progressIntervalMs(5000)
  }

  update(done: number, total = this.total): void {
    this.total = total
    const now = Date.now()
    if (now - this.lastDraw < this.intervalMs) return
    this.lastDraw = now
    this.draw(done)
  }

  finish(done = this.total): void {
    this.draw(done)
    if (this.stream.isTTY) this.stream.write('\n')
  }

  private draw(done: number): void {
    const fraction = this.total > 0 ? Math.min(done / this.total, 1) : 1
    const figures = progressFigures(done, this.total, this.started)
    if (!this.stream.isTTY) {
      this.stream.write(`${this.label}: ${figures}\n`)
      return
    }
    const width = 24
    const filled = Math.round(fraction * width)
    this.stream.write(`\r\x1b[K${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${figures}`)
    this.drawn = true
  }

  /** Removes the bar or status line, so a final line starts clean. */
  clear(): void {
    if (this.stream.isTTY && this.drawn) this.stream.write('\r\x1b[K')
  }

  /** A status line that replaces the bar (TTY) or is printed as is. */
  note(line: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${line}`)
      this.drawn = true
    } else this.stream.write(`${line}\n`)
  }
}
