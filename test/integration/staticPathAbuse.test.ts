/**
 * The page server's file routes tried with paths a browser would never send (raw HTTP, so nothing normalizes
 * them first): `/templates/<name>.fgl` (examples/tickets, express.static) must serve those files and nothing above
 * or beside them, whatever the encoding of the dots and slashes, and only to GET/HEAD. Real embedded broker.
 */
import http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { Cleanup, startBroker } from '../../harness/parts.ts'

const cleanup = new Cleanup()
afterEach(async () => { await cleanup.closeAll() })

function rawRequest (httpUrl: string, method: string, path: string): Promise<{ status: number, body: string }> {
  const { hostname, port } = new URL(httpUrl)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const ESCAPES = [
  '/templates/../package.json', '/templates/..%2fpackage.json', '/templates/%2e%2e/%2e%2e/package.json',
  '/templates/%2e%2e%2f%2e%2e%2fpackage.json', '/templates/..%5c..%5cpackage.json', '/templates/%252e%252e/package.json',
  '/templates/concert-qr.fgl%00.txt', '/templates//etc/passwd', '/templates/..', '/templates/.git/config', '/templates/'
]

describe('/templates/ against paths that try to leave it', () => {
  it('serves a template, and nothing outside examples/tickets, to any method', async () => {
    const broker = cleanup.add(await startBroker())
    const template = await rawRequest(broker.httpUrl, 'GET', '/templates/concert-qr.fgl')
    expect(template.status).toBe(200)
    expect(template.body).toContain('<RC')
    for (const path of ESCAPES) {
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'POST']) {
        const answer = await rawRequest(broker.httpUrl, method, path)
        expect({ path, method, status: answer.status }).toMatchObject({ status: expect.toSatisfy((s: number) => s >= 400 && s < 500) })
        expect(answer.body).not.toContain('"name": "printwire"')
        expect(answer.body).not.toContain('root:')
      }
    }
    for (const method of ['PUT', 'DELETE', 'POST']) expect((await rawRequest(broker.httpUrl, method, '/templates/concert-qr.fgl')).status).toBeGreaterThanOrEqual(400)
  })
})
