import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'

/** A service podman-compose builds, and the image name it tags the build with. */
export interface ComposeService {
  name: string
  image: string
  /** Set when the service is only built with one of these profiles enabled (podman-compose ≥ 1.1 skips it otherwise). */
  profiles?: string[]
}

/**
 * The services of a compose file that have a `build:` section, read the way podman-compose names their
 * images (`image:`, else `<project>_<service>` with the project named after the file's folder). Throws
 * one line on a file that is not valid YAML or builds nothing, so a typo does not surface as a Python
 * traceback halfway through the job.
 */
export function readComposeServices(file: string): ComposeService[] {
  let document: unknown
  try {
    document = parse(fs.readFileSync(file, 'utf8'))
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new Error(`${file} is not a valid compose file: ${reason}`, { cause: error })
  }
  const services = (document as { services?: unknown } | null)?.services
  if (typeof services !== 'object' || services === null || Array.isArray(services)) {
    throw new Error(`${file} has no 'services:' mapping; it is not a compose file`)
  }
  const project = path
    .basename(path.dirname(path.resolve(file)))
    .toLowerCase()
    .replace(/[^-_a-z0-9]/g, '')
  const built = Object.entries(services as Record<string, { build?: unknown; image?: unknown; profiles?: unknown } | null>)
    .filter(([, service]) => service?.build !== undefined)
    .map(([name, service]) => {
      const image = typeof service?.image === 'string' ? service.image : `${project}_${name}`
      const profiles = Array.isArray(service?.profiles) ? service.profiles.map(String) : []
      return profiles.length > 0 ? { name, image, profiles } : { name, image }
    })
  if (built.length === 0) throw new Error(`${file} has no service with a 'build:' section; there is nothing to build`)
  return built
}

/** The service an image belongs to; podman may print the tag with `localhost/` and a `:latest` the file leaves out. */
export function serviceOfImage(image: string, services: ComposeService[]): string {
  const bare = (name: string) => name.replace(/^localhost\//, '').replace(/:latest$/, '')
  return services.find(service => bare(service.image) === bare(image))?.name ?? image
}
