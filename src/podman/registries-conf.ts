import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

/**
 * A private registries.conf: the one podman would read anyway, plus `insecure = true` (plain HTTP) for
 * exactly the bridge's host:port. Handed to podman through CONTAINERS_REGISTRIES_CONF for qdc's own
 * commands only, so upstream pulls keep TLS verification (`--tls-verify=false` would drop it for every
 * registry the build touches) and later steps of the job never see it. Drop-in directories still apply.
 */
export async function writeRegistriesConf(dir: string, bridgeHost: string): Promise<string> {
  const base = await currentRegistriesConf()
  const file = path.join(dir, 'registries.conf')
  const entry = `\n# qdc-action: the layer-cache bridge on loopback speaks plain HTTP\n[[registry]]\nlocation = "${bridgeHost}"\ninsecure = true\n`
  await fs.writeFile(file, `${base}\n${entry}`)
  return file
}

async function currentRegistriesConf(): Promise<string> {
  const candidates = [
    process.env.CONTAINERS_REGISTRIES_CONF,
    path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'containers', 'registries.conf'),
    '/etc/containers/registries.conf'
  ]
  for (const candidate of candidates) {
    if (!candidate) continue
    const text = await fs.readFile(candidate, 'utf8').catch(() => null)
    if (text !== null) return text
  }
  return ''
}
