import type { ActionConfig, KindName } from '../config/config.js'
import { toolVersion } from '../util/exec.js'
import { type CacheKind, type KeyPart, NOTHING_PRUNED, platformParts, rolePart } from './kind.js'

/**
 * Kinds that are one directory qdc owns. Later capabilities add behaviour around them (the podman layer
 * cache bridge, Nix substituter setup, verified downloads); the caching itself is the same.
 */
function directoryKind(
  name: KindName,
  role: string,
  dirOf: (config: ActionConfig) => string,
  describe: string,
  keyParts: () => Promise<KeyPart[]>
): CacheKind {
  return {
    name,
    async locate(config) {
      return { parts: [rolePart(role, dirOf(config))], exclude: [], notes: [describe] }
    },
    async key() {
      return { parts: await keyParts(), droppable: 0 }
    },
    async prune() {
      return NOTHING_PRUNED
    }
  }
}

async function toolPart(tool: string): Promise<KeyPart> {
  const version = await toolVersion(tool)
  return { name: tool, value: `${tool}${version ?? '-none'}`, source: `${tool} --version` }
}

export const podman = directoryKind(
  'podman',
  'podman-layout',
  config => config.podmanDir,
  'layer-cache directory (an OCI layout served to podman as --cache-from/--cache-to)',
  async () => [...platformParts(), await toolPart('podman')]
)

export const nix = directoryKind(
  'nix',
  'nix-binary-cache',
  config => config.nixDir,
  'file:// binary cache directory (nix-cache-info, *.narinfo, nar/)',
  async () => [...platformParts(), await toolPart('nix')]
)

// Content-addressed by SHA-256: the same bytes on every platform.
export const downloads = directoryKind('downloads', 'downloads-store', config => config.downloadsDir, 'content-addressed download cache', async () => [])
