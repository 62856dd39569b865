import { enableCompileCache } from 'node:module'

// The first line goes out before the dependencies load (see main.ts).
process.stdout.write('qdc-action: measuring and saving caches\n')
// Reuses what main compiled (see main.ts).
enableCompileCache()
const { runPost } = await import('./save/run.js')
await runPost()
// Exit explicitly: dangling HTTP retries inside the cache library could keep Node alive for minutes.
process.exit()
