import * as os from 'node:os'
import * as path from 'node:path'
import { Env } from '../constants.js'
import { hashFiles } from '../plan/hash-files.js'
import { probe, toolVersion } from '../util/exec.js'
import { type CacheKind, platformParts, rolePart } from './kind.js'

/** pip's own download cache: wheels and HTTP responses, the ~700 MB users fetch on every run. */
export const pip: CacheKind = {
  name: 'pip',

  async plan({ config, inPlaceDir }) {
    const notes: string[] = []
    const dir = inPlaceDir ?? (await pipCacheDir(notes))
    const python = (await toolVersion('python3')) ?? 'none'
    const deps = await hashFiles(config.pip.dependencyFiles, config.workspace)
    return {
      parts: [rolePart('pip-cache', dir)],
      // pip never evicts; its cache only holds immutable wheels and responses, so nothing is stale by content.
      exclude: ['selfcheck', '*.tmp'],
      notes,
      keyParts: [
        ...platformParts(),
        { name: 'python', value: `py${python.split('.').slice(0, 2).join('.')}`, source: 'python3 --version' },
        {
          name: 'dependencies',
          value: deps.hash,
          source: deps.files.length > 0 ? deps.files.join(', ') : `no file matched ${config.pip.dependencyFiles.join(' ')}`
        }
      ],
      droppable: 2,
      ...(inPlaceDir === null ? {} : { inPlace: true, env: { [Env.PipCacheDir]: dir } })
    }
  }
}

async function pipCacheDir(notes: string[]): Promise<string> {
  if (process.env.PIP_CACHE_DIR) {
    notes.push('pip cache directory from PIP_CACHE_DIR')
    return path.resolve(process.env.PIP_CACHE_DIR)
  }
  const reported = await probe('python3', ['-m', 'pip', 'cache', 'dir'])
  if (reported) {
    notes.push('pip cache directory from `python3 -m pip cache dir`')
    return reported.split('\n').pop()!.trim()
  }
  const fallback = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pip')
  notes.push(`pip did not report its cache directory (not installed, or caching disabled); using ${fallback}`)
  return fallback
}
