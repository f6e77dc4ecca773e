/** `npm run printer-sim`: a simulated Boca printer (`printwire printer-sim` runs the same); see runPrinterSim.ts. */
import { runPrinterSim } from './runPrinterSim.ts'

await runPrinterSim(process.argv.slice(2), process.env)
