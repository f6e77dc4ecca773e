/**
 * FGL (Friendly Ghost Language, BOCA.md "FGL") as a byte stream: where tickets end, where status is
 * requested, and which bytes are graphics data that must never be interpreted. Shared by the relay
 * (counting tickets in a job) and the printer simulator (printing them).
 *
 * Rules:
 * - A command is `<` ... `>`, at most MAX_COMMAND_BYTES long; a `<` not closed within the cap, or followed by
 *   another `<` first, is text.
 * - `<p>` or a bare 0x0C ends a ticket with a cut; `<q>` or a bare 0x1D ends it without one. Bare means outside
 *   a command and outside graphics data.
 * - `<G#>` is followed by exactly # raw bytes of graphics data, which may hold any byte value.
 * - `<S1>` asks for status; its bytes are not part of any ticket.
 */

export type TicketTerminator = 'p' | 'q'

export interface FglHandlers {
  /**
   * A ticket ended: `bytes` are exactly the bytes received for it, terminator included, `<S1>` removed;
   * `end`, the offset in the whole stream pushed just past its terminator.
   */
  onTicket(bytes: Buffer, terminator: TicketTerminator, end: number): void
  onStatusRequest(): void
}

/** Longest command, `<` and `>` included; longer "commands" are text that happens to contain `<`. */
export const MAX_COMMAND_BYTES = 64

const LT = 0x3c // <
const GT = 0x3e // >
const FORM_FEED = 0x0c // print and cut, like <p>
const GROUP_SEPARATOR = 0x1d // print without cutting, like <q>

const GRAPHICS_COMMAND = /^G(\d+)$/

type Mode = 'text' | 'command' | 'graphics'

/** Streaming scanner: push chunks split anywhere; handlers are called as tickets and status requests complete. */
export class FglScanner {
  private readonly handlers: FglHandlers
  private mode: Mode = 'text'
  /** Bytes of the current ticket so far (not counting a command still open). */
  private readonly ticket = new ByteAccumulator()
  /** The open command, `<` included, while mode is `command`. */
  private readonly command = Buffer.alloc(MAX_COMMAND_BYTES)
  private commandLength = 0
  /** Graphics bytes still to skip, while mode is `graphics`. */
  private graphicsLeft = 0
  /** Bytes pushed so far (stream offsets for `onTicket`). */
  private pushed = 0

  constructor (handlers: FglHandlers) {
    this.handlers = handlers
  }

  /** Between tickets: no byte of a next ticket (or command) seen yet. */
  get atTicketStart (): boolean {
    return this.mode === 'text' && this.ticket.size === 0
  }

  push (chunk: Buffer): void {
    const base = this.pushed
    this.pushed += chunk.length
    this.scan(chunk, base)
  }

  /** Scans `chunk`, whose first byte is at stream offset `base`. */
  private scan (chunk: Buffer, base: number): void {
    let runStart = 0 // start of the bytes of `chunk` that belong to the ticket and are not yet kept
    let i = 0
    while (i < chunk.length) {
      if (this.mode === 'graphics') {
        const take = Math.min(this.graphicsLeft, chunk.length - i)
        this.graphicsLeft -= take
        i += take
        if (this.graphicsLeft === 0) this.mode = 'text'
        continue
      }
      const byte = chunk[i] as number
      i++
      if (this.mode === 'text') {
        if (byte === LT) {
          this.ticket.append(chunk, runStart, i - 1)
          this.openCommand()
        } else if (byte === FORM_FEED || byte === GROUP_SEPARATOR) {
          this.ticket.append(chunk, runStart, i)
          runStart = i
          this.endTicket(byte === FORM_FEED ? 'p' : 'q', base + i)
        }
        continue
      }
      // mode === 'command'
      if (byte === GT) {
        this.command[this.commandLength++] = byte
        this.finishCommand(base + i)
      } else if (byte === LT || this.commandLength + 1 >= MAX_COMMAND_BYTES) {
        this.abandonCommand(byte, base + i)
      } else {
        this.command[this.commandLength++] = byte
        continue
      }
      runStart = i
    }
    if (this.mode !== 'command') this.ticket.append(chunk, runStart)
  }

  private openCommand (): void {
    this.mode = 'command'
    this.command[0] = LT
    this.commandLength = 1
  }

  /** `end`: the stream offset just past the `>`. */
  private finishCommand (end: number): void {
    const name = this.command.toString('latin1', 1, this.commandLength - 1)
    this.mode = 'text'
    if (name === 'S1') {
      this.handlers.onStatusRequest()
      return
    }
    this.ticket.append(this.command, 0, this.commandLength)
    if (name === 'p' || name === 'q') {
      this.endTicket(name, end)
      return
    }
    const graphics = GRAPHICS_COMMAND.exec(name)
    if (graphics) {
      this.graphicsLeft = Number(graphics[1])
      if (this.graphicsLeft > 0) this.mode = 'graphics'
    }
  }

  /**
   * The open `<` was text after all: keep it, and read what followed it (plus `next`) again as text.
   * Those bytes hold no `<` or `>`, so only a bare terminator among them needs a rescan. `end`: the stream
   * offset just past `next`.
   */
  private abandonCommand (next: number, end: number): void {
    this.mode = 'text'
    this.ticket.appendByte(LT)
    for (let k = 1; k < this.commandLength; k++) {
      const byte = this.command[k]
      if (byte === FORM_FEED || byte === GROUP_SEPARATOR) {
        const rest = Buffer.concat([this.command.subarray(k, this.commandLength), Buffer.from([next])])
        this.scan(rest, end - rest.length)
        return
      }
      this.ticket.appendByte(byte as number)
    }
    if (next === LT) this.openCommand()
    else this.ticket.appendByte(next)
  }

  private endTicket (terminator: TicketTerminator, end: number): void {
    this.handlers.onTicket(this.ticket.take(), terminator, end)
  }
}

/** A byte buffer that grows as needed; `take` hands out a copy and starts again. */
class ByteAccumulator {
  private bytes = Buffer.alloc(1024)
  private length = 0

  /** Appends `source[start, end)`. */
  append (source: Buffer, start = 0, end = source.length): void {
    if (end <= start) return
    this.reserve(end - start)
    this.length += source.copy(this.bytes, this.length, start, end)
  }

  get size (): number {
    return this.length
  }

  appendByte (byte: number): void {
    this.reserve(1)
    this.bytes[this.length++] = byte
  }

  take (): Buffer {
    const taken = Buffer.from(this.bytes.subarray(0, this.length))
    this.length = 0
    if (this.bytes.length > 1 << 20) this.bytes = Buffer.alloc(1024)
    return taken
  }

  private reserve (extra: number): void {
    if (this.length + extra <= this.bytes.length) return
    const grown = Buffer.alloc(Math.max(this.bytes.length * 2, this.length + extra))
    this.bytes.copy(grown, 0, 0, this.length)
    this.bytes = grown
  }
}

/**
 * A whole job cut into its tickets, bytes unchanged: one piece per complete ticket, ending just past its
 * terminator (bytes after the last terminator join the last piece). A job with no ticket end is one piece.
 */
export function splitTickets (data: Buffer): { pieces: Buffer[], tickets: number } {
  const ends: number[] = []
  const scanner = new FglScanner({ onTicket: (_bytes, _terminator, end) => { ends.push(end) }, onStatusRequest: () => {} })
  scanner.push(data)
  if (ends.length === 0) return { pieces: [data], tickets: 0 }
  ends[ends.length - 1] = data.length
  return { pieces: ends.map((end, i) => data.subarray(i === 0 ? 0 : ends[i - 1], end)), tickets: ends.length }
}

/** How many complete tickets a whole job holds (bytes after the last terminator do not count). */
export function countTickets (data: Uint8Array): number {
  let tickets = 0
  const scanner = new FglScanner({ onTicket: () => { tickets++ }, onStatusRequest: () => {} })
  scanner.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  return tickets
}

/**
 * A readable text dump of one ticket, for people (logs, the simulator's dump files): each `<RCr,c>` starts a
 * new line, text is kept (other bytes as `\xNN`), graphics, QR codes and barcodes are summarised, other
 * commands are dropped, and the terminator is shown as `[cut]` or `[no cut]`.
 */
export function dumpTicket (bytes: Uint8Array): string {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const lines: string[] = ['']
  const write = (text: string): void => { lines[lines.length - 1] += text }
  const newLine = (): void => { if (lines[lines.length - 1] !== '') lines.push('') }
  let i = 0
  while (i < data.length) {
    const byte = data[i] as number
    const command = byte === LT ? readCommand(data, i) : undefined
    if (command === undefined) {
      if (byte === FORM_FEED) write('[cut]')
      else if (byte === GROUP_SEPARATOR) write('[no cut]')
      else write(printable(byte))
      i++
      continue
    }
    i = command.end
    const name = command.name
    if (name === 'p') write('[cut]')
    else if (name === 'q') write('[no cut]')
    else if (/^RC\d*,\d*$/.test(name)) newLine()
    else if (GRAPHICS_COMMAND.test(name)) {
      const length = Math.min(Number(name.slice(1)), data.length - i)
      write(`[graphics ${length} bytes]`)
      i += length
    } else if (name.startsWith('QR')) {
      const field = readDelimited(data, i, 0x7b /* { */, 0x7d /* } */)
      if (field) { write(`[QR ${field.text}]`); i = field.end }
    } else if (/^(OL|OP|NL)\d*$/.test(name)) {
      const mark = name.startsWith('NL') ? 0x2a /* * */ : 0x5e /* ^ */
      const field = readDelimited(data, i, mark, mark)
      if (field) { write(`[barcode ${field.text}]`); i = field.end }
    }
  }
  return lines.join('\n')
}

/** The command starting at `start` (a `<`), by the scanner's rules, or undefined when that `<` is text. */
function readCommand (data: Buffer, start: number): { name: string, end: number } | undefined {
  const limit = Math.min(data.length, start + MAX_COMMAND_BYTES)
  for (let i = start + 1; i < limit; i++) {
    if (data[i] === GT) return { name: data.toString('latin1', start + 1, i), end: i + 1 }
    if (data[i] === LT) return undefined
  }
  return undefined
}

/** A field such as `{data}` or `^data^` right at `start`, shown readably. */
function readDelimited (data: Buffer, start: number, open: number, close: number): { text: string, end: number } | undefined {
  if (data[start] !== open) return undefined
  const closeAt = data.indexOf(close, start + 1)
  if (closeAt < 0) return undefined
  return { text: [...data.subarray(start + 1, closeAt)].map(printable).join(''), end: closeAt + 1 }
}

function printable (byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0').toUpperCase()}`
}
