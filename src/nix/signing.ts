import * as crypto from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { SigningKeySource } from '../config/config.js'
import { InputError } from '../config/inputs.js'
import { publicKeyOf, SECRET_KEY_FORMAT, SPKI_ED25519 } from '../config/nix-key.js'
import { Inputs } from '../constants.js'
import { runnerTemp } from '../util/temp.js'

/** The key that signs what the nix kind saves: where Nix reads it from, and its public half. */
export interface SigningKey {
  /** The key file the input names; null when the input is the key itself (never kept, see withKeyFile). */
  file: string | null
  publicKey: string
}

/**
 * The signing key the input names, checked before anything is restored: a key file is read (and its
 * content masked) here, an inline key was checked by the config parse. A malformed key is one input error
 * that never repeats the value.
 */
export async function resolveSigningKey(source: SigningKeySource | null): Promise<SigningKey | null> {
  if (source === null) return null
  if ('inline' in source) return { file: null, publicKey: source.inline.publicKey }
  const secret = await fs.readFile(source.file, 'utf8').catch(() => null)
  if (secret === null)
    throw new InputError(Inputs.NixSigningKey, `the file ${source.file} does not exist; give a key file or the key itself`)
  core.setSecret(secret.trim())
  const publicKey = publicKeyOf(secret)
  if (!publicKey) throw new InputError(Inputs.NixSigningKey, `${source.file} does not hold a Nix secret key (${SECRET_KEY_FORMAT})`)
  return { file: source.file, publicKey }
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
  if (publicKeyOf(secret) !== key.publicKey)
    throw new Error('the nix-signing-key input changed between the main and post steps; not signing')
  const dir = await fs.mkdtemp(path.join(runnerTemp(), 'qdc-nix-key-'))
  try {
    const file = path.join(dir, 'secret-key')
    await fs.writeFile(file, secret, { mode: 0o600 })
    return await work(file)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
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
