/** The web server as an entry point runs it (`npm run web`, `printwire web`): in front of an external broker. */
import { runParts } from '../../runtime/lifecycle.ts'
import { partStartupOrExit } from '../../runtime/partStartup.ts'
import { loadWebServerConfig, webServerConfigSchema } from './config.ts'
import { WebServer } from './webServer.ts'

export async function runWebServer (env: Record<string, string | undefined>, configFile?: string): Promise<void> {
  const { config, logger } = partStartupOrExit({ part: 'web', env, configFile, variables: Object.keys(webServerConfigSchema.shape), load: loadWebServerConfig })
  await runParts([new WebServer({ config, logger })], logger)
}
