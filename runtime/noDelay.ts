/**
 * Turns Nagle's algorithm off on an mqtt.js client's TCP (or TLS) socket, after every (re)connect. MQTT
 * exchanges small packets that each wait for an answer (a PUBACK, then the next PUBLISH): with Nagle on,
 * a small write that follows another waits for the peer's delayed ACK, about 40 ms a hop. mqtt.js does
 * not set TCP_NODELAY itself; WebSocket transports already do (`ws` sets it).
 */
import type { MqttClient } from 'mqtt'

export function disableNagle (client: MqttClient): MqttClient {
  const apply = (): void => {
    const stream = client.stream as { setNoDelay?: (noDelay: boolean) => void } | undefined
    stream?.setNoDelay?.(true)
  }
  apply()
  client.on('connect', apply)
  return client
}
