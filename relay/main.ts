/** `npm run relay`: the relay, on the printers' LAN. */
import { createLogger } from '../runtime/logger.ts'
import { configOrExit, runParts } from '../runtime/lifecycle.ts'
import { loadRelayConfig } from './config.ts'
import { Relay } from './relay.ts'

const config = configOrExit(() => loadRelayConfig(process.env))
const logger = createLogger({ name: 'relay' })
await runParts([new Relay({ config, logger })], logger)
