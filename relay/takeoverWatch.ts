/**
 * Two relay processes with the same RELAY_ID for one printer share one MQTT client id. Mosquitto (as MQTT asks)
 * hands the id to the newest connection and closes the older one, which reconnects within seconds and closes the
 * other in turn: both knock each other off for ever, and each sees only its connection closed right after it
 * opened. This notices that pattern, QUICK_CLOSES connections in a row closed by the broker within QUICK_CLOSE_MS of
 * their CONNACK, and says, once per episode, at error level, what it most likely is, naming RELAY_ID (both
 * processes see it, so both say it). The embedded broker does not take over: it refuses the second process's
 * connection (CONNACK 2, relayExclusivity.ts), which says so (brokerTrouble.ts), and tells the connected one
 * (RELAY_CONFLICT_TOPIC, straight to its connection), which says so here (`toldByBroker`): at error level once,
 * then again at most once per REPORT_AGAIN_MS while the other keeps trying (every few seconds).
 */
import type { Logger } from '../runtime/logger.ts'

/** A connection closed by the broker sooner than this after its CONNACK counts as knocked off. */
export const QUICK_CLOSE_MS = 10_000
/** Knocked off this many times in a row: another process is using the client id. */
export const QUICK_CLOSES = 3
/** The broker's notices of another process refused under this client id: said again at error level at most this often. */
export const REPORT_AGAIN_MS = 60_000

export interface TakeoverWatchDeps {
  logger: Logger
  relayId: string
  printerId: string
  clientId: string
  now?: () => number
}

export class TakeoverWatch {
  private readonly deps: TakeoverWatchDeps
  private connectedAt: number | undefined
  private quickCloses = 0
  private reported = false
  private toldAt: number | undefined

  constructor (deps: TakeoverWatchDeps) {
    this.deps = deps
  }

  private now (): number {
    return (this.deps.now ?? Date.now)()
  }

  /** A CONNACK. */
  connected (): void {
    this.connectedAt = this.now()
  }

  /** The connection closed; `byUs` when the relay ended it itself (stopping, reconnecting on purpose, standing down). */
  closed (byUs: boolean): void {
    const openedAt = this.connectedAt
    this.connectedAt = undefined
    if (openedAt === undefined || byUs) return
    const lasted = this.now() - openedAt
    if (lasted >= QUICK_CLOSE_MS) {
      if (this.reported) this.deps.logger.info({ lastedMs: lasted }, 'the broker connection held: no other relay process took its client id over this time')
      this.quickCloses = 0
      this.reported = false
      return
    }
    this.quickCloses += 1
    if (this.quickCloses < QUICK_CLOSES || this.reported) return
    this.reported = true
    const { relayId, printerId, clientId } = this.deps
    this.deps.logger.error({ relayId, clientId, quickCloses: this.quickCloses, lastedMs: lasted },
      `the broker keeps closing this relay's connection right after it opens: most likely another relay process with the same RELAY_ID (${relayId}) serves printer ${printerId}, and the broker hands their shared client id to whichever connected last. Give each relay its own RELAY_ID, or stop the other one`)
  }

  /** The broker refused another relay process under this relay's client id (the embedded broker says so). */
  toldByBroker (): void {
    const now = this.now()
    const { relayId, printerId, clientId } = this.deps
    if (this.toldAt !== undefined && now - this.toldAt < REPORT_AGAIN_MS) {
      this.deps.logger.debug({ relayId, clientId }, 'the broker refused another relay process with this RELAY_ID again')
      return
    }
    this.toldAt = now
    this.deps.logger.error({ relayId, clientId },
      `the broker refused another relay process with the same RELAY_ID (${relayId}) for printer ${printerId}: this relay keeps serving it. Give each relay its own RELAY_ID, or stop the other one`)
  }
}
