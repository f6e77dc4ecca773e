/**
 * `npm run build:page`: bundles the page script, the dashboard's, the client library's (`/printwire-client.js`) and the ticket preview's renderer (`/preview.js`) into their cache (pageBundle.ts) ahead of the first start. Not
 * needed on a checkout (the first start does it); the Docker image runs it at build time, because the user its
 * parts run as cannot write node_modules/.cache.
 */
import { createLogger } from '../../runtime/logger.ts'
import { loadClientScript, loadDashboardScript, loadPageScript, loadPreviewScript } from './pageBundle.ts'

const logger = createLogger({ name: 'build-page' })
await loadPageScript({ logger })
await loadClientScript({ logger })
await loadDashboardScript({ logger })
await loadPreviewScript({ logger })
