/** The relay as an entry point runs it (`npm run relay`, `printwire relay`): config, logger, then until a signal. */
import { runParts } from '../runtime/lifecycle.ts'
import { partStartupOrExit } from '../runtime/partStartup.ts'
import { loadRelayConfig, relayConfigSchema } from './config.ts'
import { Relay } from './relay.ts'

export async function runRelay (env: Record<string, string | undefined>, configFile?: string): Promise<void> {
  const { config, logger } = partStartupOrExit({ part: 'relay', env, configFile, variables: Object.keys(relayConfigSchema.shape), load: loadRelayConfig })
  await runParts([new Relay({ config, logger })], logger)
}
