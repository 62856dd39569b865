import { parseArgs, type ParseArgsConfig } from 'node:util'
import { hubEndpoint } from '../config/hub.js'
import { InputError, parseAge, parseSize } from '../config/inputs.js'
import { UsageError } from './errors.js'

type Options = NonNullable<ParseArgsConfig['options']>

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' }
} as const satisfies Options

/**
 * Where the store is: `--store`, else the config file's `local-dir`, else the action's default; or, with
 * `--backend s3`, the bucket the `--s3-*` flags (named after the action's inputs) or the config file name.
 */
export const STORE_OPTIONS = {
  store: { type: 'string' },
  config: { type: 'string' },
  backend: { type: 'string' },
  's3-bucket': { type: 'string' },
  's3-prefix': { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-force-path-style': { type: 'boolean' }
} as const satisfies Options

/** The store flags every management command's --help lists. */
export const STORE_USAGE = `  --store DIR    the local store (default: the config's local-dir, else ~/.cache/qdc-action/store)
  --config FILE  a qdc run config file, for its backend, local-dir or s3-* settings and limits
  --backend B    local (default) or s3
  --s3-bucket NAME, --s3-prefix P, --s3-endpoint URL, --s3-region R, --s3-force-path-style
                 the s3 store, as the action's inputs of the same names (credentials: the AWS chain)`

/** node:util parseArgs, strict: an unknown flag or a missing value is a usage error naming it. */
export function parseCommand<T extends Options>(command: string, argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals })
  } catch (error) {
    const message = (error as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')
    throw new UsageError(`${command}: ${message}; see qdc ${command} --help`)
  }
}

export function sizeFlag(flag: string, raw: string): number {
  return namedByFlag(flag, () => parseSize(flag, raw))
}

export function ageFlag(flag: string, raw: string): number {
  return namedByFlag(flag, () => parseAge(flag, raw))
}

/** The Hub a flag names, else HF_ENDPOINT, else huggingface.co (as the action's hf-endpoint input). */
export function hubEndpointFlag(flag: string, raw: string | undefined): string {
  return namedByFlag(flag, () => hubEndpoint(flag, raw))
}

function namedByFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    if (error instanceof InputError) throw new UsageError(`${flag}: ${error.problem}`)
    throw error
  }
}
