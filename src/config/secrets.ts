import * as core from '@actions/core'
import { Inputs } from '../constants.js'
import { isInlineKey } from './config.js'

/**
 * Masks the inputs that may hold secrets, first thing in main and post, before anything can log them. (The
 * config parse has no effects; HF_TOKEN and a key file's content are masked where they are read.)
 */
export function maskSecretInputs(): void {
  for (const name of [Inputs.HfToken, Inputs.GithubToken]) {
    const token = core.getInput(name).trim()
    if (token) core.setSecret(token)
  }
  const key = core.getInput(Inputs.NixSigningKey).trim()
  if (key && isInlineKey(key)) core.setSecret(key)
}
