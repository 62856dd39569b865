import * as fs from 'node:fs'
import { InputError } from '../config/inputs.js'
import { Inputs } from '../constants.js'
import type { LedgerEntry } from '../ledger.js'
import { type ComposeService, readComposeServices } from '../podman/compose-file.js'
import { type BuiltService, buildWithLayerCache, type PodmanDetails } from '../podman/run.js'
import { escapeCell, formatBytes, formatDuration } from '../report/format.js'
import { stringifyError } from '../util/errors.js'
import { toolVersion } from '../util/exec.js'
import { type CacheKind, platformParts, rolePart } from './kind.js'

/** What the podman kind learns from the compose file while planning, for the build. */
interface PodmanPlanData {
  services: ComposeService[]
}

/**
 * The layer cache of `podman-compose build`: an OCI layout served to podman as --cache-from/--cache-to (see
 * src/podman/). With a compose file, main builds after the restore; the kind's figures then come from the
 * build, since a layer pushed into the directory was built here, not downloaded: reused is what the
 * loopback registry served, downloaded the blobs the base images' pulls fetched (src/podman/pulled.ts).
 */
export const podman: CacheKind = {
  name: 'podman',

  async plan({ config, inPlaceDir }) {
    const version = await toolVersion('podman')
    return {
      parts: [rolePart('podman-layout', inPlaceDir ?? config.podman.dir)],
      exclude: [],
      notes: ['layer-cache directory (an OCI layout served to podman as --cache-from/--cache-to)'],
      keyParts: [...platformParts(), { name: 'podman', value: `podman${version ?? '-none'}`, source: 'podman --version' }],
      droppable: 0,
      inPlace: inPlaceDir !== null,
      data: {
        services: config.podman.composeFile ? composeServices(config.podman.composeFile, config.podman.composeServices) : []
      } satisfies PodmanPlanData
    }
  },

  // The build reads the buildah kind's cache mounts (pip inside RUN --mount=type=cache): those must be in place.
  afterRestoreNeeds: 'every-restore',

  async afterRestore({ config, plan, entry }) {
    const composeFile = config.podman.composeFile
    if (!composeFile) return
    const { services } = plan.data as PodmanPlanData
    await buildWithLayerCache(
      {
        ...config.podman,
        dir: plan.spec.parts[0].path,
        composeFile,
        services,
        workspace: config.workspace,
        idleTimeoutMs: config.transfer.idleTimeoutMs
      },
      entry
    )
  },

  account(entry) {
    const services = servicesOf(entry)
    if (!services) return null
    const sum = (figure: (s: BuiltService) => number) => services.reduce((total, s) => total + figure(s), 0)
    const downloadedBytes = sum(s => s.baseBytesPulled)
    const reusedBytes = sum(s => s.layerBytesReused + s.baseBytesReused)
    return {
      downloadedBytes,
      reusedBytes,
      explanation:
        `Base images from upstream: ${formatBytes(downloadedBytes)}; reused from the layer cache: ${formatBytes(reusedBytes)}; ` +
        `built here and pushed: ${formatBytes(sum(s => s.layerBytesPushed))}`
    }
  },

  summarize(entry) {
    const services = servicesOf(entry)
    return services?.length ? renderServices(services) : []
  }
}

function servicesOf(entry: LedgerEntry): BuiltService[] | undefined {
  return (entry.details as PodmanDetails | undefined)?.services
}

/** Checked while planning, so a wrong path or an unknown service fails main with one line before anything is restored. */
function composeServices(file: string, wanted: string[]): ComposeService[] {
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new InputError(Inputs.ComposeFile, `${file} does not exist; give the path of your compose file relative to the workspace`)
  }
  let services: ComposeService[]
  try {
    services = readComposeServices(file)
  } catch (error) {
    throw new InputError(Inputs.ComposeFile, stringifyError(error))
  }
  const unknown = wanted.find(name => !services.some(service => service.name === name))
  if (unknown !== undefined) {
    throw new InputError(
      Inputs.ComposeServices,
      `'${unknown}' is not a service with a build section in ${file}; it has ${services.map(s => s.name).join(', ')}`
    )
  }
  return services
}

/** One row per service podman-compose built: steps and bytes the layer cache provided. */
function renderServices(services: BuiltService[]): string[] {
  return [
    '| Service (image) | Steps from cache | Built | Layers reused | Layers pushed | Base images reused | Base images pulled | Build time |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...services.map(s => {
      const named = `${escapeCell(s.service)} (\`${escapeCell(s.image)}\`)`
      const image = s.failure ? `❌ ${named}: ${escapeCell(s.failure)}` : named
      return `| ${image} | ${s.reusedSteps}/${s.steps} | ${s.builtSteps} | ${formatBytes(s.layerBytesReused)} | ${formatBytes(s.layerBytesPushed)} | ${formatBytes(s.baseBytesReused)} | ${formatBytes(s.baseBytesPulled)} | ${formatDuration(s.buildMs)} |`
    })
  ]
}
