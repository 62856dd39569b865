import * as fs from 'node:fs'

/**
 * The runner's side of @actions/core's file commands (GITHUB_ENV, GITHUB_STATE, GITHUB_OUTPUT):
 * `name=value` lines or `name<<DELIMITER` ... `DELIMITER` blocks. A block without its delimiter is refused,
 * as the runner refuses it ("Matching delimiter not found"), rather than read to the end of the file.
 */
export function readFileCommand(file: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1)
      if (end < 0) throw new Error(`${file}: '${heredoc[1]}<<${heredoc[2]}' has no closing delimiter`)
      values[heredoc[1]] = lines.slice(i + 1, end).join('\n')
      i = end
      continue
    }
    const eq = lines[i].indexOf('=')
    if (eq > 0) values[lines[i].slice(0, eq)] = lines[i].slice(eq + 1)
  }
  return values
}
