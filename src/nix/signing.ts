import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { InputError } from '../config/inputs.js'
import { Inputs } from '../constants.js'

/** DER prefixes that turn raw Ed25519 bytes into keys node:crypto accepts. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

export interface SigningKey {
  /** The key file the input names; null when the input is the key itself (it is never kept, see withKeyFile). */
  file: string | null
  publicKey: string
}

const KEY_FORMAT = 'expected name:base64 of 64 bytes, as written by nix-store --generate-binary-cache-key'

/**
 * The `nix-signing-key` input: the key itself (typically a secret) or a file holding it. Masked at once;
 * a malformed key fails main with one line that never repeats the value.
 */
export function readNixSigningKey(workspace: string): SigningKey | null {
  const raw = core.getInput(Inputs.NixSigningKey).trim()
  if (raw === '') return null
  core.setSecret(raw)
  const inline = raw.includes(':') || raw.includes('\n')
  const file = inline ? null : path.resolve(workspace, raw)
  if (file && !fs.existsSync(file)) throw new InputError(Inputs.NixSigningKey, `the file ${file} does not exist; give a key file or the key itself`)
  const secret = inline ? raw : fs.readFileSync(file as string, 'utf8').trim()
  if (!inline) core.setSecret(secret)
  const publicKey = publicKeyOf(secret)
  if (!publicKey) throw new InputError(Inputs.NixSigningKey, `is not a Nix secret key (${KEY_FORMAT})`)
  return { file, publicKey }
}

/**
 * Runs `work` with a file Nix can read the secret key from (`secret-key=` takes files only). A key given
 * inline is read from the input again here rather than carried in the run state, and its private copy
 * lives only as long as `work`: no copy of the secret outlives the step that needs it.
 */
export async function withKeyFile<T>(key: SigningKey | null, work: (file: string | null) => Promise<T>): Promise<T> {
  if (key === null || key.file !== null) return work(key?.file ?? null)
  const secret = core.getInput(Inputs.NixSigningKey).trim()
  core.setSecret(secret)
  if (publicKeyOf(secret) !== key.publicKey) throw new Error('the nix-signing-key input changed between the main and post steps; not signing')
  const dir = await fsp.mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'qdc-nix-key-'))
  try {
    const file = path.join(dir, 'secret-key')
    await fsp.writeFile(file, secret, { mode: 0o600 })
    return await work(file)
  } finally {
    await fsp.rm(dir, { recursive: true, force: true })
  }
}

/** `name:base64(public)` for a Nix secret key, or null when it is not one (seed and public half must agree). */
export function publicKeyOf(secret: string): string | null {
  const match = /^([^:\s]+):([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim())
  if (!match) return null
  const bytes = Buffer.from(match[2], 'base64')
  if (bytes.length !== 64) return null
  try {
    const key = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
    const derived = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length)
    return derived.equals(bytes.subarray(32)) ? `${match[1]}:${derived.toString('base64')}` : null
  } catch {
    return null
  }
}

/** Whether `signature` (`name:base64`) is `publicKey`'s signature over a narinfo's fingerprint. */
export function verifySignature(fingerprint: string, signature: string, publicKey: string): boolean {
  const [sigName, sigData] = splitKey(signature)
  const [keyName, keyData] = splitKey(publicKey)
  if (!sigName || sigName !== keyName || !sigData || !keyData) return false
  const raw = Buffer.from(keyData, 'base64')
  if (raw.length !== 32) return false
  try {
    const key = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' })
    return crypto.verify(null, Buffer.from(fingerprint), key, Buffer.from(sigData, 'base64'))
  } catch {
    return false
  }
}

export function keyName(key: string): string {
  return splitKey(key)[0]
}

function splitKey(key: string): [string, string] {
  const colon = key.indexOf(':')
  return colon < 0 ? ['', ''] : [key.slice(0, colon), key.slice(colon + 1)]
}

