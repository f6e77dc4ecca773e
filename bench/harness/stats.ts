/** Summaries of measured values, and the tables the benchmarks print. */

export interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
  mean: number
}

/** Nearest-rank percentile of `sorted` (ascending). */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

/** Latencies in milliseconds, rounded to 0.01 ms. */
export function summarize (latenciesMs: number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b)
  const round = (n: number): number => Math.round(n * 100) / 100
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)
  return { count: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? Number.NaN), mean: round(mean) }
}

export function ratio (a: number, b: number): number {
  return Math.round((a / b) * 100) / 100
}

export type Row = Record<string, string | number>

/** A Markdown table (it reads well in a terminal too). */
export function markdownTable (rows: Row[]): string {
  if (rows.length === 0) return '(no rows)'
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))]
  const cell = (value: string | number | undefined): string => value === undefined ? '' : String(value)
  const lines = [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`]
  for (const row of rows) lines.push(`| ${columns.map((c) => cell(row[c])).join(' | ')} |`)
  return lines.join('\n')
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function nowMs (): number {
  return Number(process.hrtime.bigint()) / 1e6
}
