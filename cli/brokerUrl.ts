/**
 * The broker URL a command is given with --url: checked by MQTT_URL's rule before anything connects (an
 * `http://` URL otherwise reaches the broker's web server, and mqtt.js reports "Invalid header flag bits"), and a
 * hint for a WebSocket URL whose path does not take MQTT.
 */
import { PrintwireError } from '../protocol/index.ts'
import { configFields } from '../runtime/configFields.ts'

/** Where Printwire's broker takes MQTT over WebSockets (on PORT). */
export const WS_MQTT_PATH = '/mqtt'

const RULE = `must be mqtt://, mqtts://, ws:// or wss:// (ws://host:5050${WS_MQTT_PATH} for Printwire's broker over WebSockets)`

/** `url` from `--url`, or an INVALID_ARGUMENT that names the flag and the schemes. */
export function checkUrlFlag (url: string): string {
  if (!configFields.MQTT_URL.safeParse(url).success) throw new PrintwireError('INVALID_ARGUMENT', `--url "${url}": the broker URL ${RULE}`)
  return url
}

/** For a failed connection to a ws:// or wss:// URL whose path is not /mqtt: what to check; otherwise ''. */
export function webSocketPathHint (url: string): string {
  let parsed: URL
  try { parsed = new URL(url) } catch { return '' }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return ''
  if (parsed.pathname === WS_MQTT_PATH) return ''
  return `; a WebSocket URL names the path where the broker takes MQTT: Printwire's broker takes it at ${WS_MQTT_PATH} (${parsed.protocol}//${parsed.host}${WS_MQTT_PATH})`
}
