/** What the Print button prints: the form's values checked, and the job's id (the client library builds the envelope). */
import { MAX_COPIES, MIN_COPIES } from '../../protocol/limits.ts'
import { randomSuffix } from './connection.ts'
import { jobBytes } from './jobText.ts'

export type Checked<T> = { ok: true, value: T } | { ok: false, message: string }

/** `web-<time>-<random>`: within the envelope id's `A-Z a-z 0-9 . _ : -`, unique per click. */
export function newJobId (now = Date.now()): string {
  return `web-${now}-${randomSuffix(6)}`
}

export function checkCopies (raw: string): Checked<number> {
  const text = raw.trim()
  const copies = Number(text)
  if (text === '' || !/^\d+$/.test(text) || !Number.isInteger(copies) || copies < MIN_COPIES || copies > MAX_COPIES) {
    return { ok: false, message: `Copies must be a whole number from ${MIN_COPIES} to ${MAX_COPIES}.` }
  }
  return { ok: true, value: copies }
}

/** `maxJobBytes`: the broker's MAX_JOB_BYTES, from `/config.json`. Counted as the job's bytes (jobText.ts). */
export function checkTicket (text: string, maxJobBytes: number): Checked<string> {
  if (text.trim() === '') return { ok: false, message: 'Type a ticket to print, e.g. <RC10,10><F3>Hello<p>.' }
  const bytes = jobBytes(text).bytes.length
  if (bytes > maxJobBytes) {
    return { ok: false, message: `The ticket is ${bytes} bytes; jobs are limited to ${maxJobBytes} bytes.` }
  }
  return { ok: true, value: text }
}
