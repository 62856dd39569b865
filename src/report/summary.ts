import { type BuiltService, type FetchedFile, type LedgerEntry, type NixAccount, type SaveOutcome, totals } from '../ledger.js'
import { formatBytes, formatDuration, formatPercent } from './format.js'

const SAVE_LABELS: Record<SaveOutcome, string> = {
  saved: 'saved',
  unchanged: 'unchanged, not uploaded',
  'read-only': 'read-only',
  disabled: 'save: never',
  empty: 'nothing to save',
  failed: '⚠️ failed',
  pending: 'not run'
}

const HIT_LABELS = { exact: '✅ exact', partial: '🟡 partial', miss: '❌ miss' } as const

/** The job summary, rendered from the ledger alone (GitHub-flavoured Markdown). */
export function renderSummary(entries: LedgerEntry[]): string {
  const sums = totals(entries)
  const lines = [
    '## qdc-action: bytes downloaded vs reused',
    '',
    '| Cache | Hit | Matched key | Restored | Downloaded | Reused | Uploaded | Save | Time |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
    ...entries.map(renderRow),
    '',
    `**Total: downloaded ${formatBytes(sums.downloadedBytes)}, reused ${formatBytes(sums.reusedBytes)} (${formatPercent(sums.reusedPercent)} from cache)**` +
      (sums.uploadedBytes > 0 ? `; uploaded ${formatBytes(sums.uploadedBytes)}` : '')
  ]
  const services = entries.flatMap(e => e.services ?? [])
  if (services.length > 0) lines.push('', ...renderServices(services))
  const files = entries.flatMap(e => e.files ?? [])
  if (files.length > 0) lines.push('', ...renderFiles(files))
  for (const e of entries) if (e.nix) lines.push('', ...renderNix(e.nix))
  const problems = entries.flatMap(e => e.problems.map(p => `- ⚠️ **${e.kind}**: ${escapeCell(p)}`))
  if (problems.length > 0) lines.push('', ...problems)
  return lines.join('\n') + '\n'
}

/** One row per service podman-compose built: steps and bytes the layer cache provided. */
function renderServices(services: BuiltService[]): string[] {
  return [
    '| Service (image) | Steps from cache | Built | Layers reused | Layers pushed | Base images reused | Base images pulled | Build time |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...services.map(s => {
      const named = `${escapeCell(s.service)} (\`${escapeCell(s.image)}\`)`
      const image = s.failure ? `❌ ${named}: ${escapeCell(s.failure)}` : named
      return `| ${image} | ${s.reusedSteps}/${s.steps} | ${s.builtSteps} | ${formatBytes(s.layerBytesReused)} | ${formatBytes(s.layerBytesPushed)} | ${formatBytes(s.baseBytesReused)} | ${formatBytes(s.baseBytesPulled)} | ${formatDuration(s.buildMs)} |`
    })
  ]
}

/** One row per verified file: where it came from and what it was checked against. */
function renderFiles(files: FetchedFile[]): string[] {
  return [
    '| Repo | File | Size | Digest | Source | Verified |',
    '| --- | --- | ---: | --- | --- | --- |',
    ...files.map(f => {
      const [algorithm, hex] = f.digest.split(':')
      return `| ${escapeCell(f.repo)} | \`${escapeCell(f.path)}\` | ${formatBytes(f.size)} | ${algorithm}:${hex.slice(0, 12)}… | ${f.source} | ✓ |`
    })
  ]
}

/** The nix kind's new store paths by origin, and what the save did to the binary cache. */
function renderNix(nix: NixAccount): string[] {
  const row = (label: string, t: { paths: number; narBytes: number }) => `| ${label} | ${t.paths} | ${formatBytes(t.narBytes)} |`
  return [
    '| Nix store paths | Paths | NAR bytes |',
    '| --- | ---: | ---: |',
    row('built on this runner', nix.built),
    row('from the restored cache', nix.fromCache),
    row('downloaded from upstream caches', nix.fromUpstream),
    row('added to the cache', nix.copied),
    row('pruned from the cache', nix.pruned)
  ]
}

function renderRow(e: LedgerEntry): string {
  const matched = e.matchedKey ? `\`${escapeCell(e.matchedKey)}\`` : '—'
  const restored = e.restoredArchiveBytes !== null && e.restoredBytes > 0
    ? `${formatBytes(e.restoredBytes)} (${formatBytes(e.restoredArchiveBytes)} archive)`
    : formatBytes(e.restoredBytes)
  return `| ${e.kind} | ${HIT_LABELS[e.hit]} | ${matched} | ${restored} | ${formatBytes(e.downloadedBytes)} | ${formatBytes(e.reusedBytes)} | ${formatBytes(e.uploadedBytes)} | ${SAVE_LABELS[e.saved]} | ${formatDuration(e.restoreMs + e.saveMs)} |`
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}
