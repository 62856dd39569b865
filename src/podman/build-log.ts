/**
 * Reads what podman-compose and podman build print, line by line, into per-image step counts and
 * failures. The caller starts each image's build (`begin`): podman-compose 1.3 prints no build command.
 * podman-compose 1.0.x exits 0 when a build fails, so podman's own `exit code: N` line (and its
 * `Error:` line) are the only reliable signal there.
 */

export interface ImageBuild {
  /** The `-t` image podman-compose built (one per service with a `build:` section). */
  image: string
  /** Instructions after FROM, over all stages. */
  steps: number
  /** Of those, found in the cache: once per step that printed `--> Using cache`. */
  reused: number
  /**
   * Steps whose cache image came from the layer cache's registry (`--> Cache pulled from remote`, podman
   * ≥ 4.2 with --cache-from). buildah prints `Using cache` after it when it uses the pulled image; a pull
   * without it is an image that did not match, and the step was built.
   */
  pulled: number
  /** FROM references that are images (not earlier stages, not scratch). */
  baseImages: string[]
  /** The image of each step, in order: built (`--> 3f2a…`) or found in the cache (`--> Using cache 3f2a…`). */
  stepImages: { id: string; cached: boolean }[]
  /** The full ID podman prints last, of the image it built and tagged; null until then. */
  imageId: string | null
  exitCode: number | null
  /** The instruction running when the build failed, e.g. `STEP 3/5: RUN make`. */
  failedStep: string | null
  error: string | null
  startedAt: number
  endedAt: number
}

// `[2/3] STEP 1/4: FROM x AS y` (multi-stage) or `STEP 1/4: FROM x`.
const STEP = /^(?:\[(\d+)\/\d+\]\s+)?STEP (\d+)\/(\d+): (.*)$/
const FROM = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i
const EXIT_CODE = /^exit code: (-?\d+)$/
const STEP_IMAGE = /^--> (?:Using cache )?([a-f0-9]{11,64})$/
const IMAGE_ID = /^[a-f0-9]{64}$/

export class BuildLog {
  readonly builds: ImageBuild[] = []
  private stageSteps = new Map<string, number>()
  private stageNames = new Set<string>()
  private lastStep: string | null = null
  private stepCached = false
  private stepPulled = false

  get current(): ImageBuild | undefined {
    return this.builds[this.builds.length - 1]
  }

  line(raw: string, now = Date.now()): void {
    const text = raw.trim()
    const build = this.current
    if (!build) return
    build.endedAt = now
    const step = STEP.exec(text)
    if (step) return this.step(build, step[1] ?? '1', Number(step[3]), step[4], text)
    const stepImage = STEP_IMAGE.exec(text)
    if (stepImage) build.stepImages.push({ id: stepImage[1], cached: text.startsWith('--> Using cache') })
    if (IMAGE_ID.test(text)) build.imageId = text
    else if (text.startsWith('--> Using cache')) {
      if (!this.stepCached) build.reused++
      this.stepCached = true
    } else if (text.startsWith('--> Cache pulled from remote')) {
      if (!this.stepPulled) build.pulled++
      this.stepPulled = true
    } else if (EXIT_CODE.test(text)) this.exit(build, Number(EXIT_CODE.exec(text)![1]))
    else if (/^Error: /.test(text) && build.error === null) build.error = text.slice('Error: '.length)
  }

  /** podman-compose's exit status for the current build (≥ 1.1, one service: that build's), applied unless 1.0.x printed one. */
  finish(exitCode: number): void {
    const build = this.current
    if (build && build.exitCode === null) this.exit(build, exitCode)
  }

  failures(): ImageBuild[] {
    return this.builds.filter(b => b.exitCode !== null && b.exitCode !== 0)
  }

  /** The lines from now on are `image`'s build. */
  begin(image: string, now = Date.now()): ImageBuild {
    this.stageSteps = new Map()
    this.stageNames = new Set()
    this.lastStep = null
    const build: ImageBuild = {
      image,
      steps: 0,
      reused: 0,
      pulled: 0,
      baseImages: [],
      stepImages: [],
      imageId: null,
      exitCode: null,
      failedStep: null,
      error: null,
      startedAt: now,
      endedAt: now
    }
    this.builds.push(build)
    return build
  }

  private step(build: ImageBuild, stage: string, total: number, instruction: string, text: string): void {
    this.lastStep = text
    this.stepCached = false
    this.stepPulled = false
    if (!this.stageSteps.has(stage)) {
      this.stageSteps.set(stage, total)
      build.steps += total - 1
    }
    const from = FROM.exec(instruction)
    if (!from) return
    const ref = from[1]
    const earlierStage = this.stageNames.has(ref.toLowerCase())
    if (from[2]) this.stageNames.add(from[2].toLowerCase())
    if (ref !== 'scratch' && !earlierStage && !build.baseImages.includes(ref)) build.baseImages.push(ref)
  }

  private exit(build: ImageBuild, code: number): void {
    build.exitCode = code
    if (code !== 0) build.failedStep = this.lastStep
  }
}
