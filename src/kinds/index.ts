import type { KindName } from '../config/config.js'
import { buildah } from './buildah.js'
import { custom } from './custom.js'
import { downloads } from './downloads.js'
import { nix } from './nix.js'
import { podman } from './podman.js'
import { huggingface } from './huggingface.js'
import type { CacheKind } from './kind.js'
import { pip } from './pip.js'

const KINDS: Record<KindName, CacheKind> = { pip, buildah, huggingface, podman, nix, downloads, custom }

export function kindNamed(name: KindName): CacheKind {
  return KINDS[name]
}
