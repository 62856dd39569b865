import type { CacheKind } from './kind.js'

/** The user's own paths under the user's own key, like actions/cache; the key is taken as given. */
export const custom: CacheKind = {
  name: 'custom',

  async plan({ config }) {
    const paths = config.paths?.paths ?? []
    return {
      parts: paths.map(p => ({ origin: 'spelled' as const, name: p.spelled, path: p.path })),
      exclude: [],
      notes: ['paths from the `paths` input, each known by its spelling on every machine'],
      keyParts: [],
      droppable: 0,
      ownKey: config.paths ? { key: config.paths.key, restoreKeys: config.paths.restoreKeys } : undefined
    }
  }
}
