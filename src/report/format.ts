const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 0 B, 512 B, 1.50 KiB, 700.0 MiB, 3.20 GiB: about three significant figures. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${bytes} B`
  const digits = value >= 10 ? 1 : 2
  return `${value.toFixed(digits)} ${UNITS[unit]}`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

export function formatPercent(percent: number | null): string {
  return percent === null ? 'n/a' : `${percent.toFixed(percent >= 99.95 || percent === 0 ? 0 : 1)}%`
}

/** Text fit for one Markdown table cell. */
export function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}
