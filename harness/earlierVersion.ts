/**
 * What a relay and a broker of the version before relay ids became `printwire-relay:<relay>:<printer>` left
 * behind: a persistent session under the earlier id `printwire-relay-<relay>-<printer>`, subscribed to the
 * printer's jobs, with jobs queued for it, in a LevelDB under `dataDir`. The earlier broker kept no client-id
 * owners and no relay claims, so it is an anonymous broker here.
 */
import mqtt from 'mqtt'
import { leaveSession } from './brokerProcess.ts'
import { startBroker } from './parts.ts'

export async function leaveEarlierRelaySession (dataDir: string, relayId: string, printerId: string, jobIds: readonly string[]): Promise<void> {
  const earlierBroker = await startBroker({ PERSISTENCE: 'level', DATA_DIR: dataDir })
  try {
    await leaveSession(earlierBroker.mqttUrl, `printwire-relay-${relayId}-${printerId}`, [`printers/${printerId}/jobs`])
    const publisher = await mqtt.connectAsync(earlierBroker.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 })
    for (const id of jobIds) await publisher.publishAsync(`printers/${printerId}/jobs`, JSON.stringify({ id, data: `<RC1,1>${id}<p>` }), { qos: 1 })
    await publisher.endAsync()
  } finally {
    await earlierBroker.stop()
  }
}
