/**
 * FGL bytes → tokens with their byte offsets, by the same rules as boca/fgl.ts (which the relay counts tickets
 * with), so a preview splits a job into the same tickets the printer prints:
 * - A command is `<` … `>`, at most MAX_COMMAND_BYTES long; a `<` not closed within the cap, or followed by
 *   another `<` first, is text.
 * - `<G#>` is followed by exactly # raw bytes of graphics data, never interpreted.
 * - `<p>` or a bare 0x0C ends a ticket with a cut; `<q>` or a bare 0x1D without one.
 * - `<S1>` asks for status and is not part of any ticket.
 * Besides those, a command that takes a data field (`^…^`, `*…*`, `{…}`, `~…~`: see FIELD_DELIMITERS) reads it
 * here, so that a `<` inside a QR code's URL is data. A field stops at a ticket end: one not closed before it (or
 * before the end of the job) is unterminated, and its bytes are read as ordinary FGL.
 * Browser-safe: Uint8Array only.
 */
import { MAX_COMMAND_BYTES } from '../boca/fgl.ts'

export type Token =
  /** Bytes outside commands: printed text (control bytes included; the layout decides what they do). */
  | { kind: 'text', start: number, end: number, bytes: Uint8Array }
  /** `<name>`; `name` is what is between the brackets, read as Latin-1. */
  | { kind: 'command', start: number, end: number, name: string }
  /** `<G#>` and its data; `data` is shorter than `declared` when the job ends first. */
  | { kind: 'graphics', start: number, end: number, declared: number, data: Uint8Array }
  /** A data field right after the command before it (`^data^`); `data` without the delimiters. */
  | { kind: 'field', start: number, end: number, data: Uint8Array }
  /** A field's opening delimiter with no closing one before the ticket (or job) ends; not consumed. */
  | { kind: 'unterminated', start: number, end: number, open: string }
  /** A ticket's end: `<p>`, `<q>`, 0x0C or 0x1D. */
  | { kind: 'end', start: number, end: number, terminator: 'p' | 'q' }
  | { kind: 'status', start: number, end: number }
  /** A `<` that does not start a command (not closed within MAX_COMMAND_BYTES, or another `<` first). */
  | { kind: 'stray', start: number, end: number }
  /** The job ends inside a command (`<` with no `>` yet, within MAX_COMMAND_BYTES): the printer waits for more. */
  | { kind: 'open', start: number, end: number }

const LT = 0x3c
const GT = 0x3e
const FORM_FEED = 0x0c
const GROUP_SEPARATOR = 0x1d

/** Commands (by the pattern of their name) followed by a data field, and the field's delimiters. */
export const FIELD_DELIMITERS: Array<{ pattern: RegExp, open: number, close: number }> = [
  { pattern: /^(OL|OP|EL|EP)\d+$/, open: 0x5e, close: 0x5e }, // ^data^: Code 128, EAN-13
  { pattern: /^(NL|NP)\d+$/, open: 0x2a, close: 0x2a }, // *data*: Code 39
  { pattern: /^QR/, open: 0x7b, close: 0x7d }, // {data}
  { pattern: /^CTR\d*$/, open: 0x7e, close: 0x7e } // ~text~
]

const GRAPHICS = /^G(\d+)$/

/** The command at `start` (a `<`): its name and the offset past `>`, or undefined when the `<` is text. */
export function commandAt (bytes: Uint8Array, start: number): { name: string, end: number } | undefined {
  const limit = Math.min(bytes.length, start + MAX_COMMAND_BYTES)
  for (let i = start + 1; i < limit; i++) {
    if (bytes[i] === GT) return { name: latin1(bytes, start + 1, i), end: i + 1 }
    if (bytes[i] === LT) return undefined
  }
  return undefined
}

/** Whether the job ends after the `<` at `start` before the command could close or be given up (boca/fgl.ts waits). */
function endsInsideCommand (bytes: Uint8Array, start: number): boolean {
  if (start + MAX_COMMAND_BYTES <= bytes.length) return false
  for (let i = start + 1; i < bytes.length; i++) if (bytes[i] === LT || bytes[i] === GT) return false
  return true
}

export function latin1 (bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = ''
  for (let i = start; i < end; i += 8192) text += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 8192)))
  return text
}

/**
 * Where the field opened at `start` closes: the offset of its closing delimiter, or -1 when the ticket or the job
 * ends first. A command inside the field is skipped whole, as boca/fgl.ts reads it; one that ends a ticket or
 * starts graphics (`<p>`, `<q>`, `<G#>`) ends the field unterminated, so tickets split exactly as the relay counts them.
 */
function fieldClose (bytes: Uint8Array, start: number, close: number): number {
  let i = start + 1
  while (i < bytes.length) {
    const byte = bytes[i] as number
    if (byte === close) return i
    if (byte === FORM_FEED || byte === GROUP_SEPARATOR) return -1
    const command = byte === LT ? commandAt(bytes, i) : undefined
    // A `<` still open when the job ends: the relay reads the rest as a command, so the field never closes.
    if (byte === LT && command === undefined && endsInsideCommand(bytes, i)) return -1
    if (command === undefined) { i++; continue }
    if (command.name === 'p' || command.name === 'q' || GRAPHICS.test(command.name)) return -1
    i = command.end
  }
  return -1
}

/** Every token of a whole job, in order; their ranges cover every byte exactly once. */
export function tokenize (bytes: Uint8Array): Token[] {
  const tokens: Token[] = []
  let textStart = 0
  let i = 0
  const flushText = (end: number): void => {
    if (end > textStart) tokens.push({ kind: 'text', start: textStart, end, bytes: bytes.subarray(textStart, end) })
  }
  while (i < bytes.length) {
    const byte = bytes[i] as number
    if (byte === FORM_FEED || byte === GROUP_SEPARATOR) {
      flushText(i)
      tokens.push({ kind: 'end', start: i, end: i + 1, terminator: byte === FORM_FEED ? 'p' : 'q' })
      textStart = ++i
      continue
    }
    if (byte !== LT) { i++; continue }
    const command = commandAt(bytes, i)
    flushText(i)
    if (command === undefined && endsInsideCommand(bytes, i)) {
      tokens.push({ kind: 'open', start: i, end: bytes.length })
      return tokens
    }
    if (command === undefined) {
      tokens.push({ kind: 'stray', start: i, end: i + 1 })
      textStart = ++i
      continue
    }
    i = readCommand(bytes, i, command, tokens)
    textStart = i
  }
  flushText(i)
  return tokens
}

/** Pushes the command at `start` (and its graphics data or field); returns the offset after them. */
function readCommand (bytes: Uint8Array, start: number, command: { name: string, end: number }, tokens: Token[]): number {
  const { name, end } = command
  if (name === 'p' || name === 'q') {
    tokens.push({ kind: 'end', start, end, terminator: name })
    return end
  }
  if (name === 'S1') {
    tokens.push({ kind: 'status', start, end })
    return end
  }
  const graphics = GRAPHICS.exec(name)
  if (graphics) {
    const declared = Number(graphics[1])
    const dataEnd = Math.min(bytes.length, end + declared)
    tokens.push({ kind: 'graphics', start, end: dataEnd, declared, data: bytes.subarray(end, dataEnd) })
    return dataEnd
  }
  const previous = tokens[tokens.length - 1]
  tokens.push({ kind: 'command', start, end, name })
  // `<BI>` may sit between a barcode command and its data (`<OP5><BI>^data^`): the field is the barcode's.
  const owner = name === 'BI' && previous?.kind === 'command' && previous.end === start ? previous.name : name
  const field = FIELD_DELIMITERS.find((f) => f.pattern.test(owner))
  if (field === undefined || bytes[end] !== field.open) return end
  const closeAt = fieldClose(bytes, end, field.close)
  if (closeAt < 0) {
    tokens.push({ kind: 'unterminated', start: end, end: end + 1, open: String.fromCharCode(field.open) })
    return end + 1
  }
  tokens.push({ kind: 'field', start: end, end: closeAt + 1, data: bytes.subarray(end + 1, closeAt) })
  return closeAt + 1
}
