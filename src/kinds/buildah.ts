import * as path from 'node:path'
import { toolVersion, versionAtLeast } from '../util/exec.js'
import { type CacheKind, NOTHING_PRUNED, platformParts, rolePart } from './kind.js'

/** First buildah (podman) release that keeps cache mounts in `buildah-cache-<uid>` instead of `buildah-cache`. */
const UID_SUFFIX_SINCE = { buildah: [1, 29], podman: [4, 4] } as const

/** Data of `RUN --mount=type=cache` steps (e.g. pip inside a Containerfile), which no image layer holds. */
export const buildah: CacheKind = {
  name: 'buildah',

  async locate() {
    const tool = await containerTool()
    const tmp = process.env.TMPDIR ? path.resolve(process.env.TMPDIR) : '/var/tmp'
    const dir = path.join(tmp, usesUidSuffix(tool) ? `buildah-cache-${process.getuid?.() ?? 0}` : 'buildah-cache')
    const notes = [
      tool.version
        ? `${tool.name} ${tool.version} keeps cache mounts in ${dir}`
        : `neither buildah nor podman found; assuming the current layout ${dir}`
    ]
    // Lock files belong to the build that held them; a restored one would be a stale lock.
    return { parts: [rolePart('buildah-cache-mounts', dir)], exclude: ['buildah-cache-lockfile', 'buildah-cache-lockfiles'], notes }
  },

  async key() {
    const tool = await containerTool()
    return {
      parts: [
        ...platformParts(),
        { name: 'builder', value: `${tool.name}${tool.version ?? '-none'}`, source: `${tool.name} --version` }
      ],
      droppable: 0
    }
  },

  async prune() {
    return NOTHING_PRUNED
  }
}

interface ContainerTool {
  name: 'buildah' | 'podman'
  version: string | null
}

async function containerTool(): Promise<ContainerTool> {
  const podman = await toolVersion('podman')
  if (podman) return { name: 'podman', version: podman }
  return { name: 'buildah', version: await toolVersion('buildah') }
}

function usesUidSuffix(tool: ContainerTool): boolean {
  return !tool.version || versionAtLeast(tool.version, UID_SUFFIX_SINCE[tool.name])
}

