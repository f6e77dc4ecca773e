/**
 * The dashboard's entry (bundled as `/dashboard.js` by web/server/pageBundle.ts): reads the broker's settings
 * from `/config.json`, then runs the dashboard (dashboardPage.ts).
 */
import { showNotice } from '../page/pageElements.ts'
import { fetchPageConfig } from '../page/serverConfig.ts'
import { findDashboardElements } from './dashboardElements.ts'
import { DashboardPage } from './dashboardPage.ts'

async function start (): Promise<void> {
  const ui = findDashboardElements()
  let config
  try {
    config = await fetchPageConfig()
  } catch (error) {
    showNotice(ui.notice, `This page cannot read the broker's settings: ${error instanceof Error ? error.message : String(error)}. Reload the page; if this persists, the web server is not a Printwire page server of this version.`)
    ui.connection.dataset.state = 'disconnected'
    ui.connection.textContent = 'Not connected: no broker settings.'
    return
  }
  new DashboardPage({ ui, config, location, history, storage: sessionStorage }).start()
}

void start()
