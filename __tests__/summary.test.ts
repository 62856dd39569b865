import { describe, expect, test } from '@jest/globals'
import { allExact, hitsByKind, type LedgerEntry, totals } from '../src/ledger.js'
import { formatBytes, formatPercent } from '../src/report/format.js'
import { buildReport } from '../src/report/report.js'
import { renderFiles } from '../src/fetch/files.js'
import { renderSummary } from '../src/report/summary.js'

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
    const report = buildReport([pip, hf])
    expect(report.version).toBe(1)
    expect(report.caches[0]).toMatchObject({ kind: 'pip', key: pip.key, matchedKey: 'k~r1', hit: 'exact', restoredBytes: 700, downloadedBytes: 100, reusedBytes: 600, uploadedBytes: 0, saved: 'unchanged' })
    expect(report.totals).toMatchObject({ downloadedBytes: 100, reusedBytes: 900 })
  })

  test('the report carries the per-file rows the summary shows, so a PR check needs no Markdown', () => {
    const file = { repo: 'org/m', path: 'model.safetensors', size: 4096, digest: `sha256:${'a'.repeat(64)}`, source: 'downloaded' as const, verified: true as const }
    const report = buildReport([entry({ kind: 'huggingface', details: { files: [file] } }), pip])
    expect(report.caches[0]).toMatchObject({ files: [file] })
    expect(report.caches[1]).not.toHaveProperty('files')
    expect(renderSummary([entry({ kind: 'huggingface' })], [renderFiles([file])])).toContain('| org/m | `model.safetensors` | 4.00 KiB | sha256:aaaaaaaaaaaa… | downloaded | ✓ |')
  })
})

describe('renderSummary', () => {
  test('one row per kind in human units and the total line', () => {
    const md = renderSummary([
      entry({ hit: 'exact', matchedKey: 'qdc-pip~r7', restoredBytes: 734_003_200, restoredArchiveBytes: 700_000_000, reusedBytes: 734_003_200, downloadedBytes: 5 * 1024 ** 2, saved: 'saved', uploadedBytes: 2048 }),
      entry({ kind: 'huggingface', hit: 'miss', downloadedBytes: 3.2 * 1024 ** 3, saved: 'failed', problems: ['save failed: 429 | rate limited'] })
    ])
    const rows = md.split('\n').filter(line => line.startsWith('| pip') || line.startsWith('| huggingface'))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('✅ exact')
    expect(rows[0]).toContain('`qdc-pip~r7`')
    expect(rows[0]).toContain('700.0 MiB (667.6 MiB archive)')
    expect(rows[0]).toContain('| 5.00 MiB |')
    expect(rows[1]).toContain('❌ miss')
    expect(rows[1]).toContain('3.20 GiB')
    expect(rows[1]).toContain('⚠️ failed')
    expect(md).toContain(`**Total: downloaded 3.20 GiB, reused 700.0 MiB (${formatPercent((734_003_200 / (734_003_200 + 3.2 * 1024 ** 3 + 5 * 1024 ** 2)) * 100)} from cache)**`)
    expect(md).toContain('- ⚠️ **huggingface**: save failed: 429 \\| rate limited')
  })

  test('nothing used reads n/a, not a division by zero', () => {
    expect(renderSummary([entry({})])).toContain('(n/a from cache)')
  })
})
