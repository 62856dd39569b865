/** What every benchmark script measures with: medians, timings, child processes and the shared data set. */
import { spawn } from 'node:child_process'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const MiB = 1024 * 1024

/** The middle value (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

/** Runs a command to its end; a failure carries its stderr. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env })
    let err = ''
    child.stderr.on('data', chunk => (err += chunk))
    child.on('error', reject)
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`))))
  })
}

/** After `sync`: no timed side pays for the write-back of what the one before it wrote. */
export function settled(): Promise<void> {
  return run('sync', [])
}

/** pip-cache-like data: incompressible 6 MiB "wheels" plus small text files; returns the bytes written. */
export function writeDataSet(dir: string, largeFiles: number, smallFiles: number): number {
  let bytes = 0
  for (let i = 0; i < largeFiles; i++) {
    const file = path.join(dir, 'wheels', `pkg${i}.whl`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, crypto.randomBytes(6 * MiB))
    bytes += 6 * MiB
  }
  for (let i = 0; i < smallFiles; i++) {
    const file = path.join(dir, 'http', String(i % 16), `${i}.body`)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const text = Buffer.from(`metadata ${i}\n`.repeat(1200))
    fs.writeFileSync(file, text)
    bytes += text.length
  }
  return bytes
}

/** The three kinds' directories on a machine: pip's and the hub cache by their variables, custom in the workspace. */
export function kindDirs(machine: { home: string; workspace: string }): { pip: string; huggingface: string; custom: string } {
  return {
    pip: path.join(machine.home, 'pip-cache'),
    huggingface: path.join(machine.home, 'hub'),
    custom: path.join(machine.workspace, 'data')
  }
}
