/**
 * The range fixture (__tests__/support/range-server.ts) in its own process for `npm run bench:downloads`,
 * so its pacing does not share an event loop with the downloader it measures. Prints its URL.
 * Usage: node scripts/range-server-child.ts FILE [BYTES_PER_SECOND_PER_CONNECTION]
 */
import './load-ts.ts'

const { startRangeServer } = await import('../__tests__/support/range-server.ts')
const [file, rate] = process.argv.slice(2)
const server = await startRangeServer({ source: file, bytesPerSecondPerConnection: Number(rate) || undefined })
process.stdout.write(`${server.url}\n`)
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)))
