/**
 * Structured logs (pino, JSON lines on stdout). One logger per process, handed to each part in its deps;
 * parts make children with their own bindings (printerId, ...). Never log ticket contents at info level.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export interface LoggerOptions {
  name: string
  /** `LOG_LEVEL`: trace, debug, info, warn, error, fatal, silent. */
  level?: string
}

export function createLogger (options: LoggerOptions): Logger {
  return pino({
    name: options.name,
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: ['password', '*.password', 'MQTT_PASSWORD', '*.MQTT_PASSWORD', 'TOKEN_SECRET', '*.TOKEN_SECRET'], censor: '[redacted]' }
  })
}

/** A logger that writes nothing, for tests that do not read logs. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
