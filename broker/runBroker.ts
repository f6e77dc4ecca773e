/** The broker and the web page as an entry point runs them (`npm run broker`, `printwire broker`). */
import { runParts } from '../runtime/lifecycle.ts'
import { partStartupOrExit } from '../runtime/partStartup.ts'
import { brokerConfigSchema, loadBrokerConfig } from './config.ts'
import { PrintwireBroker } from './mqttBroker.ts'

export async function runBroker (env: Record<string, string | undefined>, configFile?: string): Promise<void> {
  const { config, logger } = partStartupOrExit({ part: 'broker', env, configFile, variables: Object.keys(brokerConfigSchema.shape), load: loadBrokerConfig })
  await runParts([new PrintwireBroker({ config, logger })], logger)
}
