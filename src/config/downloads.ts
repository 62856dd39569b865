import * as fs from 'node:fs'
import * as path from 'node:path'
import { Inputs } from '../constants.js'
import { InputError, readManifestLines } from './inputs.js'

/** One artifact of the `downloads` input: `url sha256 dest`. */
export interface DownloadSpec {
  url: string
  sha256: string
  /** Absolute; relative destinations are taken from the workspace. */
  dest: string
}

/** Lines of `url sha256 dest`, or a single line naming a manifest file of such lines. */
export function parseDownloads(lines: string[], workspace: string): DownloadSpec[] {
  const manifest = lines.length === 1 && lines[0].split(/\s+/).length === 1 ? path.resolve(workspace, lines[0]) : null
  if (manifest === null) return lines.map(line => parseDownloadLine(line, workspace))
  if (!fs.existsSync(manifest))
    throw new InputError(Inputs.Downloads, `'${lines[0]}' is neither 'url sha256 dest' nor a manifest file that exists`)
  return readManifestLines(manifest).map(line => parseDownloadLine(line, workspace))
}

function parseDownloadLine(line: string, workspace: string): DownloadSpec {
  const fields = line.split(/\s+/)
  if (fields.length !== 3) throw new InputError(Inputs.Downloads, `'${line}' should be three fields: url sha256 dest`)
  const [url, digest, dest] = fields
  if (!/^https?:\/\/[^/]+/.test(url)) throw new InputError(Inputs.Downloads, `'${url}' is not an http(s) URL`)
  const sha256 = digest.replace(/^sha256:/i, '')
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new InputError(Inputs.Downloads, `'${digest}' for ${url} is not a sha256 (64 hex digits)`)
  return { url, sha256: sha256.toLowerCase(), dest: path.resolve(workspace, dest) }
}
