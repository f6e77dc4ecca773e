/**
 * Boca status bytes (BOCA.md "Status bytes"), decoded. "ASCII status" mode adds 0x30 to every byte: a
 * printer sends one form or the other, set on the printer, so the form is named by the caller (the relay's
 * ASCII_STATUS_PRINTERS), never guessed: a byte of the other form, or any byte outside the table, is not
 * Boca status (`foreign`), e.g. an HTTP server's "HTTP/1.1 400" on port 9100.
 */

/** How a status byte bears on a job in progress. */
export type StatusKind =
  | 'ack' // the ticket printed
  | 'ready' // X-ON, power on, paper loaded: keep waiting / ready for more
  | 'busy' // X-OFF: keep waiting
  | 'warning' // printed or printable, but someone should look (low paper, ribbon low, reject bin)
  | 'error' // the printer cannot print: the job did not (fully) print
  | 'info' // other reports that change nothing for the job
  | 'foreign' // not a Boca status byte at all (in the printer's status form): the device does not speak Boca status

export interface BocaStatus {
  byte: number
  /** A stable name, e.g. `out-of-paper`. */
  condition: string
  kind: StatusKind
  /** What an operator reads. */
  message: string
}

const TABLE: ReadonlyArray<readonly [number, string, StatusKind, string]> = [
  [0x01, 'reject-bin-warning', 'warning', 'reject bin warning'],
  [0x02, 'reject-bin-error', 'error', 'reject bin error'],
  [0x03, 'paper-jam-path-1', 'error', 'paper jam on path 1'],
  [0x04, 'paper-jam-path-2', 'error', 'paper jam on path 2'],
  [0x05, 'test-ticket-ack', 'info', 'test-button ticket printed'],
  [0x06, 'ticket-ack', 'ack', 'ticket printed'],
  [0x07, 'wrong-file-identifier', 'error', 'wrong file identifier during firmware update'],
  [0x08, 'invalid-checksum', 'error', 'invalid checksum'],
  [0x09, 'valid-checksum', 'info', 'valid checksum'],
  [0x0a, 'out-of-paper-path-1', 'error', 'out of paper on path 1'],
  [0x0b, 'out-of-paper-path-2', 'error', 'out of paper on path 2'],
  [0x0c, 'paper-loaded-path-1', 'ready', 'paper loaded on path 1'],
  [0x0d, 'paper-loaded-path-2', 'ready', 'paper loaded on path 2'],
  [0x0e, 'escrow-jam', 'error', 'escrow jam'],
  [0x0f, 'low-paper', 'warning', 'low paper'],
  [0x10, 'out-of-paper', 'error', 'out of paper'],
  [0x11, 'ready', 'ready', 'ready (X-ON)'],
  [0x12, 'power-on', 'ready', 'power on'],
  [0x13, 'busy', 'busy', 'busy (X-OFF)'],
  [0x14, 'bad-flash', 'error', 'bad flash memory'],
  [0x15, 'illegal-command', 'error', 'illegal print command (NAK)'],
  [0x16, 'ribbon-low-or-ticket-removed', 'warning', 'ribbon low, or (newer firmware) ticket removed'],
  [0x17, 'ribbon-out', 'error', 'ribbon out'],
  [0x18, 'paper-jam', 'error', 'paper jam'],
  [0x19, 'illegal-data', 'error', 'illegal data'],
  [0x1a, 'power-up-problem', 'error', 'power-up problem'],
  [0x1c, 'download-error', 'error', 'downloading error'],
  [0x1d, 'cutter-jam', 'error', 'cutter jam'],
  [0x1e, 'stuck-ticket-path-1', 'error', 'stuck ticket or cutter jam on path 1'],
  [0x1f, 'stuck-ticket-path-2', 'error', 'stuck ticket or cutter jam on path 2']
]

const BY_BYTE = new Map<number, BocaStatus>(
  TABLE.map(([byte, condition, kind, message]) => [byte, { byte, condition, kind, message }])
)

/** Well-known status bytes, by name, for the simulator and tests. */
export const STATUS = {
  ACK: 0x06,
  LOW_PAPER: 0x0f,
  OUT_OF_PAPER: 0x10,
  READY: 0x11,
  POWER_ON: 0x12,
  BUSY: 0x13,
  NAK: 0x15,
  PAPER_JAM: 0x18,
  CUTTER_JAM: 0x1d
} as const

/** How a printer sends its status bytes: as in the table (`binary`), or each plus 0x30 (`ascii`, BOCA.md). */
export type StatusEncoding = 'binary' | 'ascii'

/** What ASCII status mode adds to every status byte. */
export const ASCII_STATUS_OFFSET = 0x30

/**
 * Decodes one status byte sent in `encoding`. A byte that is not in the table in that form decodes as
 * `foreign` (condition `not-boca-status`): whoever sent it does not speak Boca status (in that form).
 */
export function decodeStatusByte (byte: number, encoding: StatusEncoding = 'binary'): BocaStatus {
  const plain = encoding === 'ascii' ? byte - ASCII_STATUS_OFFSET : byte
  const known = BY_BYTE.get(plain)
  if (known !== undefined) return { ...known, byte }
  return { byte, condition: 'not-boca-status', kind: 'foreign', message: `${hex(byte)} is not a Boca status byte${encoding === 'ascii' ? ' in ASCII status mode' : ''}` }
}

/** The byte a printer sends for `status` (a table byte) in `encoding`. */
export function encodeStatusByte (status: number, encoding: StatusEncoding): number {
  return encoding === 'ascii' ? status + ASCII_STATUS_OFFSET : status
}

/** Bytes as `48 54 54 50 …`, at most `max` of them, for messages about what a device sent. */
export function hexDump (bytes: Uint8Array, max = 16): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ')
  return bytes.length > max ? `${shown} … (${bytes.length} bytes)` : shown
}

export function hex (byte: number): string {
  return '0x' + byte.toString(16).padStart(2, '0').toUpperCase()
}

/** The whole table, for documentation and tests. */
export function allStatuses (): BocaStatus[] {
  return [...BY_BYTE.values()]
}
