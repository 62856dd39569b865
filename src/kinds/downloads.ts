import * as core from '@actions/core'
import { fetchDownload } from '../fetch/downloads.js'
import { addTransfer, type FetchedDetails, fetchedFiles, renderFiles } from '../fetch/files.js'
import { formatBytes } from '../report/format.js'
import { type CacheKind, rolePart } from './kind.js'

/**
 * The content-addressed download cache: artifacts of the `downloads` input, stored by SHA-256 and copied to
 * their destinations once verified. The same bytes on every platform, so the key has no parts.
 */
export const downloads: CacheKind = {
  name: 'downloads',

  async plan({ config, inPlaceDir }) {
    return {
      parts: [rolePart('downloads-store', inPlaceDir ?? config.downloads.dir)],
      exclude: [],
      notes: ['content-addressed download cache'],
      keyParts: [],
      droppable: 0,
      inPlace: inPlaceDir !== null
    }
  },

  async afterRestore({ config, plan, entry }) {
    if (config.downloads.specs.length === 0) return
    await core.group('Fetch downloads', async () => {
      const details: FetchedDetails = { files: [] }
      entry.details = details
      for (const spec of config.downloads.specs) {
        const started = performance.now()
        const file = await fetchDownload(spec, plan.spec.parts[0].path, undefined, config.transfer)
        details.files.push(file)
        if (file.source !== 'cache') addTransfer(entry, file.size, performance.now() - started)
        core.info(`${file.path}: ${file.source} (${formatBytes(file.size)}, sha256 ${spec.sha256.slice(0, 12)}…)`)
      }
    })
  },

  summarize(entry) {
    const files = fetchedFiles(entry)
    return files?.length ? renderFiles(files) : []
  }
}
