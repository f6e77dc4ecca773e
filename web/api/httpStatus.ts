/**
 * The HTTP status of each error code the API answers with (SPEC "HTTP API"): the body is always
 * `{"code", "message"}` with the same codes as MQTT.
 */
import type { PrintwireErrorCode } from '../../protocol/index.ts'

const STATUS: Partial<Record<PrintwireErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** SPEC: DELETE of a job that already started printing; a job that ended cancelled, asked with ?wait. */
  JOB_CANCELLED: 409,
  JOB_NOT_CANCELLABLE: 409,
  INVALID_TOKEN_REQUEST: 422,
  /** The client library's refusals, as the API's. */
  LOGIN_REFUSED: 401,
  NOT_ALLOWED: 403,
  PUBLISH_NOT_ALLOWED: 403,
  PUBLISH_REFUSED: 403,
  BROKER_UNREACHABLE: 503,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_JOB: 422,
  JOB_TOO_LARGE: 422,
  JOB_EXPIRED: 422,
  /** A final printer error, or a job whose outcome the relay cannot tell: the printer side failed. */
  PRINTER_ERROR: 502,
  PRINTER_UNREACHABLE: 502,
  PRINTER_TIMEOUT: 502,
  UNCERTAIN: 502,
  NO_RELAY: 503,
  QUEUE_FULL: 503,
  RELAY_DISK_FULL: 503,
  TIMEOUT: 504
}

/** The status for `code`; 500 for a code the API does not expect to answer with. */
export function httpStatusOf (code: string): number {
  return (STATUS as Partial<Record<string, number>>)[code] ?? 500
}
