/**
 * The HTTP side of the broker: Express serves the page (`web/`) at `/`. The page's script is
 * `web/page/app.ts`, bundled once at start-up with esbuild (mqtt.js's browser build included), so the page
 * shares the protocol module with the rest of Printwire.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import express, { type Express } from 'express'

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'page')

/** Bundles the page's script for browsers. */
export async function bundlePageScript (): Promise<string> {
  const result = await build({
    entryPoints: [path.join(WEB_DIR, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false,
    write: false,
    logLevel: 'silent'
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error('esbuild produced no output for web/page/app.ts')
  return output.text
}

export function createWebApp (pageScript: string): Express {
  const app = express()
  app.disable('x-powered-by')
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    next()
  })
  app.get('/app.js', (_req, res) => {
    res.type('text/javascript').setHeader('Cache-Control', 'no-cache')
    res.send(pageScript)
  })
  app.get('/healthz', (_req, res) => { res.json({ ok: true }) })
  // The page's sources are served bundled as /app.js, never as they are.
  app.use((req, res, next) => { if (req.path.endsWith('.ts')) res.sendStatus(404); else next() })
  app.use(express.static(WEB_DIR, { index: 'index.html', extensions: ['html'], dotfiles: 'ignore' }))
  return app
}
