/**
 * `qdc` on a real terminal: util-linux `script` gives it a pseudo-terminal, as a person's shell would.
 * `clear` asks before deleting (no deletes on "n", deletes on "y"), and `verify` draws a redrawn
 * progress bar instead of the periodic lines it prints into a log.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { assertBuilt, cleanEnv, QDC, qdc } from './support/qdc.js'
import { describeWithTools } from './support/tools.js'

const describeTty = describeWithTools(['script'])
let root: string
let store: string
let env: Record<string, string>

beforeAll(async () => {
  assertBuilt()
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'qdc-cli-tty-'))
  store = path.join(root, 'store')
  env = cleanEnv(path.join(root, 'home'), { TERM: 'xterm' })
  const data = path.join(root, 'data')
  fs.mkdirSync(data)
  fs.writeFileSync(path.join(data, 'payload'), crypto.randomBytes(64 * 1024 * 1024))
  const config = path.join(root, 'run.yml')
  // No run history: the store holds exactly the one data entry clear is asked about.
  fs.writeFileSync(config, `paths: ${data}\nkey: tty-data\nbackend: local\nlocal-dir: ${store}\nhistory: false\n`)
  expect((await qdc(['run', '--config', config, '--quiet', '--', 'true'], { env, cwd: root })).code).toBe(0)
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** Runs qdc on a pseudo-terminal; `answer` is typed once the terminal shows `waitFor`. */
function onTerminal(args: string[], answer?: { waitFor: string; text: string }): Promise<{ code: number; screen: string }> {
  const command = [process.execPath, QDC, ...args].map(arg => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let screen = ''
    let answered = false
    child.stdout.on('data', chunk => {
      screen += chunk
      if (answer && !answered && screen.includes(answer.waitFor)) {
        answered = true
        child.stdin.write(answer.text)
      }
    })
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, screen }))
  })
}

function entryCount(): number {
  const entries = path.join(store, 'entries')
  return fs.existsSync(entries) ? fs.readdirSync(entries).flatMap(version => fs.readdirSync(path.join(entries, version))).length : 0
}

describeTty('on a terminal', () => {
  test('verify draws a progress bar that redraws in place', async () => {
    const result = await onTerminal(['verify', '--store', store])
    expect(result.code).toBe(0)
    // The bar redraws with a carriage return and ESC [K (erase to end of line).
    expect(result.screen).toContain('\r\u001b[K')
    expect(result.screen).toMatch(/\d+%/)
  })

  test('clear asks first: "n" deletes nothing, "y" deletes', async () => {
    expect(entryCount()).toBe(1)
    const declined = await onTerminal(['clear', '--store', store], { waitFor: '[y/N]', text: 'n\r' })
    expect(declined.screen).toContain('Delete 1 archive entry')
    expect(declined.screen).toContain('Nothing deleted.')
    expect(declined.code).toBe(1)
    expect(entryCount()).toBe(1)
    const accepted = await onTerminal(['clear', '--store', store], { waitFor: '[y/N]', text: 'y\r' })
    expect(accepted.code).toBe(0)
    expect(accepted.screen).toContain('Deleted 1 archive entry')
    expect(entryCount()).toBe(0)
  })
})
