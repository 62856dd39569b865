/** Terminal output: colours only on a TTY, the action's workflow commands made readable, Markdown rendered. */
import { hookStdout, parseLogLine } from '../util/capture.js'

export interface Style {
  bold(text: string): string
  dim(text: string): string
  yellow(text: string): string
  red(text: string): string
}

export function styleFor(stream: NodeJS.WriteStream): Style {
  const on = Boolean(stream.isTTY) && !process.env.NO_COLOR
  const wrap = (code: string) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text)
  return { bold: wrap('1'), dim: wrap('2'), yellow: wrap('33'), red: wrap('31') }
}

/**
 * Reads what @actions/core writes (`::group::`, `::warning::`, `::add-mask::` ...) line by line and
 * prints it the way a person at a terminal wants it: groups as headings, annotations as
 * `warning:` lines, masked values replaced, debug hidden unless asked for.
 */
export class WorkflowCommandFilter {
  private pending = ''
  private readonly secrets: string[] = []
  private inGroup = false

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly options: { quiet: boolean; debug: boolean }
  ) {}

  write(chunk: string): void {
    this.pending += chunk
    const lines = this.pending.split(/\r?\n/)
    this.pending = lines.pop() ?? ''
    for (const line of lines) this.line(line)
  }

  flush(): void {
    if (this.pending) this.line(this.pending)
    this.pending = ''
  }

  private line(raw: string): void {
    const style = styleFor(this.out)
    const { command, text } = parseLogLine(raw)
    if (command === null) {
      if (!this.options.quiet) this.emit(this.inGroup ? `  ${raw}` : raw)
      return
    }
    switch (command) {
      case 'add-mask':
        if (text) this.secrets.push(text)
        return
      case 'group':
        this.inGroup = true
        if (!this.options.quiet) this.emit(style.bold(`▸ ${text}`))
        return
      case 'endgroup':
        this.inGroup = false
        return
      case 'debug':
        if (this.options.debug) this.emit(style.dim(`debug: ${text}`))
        return
      case 'warning':
        this.emit(style.yellow(`warning: ${text}`))
        return
      case 'error':
        this.emit(style.red(`error: ${text}`))
        return
      case 'notice':
        this.emit(`notice: ${text}`)
        return
      default:
        if (!this.options.quiet) this.emit(raw)
    }
  }

  private emit(line: string): void {
    let masked = line
    for (const secret of this.secrets) masked = masked.split(secret).join('***')
    this.out.write(masked + '\n')
  }
}

/**
 * Runs work with process.stdout (where @actions/core writes) going through the filter; the
 * action's code stays as it is, only its output is translated.
 */
export async function translatingActionsOutput<T>(filter: WorkflowCommandFilter, work: () => Promise<T>): Promise<T> {
  try {
    return await hookStdout(text => {
      filter.write(text)
      return false
    }, work)
  } finally {
    filter.flush()
  }
}

/** The job summary's Markdown for a terminal: headings bold, tables aligned, code spans plain. */
export function renderMarkdown(markdown: string, style: Style): string {
  const out: string[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('|')) {
      const table: string[] = []
      while (i < lines.length && lines[i].startsWith('|')) table.push(lines[i++])
      i--
      out.push(...renderTable(table, style))
      continue
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(lines[i])
    out.push(heading ? style.bold(inline(heading[1], style)) : inline(lines[i], style))
  }
  return out.join('\n')
}

function inline(text: string, style: Style): string {
  return text
    .replace(/\*\*(.+?)\*\*/g, (_, inner: string) => style.bold(inner))
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\\\|/g, '|')
}

function renderTable(rows: string[], style: Style): string[] {
  const cells = rows.filter(row => !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(row)).map(splitRow)
  const alignRight = (splitRow(rows[1] ?? '') ?? []).map(cell => /-+:$/.test(cell))
  const columns = Math.max(...cells.map(row => row.length))
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...cells.map(row => displayWidth(row[c] ?? ''))))
  const pad = (text: string, c: number) => {
    const gap = ' '.repeat(widths[c] - displayWidth(text))
    return alignRight[c] ? gap + text : text + gap
  }
  const rendered = cells.map(row =>
    row
      .map((cell, c) => pad(cell, c))
      .join('  ')
      .trimEnd()
  )
  const rule = style.dim(widths.map(w => '─'.repeat(w)).join('  '))
  return [style.bold(rendered[0]), rule, ...rendered.slice(1)]
}

/** Cells of `| a | b \| c |`, inline Markdown removed. */
function splitRow(row: string): string[] {
  const cells = row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
  return cells.map(cell =>
    cell
      .trim()
      .replace(/\*\*(.+?)\*\*/g, '$1')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/\\\|/g, '|')
  )
}

/** Columns a terminal gives the text: emoji take two, variation selectors none. */
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    if (code === 0xfe0f || code === 0x200d) continue
    width += code >= 0x1f300 || code === 0x2705 || code === 0x274c || code === 0x26a0 ? 2 : 1
  }
  return width
}
