/**
 * Lets the scripts (run by plain `node`, which only strips types) import the project's TypeScript: src/
 * uses parameter properties and `.js` specifiers for `.ts` files, which type stripping cannot load. Files
 * under src/ and __tests__/support/ are transpiled with the project's own TypeScript as they load.
 * Import this module first; import src/ and the support modules dynamically after it.
 */
import * as fs from 'node:fs'
import { registerHooks } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const repoUrl = pathToFileURL(actionDir + path.sep).href
const transpiled = [path.join(actionDir, 'src'), path.join(actionDir, '__tests__', 'support')].map(
  dir => pathToFileURL(dir + path.sep).href
)
const isTranspiled = (url: string) => url.endsWith('.ts') && transpiled.some(prefix => url.startsWith(prefix))

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (context.parentURL?.startsWith(repoUrl) && specifier.startsWith('.') && specifier.endsWith('.js')) {
      const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL)
      if (isTranspiled(candidate.href) && fs.existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true }
    }
    return nextResolve(specifier, context)
  },
  load(url, context, nextLoad) {
    if (!isTranspiled(url)) return nextLoad(url, context)
    const file = fileURLToPath(url)
    const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, isolatedModules: true }
    })
    return { format: 'module', source: outputText, shortCircuit: true }
  }
})
