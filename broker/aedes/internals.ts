/**
 * The parts of Aedes 1.2 that the broker reads and its type declarations omit, in one place: what the
 * workarounds depend on, and so what aedesVersions.ts pins. Each accessor says where Aedes keeps it.
 */
import type { Aedes, Client, PublishPacket } from 'aedes'

/** The store Aedes was given (`broker.persistence`), with the methods the broker calls itself. */
export interface AedesPersistence {
  subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string }>>
  incomingGetPacket(client: Client, packet: PublishPacket): Promise<unknown>
  storeRetained(packet: PublishPacket): Promise<void>
  /** The retained messages matching any of `patterns` (a Readable; the broker's metrics read the printers' statuses). */
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<PublishPacket>
}

interface AedesInside {
  clients: Record<string, Client | undefined>
  persistence: AedesPersistence
  mq: {
    emit: (packet: { topic?: string, payload?: Buffer, brokerId?: string | null, brokerCounter?: number }, done?: (error?: unknown) => void) => void
    on: (topic: string, listener: (packet: { topic: string, payload: Buffer | string }, done: () => void) => void, added?: () => void) => void
  }
  counter: number
  closed: boolean
}

const inside = (aedes: Aedes): AedesInside => aedes as unknown as AedesInside

/** Connected clients by id (`broker.clients`). */
export function connectedClients (aedes: Aedes): Record<string, Client | undefined> {
  return inside(aedes).clients
}

export function persistenceOf (aedes: Aedes): AedesPersistence {
  return inside(aedes).persistence
}

/** The message bus every publish is emitted on (`broker.mq`). */
export function messageBusOf (aedes: Aedes): AedesInside['mq'] {
  return inside(aedes).mq
}

/** The number Aedes gave its last message (`broker.counter`, taken by each `new Packet`). */
export function lastMessageNumber (aedes: Aedes): number {
  return inside(aedes).counter
}

/** Whether `close()` has begun (`broker.closed`). */
export function isClosing (aedes: Aedes): boolean {
  return inside(aedes).closed
}

/**
 * A client's Last Will: `_will` while it logs in (Aedes keeps it there until the log-in succeeds), `will` once
 * it is connected.
 */
export function willOf (client: Client): PublishPacket | undefined {
  const fields = client as unknown as { _will?: PublishPacket | null, will?: PublishPacket | null }
  return fields._will ?? fields.will ?? undefined
}
