/**
 * Configuration from environment variables: one zod schema per part (with its defaults), validated once
 * at start-up with every error reported by its variable name, then frozen.
 */
import { z } from 'zod'
import { PrintwireError } from '../protocol/errorCodes.ts'

/** INVALID_CONFIG, with each problem (the setting's name, then what is wrong). */
export class ConfigError extends PrintwireError<'INVALID_CONFIG'> {
  readonly part: string
  readonly problems: string[]

  constructor (part: string, problems: string[]) {
    super('INVALID_CONFIG', `invalid ${part} configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.part = part
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

/**
 * Validates `env` against `schema` (whose keys are the variable names). Empty strings count as unset.
 * Throws a ConfigError that lists every problem; returns a deeply frozen config.
 */
export function loadConfig<S extends z.ZodType> (part: string, schema: S, env: Env): Readonly<z.infer<S>> {
  const cleaned: Env = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') cleaned[key] = value
  const result = schema.safeParse(cleaned)
  if (!result.success) {
    throw new ConfigError(part, result.error.issues.map((issue) => `${issue.path.join('.') || part}: ${issue.message}`))
  }
  return deepFreeze(result.data)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

/**
 * Decimal digits only: `Number()` alone would read a blank value as 0 (for a port: "any free port"),
 * and accept `0x50` or `1e3`.
 */
const wholeNumberText = z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number)

/** A TCP port from an environment variable: 0 (any free port) to 65535. */
export const portSchema = wholeNumberText.pipe(z.number().max(65535, 'must be a port from 0 to 65535'))

/** A positive whole number of milliseconds or bytes. */
export const positiveIntSchema = wholeNumberText.pipe(z.number().positive('must be above 0'))

/** A whole number, 0 allowed (0 usually means "no limit"). */
export const nonNegativeIntSchema = wholeNumberText.pipe(z.number())

/** `true`/`false`/`1`/`0`/`yes`/`no`. */
export const booleanSchema = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes')
