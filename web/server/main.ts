/** `npm run web`: the page, `/mqtt` and `server/time` in front of an external broker such as Mosquitto. */
import { configOrExit, runParts } from '../../runtime/lifecycle.ts'
import { createLogger } from '../../runtime/logger.ts'
import { loadWebServerConfig } from './config.ts'
import { WebServer } from './webServer.ts'

const config = configOrExit(() => loadWebServerConfig(process.env))
const logger = createLogger({ name: 'web' })
await runParts([new WebServer({ config, logger })], logger)
