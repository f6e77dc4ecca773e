/**
 * What the embedded broker's metrics (runtime/printwireMetrics.ts) read from Aedes itself: its connections by
 * kind, and at start the printers' statuses retained before it (a restart with level or redis persistence);
 * the statuses published later reach the metrics through jobHistoryTap.ts.
 */
import type { Aedes } from 'aedes'
import type { AccessControl } from '../access/accessControl.ts'
import { isTokenPrincipal } from '../access/tokens.ts'
import { anyPrinterTopic, parsePrinterTopic, parseRelayClientId } from '../protocol/index.ts'
import type { Logger } from '../runtime/logger.ts'
import type { ConnectionKind, PrintwireMetrics } from '../runtime/printwireMetrics.ts'
import type { AccessHooks } from './accessHooks.ts'
import { connectedClients, persistenceOf } from './aedes/internals.ts'

/**
 * The clients connected to this instance, by kind. With AUTH_FILE, by who they logged in as: a browser token, or
 * the user's role (a client still logging in, or whose user has left AUTH_FILE, is not counted). Without it,
 * by client id: relays connect as `printwire-relay:<relay>:<printer>`, everyone else is a client.
 */
export function connectionsByKind (aedes: Aedes, users: { hooks: AccessHooks, access: AccessControl } | undefined): Record<ConnectionKind, number> {
  const counts: Record<ConnectionKind, number> = { relay: 0, client: 0, token: 0, admin: 0 }
  for (const client of Object.values(connectedClients(aedes))) {
    if (client === undefined) continue
    const kind = users === undefined ? kindById(client.id) : kindByUser(users, users.hooks.userOf(client))
    if (kind !== undefined) counts[kind]++
  }
  return counts
}

function kindById (clientId: string): ConnectionKind {
  return parseRelayClientId(clientId) === null ? 'client' : 'relay'
}

function kindByUser ({ access }: { access: AccessControl }, user: string | undefined): ConnectionKind | undefined {
  if (user === undefined) return undefined
  if (isTokenPrincipal(user)) return 'token'
  return access.roleOf(user)
}

/** Reads the retained `<prefix>/+/status` messages into the metrics, for the printers no live status has reached yet. */
export async function seedPrinterStates (aedes: Aedes, metrics: PrintwireMetrics, topicPrefix: string, logger: Logger): Promise<void> {
  try {
    for await (const packet of persistenceOf(aedes).createRetainedStreamCombi([anyPrinterTopic(topicPrefix, 'status')])) {
      const parsed = parsePrinterTopic(topicPrefix, packet.topic)
      if (parsed?.kind === 'status' && !metrics.knows(parsed.printerId)) metrics.statusMessage(parsed.printerId, packet.payload)
    }
  } catch (error) {
    logger.warn({ err: error }, 'metrics: could not read the printers\' retained statuses; their states show once they change')
  }
}
