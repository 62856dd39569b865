import { inChunks, nix } from './cli.js'

/**
 * `nix copy --to file://…`: Nix writes narinfo and NAR itself and adds whatever of each path's closure the
 * directory lacks, so the cache stays closed under references. (The reverse, `--all --from file://`, fails
 * on such caches: never used.)
 */
export async function copyToCache(dir: string, paths: string[], signingKeyFile: string | null): Promise<void> {
  const url = `file://${dir}?compression=zstd${signingKeyFile ? `&secret-key=${signingKeyFile}` : ''}`
  for (const chunk of inChunks(paths)) await nix(['copy', '--to', url, ...chunk])
}
