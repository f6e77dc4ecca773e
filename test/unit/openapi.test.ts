/** The HTTP API's OpenAPI document is a valid OpenAPI 3.1 document, and describes SPEC's routes. */
import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { openApiDocument } from '../../web/api/openapi.ts'

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator()
    const result = await validator.validate(openApiDocument() as Record<string, unknown>)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('is refused by the validator when broken (the check can fail)', async () => {
    const broken = { ...openApiDocument(), paths: { '/printers': { get: { responses: { 200: { content: {} } } } } } }
    expect((await new Validator().validate(broken)).valid).toBe(false)
  })

  it('describes every route of SPEC "HTTP API"', () => {
    const paths = (openApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths
    const routes = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)).sort()
    expect(routes).toEqual(['DELETE /jobs/{jobId}', 'GET /jobs', 'GET /jobs/{jobId}', 'GET /me', 'GET /printers', 'POST /printers/{printerId}/jobs', 'POST /tokens'])
  })
})
