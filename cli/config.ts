/**
 * `printwire`'s configuration: the environment variables its commands read, declared once in
 * runtime/configFields.ts, validated together with every error named by its variable, then frozen. A flag
 * overrides its variable and is checked by the same rule, its error naming the flag.
 */
import { z } from 'zod'
import { PrintwireError } from '../protocol/index.ts'
import { loadConfig } from '../runtime/config.ts'
import { configFields, pickFields } from '../runtime/configFields.ts'
import { checkUrlFlag } from './brokerUrl.ts'

export const cliConfigSchema = z.object({
  ...pickFields('MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'TOPIC_PREFIX', 'AUTH_FILE')
})

export type CliConfig = Readonly<z.infer<typeof cliConfigSchema>>

/** The users file `printwire user` and `mosquitto-export` work on without AUTH_FILE or --file. */
export const DEFAULT_AUTH_FILE = 'auth.json'


export type CliVariable = keyof typeof cliConfigSchema.shape

/**
 * The variables `reads` names (default: all of them), validated; the others keep their defaults unread, so that a
 * command is not refused for a variable it does not use (`user` and MQTT_URL, or a variable whose flag is given).
 */
export function loadCliConfig (env: Record<string, string | undefined>, reads: readonly CliVariable[] = Object.keys(cliConfigSchema.shape) as CliVariable[]): CliConfig {
  return loadConfig('printwire', cliConfigSchema, Object.fromEntries(reads.map((name) => [name, env[name]])))
}

/** For help texts: a shared field's default, as the schema gives it. */
export function defaultOf (name: 'MQTT_URL' | 'TOPIC_PREFIX'): string {
  return configFields[name].parse(undefined)
}

/** Where `print` connects and publishes: --url (checked by MQTT_URL's rule) over MQTT_URL, --prefix over TOPIC_PREFIX; the credentials of MQTT_USERNAME/MQTT_PASSWORD. */
export interface BrokerTarget {
  url: string
  topicPrefix: string
  username?: string
  password?: string
}

export function brokerTarget (flags: { url?: string | undefined, prefix?: string | undefined }, config: CliConfig): BrokerTarget {
  return {
    url: flags.url === undefined ? config.MQTT_URL : checkUrlFlag(flags.url),
    topicPrefix: topicPrefix(flags.prefix, config),
    ...(config.MQTT_USERNAME === undefined ? {} : { username: config.MQTT_USERNAME }),
    ...(config.MQTT_PASSWORD === undefined ? {} : { password: config.MQTT_PASSWORD })
  }
}

/** --prefix, checked by TOPIC_PREFIX's rule, or TOPIC_PREFIX. */
export function topicPrefix (flag: string | undefined, config: CliConfig): string {
  if (flag === undefined) return config.TOPIC_PREFIX
  const checked = configFields.TOPIC_PREFIX.safeParse(flag)
  if (!checked.success) throw new PrintwireError('INVALID_ARGUMENT', `--prefix "${flag}": ${checked.error.issues.map((issue) => issue.message).join('; ')}`)
  return checked.data
}

/** --file, or AUTH_FILE, or auth.json. */
export function authFile (flag: string | undefined, config: CliConfig): string {
  return flag ?? config.AUTH_FILE ?? DEFAULT_AUTH_FILE
}
