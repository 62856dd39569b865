/**
 * Reads what podman-compose and podman build print, line by line, into per-image step counts and
 * failures. podman-compose 1.0.x exits 0 when a build fails, so podman's own `exit code: N` line (and
 * its `Error:` line) are the only reliable signal there.
 */

export interface ImageBuild {
  /** The `-t` image podman-compose built (one per service with a `build:` section). */
  image: string
  /** Instructions after FROM, over all stages. */
  steps: number
  /** Of those, found in the cache (`--> Using cache`). */
  reused: number
  /** FROM references that are images (not earlier stages, not scratch). */
  baseImages: string[]
  /** The image of each step, in order: built (`--> 3f2a…`) or found in the cache (`--> Using cache 3f2a…`). */
  stepImages: { id: string; cached: boolean }[]
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
const BUILD_COMMAND = /^\S*podman\s+(?:.*\s)?build\s+(.*)$/
const TAG_FLAG = /(?:^|\s)(?:-t|--tag)[\s=](\S+)/
const EXIT_CODE = /^exit code: (-?\d+)$/
const STEP_IMAGE = /^--> (?:Using cache )?([a-f0-9]{11,64})$/

export class BuildLog {
  readonly builds: ImageBuild[] = []
  private stageSteps = new Map<string, number>()
  private stageNames = new Set<string>()
  private lastStep: string | null = null

  /** Called with the image whenever podman-compose starts building another one. */
  constructor(private readonly onImage: (image: string) => void = () => {}) {}

  get current(): ImageBuild | undefined {
    return this.builds[this.builds.length - 1]
  }

  line(raw: string, now = Date.now()): void {
    const text = raw.trim()
    const command = BUILD_COMMAND.exec(text)
    if (command) return this.start(TAG_FLAG.exec(command[1])?.[1] ?? `image ${this.builds.length + 1}`, now)
    const build = this.current
    if (!build) return
    build.endedAt = now
    const step = STEP.exec(text)
    if (step) return this.step(build, step[1] ?? '1', Number(step[3]), step[4], text)
    const stepImage = STEP_IMAGE.exec(text)
    if (stepImage) build.stepImages.push({ id: stepImage[1], cached: text.startsWith('--> Using cache') })
    if (text.startsWith('--> Using cache')) build.reused++
    else if (EXIT_CODE.test(text)) this.exit(build, Number(EXIT_CODE.exec(text)![1]))
    else if (/^Error: /.test(text) && build.error === null) build.error = text.slice('Error: '.length)
  }

  /** podman-compose's own exit status (≥ 1.1 reports failed builds there), applied to a build without one. */
  finish(exitCode: number): void {
    const build = this.current
    if (build && build.exitCode === null) this.exit(build, exitCode)
  }

  failures(): ImageBuild[] {
    return this.builds.filter(b => b.exitCode !== null && b.exitCode !== 0)
  }

  private start(image: string, now: number): void {
    this.stageSteps = new Map()
    this.stageNames = new Set()
    this.lastStep = null
    this.builds.push({ image, steps: 0, reused: 0, baseImages: [], stepImages: [], exitCode: null, failedStep: null, error: null, startedAt: now, endedAt: now })
    this.onImage(image)
  }

  private step(build: ImageBuild, stage: string, total: number, instruction: string, text: string): void {
    this.lastStep = text
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
