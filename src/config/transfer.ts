import { Inputs } from '../constants.js'
import { DEFAULT_CONNECTIONS } from '../fetch/verified-download.js'
import { DEFAULT_IDLE_TIMEOUT_MS } from '../util/idle.js'
import { getString, InputError } from './inputs.js'

/** More connections than this to one host for one file looks like abuse to a CDN, and gains nothing. */
const MAX_CONNECTIONS = 16

/** The `download-connections` and `idle-timeout` inputs, as the downloader takes them. */
export interface TransferInputs {
  connections: number
  idleTimeoutMs: number
}

export function readTransferSettings(): TransferInputs {
  return { connections: readDownloadConnections(), idleTimeoutMs: readIdleTimeoutMs() }
}

/** `download-connections`: 1 to MAX_CONNECTIONS; 1 downloads every file as one stream. */
function readDownloadConnections(): number {
  const raw = getString(Inputs.DownloadConnections, String(DEFAULT_CONNECTIONS))
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < 1 || value > MAX_CONNECTIONS) {
    throw new InputError(
      Inputs.DownloadConnections,
      `'${raw}' is not a whole number from 1 to ${MAX_CONNECTIONS}; 1 downloads each file as one stream`
    )
  }
  return value
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }

/** `idle-timeout`: seconds (`60`, `90s`), minutes (`2m`) or milliseconds (`500ms`), above 0. */
function readIdleTimeoutMs(): number {
  const raw = getString(Inputs.IdleTimeout, `${DEFAULT_IDLE_TIMEOUT_MS / 1000}s`)
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/i.exec(raw)
  const ms = match ? Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? 's').toLowerCase()]) : NaN
  if (!(ms > 0)) throw new InputError(Inputs.IdleTimeout, `'${raw}' is not a duration above 0; write it like 60, 90s or 2m`)
  return ms
}
