/** `npm run broker`: the broker and the web page. */
import { createLogger } from '../runtime/logger.ts'
import { configOrExit, runParts } from '../runtime/lifecycle.ts'
import { loadBrokerConfig } from './config.ts'
import { PrintwireBroker } from './mqttBroker.ts'

const config = configOrExit(() => loadBrokerConfig(process.env))
const logger = createLogger({ name: 'broker' })
await runParts([new PrintwireBroker({ config, logger })], logger)
