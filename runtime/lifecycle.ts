/**
 * What an entry file does: build parts, start them in order, and stop them in reverse order on
 * SIGINT/SIGTERM. A second signal exits at once.
 */
import type { Logger } from './logger.ts'

export interface Part {
  start(): Promise<void>
  stop(): Promise<void>
}

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 15_000

export async function runParts (parts: Part[], logger: Logger): Promise<void> {
  const started: Part[] = []
  let stopping = false
  const stopAll = async (reason: string, exitCode: number): Promise<void> => {
    if (stopping) {
      logger.warn({ reason }, 'second signal: exiting now')
      process.exit(1)
    }
    stopping = true
    logger.info({ reason }, 'stopping')
    // A stop that hangs must not keep a process (and its ports) alive for ever.
    setTimeout(() => {
      logger.error({ deadlineMs: STOP_DEADLINE_MS }, 'could not stop in time: exiting')
      process.exit(1)
    }, STOP_DEADLINE_MS).unref()
    for (const part of started.reverse()) {
      try {
        await part.stop()
      } catch (error) {
        logger.error({ err: error }, 'error while stopping')
      }
    }
    logger.info('stopped')
    process.exit(exitCode)
  }
  process.on('SIGINT', () => { void stopAll('SIGINT', 0) })
  process.on('SIGTERM', () => { void stopAll('SIGTERM', 0) })
  try {
    for (const part of parts) {
      await part.start()
      started.push(part)
    }
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start')
    await stopAll('start-up failure', 1)
  }
}

/** Reads configuration with `load`; on an error, reports it on stderr, plainly, and exits 1. */
export function configOrExit<T> (load: () => T): T {
  try {
    return load()
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
}
