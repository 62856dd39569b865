import * as crypto from 'node:crypto'

/** DER prefixes that turn raw Ed25519 bytes into keys node:crypto accepts. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
export const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')

export const SECRET_KEY_FORMAT = 'expected name:base64 of 64 bytes, as written by nix-store --generate-binary-cache-key'

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
