import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import * as core from '@actions/core'
import type { ArchiveSpec, CacheBackend, DocumentStore } from '../backends/backend.js'
import type { AccessMode } from '../config/mode.js'
import { type LedgerEntry, totals } from '../ledger.js'
import { revisionKey, revisionsOf } from '../plan/plan.js'
import { readJson, writeFileAtomic } from '../util/atomic.js'
import { stringifyError } from '../util/errors.js'
import { runnerTemp } from '../util/temp.js'

/*
 * Every run keeps a small record of what it downloaded in the same store as the caches, under a history
 * key per workflow, job and branch: one document with the branch's recent runs, in the store's own document
 * place (the local store's) or else as small entries (the GitHub cache service's). A pull request reads its base branch's (GitHub lets a pull request restore the base
 * branch's caches; on the other stores the key names the branch), and the summary compares the two.
 */

/** One run as the history keeps it. */
export interface HistoryRun {
  /** Milliseconds since the epoch. */
  time: number
  runId: string
  /** Upstream bytes per kind. */
  downloadedBytes: Record<string, number>
  totalDownloaded: number
  /** Bytes per second the job's own downloads measured; null when they measured nothing. */
  bandwidth: number | null
}

interface HistoryFile {
  format: 1
  runs: HistoryRun[]
}

/** This run against the median of the base branch's last runs. */
export interface Baseline {
  branch: string
  /** The runs compared with, oldest first. */
  runs: HistoryRun[]
  medianByKind: Record<string, number>
  medianTotal: number
}

export interface HistoryOutcome {
  /** null on the first run, or when the history could not be read: `note` says which. */
  baseline: Baseline | null
  note: string | null
  /** The median bandwidth the recent runs measured; null when none did. */
  bandwidth: number | null
}

/** Runs kept per branch: more than any baseline asks for, few enough to stay a few kilobytes. */
const KEPT_RUNS = 30
const DOCUMENT_FILE = 'document.json'

export interface HistoryContext {
  backend: CacheBackend
  mode: AccessMode
  keyPrefix: string
  baselineRuns: number
  entries: LedgerEntry[]
  /** What this run's own downloads measured, if anything. */
  bandwidth: number | null
}

/** Reads the base branch's history, then adds this run to its own branch's. Never fails the job. */
export async function runHistory(context: HistoryContext): Promise<HistoryOutcome> {
  return core.group('Run history', async () => {
    const documents = context.backend.documents ?? entryDocuments(context.backend)
    const own = branchOfRun()
    const base = process.env.GITHUB_BASE_REF || own
    // A pull request reads two histories, its own and its base branch's: at once, each a store round trip.
    const [ownRuns, otherBaseRuns] = await Promise.all([
      readHistory(documents, historyKey(context.keyPrefix, own)),
      base === own ? null : readHistory(documents, historyKey(context.keyPrefix, base))
    ])
    const baseRuns = otherBaseRuns ?? ownRuns
    if (context.mode.write && ownRuns !== 'unreadable')
      await saveHistory(documents, historyKey(context.keyPrefix, own), own, [...ownRuns, thisRun(context)])
    const usable = baseRuns === 'unreadable' ? [] : baseRuns
    const compared = usable.slice(-context.baselineRuns)
    return {
      baseline: compared.length === 0 ? null : baselineOf(base, compared),
      note:
        compared.length > 0
          ? null
          : baseRuns === 'unreadable'
            ? `The history of ${base} could not be read, so there is nothing to compare this run with.`
            : `No earlier runs of ${base} to compare with yet: this is the first one the history has.`,
      bandwidth: median(usable.flatMap(run => (run.bandwidth === null ? [] : [run.bandwidth])))
    }
  })
}

/** The branch this run's history belongs to: a pull request's head branch, else the pushed branch or tag. */
export function branchOfRun(): string {
  const env = process.env
  return env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || env.GITHUB_REF?.replace(/^refs\/(heads|tags)\//, '') || 'local'
}

export function historyKey(keyPrefix: string, branch: string): string {
  const slug = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100)
  return [
    keyPrefix,
    'history',
    'v1',
    slug(process.env.GITHUB_WORKFLOW || 'workflow'),
    slug(process.env.GITHUB_JOB || 'job'),
    slug(branch)
  ].join('-')
}

/** A branch's runs, oldest first; [] when it has none yet. */
async function readHistory(documents: DocumentStore, key: string): Promise<HistoryRun[] | 'unreadable'> {
  try {
    const file = (await documents.read(key)) as HistoryFile | null
    return file?.format === 1 && Array.isArray(file.runs) ? file.runs : []
  } catch (error) {
    core.info(`Could not read the run history ${key}: ${stringifyError(error)}`)
    return 'unreadable'
  }
}

async function saveHistory(documents: DocumentStore, key: string, branch: string, runs: HistoryRun[]): Promise<void> {
  try {
    const file: HistoryFile = { format: 1, runs: runs.slice(-KEPT_RUNS) }
    await documents.write(key, file)
    core.info(`This run is in the history of ${branch} (${file.runs.length} run(s))`)
  } catch (error) {
    core.info(`Could not add this run to the history ${key}: ${stringifyError(error)}`)
  }
}

/**
 * Documents as entries, for stores with no other place (the GitHub cache service): one small directory,
 * named by its role like every other entry; each write is a new revision, the newest is the document.
 */
function entryDocuments(backend: CacheBackend): DocumentStore {
  return {
    read: key =>
      withDocumentDir(async spec => {
        const restored = await backend.restore(spec, key, [revisionsOf(key)])
        return restored.matchedKey === null ? null : readJson<unknown>(path.join(spec.parts[0].path, DOCUMENT_FILE))
      }),
    write: (key, document) =>
      withDocumentDir(async spec => {
        await writeFileAtomic(path.join(spec.parts[0].path, DOCUMENT_FILE), JSON.stringify(document))
        await backend.save(spec, revisionKey(key))
      })
  }
}

async function withDocumentDir<T>(work: (spec: ArchiveSpec) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(runnerTemp(), 'qdc-history-'))
  try {
    return await work({ parts: [{ origin: 'role', name: 'qdc-history', path: dir }], exclude: [], kind: 'history' })
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

function thisRun(context: HistoryContext): HistoryRun {
  const downloadedBytes: Record<string, number> = {}
  for (const entry of context.entries) downloadedBytes[entry.kind] = (downloadedBytes[entry.kind] ?? 0) + entry.downloadedBytes
  return {
    time: Date.now(),
    runId: `${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}`,
    downloadedBytes,
    totalDownloaded: totals(context.entries).downloadedBytes,
    bandwidth: context.bandwidth
  }
}

function baselineOf(branch: string, runs: HistoryRun[]): Baseline {
  const kinds = new Set(runs.flatMap(run => Object.keys(run.downloadedBytes)))
  const medianByKind = Object.fromEntries([...kinds].map(kind => [kind, median(runs.map(run => run.downloadedBytes[kind] ?? 0)) ?? 0]))
  return { branch, runs, medianByKind, medianTotal: median(runs.map(run => run.totalDownloaded)) ?? 0 }
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const BARS = '▁▂▃▄▅▆▇█'

/** A trend line of values in characters Markdown shows as they are. */
export function sparkline(values: number[]): string {
  const max = Math.max(...values)
  return values.map(value => BARS[max <= 0 ? 0 : Math.min(BARS.length - 1, Math.round((value / max) * (BARS.length - 1)))]).join('')
}
