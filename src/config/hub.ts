import { InputError } from './inputs.js'

const DEFAULT_ENDPOINT = 'https://huggingface.co'

/**
 * The Hub to talk to: the given value, else HF_ENDPOINT like huggingface_hub, else huggingface.co, without
 * trailing slashes. `name` is the input or flag to blame when it is not an http(s) URL.
 */
export function hubEndpoint(name: string, given: string | null | undefined): string {
  const endpoint = (given || process.env.HF_ENDPOINT || DEFAULT_ENDPOINT).trim().replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(endpoint)) throw new InputError(name, `'${endpoint}' is not an http(s) URL`)
  return endpoint
}

/** The given token, else the one huggingface_hub itself would use (HF_TOKEN, HUGGING_FACE_HUB_TOKEN). */
export function hubToken(given?: string): string | undefined {
  return given?.trim() || process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined
}
