/**
 * `GET /metrics` for tests: the answer, and its text read as Prometheus' text exposition format (version 0.0.4):
 * `# HELP` and `# TYPE` lines, then samples `name{label="value",...} number`. Every line must be one of these, every
 * sample's family must have been typed before it, and label values are unescaped (\\, \", \n), so that a test
 * fails on text Prometheus would refuse. (The one parser on npm, parse-prometheus-text-format, drops the labels of
 * histograms with labels of their own, so it cannot read these.)
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Scrape {
  status: number
  headers: Headers
  text: string
  /** The families' types by name (`counter`, `gauge`, `histogram`...); empty unless the answer was 200. */
  types: Map<string, string>
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`)
const LABEL = new RegExp(`^(${NAME})="((?:[^"\\\\]|\\\\.)*)"(,|$)`)

export async function scrapeMetrics (httpUrl: string, authorization?: string): Promise<Scrape> {
  const response = await fetch(`${httpUrl}/metrics`, authorization === undefined ? {} : { headers: { authorization } })
  const text = await response.text()
  const read = response.status === 200 ? readExposition(text) : { types: new Map<string, string>(), samples: [] }
  return { status: response.status, headers: response.headers, text, ...read }
}

/** Reads Prometheus' text format; throws at the first line that is not in it. */
export function readExposition (text: string): { types: Map<string, string>, samples: Sample[] } {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const [index, line] of text.split('\n').entries()) {
    const where = `line ${index + 1}: ${line}`
    if (line === '') continue
    if (line.startsWith('# HELP ')) continue
    if (line.startsWith('# TYPE ')) {
      const [name, type, ...rest] = line.slice(7).split(' ')
      if (name === undefined || type === undefined || rest.length > 0 || !/^(counter|gauge|histogram|summary|untyped)$/.test(type)) throw new Error(`bad TYPE, ${where}`)
      types.set(name, type)
      continue
    }
    const match = SAMPLE_LINE.exec(line)
    if (match === null) throw new Error(`not a sample, ${where}`)
    const [, name = '', labelText = '', valueText = ''] = match
    const family = [...types.keys()].find((typed) => name === typed || (/^(_bucket|_sum|_count|_total)$/.test(name.slice(typed.length)) && name.startsWith(typed)))
    if (family === undefined) throw new Error(`sample of an untyped family, ${where}`)
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText)
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value, ${where}`)
    samples.push({ name, labels: readLabels(labelText, where), value })
  }
  return { types, samples }
}

function readLabels (text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest !== '') {
    const match = LABEL.exec(rest)
    if (match === null) throw new Error(`bad labels, ${where}`)
    const [whole, name = '', value = ''] = match
    labels[name] = value.replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    rest = rest.slice(whole.length)
  }
  return labels
}

function matches (labels: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([name, value]) => labels[name] === value)
}

/** The value of the one sample `name` with these labels (it may have others); undefined when there is none. */
export function sampleValue (scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = scrape.samples.filter((sample) => sample.name === name && matches(sample.labels, labels))
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

/** A histogram's series with these labels: its count, sum, and cumulative buckets by upper bound, in order. */
export function histogram (scrape: Scrape, name: string, labels: Record<string, string>): { count: number, sum: number, buckets: Array<[string, number]> } | undefined {
  if (scrape.types.get(name) !== 'histogram') return undefined
  const count = sampleValue(scrape, `${name}_count`, labels)
  const sum = sampleValue(scrape, `${name}_sum`, labels)
  if (count === undefined || sum === undefined) return undefined
  const buckets = scrape.samples.filter((s) => s.name === `${name}_bucket` && matches(s.labels, labels)).map((s): [string, number] => [s.labels.le ?? '', s.value])
  return { count, sum, buckets }
}

/** The metric families of a scrape, by name. */
export function familyNames (scrape: Scrape): string[] {
  return [...scrape.types.keys()]
}
