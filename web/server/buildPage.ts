/**
 * `npm run build:page`: bundles the page script into its cache (pageBundle.ts) ahead of the first start. Not
 * needed on a checkout (the first start does it); the Docker image runs it at build time, because the user its
 * parts run as cannot write node_modules/.cache.
 */
import { createLogger } from '../../runtime/logger.ts'
import { loadPageScript } from './pageBundle.ts'

await loadPageScript({ logger: createLogger({ name: 'build-page' }) })
