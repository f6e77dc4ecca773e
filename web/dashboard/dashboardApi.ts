/**
 * The HTTP API as the dashboard calls it (SPEC "HTTP API"): with the same credentials as its MQTT connection
 * (HTTP Basic for a user, Bearer for a browser token, nothing when anonymous). Errors come back as the API's
 * `{code, message}`, thrown as PrintwireError-like errors the page shows.
 */
import type { JobRecord, JobState } from '../../protocol/jobHistory.ts'
import type { Credentials } from '../page/login.ts'

/** `GET /api/me`. */
export interface Me {
  user: string | null
  via: 'password' | 'token' | 'anonymous'
  role: 'client' | 'relay' | 'admin' | null
  printers: string[]
}

export interface JobFilter {
  printerId?: string
  state?: JobState
  /** Epoch ms. */
  since?: number
  /** Epoch ms. */
  until?: number
  limit: number
}

export class ApiError extends Error {
  readonly code: string
  readonly status: number

  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** Text of a UTF-8 string as base64 (btoa takes Latin-1 only). */
function base64 (text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

export class DashboardApi {
  private readonly authorization: string | undefined

  constructor (credentials: Credentials | undefined) {
    this.authorization = credentials === undefined
      ? undefined
      : credentials.token === true ? `Bearer ${credentials.password}` : `Basic ${base64(`${credentials.username}:${credentials.password}`)}`
  }

  async me (): Promise<Me> {
    return await this.call('GET', '/api/me') as Me
  }

  async jobs (filter: JobFilter): Promise<JobRecord[]> {
    const params = new URLSearchParams()
    if (filter.printerId !== undefined) params.set('printer', filter.printerId)
    if (filter.state !== undefined) params.set('state', filter.state)
    if (filter.since !== undefined) params.set('since', new Date(filter.since).toISOString())
    if (filter.until !== undefined) params.set('until', new Date(filter.until).toISOString())
    params.set('limit', String(filter.limit))
    const body = await this.call('GET', `/api/jobs?${params.toString()}`) as { jobs?: JobRecord[] }
    return Array.isArray(body.jobs) ? body.jobs : []
  }

  /** Cancels a job that has not started printing (`DELETE /api/jobs/<id>`): its record, cancelled. */
  async cancel (jobId: string): Promise<JobRecord> {
    return await this.call('DELETE', `/api/jobs/${encodeURIComponent(jobId)}`) as JobRecord
  }

  private async call (method: string, path: string): Promise<unknown> {
    let response: Response
    try {
      response = await fetch(path, { method, cache: 'no-store', headers: { Accept: 'application/json', ...(this.authorization === undefined ? {} : { Authorization: this.authorization }) } })
    } catch (error) {
      throw new ApiError(0, 'BROKER_UNREACHABLE', `the server cannot be reached (${error instanceof Error ? error.message : String(error)})`)
    }
    let body: unknown
    try {
      body = await response.json()
    } catch {
      throw new ApiError(response.status, 'INTERNAL_ERROR', `${path.split('?')[0] ?? path} answered HTTP ${response.status}, not JSON`)
    }
    if (!response.ok) {
      const { code, message } = (body ?? {}) as { code?: unknown, message?: unknown }
      throw new ApiError(response.status, typeof code === 'string' ? code : 'INTERNAL_ERROR', typeof message === 'string' ? message : `HTTP ${response.status}`)
    }
    return body
  }
}
