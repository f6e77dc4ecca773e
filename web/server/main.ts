/** `npm run web`: the page, `/mqtt` and `server/time` in front of an external broker such as Mosquitto (`printwire web` runs the same). */
import { runWebServer } from './runWebServer.ts'

await runWebServer(process.env)
