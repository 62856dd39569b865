import * as path from 'node:path'
import { Env } from '../constants.js'
import { toolVersion, versionAtLeast } from '../util/exec.js'
import { type CacheKind, platformParts, rolePart } from './kind.js'

/** First buildah (podman) release that keeps cache mounts in `buildah-cache-<uid>` instead of `buildah-cache`. */
const UID_SUFFIX_SINCE = { buildah: [1, 29], podman: [4, 4] } as const

/** Data of `RUN --mount=type=cache` steps (e.g. pip inside a Containerfile), which no image layer holds. */
export const buildah: CacheKind = {
  name: 'buildah',

  async plan({ inPlaceDir }) {
    const tool = await containerTool()
    // In place, the store's directory becomes TMPDIR, under which buildah keeps its cache mounts.
    const tmp = inPlaceDir ?? (process.env.TMPDIR ? path.resolve(process.env.TMPDIR) : '/var/tmp')
    const dir = path.join(tmp, usesUidSuffix(tool) ? `buildah-cache-${process.getuid?.() ?? 0}` : 'buildah-cache')
    return {
      parts: [rolePart('buildah-cache-mounts', dir)],
      // Lock files belong to the build that held them; a restored one would be a stale lock.
      exclude: ['buildah-cache-lockfile', 'buildah-cache-lockfiles'],
      notes: [
        tool.version
          ? `${tool.name} ${tool.version} keeps cache mounts in ${dir}`
          : `neither buildah nor podman found; assuming the current layout ${dir}`
      ],
      keyParts: [
        ...platformParts(),
        { name: 'builder', value: `${tool.name}${tool.version ?? '-none'}`, source: `${tool.name} --version` }
      ],
      droppable: 0,
      ...(inPlaceDir === null ? {} : { inPlace: true, env: { [Env.TmpDir]: inPlaceDir } })
    }
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
