/** `npm run relay`: the relay, on the printers' LAN. */
import { createLogger } from '../runtime/logger.ts'
import { exitWithError, runParts } from '../runtime/lifecycle.ts'
import { loadRelayConfig, type RelayConfig } from './config.ts'
import { Relay } from './relay.ts'

let config: RelayConfig
try {
  config = loadRelayConfig(process.env)
} catch (error) {
  exitWithError(error)
}
const logger = createLogger({ name: 'relay' })
await runParts([new Relay({ config, logger })], logger)
