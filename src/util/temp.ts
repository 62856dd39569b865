import * as os from 'node:os'

/** The runner's per-job temp directory (cleaned by the runner after the job), else the system's. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || os.tmpdir()
}
