/** Relay configuration (SPEC "Configuration"): one schema, its defaults, validated once and frozen. */
import os from 'node:os'
import { z } from 'zod'
import type { StatusEncoding } from '../boca/status.ts'
import { DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_JOBS, isValidPrinterId } from '../protocol/index.ts'
import { loadConfig, nonNegativeIntSchema, portSchema, positiveIntSchema } from '../runtime/config.ts'
import { pickFields } from '../runtime/configFields.ts'
import { printerHostProblem } from './printerHost.ts'

export interface PrinterAddress {
  id: string
  host: string
  port: number
}

export const BOCA_PORT = 9100

/** Parses `lobby=192.168.1.50:9100,bar=192.168.1.51` (port defaults to 9100); hosts are checked by printerHost.ts. */
export function parsePrinters (value: string, ctx: z.RefinementCtx): PrinterAddress[] {
  const printers: PrinterAddress[] = []
  const entries = value.split(',').map((part) => part.trim()).filter((part) => part !== '')
  for (const entry of entries) {
    const match = /^([^=]+)=(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry)
    if (match === null) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not id=host[:port]` })
      continue
    }
    const [, id = '', rawHost = '', rawPort] = match
    const host = rawHost.replace(/^\[|\]$/g, '')
    const port = rawPort === undefined ? BOCA_PORT : Number(rawPort)
    const hostProblem = printerHostProblem(rawHost)
    if (!isValidPrinterId(id)) ctx.addIssue({ code: 'custom', message: `printer id "${id}" must be 1-64 characters of A-Z a-z 0-9 _ -` })
    else if (hostProblem !== undefined) ctx.addIssue({ code: 'custom', message: `printer "${id}": ${hostProblem}` })
    else if (!Number.isInteger(port) || port < 1 || port > 65535) ctx.addIssue({ code: 'custom', message: `printer "${id}": port ${rawPort ?? ''} is not 1-65535` })
    else if (printers.some((p) => p.id === id)) ctx.addIssue({ code: 'custom', message: `printer id "${id}" appears twice` })
    else printers.push({ id, host, port })
  }
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one printer, e.g. lobby=192.168.1.50:9100' })
  return printers
}

/** Parses a list of printer ids (`lobby,bar`, or `*` for every printer); each must be one of PRINTERS (checked below). */
function parsePrinterIds (value: string): string[] {
  return [...new Set(value.split(',').map((part) => part.trim()).filter((part) => part !== ''))]
}

function defaultRelayId (): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'relay'
}

export const relayConfigSchema = z.object({
  ...pickFields('MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_CA_FILE', 'MAX_JOB_BYTES', 'TOPIC_PREFIX'),
  PRINTERS: z.string({ error: 'is required, e.g. lobby=192.168.1.50:9100,bar=192.168.1.51' }).transform(parsePrinters),
  RELAY_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -').default(defaultRelayId),
  STATE_DIR: z.string().min(1).default('./state'),
  /** MQTT keepalive, seconds: the broker publishes a dead relay's `offline` within 1.5 of these. */
  MQTT_KEEPALIVE_S: positiveIntSchema.default(30),
  /** After the last byte is written, how long a printer that says nothing is given before the job counts as `sent`. */
  STATUS_WAIT_MS: positiveIntSchema.default(3000),
  /** How long a printer that reports status may stay silent (or busy) before the job times out. */
  PRINTER_TIMEOUT_MS: positiveIntSchema.default(15000),
  /**
   * After one ticket of a job is acknowledged, how long the printer must stay quiet before the next ticket goes:
   * a second ACK for the same ticket (some devices send two) then is not taken for the next one. 0: no gap.
   */
  TICKET_SETTLE_MS: nonNegativeIntSchema.default(100),
  /** How long a TCP connection to the printer may take. */
  PRINTER_CONNECT_TIMEOUT_MS: positiveIntSchema.default(5000),
  /** The printer connection stays open between jobs, and closes after this long without one (a Boca resets idle ones after 30 s). */
  PRINTER_IDLE_CLOSE_MS: positiveIntSchema.pipe(z.number().max(25_000, 'must be at most 25000: a Boca resets a connection idle for 30 s')).default(3000),
  /** Backoff between attempts while a printer is unreachable or in error: from RETRY_MIN_MS doubling to RETRY_MAX_MS. */
  RETRY_MIN_MS: positiveIntSchema.default(500),
  /** Seconds a job may wait in the relay before it is given up as `JOB_EXPIRED`; 0: no limit. */
  JOB_MAX_AGE: nonNegativeIntSchema.default(3600),
  /**
   * At start, how long a decision on a job's `expiresAt` waits for the broker's time (`server/time`) before
   * the relay judges it by its own clock (with a warning).
   */
  SERVER_TIME_WAIT_MS: positiveIntSchema.default(5000),
  /** Finished job ids remembered per printer, so that a duplicate is answered and not printed again. */
  DEDUPE_WINDOW: positiveIntSchema.default(10_000),
  /** Jobs that may wait in the relay per printer (the one printing included); more are answered QUEUE_FULL. */
  MAX_QUEUED_JOBS: positiveIntSchema.default(DEFAULT_MAX_QUEUED_JOBS),
  /** Bytes of job data (one copy each) that may wait in the relay per printer; more are answered QUEUE_FULL. */
  MAX_QUEUED_BYTES: positiveIntSchema.default(DEFAULT_MAX_QUEUED_BYTES),
  RETRY_MAX_MS: positiveIntSchema.default(30000),
  /**
   * Printers set to Boca's "ASCII status" mode (every status byte plus 0x30), by id, or `*`: their status is
   * read in that form. Every other printer's status is read as plain bytes; a byte not in Boca's table (in
   * the printer's form) is never taken for status (BOCA.md "Status bytes").
   */
  ASCII_STATUS_PRINTERS: z.string().transform(parsePrinterIds).default([]),
  /** The relay's Prometheus metrics (relayMetrics.ts) on this port, at `/metrics`; unset: none (0: any free port). */
  METRICS_PORT: portSchema.optional(),
  /** Where METRICS_PORT listens: loopback unless said otherwise (the metrics ask for no log-in). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1')
}).refine((c) => c.RETRY_MIN_MS <= c.RETRY_MAX_MS, { message: 'RETRY_MIN_MS must not exceed RETRY_MAX_MS', path: ['RETRY_MIN_MS'] })
  // (Only between two valid numbers: a bad one has its own problem.)
  .refine((c) => !Number.isInteger(c.MAX_QUEUED_BYTES) || !Number.isInteger(c.MAX_JOB_BYTES) || c.MAX_QUEUED_BYTES >= c.MAX_JOB_BYTES, { message: 'MAX_QUEUED_BYTES must be at least MAX_JOB_BYTES, or a job of MAX_JOB_BYTES could never be queued', path: ['MAX_QUEUED_BYTES'] })
  .superRefine((c, ctx) => {
    for (const id of c.ASCII_STATUS_PRINTERS) {
      if (id !== '*' && !c.PRINTERS.some((p) => p.id === id)) {
        ctx.addIssue({ code: 'custom', path: ['ASCII_STATUS_PRINTERS'], message: `"${id}" is not a printer of PRINTERS (${c.PRINTERS.map((p) => p.id).join(', ')}); name printer ids, or * for all` })
      }
    }
  })

export type RelayConfig = Readonly<z.infer<typeof relayConfigSchema>>

/** How `printer`'s status bytes are read (ASCII_STATUS_PRINTERS). */
export function statusEncodingOf (config: Pick<RelayConfig, 'ASCII_STATUS_PRINTERS'>, printerId: string): StatusEncoding {
  return config.ASCII_STATUS_PRINTERS.includes('*') || config.ASCII_STATUS_PRINTERS.includes(printerId) ? 'ascii' : 'binary'
}

export function loadRelayConfig (env: Record<string, string | undefined>): RelayConfig {
  return loadConfig('relay', relayConfigSchema, env)
}
