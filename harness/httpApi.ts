/** Calls to the HTTP API (`/api`) for tests: the status, the body (JSON when it is) and the headers. */

export interface Answer {
  status: number
  body: any
  headers: Headers
}

export interface CallOptions {
  body?: string | Uint8Array
  type?: string
  auth?: string
  headers?: Record<string, string>
}

export async function callApi (httpUrl: string, method: string, route: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.type !== undefined) headers['content-type'] = options.type
  if (options.auth !== undefined) headers.authorization = options.auth
  const response = await fetch(`${httpUrl}/api${route}`, { method, headers, ...(options.body === undefined ? {} : { body: options.body as BodyInit }) })
  const text = await response.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = text }
  return { status: response.status, body, headers: response.headers }
}

/** An `Authorization: Basic` header. */
export function basicAuth (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/** Reads until `done` says so, or `ms` pass; returns the last value read (the test then checks it). */
export async function eventually<T> (read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
