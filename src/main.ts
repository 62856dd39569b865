import { enableCompileCache } from 'node:module'

// The first line goes out before the dependencies load (@actions/core's HTTP stack alone takes ~150 ms
// to load), so the log shows at once that the step started.
process.stdout.write('qdc-action: restoring caches\n')
// V8's compiled code for the bundle, kept in os.tmpdir() (or NODE_COMPILE_CACHE): post reuses what main
// compiled, and a self-hosted runner every step after its first. A cache that cannot be written is skipped.
enableCompileCache()
const { runMain } = await import('./restore/run.js')
await runMain()
// Exit explicitly: dangling HTTP retries inside the cache library could keep Node alive for minutes.
process.exit()
