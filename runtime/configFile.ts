/**
 * A config file as an alternative to the environment (SPEC "Configuration": "a config file may mirror them"):
 * `--config FILE` or `CONFIG_FILE`, a JSON object whose keys are the variable names, e.g.
 * `{ "MQTT_URL": "mqtts://broker.example.com", "PRINTERS": "lobby=192.168.1.50", "RELAY_ID": "venue-1" }`.
 * Values may be strings, numbers or booleans (read as the text an environment variable would hold).
 *
 * Precedence: a variable set (non-empty) in the environment wins over the file, so an operator or a unit's
 * `Environment=` can override one setting without editing the file. Both go through the part's one zod schema
 * (runtime/config.ts loadConfig); a problem with a value from the file names the file too. A key the part does
 * not read is an error (a typo in a file would otherwise be ignored silently).
 */
import { readFileSync } from 'node:fs'
import { ConfigError } from './config.ts'

type Env = Record<string, string | undefined>

/** The variable that names the config file when `--config` is not given. */
export const CONFIG_FILE_VARIABLE = 'CONFIG_FILE'

/** Variables every part reads besides its schema's (runtime/logger.ts reads LOG_LEVEL). */
const ALSO_READ = ['LOG_LEVEL']

export interface PartEnvironment {
  /** The file's variables under the environment's. */
  env: Env
  /** The config file read, if any. */
  file?: string
  /** The variables whose value came from the file. */
  fromFile: ReadonlySet<string>
}

const VARIABLE_NAME = /^[A-Z][A-Z0-9_]*$/

/**
 * The environment a part runs with: `env`, over the variables of the config file (`flag`, else `CONFIG_FILE`)
 * if one is named. `known`: the variables the part reads (its schema's keys). Throws a ConfigError naming the
 * file (and the key) when the file cannot be read, is not a JSON object of variables, or names one the part
 * does not read.
 */
export function partEnvironment (part: string, env: Env, known: readonly string[], flag?: string): PartEnvironment {
  const file = flag ?? (env[CONFIG_FILE_VARIABLE] === '' ? undefined : env[CONFIG_FILE_VARIABLE])
  if (file === undefined) return { env, fromFile: new Set() }
  const fromFileValues = readConfigFile(part, file, new Set([...known, ...ALSO_READ]))
  const merged: Env = { ...fromFileValues }
  const fromFile = new Set(Object.keys(fromFileValues))
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue
    merged[name] = value
    fromFile.delete(name)
  }
  return { env: merged, file, fromFile }
}

function readConfigFile (part: string, file: string, known: ReadonlySet<string>): Record<string, string> {
  const where = `config file ${file}`
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ConfigError(part, [`${where} (${CONFIG_FILE_VARIABLE} or --config): cannot be read: ${(error as Error).message}`])
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(part, [`${where}: not valid JSON: ${(error as Error).message}`])
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(part, [`${where}: must be a JSON object of variables, e.g. { "MQTT_URL": "mqtt://broker:1883" }`])
  }
  const values: Record<string, string> = {}
  const problems: string[] = []
  for (const [name, value] of Object.entries(parsed)) {
    if (name === CONFIG_FILE_VARIABLE) {
      problems.push(`${name} (in ${file}): a config file cannot name another`)
    } else if (!VARIABLE_NAME.test(name) || !known.has(name)) {
      problems.push(`${name} (in ${file}): not a ${part} setting${VARIABLE_NAME.test(name) ? '' : ' (names are the environment variables\', e.g. MQTT_URL)'}`)
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      values[name] = String(value)
    } else {
      problems.push(`${name} (in ${file}): must be a string, a number or true/false`)
    }
  }
  if (problems.length > 0) throw new ConfigError(part, problems)
  return values
}

/**
 * Runs `load` (a part's config loader, with its one schema) on the environment; a problem with a variable
 * that came from the file is reported as `NAME (in FILE): ...`.
 */
export function loadFromPartEnvironment<T> (source: PartEnvironment, load: (env: Env) => T): T {
  try {
    return load(source.env)
  } catch (error) {
    if (!(error instanceof ConfigError) || source.file === undefined) throw error
    const file = source.file
    throw new ConfigError(error.part, error.problems.map((problem) => {
      const name = /^([A-Z][A-Z0-9_]*):/.exec(problem)?.[1]
      return name !== undefined && source.fromFile.has(name) ? `${name} (in ${file})${problem.slice(name.length)}` : problem
    }))
  }
}
