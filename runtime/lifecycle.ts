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

/**
 * Starts `parts` in order. If one fails to start, it is stopped (it may hold what it opened before failing: a
 * store, a port) and so is every part started before it, in reverse order; then the error is thrown.
 */
export async function startParts (parts: readonly Part[], logger: Logger): Promise<Part[]> {
  const started: Part[] = []
  for (const part of parts) {
    try {
      await part.start()
    } catch (error) {
      for (const opened of [part, ...started.reverse()]) {
        try {
          await opened.stop()
        } catch (stopError) {
          logger.error({ err: stopError }, 'error while stopping after a failed start')
        }
      }
      throw error
    }
    started.push(part)
  }
  return started
}

/**
 * What a part that is built from parts holds while it runs: each sub-part is registered for stop as it starts
 * (or, for what is not a Part, a stop function as soon as it is opened), and `stop()` stops them in reverse
 * order. A sub-part whose `start()` throws is stopped itself (it may hold what it opened before failing); the
 * caller then stops the stack, so nothing started before it stays open either.
 */
export class PartStack {
  private readonly logger: Logger
  private readonly stops: Array<{ name: string, stop: () => Promise<void> | void }> = []

  constructor (deps: { logger: Logger }) {
    this.logger = deps.logger
  }

  /** Runs `build`, which starts and registers the parts; if it throws, what it had started is stopped. */
  async build (build: () => Promise<void>): Promise<void> {
    try {
      await build()
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  /** Starts `part` and registers it for stop; returns it. */
  async start<P extends Part> (name: string, part: P): Promise<P> {
    try {
      await part.start()
    } catch (error) {
      await this.stopOne(name, () => part.stop())
      throw error
    }
    this.onStop(name, () => part.stop())
    return part
  }

  /** Registers what to do at stop for something already open (a store, a server). */
  onStop (name: string, stop: () => Promise<void> | void): void {
    this.stops.push({ name, stop })
  }

  /** Stops everything registered, last first; an error in one is logged and the others still stop. */
  async stop (): Promise<void> {
    while (this.stops.length > 0) {
      const { name, stop } = this.stops.pop() as { name: string, stop: () => Promise<void> | void }
      await this.stopOne(name, stop)
    }
  }

  private async stopOne (name: string, stop: () => Promise<void> | void): Promise<void> {
    try {
      await stop()
    } catch (error) {
      this.logger.error({ err: error, part: name }, 'error while stopping')
    }
  }
}

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
  // A dependency's promise that rejects with nobody listening (seen during a Redis outage, inside the Aedes
  // family) would end the process under Node's default: logged, and the parts carry on.
  process.on('unhandledRejection', (reason) => { logger.error({ err: reason }, 'unhandled rejection in a dependency: carrying on') })
  process.on('SIGINT', () => { void stopAll('SIGINT', 0) })
  process.on('SIGTERM', () => { void stopAll('SIGTERM', 0) })
  watchParent(() => { void stopAll('the process that started this one is gone', 0) })
  try {
    started.push(...await startParts(parts, logger))
  } catch (error) {
    // startParts stopped what it had started; nothing is left to stop here.
    const problem = operatorProblem(error)
    if (problem === undefined) {
      logger.fatal({ err: error }, 'failed to start')
    } else {
      // The operator's to fix (a setting, a port, Redis): said plainly, on stderr too, without a stack trace.
      logger.fatal({ code: (error as { code: string }).code }, `failed to start: ${problem}`)
      process.stderr.write(`${problem}\n`)
    }
    await stopAll('start-up failure', 1)
  }
}

/** How often the parent process is looked at (watchParent). */
export const PARENT_CHECK_MS = 1000

/**
 * Calls `gone` once when the process that started this one goes away: `npm run relay` and `npx printwire relay`
 * run the part under npm and a shell, and a SIGTERM to npm ends npm without passing it on, which left the part
 * running with no parent (issue 14). Its parent id then changes (to init's, or a subreaper's): the part stops as on
 * SIGTERM. A part started by init itself (systemd, a container's init) has nothing to watch.
 */
export function watchParent (gone: () => void, everyMs = PARENT_CHECK_MS): void {
  const parent = process.ppid
  if (parent <= 1) return
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    gone()
  }, everyMs)
  timer.unref()
}

/** Codes of start-up failures the operator fixes by a setting (issue 14): each message names the variable. */
const OPERATOR_CODES: ReadonlySet<string> = new Set(['INVALID_CONFIG', 'INVALID_AUTH_FILE', 'PORT_IN_USE', 'REDIS_UNREACHABLE'])

/** The message of an error the operator fixes by a setting, else undefined. */
export function operatorProblem (error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && OPERATOR_CODES.has(code) && error instanceof Error ? error.message : undefined
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
