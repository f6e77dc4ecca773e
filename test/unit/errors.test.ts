/**
 * One error family (protocol/errorCodes.ts): every error a caller branches on is a PrintwireError whose code
 * comes from one of two catalogues (job results, published; local errors, not), with no code in both.
 */
import { describe, expect, it } from 'vitest'
import { parseAuthFile } from '../../access/authFile.ts'
import { checkAedesVersions } from '../../broker/aedes/versions.ts'
import { ERROR_CODES, isPrintwireError, LOCAL_ERROR_CODES, PrintwireError } from '../../protocol/index.ts'
import { ConfigError, loadConfig, portSchema } from '../../runtime/config.ts'
import { z } from 'zod'

function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('the error family', () => {
  it('has no code in both catalogues', () => {
    const both = Object.keys(ERROR_CODES).filter((code) => Object.hasOwn(LOCAL_ERROR_CODES, code))
    expect(both).toEqual([])
  })

  it('takes retryable from the catalogue of its code unless told', () => {
    expect(new PrintwireError('PRINTER_UNREACHABLE', 'x').retryable).toBe(true)
    expect(new PrintwireError('INVALID_JOB', 'x').retryable).toBe(false)
    expect(new PrintwireError('BROKER_UNREACHABLE', 'x').retryable).toBe(true)
    expect(new PrintwireError('INVALID_CONFIG', 'x').retryable).toBe(false)
    expect(new PrintwireError('INVALID_JOB', 'x', { retryable: true }).retryable).toBe(true)
  })

  it('is what a bad setting, a bad AUTH_FILE and a wrong Aedes version throw, each with its code', () => {
    const config = thrown(() => loadConfig('test', z.object({ PORT: portSchema }), { PORT: 'x' }))
    expect(config).toBeInstanceOf(ConfigError)
    expect(isPrintwireError(config, 'INVALID_CONFIG')).toBe(true)
    expect(isPrintwireError(thrown(() => parseAuthFile('{', 'auth.json')), 'INVALID_AUTH_FILE')).toBe(true)
    expect(isPrintwireError(thrown(() => checkAedesVersions({ aedes: '0.1.0' })), 'UNSUPPORTED_AEDES_VERSION')).toBe(true)
  })

  it('takes a code this version does not know (a newer relay\'s result) without throwing, not retryable unless told', () => {
    const unknown = 'PRINTER_ON_FIRE' as unknown as 'INVALID_JOB'
    expect(new PrintwireError(unknown, 'x')).toMatchObject({ code: 'PRINTER_ON_FIRE', retryable: false })
    expect(new PrintwireError(unknown, 'x', { retryable: true }).retryable).toBe(true)
  })

  it('tells codes apart', () => {
    const error = new PrintwireError('TIMEOUT', 'x')
    expect(isPrintwireError(error, 'TIMEOUT', 'NO_RELAY')).toBe(true)
    expect(isPrintwireError(error, 'NO_RELAY')).toBe(false)
    expect(isPrintwireError(Object.assign(new Error('x'), { code: 'TIMEOUT' }), 'TIMEOUT')).toBe(false)
  })
})
