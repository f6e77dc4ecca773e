/**
 * Lint findings: a stable code (README, "Ticket preview"), a severity, a message for people, and where in the job
 * (byte offsets, and line:column counted from 1, columns in bytes). Errors are what makes a ticket print wrong or
 * not at all; warnings, what the preview cannot vouch for.
 */

export type Severity = 'error' | 'warning'

export const FINDING_CODES = {
  /** A command this renderer does not know (commands are case-sensitive); not drawn. */
  FGL_UNKNOWN_COMMAND: 'warning',
  /** A known command with missing or malformed arguments (`<RC10>`, `<HW0,2>`). */
  FGL_BAD_ARGUMENTS: 'error',
  /** `<Fn>` with a font number not in BOCA.md's table; the preview keeps the font it had. */
  FGL_UNKNOWN_FONT: 'warning',
  /** Text, a box, a line or graphics extending off the ticket: the printer clips it. */
  FGL_OFF_TICKET: 'warning',
  /** A barcode or QR code extending off the ticket: clipped, it will not scan. */
  FGL_BARCODE_OFF_TICKET: 'error',
  /** Something to print after the last `<p>`/`<q>` (or no ticket end at all): the printer does not print it yet. */
  FGL_NO_TICKET_END: 'error',
  /** A barcode, QR or CTR field opened (`^`, `*`, `{`, `~`) and not closed before the ticket or job ends. */
  FGL_UNTERMINATED_DATA: 'error',
  /** A barcode, QR or CTR command not followed by its data field. */
  FGL_MISSING_DATA: 'error',
  /** Data the symbology cannot encode (EAN-13 needs 12 or 13 digits, Code 39 has no lower case...). */
  FGL_BAD_BARCODE_DATA: 'error',
  /** `<G#>` announces more bytes than the job has left. */
  FGL_GRAPHICS_PAST_END: 'error',
  /** A `<` that starts no command (no `>` within 64 bytes, or another `<` first): printed as text. */
  FGL_STRAY_BRACKET: 'warning',
  /** The job ends inside a command (a `<` with no `>` yet): the printer waits for the rest and prints nothing. */
  FGL_UNCLOSED_COMMAND: 'error',
  /** A control byte in text (other than CR, LF and the ticket ends): the preview does not draw it. */
  FGL_CONTROL_BYTE: 'warning',
  /** A downloaded logo (`<LD#>`) lives in the printer: drawn as a labelled placeholder. */
  FGL_LOGO_PLACEHOLDER: 'warning',
  /** A command the printer knows that the preview does not draw (`<z>`, escrow eject). */
  FGL_NOT_DRAWN: 'warning'
} as const satisfies Record<string, Severity>

export type FindingCode = keyof typeof FINDING_CODES

export interface Finding {
  code: FindingCode
  severity: Severity
  message: string
  /** Byte offsets in the job: [start, end). */
  start: number
  end: number
  /** 1-based line and column (bytes) of `start`. */
  line: number
  column: number
  /** Which ticket (0-based) the finding is about, when it is about one. */
  ticket?: number
}

/** Finds line:column of byte offsets in one job; built once per job. */
export class LineIndex {
  private readonly starts: number[] = [0]

  constructor (bytes: Uint8Array) {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) this.starts.push(i + 1)
  }

  position (offset: number): { line: number, column: number } {
    let low = 0
    let high = this.starts.length - 1
    while (low < high) {
      const mid = (low + high + 1) >> 1
      if ((this.starts[mid] as number) <= offset) low = mid
      else high = mid - 1
    }
    return { line: low + 1, column: offset - (this.starts[low] as number) + 1 }
  }
}

/** Collects findings for one job, with their positions. */
export class FindingList {
  readonly items: Finding[] = []
  private readonly lines: LineIndex

  constructor (bytes: Uint8Array) {
    this.lines = new LineIndex(bytes)
  }

  add (code: FindingCode, message: string, start: number, end: number, ticket?: number): void {
    this.items.push({ code, severity: FINDING_CODES[code], message, start, end, ...this.lines.position(start), ...(ticket === undefined ? {} : { ticket }) })
  }
}

/** `file:line:col code severity message`, as `printwire lint` prints each finding. */
export function findingLine (file: string, finding: Finding): string {
  return `${file}:${finding.line}:${finding.column} ${finding.code} ${finding.severity} ${finding.message}`
}
