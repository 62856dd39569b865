import * as os from 'node:os'
import * as path from 'node:path'
import { hashFiles } from '../plan/hash-files.js'
import { probe, toolVersion } from '../util/exec.js'
import { type CacheKind, NOTHING_PRUNED, platformParts, rolePart } from './kind.js'

/** pip's own download cache: wheels and HTTP responses, the ~700 MB users fetch on every run. */
export const pip: CacheKind = {
  name: 'pip',

  async locate() {
    const notes: string[] = []
    const dir = await pipCacheDir(notes)
    return { parts: [rolePart('pip-cache', dir)], exclude: ['selfcheck', '*.tmp'], notes }
  },

  async key(config) {
    const python = (await toolVersion('python3')) ?? 'none'
    const deps = await hashFiles(config.pipDependencyFiles, config.workspace)
    return {
      parts: [
        ...platformParts(),
        { name: 'python', value: `py${python.split('.').slice(0, 2).join('.')}`, source: 'python3 --version' },
        {
          name: 'dependencies',
          value: deps.hash,
          source: deps.files.length > 0 ? deps.files.join(', ') : `no file matched ${config.pipDependencyFiles.join(' ')}`
        }
      ],
      droppable: 2
    }
  },

  // pip never evicts; its cache only holds immutable wheels and responses, so nothing is stale by content.
  async prune() {
    return NOTHING_PRUNED
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
