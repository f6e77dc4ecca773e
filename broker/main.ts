/** `npm run broker`: the broker and the web page (`printwire broker` runs the same). */
import { runBroker } from './runBroker.ts'

await runBroker(process.env)
