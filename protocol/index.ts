/** The protocol module: topics, payloads, error codes, limits and job parsing, shared by every part. */
export * from './topics.ts'
export * from './errorCodes.ts'
export * from './limits.ts'
export * from './payloads.ts'
export * from './jobParser.ts'
export * from './pageConfig.ts'
