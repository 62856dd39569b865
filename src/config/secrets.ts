import * as core from '@actions/core'
import { Env, Inputs } from '../constants.js'
import { isInlineKey } from './config.js'

/**
 * Masks the inputs (and the AWS credential variables) that may hold secrets, first thing in main and post, before anything can log them. (The
 * config parse has no effects; HF_TOKEN and a key file's content are masked where they are read.)
 */
export function maskSecretInputs(): void {
  for (const name of [Inputs.HfToken, Inputs.GithubToken]) {
    const token = core.getInput(name).trim()
    if (token) core.setSecret(token)
  }
  const key = core.getInput(Inputs.NixSigningKey).trim()
  if (key && isInlineKey(key)) core.setSecret(key)
  // The s3 backend's credentials come from the AWS chain; those in the environment are masked here, those
  // from a profile or web identity by the backend once the SDK has resolved them.
  for (const name of [Env.AwsAccessKeyId, Env.AwsSecretAccessKey, Env.AwsSessionToken]) {
    const value = process.env[name]?.trim()
    if (value) maskSecret(value)
  }
}

const masked = new Set<string>()

/** core.setSecret once per value: the s3 backend masks what the SDK resolved, often the variables masked here. */
export function maskSecret(value: string): void {
  if (masked.has(value)) return
  masked.add(value)
  core.setSecret(value)
}
