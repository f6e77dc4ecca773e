/** `npm run relay`: the relay, on the printers' LAN (`printwire relay` runs the same). */
import { runRelay } from './runRelay.ts'

await runRelay(process.env)
