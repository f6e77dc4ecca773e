/** The HTTP API's pure parts: Authorization headers read, and each error code's HTTP status (SPEC "HTTP API"). */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readCredentials } from '../../web/api/credentials.ts'
import { httpStatusOf } from '../../web/api/httpStatus.ts'

const basic = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`

describe('Authorization headers', () => {
  it('reads Basic and Bearer, the scheme in any case', () => {
    expect(readCredentials(basic('alice:pw:with:colons'))).toEqual({ kind: 'basic', username: 'alice', password: 'pw:with:colons' })
    expect(readCredentials(`bearer ${'a'.repeat(40)}.b-c_d`)).toEqual({ kind: 'bearer', token: `${'a'.repeat(40)}.b-c_d` })
    expect(readCredentials(undefined)).toEqual({ kind: 'none' })
    expect(readCredentials('  ')).toEqual({ kind: 'none' })
  })

  it('calls anything else malformed, with a reason', () => {
    for (const header of ['Basic', 'Basic !!!', basic('no-colon'), basic(':pw'), 'Digest abc', 'Bearer a b', 'Bearer <script>', `Bearer ${'x'.repeat(5000)}`]) {
      const read = readCredentials(header)
      expect(read.kind, header.slice(0, 30)).toBe('malformed')
    }
  })

  it('never throws, whatever the header', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (header) => {
      expect(['none', 'basic', 'bearer', 'malformed']).toContain(readCredentials(header).kind)
    }))
  })
})

describe('HTTP statuses', () => {
  it('are SPEC\'s for its codes, 500 for a code the API does not expect', () => {
    expect([httpStatusOf('UNAUTHORIZED'), httpStatusOf('FORBIDDEN'), httpStatusOf('NOT_FOUND')]).toEqual([401, 403, 404])
    expect([httpStatusOf('INVALID_JOB'), httpStatusOf('JOB_TOO_LARGE'), httpStatusOf('JOB_EXPIRED')]).toEqual([422, 422, 422])
    expect([httpStatusOf('NO_RELAY'), httpStatusOf('TIMEOUT'), httpStatusOf('UNCERTAIN'), httpStatusOf('PRINTER_ERROR')]).toEqual([503, 504, 502, 502])
    expect(httpStatusOf('SOMETHING_NEW')).toBe(500)
  })
})
