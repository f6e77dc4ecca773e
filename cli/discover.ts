/**
 * `printwire discover`: finds the devices that accept TCP on a port (9100, raw printing) in an IPv4 range given in
 * CIDR form, and tells Boca printers from other listeners: each open port is sent `<S1>` (status request,
 * BOCA.md "Status bytes"); a Boca that is ready answers with status bytes (0x11, in binary or "ASCII status"
 * form), a web server or another printer answers with something else, or nothing. Bounded concurrency, a timeout
 * per host for the connection and for the answer; nothing else is sent. The range is always given: there is no
 * default scan, and one larger than MAX_PREFIX_WITHOUT_FLAG addresses needs a flag.
 */
import net from 'node:net'
import { decodeStatusByte, hexDump, type BocaStatus, type StatusEncoding } from '../boca/status.ts'
import { PrintwireError } from '../protocol/index.ts'

/** A /16 (65 534 hosts) at most, unless the caller says so (`--allow-large-range`). */
export const MAX_PREFIX_WITHOUT_FLAG = 16
/** A /12 (1 048 574 hosts) at most in any case: the list of a larger range alone would take gigabytes. */
export const MAX_PREFIX_AT_ALL = 12
/** Boca's status request. */
export const STATUS_REQUEST = Buffer.from('<S1>', 'latin1')
/** After the first bytes of an answer, how long more may come before it is judged. */
const ANSWER_SETTLE_MS = 150
/** Bytes of an answer kept (a web server may send a page). */
const MAX_ANSWER_BYTES = 256

export interface Range {
  /** As given, normalised: `127.0.0.0/29`. */
  cidr: string
  /** The addresses scanned, in order: without the network and broadcast addresses below /31. */
  hosts: string[]
}

function ipv4ToNumber (address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function numberToIpv4 (n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')
}

/** Parses `a.b.c.d/n` (IPv4); refuses anything else, and more than a /16 without `allowLarge`. */
export function parseRange (text: string, allowLarge = false): Range {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text.trim())
  const prefix = match === null ? NaN : Number(match[2])
  if (match === null || !net.isIPv4(match[1] ?? '') || prefix > 32) {
    throw new PrintwireError('INVALID_ARGUMENT', `"${text}" is not an IPv4 range in CIDR form, such as 192.168.1.0/24`)
  }
  if (prefix < MAX_PREFIX_AT_ALL) {
    throw new PrintwireError('INVALID_ARGUMENT', `${text} holds ${2 ** (32 - prefix)} addresses: discover scans a /${MAX_PREFIX_AT_ALL} at most (printers sit on the venue's own network, such as 192.168.1.0/24); scan its parts one at a time`)
  }
  if (prefix < MAX_PREFIX_WITHOUT_FLAG && !allowLarge) {
    throw new PrintwireError('INVALID_ARGUMENT', `${text} holds ${2 ** (32 - prefix)} addresses: scan a /${MAX_PREFIX_WITHOUT_FLAG} or smaller (the venue's printer network, such as 192.168.1.0/24), or add --allow-large-range`)
  }
  const size = 2 ** (32 - prefix)
  const network = ipv4ToNumber(match[1] ?? '') - (ipv4ToNumber(match[1] ?? '') % size)
  const first = prefix >= 31 ? network : network + 1
  const last = prefix >= 31 ? network + size - 1 : network + size - 2
  const hosts: string[] = []
  for (let n = first; n <= last; n++) hosts.push(numberToIpv4(n))
  return { cidr: `${numberToIpv4(network)}/${prefix}`, hosts }
}

export type Finding =
  | { address: string, port: number, kind: 'boca', encoding: StatusEncoding, statuses: BocaStatus[] }
  | { address: string, port: number, kind: 'other', answer: Buffer }
  | { address: string, port: number, kind: 'silent' }

export interface ScanOptions {
  port: number
  /** Per host: for the connection, then for the answer to `<S1>`. */
  timeoutMs: number
  concurrency: number
  /** Called as each host is done (for progress). */
  onHost?: (done: number, total: number) => void
}

/** Every host of `range` with the port open, in address order. */
export async function scan (range: Range, options: ScanOptions): Promise<Finding[]> {
  const found: Array<Finding | undefined> = new Array(range.hosts.length)
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < range.hosts.length) {
      const index = next++
      found[index] = await probe(range.hosts[index] as string, options)
      options.onHost?.(++done, range.hosts.length)
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency, range.hosts.length) }, worker))
  return found.filter((f): f is Finding => f !== undefined)
}

/** Judges an answer to `<S1>`: Boca status bytes in one form, or not. */
export function judgeAnswer (address: string, port: number, answer: Buffer): Finding {
  if (answer.length === 0) return { address, port, kind: 'silent' }
  for (const encoding of ['binary', 'ascii'] as const) {
    const statuses = [...answer].map((byte) => decodeStatusByte(byte, encoding))
    if (statuses.every((s) => s.kind !== 'foreign')) return { address, port, kind: 'boca', encoding, statuses }
  }
  return { address, port, kind: 'other', answer }
}

/** One host: undefined when the port is closed or nothing answers the connection in time. */
function probe (address: string, options: ScanOptions): Promise<Finding | undefined> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: address, port: options.port })
    const chunks: Buffer[] = []
    let connected = false
    let settle: NodeJS.Timeout | undefined
    const finish = (): void => {
      clearTimeout(timer)
      clearTimeout(settle)
      socket.destroy()
      resolve(connected ? judgeAnswer(address, options.port, Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES)) : undefined)
    }
    let timer = setTimeout(finish, options.timeoutMs)
    socket.on('connect', () => {
      connected = true
      clearTimeout(timer)
      timer = setTimeout(finish, options.timeoutMs)
      socket.write(STATUS_REQUEST)
    })
    let received = 0
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      // Enough to judge: a listener that streams on is not read (and kept) for the settle time.
      if (received >= MAX_ANSWER_BYTES) return finish()
      if (settle === undefined) settle = setTimeout(finish, ANSWER_SETTLE_MS)
    })
    socket.on('error', finish)
    socket.on('close', finish)
  })
}

/** The printer id discover proposes for an address: `boca-192-168-1-50`. */
export function printerIdFor (address: string): string {
  return `boca-${address.replaceAll('.', '-')}`
}

/** The PRINTERS line for the Boca printers found (every address with its port). */
export function printersLine (findings: readonly Finding[]): string | undefined {
  const bocas = findings.filter((f) => f.kind === 'boca')
  if (bocas.length === 0) return undefined
  return `PRINTERS=${bocas.map((f) => `${printerIdFor(f.address)}=${f.address}:${f.port}`).join(',')}`
}

/** What the table says of a finding. */
export function describeFinding (finding: Finding): { what: string, detail: string } {
  switch (finding.kind) {
    case 'boca': {
      const states = [...new Set(finding.statuses.map((s) => s.message))].join(', ')
      return { what: 'Boca printer', detail: `answered <S1>: ${states}${finding.encoding === 'ascii' ? ' (ASCII status mode: add its id to ASCII_STATUS_PRINTERS)' : ''}` }
    }
    case 'other':
      return { what: 'other listener', detail: `answered ${JSON.stringify(printable(finding.answer))} (${hexDump(finding.answer, 8)}): not Boca status` }
    case 'silent':
      return { what: 'no answer', detail: 'accepts connections but did not answer <S1>: another device, or a Boca that is busy or in error (it answers only when ready)' }
  }
}

function printable (bytes: Buffer): string {
  const text = bytes.subarray(0, 32).toString('latin1').replace(/[^\x20-\x7e]/g, '.')
  return bytes.length > 32 ? `${text}…` : text
}
