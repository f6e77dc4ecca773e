/**
 * The OpenAPI 3.1 document served at `/api/openapi.json` (SPEC "HTTP API"). test/unit/openapi.test.ts validates
 * it against the OpenAPI 3.1 schema; the routes' tests check that each route they call is described here.
 */
import { ERROR_CODES, LOCAL_ERROR_CODES, MAX_COPIES, MIN_COPIES } from '../../protocol/index.ts'
import { JOB_STATES, MAX_JOB_HISTORY_LIST } from '../../protocol/jobHistory.ts'
import { DEFAULT_JOB_LIST_LIMIT } from './jobListQuery.ts'

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: object): object => ({ 'application/json': { schema } })
const error = (description: string): object => ({ description, content: json(ref('Error')) })

const PRINTER_ID = { name: 'printerId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }
const JOB_ID = { name: 'jobId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } }

const schemas = {
  Error: {
    type: 'object',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', description: 'one of the codes below; a newer relay may send others', examples: [...Object.keys(ERROR_CODES), ...Object.keys(LOCAL_ERROR_CODES)] },
      message: { type: 'string' },
      jobId: { type: 'string' },
      printerId: { type: 'string' },
      retryable: { type: 'boolean' }
    }
  },
  JobEnvelope: {
    type: 'object',
    required: ['data'],
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'the job id; the Idempotency-Key header gives it too' },
      data: { type: 'string', description: 'the ticket: text (utf8) or base64' },
      encoding: { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' },
      copies: { type: 'integer', minimum: MIN_COPIES, maximum: MAX_COPIES, default: 1 },
      expiresAt: { type: 'string', format: 'date-time' }
    },
    additionalProperties: false
  },
  JobResult: {
    type: 'object',
    required: ['jobId', 'printerId', 'status', 'at'],
    properties: {
      jobId: { type: 'string' },
      printerId: { type: 'string' },
      status: { type: 'string', enum: ['printed', 'sent'] },
      bytes: { type: 'integer' },
      durationMs: { type: 'number' },
      printer: { type: 'object' },
      at: { type: 'string', format: 'date-time' }
    }
  },
  PrinterStatus: {
    type: 'object',
    required: ['printerId', 'state'],
    properties: {
      printerId: { type: 'string' },
      state: { type: 'string', enum: ['online', 'offline', 'unreachable', 'error'] },
      detail: { type: 'string' },
      relayId: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      queued: { type: 'integer' }
    }
  },
  HistoryError: {
    type: 'object',
    required: ['code', 'message', 'at'],
    properties: { code: { type: 'string' }, message: { type: 'string' }, at: { type: 'string', format: 'date-time' } }
  },
  JobState: {
    type: 'object',
    description: 'what the broker has seen of a job (the job history, kept JOB_HISTORY_DAYS)',
    required: ['jobId', 'printerId', 'state', 'retryableErrors', 'retryableErrorCount'],
    properties: {
      jobId: { type: 'string' },
      printerId: { type: 'string' },
      user: { type: ['string', 'null'], description: 'who published it; null when unknown (Mosquitto) or anonymous' },
      anonymous: { type: 'boolean' },
      publishedAt: { type: ['string', 'null'], format: 'date-time' },
      state: { type: 'string', enum: ['pending', 'printed', 'sent', 'failed', 'cancelled'] },
      result: ref('JobResult'),
      error: ref('HistoryError'),
      finishedAt: { type: 'string', format: 'date-time' },
      retryableErrors: { type: 'array', items: ref('HistoryError'), description: 'the latest retryable errors seen, oldest first' },
      retryableErrorCount: { type: 'integer' },
      cancelRequested: { type: 'object', properties: { at: { type: 'string', format: 'date-time' }, user: { type: ['string', 'null'] } } }
    }
  },
  TokenRequest: {
    type: 'object',
    required: ['printers', 'ttlSeconds'],
    properties: {
      printers: { type: 'array', minItems: 1, items: { type: 'string' } },
      ttlSeconds: { type: 'integer', minimum: 1, maximum: 86_400 }
    },
    additionalProperties: false
  },
  Token: {
    type: 'object',
    required: ['token', 'expiresAt'],
    properties: { token: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } }
  }
}

const commonErrors = {
  401: error('no valid credentials (UNAUTHORIZED)'),
  403: error('the credentials do not grant this (FORBIDDEN)')
}

export function openApiDocument (): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Printwire HTTP API', version: '1', description: 'Print on ticket printers on a venue\'s LAN. The same users and grants as MQTT.' },
    servers: [{ url: '/api' }],
    security: [{ basic: [] }, { bearer: [] }],
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer', description: 'a token from POST /api/tokens' }
      },
      schemas
    },
    paths: {
      '/printers': {
        get: {
          summary: 'The printers the caller may use, each with its status',
          responses: { 200: { description: 'the printers', content: json({ type: 'array', items: ref('PrinterStatus') }) }, ...commonErrors }
        }
      },
      '/printers/{printerId}/jobs': {
        post: {
          summary: 'Print a job',
          parameters: [
            PRINTER_ID,
            { name: 'wait', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 120 }, description: 'answer when the job ends, waiting at most this many seconds' },
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' }, description: 'the job id: sending it again never prints twice' }
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('JobEnvelope') },
              'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
              'text/plain': { schema: { type: 'string' } }
            }
          },
          responses: {
            200: { description: 'with ?wait: the job printed (or was sent)', content: json(ref('JobResult')) },
            202: { description: 'the job is accepted', content: json({ type: 'object', required: ['jobId'], properties: { jobId: { type: 'string' } } }) },
            400: error('a bad parameter (INVALID_ARGUMENT)'),
            ...commonErrors,
            404: error('no such printer (NOT_FOUND)'),
            409: error('with ?wait: the job was cancelled (JOB_CANCELLED)'),
            415: error('a content type other than JSON, octet-stream or text (INVALID_ARGUMENT)'),
            422: error('not a valid job, too large, or expired (INVALID_JOB, JOB_TOO_LARGE, JOB_EXPIRED)'),
            502: error('with ?wait: the printer failed, or the relay cannot tell whether it printed (UNCERTAIN)'),
            503: error('no relay serves the printer (NO_RELAY), or its queue is full (QUEUE_FULL)'),
            504: error('with ?wait: no result in time (TIMEOUT); the job may still print')
          }
        }
      },
      '/me': {
        get: {
          summary: 'Who the caller is: its user (null when anonymous), how it logged in, its role and printers',
          responses: {
            200: {
              description: 'the caller',
              content: json({
                type: 'object',
                required: ['user', 'via', 'role', 'printers'],
                properties: {
                  user: { type: ['string', 'null'], description: 'the user, or a token\'s issuer; null without AUTH_FILE' },
                  via: { type: 'string', enum: ['password', 'token', 'anonymous'] },
                  role: { type: ['string', 'null'], enum: ['client', 'relay', 'admin', null], description: 'null without AUTH_FILE (anyone may do anything, on loopback only)' },
                  printers: { type: 'array', items: { type: 'string' }, description: 'printer ids, or * for all' }
                }
              })
            },
            ...commonErrors
          }
        }
      },
      '/jobs': {
        get: {
          summary: 'The job history, newest first: jobs of the printers the caller may read, from any client',
          parameters: [
            { name: 'printer', in: 'query', required: false, schema: PRINTER_ID.schema, description: 'only this printer\'s jobs' },
            { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: [...JOB_STATES] }, description: 'only jobs in this state' },
            { name: 'since', in: 'query', required: false, schema: { type: 'string', format: 'date-time' }, description: 'only jobs first seen at or after this time' },
            { name: 'until', in: 'query', required: false, schema: { type: 'string', format: 'date-time' }, description: 'only jobs first seen at or before this time' },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_JOB_HISTORY_LIST, default: DEFAULT_JOB_LIST_LIMIT } }
          ],
          responses: {
            200: { description: 'the jobs', content: json({ type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: ref('JobState') } } }) },
            400: error('a bad or unknown parameter (INVALID_ARGUMENT)'),
            ...commonErrors
          }
        }
      },
      '/jobs/{jobId}': {
        get: {
          summary: 'A job\'s state',
          parameters: [JOB_ID],
          responses: { 200: { description: 'the job', content: json(ref('JobState')) }, ...commonErrors, 404: error('unknown job (NOT_FOUND)') }
        },
        delete: {
          summary: 'Cancel a job that has not started printing',
          parameters: [JOB_ID],
          responses: {
            200: { description: 'cancelled', content: json(ref('JobState')) },
            ...commonErrors,
            404: error('unknown job (NOT_FOUND)'),
            409: error('the job already started printing, or has ended (JOB_NOT_CANCELLABLE)')
          }
        }
      },
      '/tokens': {
        post: {
          summary: 'A signed token for a page: a client of these printers, for ttlSeconds (at most 24 h)',
          requestBody: { required: true, content: json(ref('TokenRequest')) },
          responses: { 201: { description: 'the token', content: json(ref('Token')) }, 400: error('a bad request (INVALID_ARGUMENT)'), ...commonErrors }
        }
      }
    }
  }
}
