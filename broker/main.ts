/** `npm run broker`: the broker and the web page. */
import { createLogger } from '../runtime/logger.ts'
import { exitWithError, runParts } from '../runtime/lifecycle.ts'
import { loadBrokerConfig, type BrokerConfig } from './config.ts'
import { PrintwireBroker } from './mqttBroker.ts'

let config: BrokerConfig
try {
  config = loadBrokerConfig(process.env)
} catch (error) {
  exitWithError(error)
}
const logger = createLogger({ name: 'broker' })
await runParts([new PrintwireBroker({ config, logger })], logger)
