import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { ExpectedDigest } from '../fetch/digest.js'

/** One file with a known digest: a hub blob or a stored download. */
export interface DigestedFile {
  file: string
  size: number
  digest: ExpectedDigest
}

/**
 * Blobs of a huggingface_hub cache, named by their digest: sha256 for LFS files, the git blob
 * id (sha1 of `blob <size>\0` + content) for regular ones. Other names (temp files) are skipped.
 */
export async function hubBlobs(hubDir: string): Promise<Array<DigestedFile & { repoFolder: string }>> {
  const found: Array<DigestedFile & { repoFolder: string }> = []
  for (const folder of await fs.readdir(hubDir).catch(() => [] as string[])) {
    if (!/^(models|datasets)--/.test(folder)) continue
    const blobs = path.join(hubDir, folder, 'blobs')
    for (const name of await fs.readdir(blobs).catch(() => [] as string[])) {
      const digest = /^[0-9a-f]{64}$/.test(name) ? { sha256: name } : /^[0-9a-f]{40}$/.test(name) ? { gitSha1: name } : null
      const stat = digest && (await fs.lstat(path.join(blobs, name)).catch(() => null))
      if (digest && stat?.isFile())
        found.push({ file: path.join(blobs, name), size: stat.size, digest, repoFolder: path.join(hubDir, folder) })
    }
  }
  return found
}

/** The download store's files, `sha256/<hex>`. */
export async function storedDownloads(downloadsDir: string): Promise<DigestedFile[]> {
  const dir = path.join(downloadsDir, 'sha256')
  const found: DigestedFile[] = []
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const stat = /^[0-9a-f]{64}$/.test(name) ? await fs.lstat(path.join(dir, name)).catch(() => null) : null
    if (stat?.isFile()) found.push({ file: path.join(dir, name), size: stat.size, digest: { sha256: name } })
  }
  return found
}

/** `org/name@commit` and repo paths whose content is this blob, from the stored tree listings. */
export async function blobUsers(repoFolder: string, blob: string): Promise<Array<{ repo: string; commit: string; paths: string[] }>> {
  const [type, org, name] = path.basename(repoFolder).split('--')
  const repo = `${type === 'datasets' ? 'datasets/' : ''}${org}/${name}`
  const users: Array<{ repo: string; commit: string; paths: string[] }> = []
  const trees = path.join(repoFolder, 'trees')
  for (const file of await fs.readdir(trees).catch(() => [] as string[])) {
    const commit = file.replace(/\.json$/, '')
    if (!/^[0-9a-f]{40}$/.test(commit)) continue
    type Tree = { files?: Record<string, { blob_id?: string; lfs_sha256?: string }> }
    const tree = JSON.parse(await fs.readFile(path.join(trees, file), 'utf8').catch(() => '{}')) as Tree
    const paths = Object.entries(tree.files ?? {})
      .filter(([, f]) => (f.lfs_sha256 ?? f.blob_id) === blob)
      .map(([p]) => p)
    if (paths.length > 0) users.push({ repo: `${repo}@${commit}`, commit, paths })
  }
  return users
}
