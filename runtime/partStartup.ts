/**
 * How an entry file (`npm run relay`, `printwire relay`, ...) gets its configuration and its logger: the
 * environment over the config file (runtime/configFile.ts), validated by the part's schema, then a logger in
 * the LOG_FORMAT it asks for. A problem is reported on stderr, plainly, and the process exits 1.
 */
import { configOrExit } from './lifecycle.ts'
import { loadFromPartEnvironment, partEnvironment } from './configFile.ts'
import { createLogger, type LogFormat, type Logger } from './logger.ts'

type Env = Record<string, string | undefined>

export interface PartStartupOptions<C> {
  /** The part's name in config errors and in its log lines. */
  part: string
  env: Env
  /** `--config FILE`; without it, CONFIG_FILE. */
  configFile?: string | undefined
  /** The variables the part reads (its schema's keys): a config file may set only these. */
  variables: readonly string[]
  /** The part's config loader (its one schema). */
  load: (env: Env) => C
  /** The log's form when LOG_FORMAT is unset (`npm start`: pretty). */
  defaultFormat?: LogFormat
}

export interface PartStartup<C> {
  config: C
  logger: Logger
  /** The environment the part runs with (the config file's variables under the environment's). */
  env: Env
}

export function partStartupOrExit<C extends { LOG_FORMAT?: LogFormat | undefined }> (options: PartStartupOptions<C>): PartStartup<C> {
  const source = configOrExit(() => partEnvironment(options.part, options.env, options.variables, options.configFile))
  const config = configOrExit(() => loadFromPartEnvironment(source, options.load))
  const logger = createLogger({ name: options.part, format: config.LOG_FORMAT, defaultFormat: options.defaultFormat, level: source.env.LOG_LEVEL })
  if (source.file !== undefined) logger.info({ file: source.file, variables: [...source.fromFile].sort() }, 'config file read (the environment overrides it)')
  return { config, logger, env: source.env }
}
