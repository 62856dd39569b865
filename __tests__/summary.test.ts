import { describe, expect, test } from '@jest/globals'
import { allExact, hitsByKind, type LedgerEntry, totals } from '../src/ledger.js'
import { formatBytes, formatPercent } from '../src/report/format.js'
import { buildReport } from '../src/report/report.js'
import { renderFiles } from '../src/fetch/files.js'
import { renderSummary } from '../src/report/summary.js'
import { checkBudget } from '../src/report/budget.js'
import { sparkline } from '../src/report/history.js'
import { payoffAdvice, payoffs } from '../src/report/payoff.js'

function entry(overrides: Partial<LedgerEntry>): LedgerEntry {
  return {
    kind: 'pip',
    backend: 'local',
    key: 'qdc-pip-v1-Linux-x64-py3.11-abc',
    matchedKey: null,
    hit: 'miss',
    restoredBytes: 0,
    restoredArchiveBytes: null,
    downloadedBytes: 0,
    reusedBytes: 0,
    uploadedBytes: 0,
    saved: 'saved',
    problems: [],
    restoreMs: 0,
    saveMs: 0,
    ...overrides
  }
}

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [734_003_200, '700.0 MiB'],
    [3.2 * 1024 ** 3, '3.20 GiB']
  ])('%d → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text))
})

describe('ledger', () => {
  const pip = entry({ hit: 'exact', matchedKey: 'k~r1', restoredBytes: 700, reusedBytes: 600, downloadedBytes: 100, saved: 'unchanged' })
  const hf = entry({ kind: 'huggingface', hit: 'partial', reusedBytes: 300, downloadedBytes: 0, uploadedBytes: 50 })

  test('totals add every kind and give the reused share', () => {
    expect(totals([pip, hf])).toEqual({ downloadedBytes: 100, reusedBytes: 900, uploadedBytes: 50, reusedPercent: 90 })
    expect(totals([]).reusedPercent).toBeNull()
  })

  test('cache-hit is true only if every kind hit exactly', () => {
    expect(allExact([pip])).toBe(true)
    expect(allExact([pip, hf])).toBe(false)
    expect(allExact([])).toBe(false)
    expect(hitsByKind([pip, hf])).toEqual({ pip: 'exact', huggingface: 'partial' })
  })

  test('report has the documented shape', () => {
    const report = buildReport({ entries: [pip, hf] })
    expect(report.version).toBe(2)
    expect(report.caches[0]).toMatchObject({
      kind: 'pip',
      key: pip.key,
      matchedKey: 'k~r1',
      hit: 'exact',
      restoredBytes: 700,
      downloadedBytes: 100,
      reusedBytes: 600,
      uploadedBytes: 0,
      saved: 'unchanged'
    })
    expect(report.totals).toMatchObject({ downloadedBytes: 100, reusedBytes: 900 })
  })

  test('the report carries the per-file rows the summary shows, so a PR check needs no Markdown', () => {
    const file = {
      repo: 'org/m',
      path: 'model.safetensors',
      size: 4096,
      digest: `sha256:${'a'.repeat(64)}`,
      source: 'downloaded' as const,
      verified: true as const
    }
    const report = buildReport({ entries: [entry({ kind: 'huggingface', details: { files: [file] } }), pip] })
    expect(report.caches[0]).toMatchObject({ files: [file] })
    expect(report.caches[1]).not.toHaveProperty('files')
    expect(renderSummary({ entries: [entry({ kind: 'huggingface' })], sections: [renderFiles([file])] })).toContain(
      '| org/m | `model.safetensors` | 4.00 KiB | sha256:aaaaaaaaaaaa… | downloaded | ✓ |'
    )
  })
})

describe('renderSummary', () => {
  test('one row per kind in human units and the total line', () => {
    const md = renderSummary({
      entries: [
        entry({
          hit: 'exact',
          matchedKey: 'qdc-pip~r7',
          restoredBytes: 734_003_200,
          restoredArchiveBytes: 700_000_000,
          reusedBytes: 734_003_200,
          downloadedBytes: 5 * 1024 ** 2,
          saved: 'saved',
          uploadedBytes: 2048
        }),
        entry({
          kind: 'huggingface',
          hit: 'miss',
          downloadedBytes: 3.2 * 1024 ** 3,
          saved: 'failed',
          problems: ['save failed: 429 | rate limited']
        })
      ]
    })
    const rows = md.split('\n').filter(line => line.startsWith('| pip') || line.startsWith('| huggingface'))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('✅ exact')
    expect(rows[0]).toContain('`qdc-pip~r7`')
    expect(rows[0]).toContain('700.0 MiB (667.6 MiB archive)')
    expect(rows[0]).toContain('| 5.00 MiB |')
    expect(rows[1]).toContain('❌ miss')
    expect(rows[1]).toContain('3.20 GiB')
    expect(rows[1]).toContain('⚠️ failed')
    expect(md).toContain(
      `**Total: downloaded 3.20 GiB, reused 700.0 MiB (${formatPercent((734_003_200 / (734_003_200 + 3.2 * 1024 ** 3 + 5 * 1024 ** 2)) * 100)} from cache)**`
    )
    expect(md).toContain('- ⚠️ **huggingface**: save failed: 429 \\| rate limited')
  })

  test('nothing used reads n/a, not a division by zero', () => {
    expect(renderSummary({ entries: [entry({})] })).toContain('(n/a from cache)')
  })
})

describe('budgets', () => {
  const settings = {
    maxDownloaded: null,
    maxDownloadedPerKind: {},
    onBudget: 'warn' as const,
    history: true,
    prComment: false,
    baselineRuns: 5,
    assumedBandwidth: 100 * 1024 ** 2
  }
  const pipRun = entry({ downloadedBytes: 300 * 1024 ** 2 })
  const hfRun = entry({ kind: 'huggingface', downloadedBytes: 10 })

  test('held: no line, and the summary says which budgets applied', () => {
    const budget = checkBudget([pipRun, hfRun], { ...settings, maxDownloaded: 1024 ** 3 })
    expect(budget).toMatchObject({ exceeded: false, line: null, breaches: [] })
    expect(renderSummary({ entries: [pipRun], budget })).toContain('Bandwidth budget held (the job ≤ 1.00 GiB).')
  })

  test('exceeded: one line naming the kinds, the bytes and the budgets', () => {
    const budget = checkBudget([pipRun, hfRun], {
      ...settings,
      maxDownloaded: 200 * 1024 ** 2,
      maxDownloadedPerKind: { pip: 200 * 1024 ** 2, huggingface: 0 }
    })
    expect(budget.exceeded).toBe(true)
    expect(budget.line).toBe(
      'Bandwidth budget exceeded: pip downloaded 300.0 MiB, budget 200.0 MiB; huggingface downloaded 10 B, budget 0 B; the job downloaded 300.0 MiB, budget 200.0 MiB'
    )
    expect(buildReport({ entries: [pipRun], budget }).budget).toMatchObject({
      exceeded: true,
      breaches: expect.arrayContaining([{ kind: 'pip', downloadedBytes: 300 * 1024 ** 2, budgetBytes: 200 * 1024 ** 2 }])
    })
  })
})

describe('does each cache pay off', () => {
  test("reused bytes are priced at the kind's own measured bandwidth, else the job's, else history, else the assumed one", () => {
    const measured = entry({
      kind: 'huggingface',
      reusedBytes: 100 * 1024 ** 2,
      restoreMs: 500,
      fetched: { bytes: 50 * 1024 ** 2, ms: 1000 }
    })
    const other = entry({ kind: 'pip', reusedBytes: 50 * 1024 ** 2, restoreMs: 3000 })
    const nearly = entry({ kind: 'buildah', reusedBytes: 50 * 1024 ** 2, restoreMs: 1900 })
    // A second or less is not worth an annotation.
    expect(payoffs([nearly], 50 * 1024 ** 2, 1024 ** 2)[0]).toMatchObject({ missMs: 1000, paysOff: true })
    const [hf, pipFigures] = payoffs([measured, other], 10 * 1024 ** 2, 1024 ** 2)
    expect(hf).toMatchObject({ bandwidth: 50 * 1024 ** 2, bandwidthSource: 'measured', missMs: 2000, paysOff: true })
    expect(pipFigures).toMatchObject({ bandwidth: 50 * 1024 ** 2, bandwidthSource: 'measured', missMs: 1000, paysOff: false })
    expect(payoffs([other], 10 * 1024 ** 2, 1024 ** 2)[0]).toMatchObject({ bandwidthSource: 'history', missMs: 5000 })
    expect(payoffs([other], null, 1024 ** 2)[0]).toMatchObject({ bandwidthSource: 'assumed', missMs: 50_000 })
    expect(payoffAdvice(pipFigures)).toBe(
      'pip: restoring took 3.0 s, downloading would take ~1.0 s at the measured 50.0 MiB/s — consider in-place mode or no cache'
    )
  })
})

describe('the comparison with the base branch', () => {
  test('a delta against the median and a trend per kind; the first run says so plainly', () => {
    const runs = [1, 2, 3].map(i => ({
      time: i,
      runId: String(i),
      downloadedBytes: { pip: i * 1024 ** 2 },
      totalDownloaded: i * 1024 ** 2,
      bandwidth: null
    }))
    const history = {
      baseline: { branch: 'main', runs, medianByKind: { pip: 2 * 1024 ** 2 }, medianTotal: 2 * 1024 ** 2 },
      note: null,
      bandwidth: null
    }
    const md = renderSummary({ entries: [entry({ downloadedBytes: 6 * 1024 ** 2 })], history })
    expect(md).toContain('| pip | 6.00 MiB | +4.00 MiB | 2.00 MiB | ▂▃▅█ |')
    expect(buildReport({ entries: [entry({ downloadedBytes: 6 * 1024 ** 2 })], history }).baseline).toMatchObject({
      branch: 'main',
      runs: 3,
      deltaDownloadedBytes: { pip: 4 * 1024 ** 2 }
    })
    const first = renderSummary({
      entries: [entry({})],
      history: {
        baseline: null,
        note: 'No earlier runs of main to compare with yet: this is the first one the history has.',
        bandwidth: null
      }
    })
    expect(first).toContain('No earlier runs of main to compare with yet')
    expect(sparkline([0, 0])).toBe('▁▁')
  })
})
