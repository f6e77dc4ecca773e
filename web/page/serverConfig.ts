/**
 * The broker's settings this page needs (topic prefix, job limit, MQTT path), read once at start from the
 * server that served the page (`/config.json`, protocol/pageConfig.ts), so the page never guesses them.
 */
import { PAGE_CONFIG_PATH, readPageConfig, type PageConfig } from '../../protocol/pageConfig.ts'

/** The page config; throws an Error whose message says what went wrong, for the page to show. */
export async function fetchPageConfig (): Promise<PageConfig> {
  let response: Response
  try {
    response = await fetch(PAGE_CONFIG_PATH, { cache: 'no-store', headers: { Accept: 'application/json' } })
  } catch (error) {
    throw new Error(`cannot reach ${PAGE_CONFIG_PATH} (${error instanceof Error ? error.message : String(error)})`)
  }
  if (!response.ok) throw new Error(`${PAGE_CONFIG_PATH} answered HTTP ${response.status}`)
  let body: unknown
  try {
    body = await response.json()
  } catch {
    throw new Error(`${PAGE_CONFIG_PATH} is not JSON`)
  }
  const config = readPageConfig(body)
  if (config === null) throw new Error(`${PAGE_CONFIG_PATH} is not a Printwire page config`)
  return config
}
