/** A real pino logger whose JSON lines a test can read (what an operator would see in the broker's log). */
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'

export interface CapturedLog {
  logger: Logger
  /** Every line logged so far, parsed. */
  entries(): Array<Record<string, unknown>>
  /** The raw text logged so far. */
  text(): string
}

export function captureLog (level = 'info'): CapturedLog {
  const chunks: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done() } })
  const logger = pino({ level }, sink)
  const text = (): string => chunks.join('')
  return {
    logger,
    text,
    entries: () => text().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}
