// The qdc command line: the action's modules driven from a terminal or a script (README, "Command line").
import { clear, usage as clearUsage } from './clear.js'
import { describeFailure, EXIT, UsageError } from './errors.js'
import { fetch, fetchModel, fetchModelUsage, fetchUsage } from './fetch.js'
import { prune, usage as pruneUsage } from './prune.js'
import { run, usage as runUsage } from './run.js'
import { stats, usage as statsUsage } from './stats.js'
import { verify, usage as verifyUsage } from './verify.js'

interface Command {
  summary: string
  usage: string
  main(argv: string[]): Promise<number>
}

const COMMANDS: Record<string, Command> = {
  run: { summary: 'restore, run a command with the caches, measure, save, print the summary', usage: runUsage, main: run },
  stats: { summary: 'entries, bytes, last use and recent hits per kind and store', usage: statsUsage, main: stats },
  prune: { summary: 'remove what was least recently used, by age and to a size cap', usage: pruneUsage, main: prune },
  clear: { summary: 'delete one kind, or everything, from the store', usage: clearUsage, main: clear },
  verify: { summary: 're-hash what has a known digest; --repair fixes it', usage: verifyUsage, main: verify },
  fetch: { summary: 'download a URL verified by its SHA-256', usage: fetchUsage, main: fetch },
  'fetch-model': { summary: 'fetch a HuggingFace repo into the hub cache, verified', usage: fetchModelUsage, main: fetchModel }
}

const USAGE = `Usage: qdc COMMAND [OPTIONS]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`)
  .join('\n')}

Run qdc COMMAND --help for a command's options.
Exit status: 0 done, 1 the operation failed (qdc run: the command's own status), 2 bad usage.`

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined
    process.stdout.write((topic?.usage ?? USAGE) + '\n')
    return EXIT.ok
  }
  if (name === undefined) throw new UsageError('no command given; run qdc --help')
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!command) throw new UsageError(`unknown command '${name}'; run qdc --help for the list`)
  return command.main(rest)
}

let code: number
try {
  code = await main(process.argv.slice(2))
} catch (error) {
  const failure = describeFailure(error)
  process.stderr.write(`qdc: ${failure.line}\n`)
  code = failure.code
}
// Exit explicitly: the HTTP stacks the cache libraries load can keep Node alive.
process.exit(code)
