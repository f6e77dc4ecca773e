/**
 * The page server's routes, as an Express app that the embedded broker (broker/mqttBroker.ts) and `npm run
 * web` (webServer.ts) each mount on their HTTP server: the page (web/page/) at `/`, its script as `/app.js`
 * and the client library for browsers as `/printwire-client.js` (pageBundle.ts), the dashboard (web/dashboard/) at
 * `/dashboard` with `/dashboard.js` and `/dashboard.css`, `/config.json` (the broker's settings the page needs, protocol/pageConfig.ts), `/healthz`, and `/metrics` (metricsRoute.ts: the only route here that may ask for a log-in).
 * The ticket preview's renderer is a script of its own, `/preview.js`, which the page loads after it starts (it is
 * most of the page's weight: bwip-js), and the page's ticket templates are examples/tickets/*.fgl at `/templates/`.
 * Everything here is public, like the page itself: `/config.json` holds no user, password or file path.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import express, { type Express, type RequestHandler } from 'express'
import { CLIENT_SCRIPT_PATH, PAGE_CONFIG_PATH, pageConfigFor, PREVIEW_SCRIPT_PATH, TEMPLATES_PATH, type BrokerKind, type PageConfig, type SimulatorTicketsConfig } from '../../protocol/index.ts'
import type { Logger } from '../../runtime/logger.ts'
import { METRICS_PATH } from '../../runtime/printwireMetrics.ts'
import { loadClientScript, loadDashboardScript, loadPageScript, loadPreviewScript } from './pageBundle.ts'

const PAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'page')
const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dashboard')
/** The page's ticket templates (web/page/templates.ts names them). */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'tickets')

/** `npm start`'s simulated printer: its tickets' route (printer-sim/printedTicketsRouter.ts), mounted at `config.ticketsPath`. */
export interface SimulatorTicketsRoute {
  config: SimulatorTicketsConfig
  router: RequestHandler
}

export interface PageAppDeps {
  /** The bundled page script (pageBundle.ts). */
  pageScript: string
  /** The client library, bundled for browsers (pageBundle.ts). */
  clientScript: string
  /** The dashboard's script (pageBundle.ts); without it, no dashboard is served. */
  dashboardScript?: string
  pageConfig: PageConfig
  /** The HTTP API (web/api/apiRouter.ts), mounted at `/api`. */
  api?: RequestHandler | undefined
  /** The Prometheus metrics (metricsRoute.ts), at `GET /metrics`. */
  metrics?: RequestHandler | undefined
  /** The ticket preview's renderer, bundled for browsers (pageBundle.ts); `/preview.js` is 404 without it. */
  previewScript?: string
  /** Only `npm start`'s: its simulated printer's tickets, and their place in `/config.json`. */
  simulator?: SimulatorTicketsRoute | undefined
}

export interface LoadPageAppDeps {
  /** The broker's settings the page needs (`/config.json`). */
  config: { TOPIC_PREFIX: string, MAX_JOB_BYTES: number }
  logger: Logger
  /** Where the page script is cached (pageBundle.ts); its default otherwise. */
  pageCacheDir?: string | undefined
  /** The broker the page talks to: `mosquitto` cannot answer NO_RELAY, so the page's client checks status first. */
  broker?: BrokerKind
  /** The HTTP API (web/api/apiRouter.ts), mounted at `/api`. */
  api?: RequestHandler | undefined
  /** The Prometheus metrics (metricsRoute.ts), at `GET /metrics`. */
  metrics?: RequestHandler | undefined
  /** Only `npm start`'s: its simulated printer's tickets (see PageAppDeps). */
  simulator?: SimulatorTicketsRoute | undefined
}

/** The page app for a server with these settings, its script bundled or taken from the cache. */
export async function loadPageApp (deps: LoadPageAppDeps): Promise<Express> {
  const { config, logger, pageCacheDir } = deps
  const cache = pageCacheDir === undefined ? {} : { cacheDir: pageCacheDir }
  const pageScript = await loadPageScript({ logger, ...cache })
  const clientScript = await loadClientScript({ logger, ...cache })
  const dashboardScript = await loadDashboardScript({ logger, ...cache })
  const previewScript = await loadPreviewScript({ logger, ...cache })
  return createPageApp({ pageScript, clientScript, dashboardScript, previewScript, pageConfig: pageConfigFor(config, deps.broker), api: deps.api, metrics: deps.metrics, simulator: deps.simulator })
}

export function createPageApp (deps: PageAppDeps): Express {
  const app = express()
  app.disable('x-powered-by')
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    next()
  })
  app.get('/app.js', (_req, res) => {
    res.type('text/javascript').setHeader('Cache-Control', 'no-cache')
    res.send(deps.pageScript)
  })
  app.get(CLIENT_SCRIPT_PATH, (_req, res) => {
    res.type('text/javascript').setHeader('Cache-Control', 'no-cache')
    res.send(deps.clientScript)
  })
  const { dashboardScript } = deps
  if (dashboardScript !== undefined) {
    app.get('/dashboard.js', (_req, res) => {
      res.type('text/javascript').setHeader('Cache-Control', 'no-cache')
      res.send(dashboardScript)
    })
    app.get(['/dashboard', '/dashboard/'], (_req, res) => { res.setHeader('Cache-Control', 'no-cache').sendFile(path.join(DASHBOARD_DIR, 'index.html')) })
    app.get('/dashboard.css', (_req, res) => { res.setHeader('Cache-Control', 'no-cache').sendFile(path.join(DASHBOARD_DIR, 'dashboard.css')) })
  }
  const { previewScript, simulator } = deps
  if (previewScript !== undefined) {
    app.get(PREVIEW_SCRIPT_PATH, (_req, res) => {
      res.type('text/javascript').setHeader('Cache-Control', 'no-cache')
      res.send(previewScript)
    })
  }
  const pageConfig: PageConfig = simulator === undefined ? deps.pageConfig : { ...deps.pageConfig, simulator: simulator.config }
  app.get(PAGE_CONFIG_PATH, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache')
    res.json(pageConfig)
  })
  app.get('/healthz', (_req, res) => { res.json({ ok: true }) })
  if (deps.api !== undefined) app.use('/api', deps.api)
  if (deps.metrics !== undefined) app.get(METRICS_PATH, deps.metrics)
  if (simulator !== undefined) app.use(simulator.config.ticketsPath, simulator.router)
  // Templates: the .fgl files as bytes (a <G#> logo's data is raw bytes), nothing else of that folder.
  app.use(TEMPLATES_PATH, (req, res, next) => { if (/^\/[a-z0-9-]+\.fgl$/.test(req.path)) next(); else res.sendStatus(404) })
  app.use(TEMPLATES_PATH, express.static(TEMPLATES_DIR, { index: false, dotfiles: 'ignore', setHeaders: (res) => { res.setHeader('Content-Type', 'application/octet-stream'); res.setHeader('Cache-Control', 'no-cache') } }))
  app.use(TEMPLATES_PATH, (_req, res) => { res.sendStatus(404) })
  // The page's sources are served bundled as /app.js, never as they are.
  app.use((req, res, next) => { if (req.path.endsWith('.ts')) res.sendStatus(404); else next() })
  app.use(express.static(PAGE_DIR, { index: 'index.html', extensions: ['html'], dotfiles: 'ignore' }))
  return app
}
