/**
 * Structured logs (pino). One logger per process, handed to each part in its deps; parts make children with
 * their own bindings (printerId, ...). Never log ticket contents at info level.
 *
 * Two forms (`LOG_FORMAT`, runtime/configFields.ts): `json`, one JSON object a line (for journald, Docker, log
 * shippers), and `pretty`, one readable line with the local time (pino-pretty). Unset, a terminal gets `pretty`
 * and anything else `json`; `npm start` asks for `pretty`. Both write synchronously in this process (pino-pretty's
 * formatter, not its transport: no worker thread), so the last lines before `process.exit` are never lost.
 */
import { pino, type DestinationStream, type Logger } from 'pino'
import { prettyFactory } from 'pino-pretty'

export type { Logger }

export const LOG_FORMATS = ['pretty', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** Where log lines go: stdout by default. */
export interface LogOutput {
  write(text: string): unknown
  isTTY?: boolean | undefined
}

export interface LoggerOptions {
  name: string
  /** `LOG_LEVEL`: trace, debug, info, warn, error, fatal, silent. */
  level?: string | undefined
  /** `LOG_FORMAT`; unset: `defaultFormat`, or else pretty on a terminal and JSON otherwise. */
  format?: LogFormat | undefined
  /** The form when LOG_FORMAT is unset (`npm start`: pretty wherever its output goes). */
  defaultFormat?: LogFormat | undefined
  /** For tests: where lines go instead of stdout. */
  output?: LogOutput | undefined
}

/** The form LOG_FORMAT unset gives: pretty on a terminal, JSON lines otherwise. */
export function defaultLogFormat (output: LogOutput = process.stdout): LogFormat {
  return output.isTTY === true ? 'pretty' : 'json'
}

export function createLogger (options: LoggerOptions): Logger {
  const format = options.format ?? options.defaultFormat ?? defaultLogFormat(options.output ?? process.stdout)
  // pino's own stdout writer: synchronous, and it waits out a full pipe (EAGAIN) rather than dropping lines.
  const output: LogOutput = options.output ?? pino.destination({ dest: 1, sync: true })
  const destination: DestinationStream = format === 'pretty' ? prettyOutput(output, options.output?.isTTY ?? process.stdout.isTTY === true) : { write: (line) => { output.write(line) } }
  return pino({
    name: options.name,
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: ['password', '*.password', 'MQTT_PASSWORD', '*.MQTT_PASSWORD', 'TOKEN_SECRET', '*.TOKEN_SECRET'], censor: '[redacted]' }
  }, destination)
}

/**
 * `[12:03:07.412] INFO (relay): relay started {"relayId":"demo",...}`: local time, level, name, message, then
 * the other fields on the same line (pid and host name left out). A `part` binding (`npm start` runs several
 * parts in one process) leads the message: `INFO (printwire): [relay] relay started`. Colours only on a terminal.
 */
function prettyOutput (output: LogOutput, colorize: boolean): DestinationStream {
  const pretty = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,part', singleLine: true, messageFormat: '{if part}[{part}] {end}{msg}' })
  return { write: (line: string) => { output.write(pretty(line)) } }
}

/** A logger that writes nothing, for tests that do not read logs. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
