import { type CacheKind, NOTHING_PRUNED } from './kind.js'

/** The user's own paths under the user's own key, like actions/cache; the key is taken as given. */
export const custom: CacheKind = {
  name: 'custom',

  async locate(config) {
    const parts = (config.custom?.paths ?? []).map(p => ({ origin: 'spelled' as const, name: p.spelled, path: p.path }))
    return { parts, exclude: [], notes: ['paths from the `paths` input, each known by its spelling on every machine'] }
  },

  async key() {
    return { parts: [], droppable: 0 }
  },

  async prune() {
    return NOTHING_PRUNED
  }
}
