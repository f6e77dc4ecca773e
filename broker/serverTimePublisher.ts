/** Publishes the server's time on `server/time` (QoS 0, not retained) about once a second; the page shows it. */
import type { Aedes } from 'aedes'
import { SERVER_TIME_TOPIC } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'

export interface ServerTimePublisherDeps {
  broker: Aedes
  intervalMs: number
  logger: Logger
}

export class ServerTimePublisher {
  private readonly deps: ServerTimePublisherDeps
  private timer: NodeJS.Timeout | undefined

  constructor (deps: ServerTimePublisherDeps) {
    this.deps = deps
  }

  async start (): Promise<void> {
    this.tick()
    this.timer = setInterval(() => this.tick(), this.deps.intervalMs)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private tick (): void {
    const { broker, logger } = this.deps
    if (broker.closed) return
    broker.publish({
      cmd: 'publish',
      topic: SERVER_TIME_TOPIC,
      payload: Buffer.from(new Date().toISOString()),
      qos: 0,
      retain: false,
      dup: false
    }, (error) => { if (error) logger.warn({ err: error }, 'could not publish server time') })
  }
}
