/**
 * The build log parser on lines podman printed (podman 5.4.2 / buildah 1.39.3 in the trixie column,
 * 4.3.1 / 1.28.2 on the host): the real-tool suites prove the counts end to end, these pin the rules.
 */
import { describe, expect, test } from '@jest/globals'
import { BuildLog } from '../src/podman/build-log.js'

function parse(lines: string[]) {
  const log = new BuildLog()
  const build = log.begin('localhost/app:latest')
  for (const line of lines) log.line(line)
  log.finish(0)
  return build
}

const id = (c: string) => c.repeat(64)

describe('BuildLog', () => {
  test('a step pulled from the layer cache and used counts once as reused (podman 5.4.2 prints both lines)', () => {
    const build = parse([
      'STEP 1/3: FROM 127.0.0.1:40837/library/busybox:1',
      'STEP 2/3: RUN echo built > /built.txt',
      `--> Cache pulled from remote 127.0.0.1:42875/buildcache:${id('1')}:${id('1')}`,
      `--> Using cache ${id('d')}`,
      '--> dddddddddddd',
      'STEP 3/3: ENV GREETING=hi',
      `--> Cache pulled from remote 127.0.0.1:42875/buildcache:${id('2')}:${id('2')}`,
      `--> Using cache ${id('e')}`,
      'COMMIT localhost/app:latest',
      '--> eeeeeeeeeeee',
      'Successfully tagged localhost/app:latest',
      id('e')
    ])
    expect(build).toMatchObject({ steps: 2, reused: 2, pulled: 2, imageId: id('e'), exitCode: 0 })
  })

  test('a pulled cache image that does not match is no reuse: buildah runs the step (no Using cache line)', () => {
    const build = parse([
      'STEP 1/2: FROM localhost/bb',
      'STEP 2/2: RUN make',
      `--> Cache pulled from remote 127.0.0.1:5000/buildcache:${id('3')}`,
      'COMMIT localhost/app:latest',
      '--> ffffffffffff',
      id('f')
    ])
    expect(build).toMatchObject({ steps: 1, reused: 0, pulled: 1 })
  })

  test('local hits (podman 4.3.1 and 5.4.2 alike) count without a pull; 1.0.x prints the exit code itself', () => {
    const build = parse([
      'STEP 1/3: FROM localhost/bb',
      'STEP 2/3: RUN echo A1',
      `--> Using cache ${id('9')}`,
      '--> 999999999999',
      'STEP 3/3: RUN exit 4',
      'Error: building at STEP "RUN exit 4": exit status 4',
      'exit code: 4'
    ])
    expect(build).toMatchObject({ steps: 2, reused: 1, pulled: 0, exitCode: 4, failedStep: 'STEP 3/3: RUN exit 4', imageId: null })
  })
})
