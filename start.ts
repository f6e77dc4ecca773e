/**
 * `npm start`: everything on one machine for a first look — the broker with the web page, one simulated
 * Boca printer `demo` on a free port, and a relay that prints to it. Open the URL it prints. The page can show
 * what `demo` printed, drawn (`/simulator/tickets/…`, printer-sim/printedTicketsRouter.ts): only here, where the
 * printer is a simulation on the same machine, and only while the broker is loopback-only (no AUTH_FILE, no
 * ALLOW_ANONYMOUS); never in `npm run broker` or `npm run web`.
 */
import { loadBrokerConfig } from './broker/config.ts'
import { PrintwireBroker } from './broker/mqttBroker.ts'
import { SIMULATOR_TICKETS_PATH } from './protocol/pageConfig.ts'
import { BocaSimulator } from './printer-sim/bocaSimulator.ts'
import { PrintedTickets } from './printer-sim/printedTickets.ts'
import { printedTicketsRouter } from './printer-sim/printedTicketsRouter.ts'
import { loadRelayConfig } from './relay/config.ts'
import { Relay } from './relay/relay.ts'
import { configOrExit, runParts, type Part } from './runtime/lifecycle.ts'
import { createLogger } from './runtime/logger.ts'

const DEMO_PRINTER = 'demo'
process.stdout.write('Printwire: starting the broker with the web page, a relay and a simulated Boca printer "demo" for a first look (Ctrl-C stops them)...\n')
const brokerConfig = configOrExit(() => loadBrokerConfig(process.env))
// Readable lines with local times wherever the output goes, unless LOG_FORMAT says otherwise.
const logger = createLogger({ name: 'printwire', format: brokerConfig.LOG_FORMAT, defaultFormat: 'pretty' })
// The page's "What the printer printed" keeps the last tickets itself: the simulator keeps none.
const printer = new BocaSimulator({ config: { host: '127.0.0.1', port: 0, keepTickets: false }, logger: logger.child({ part: 'printer-sim' }) })
const printedTickets = new PrintedTickets({ simulator: printer, printerId: DEMO_PRINTER, logger: logger.child({ part: 'printer-sim' }) })
// The page may show what `demo` printed only while the broker is this machine's alone (loopback, no users): open
// to the network (AUTH_FILE, ALLOW_ANONYMOUS), anyone who can reach the page would see the tickets, log-in or not.
const oneMachine = brokerConfig.AUTH_FILE === undefined && !brokerConfig.ALLOW_ANONYMOUS
if (!oneMachine) logger.info({ printerId: DEMO_PRINTER }, 'the broker is open to the network: the page does not show what the simulated printer printed')
const broker = new PrintwireBroker({
  config: brokerConfig,
  logger: logger.child({ part: 'broker' }),
  ...(oneMachine
    ? {
        simulatorTickets: {
          config: { printerId: DEMO_PRINTER, ticketsPath: SIMULATOR_TICKETS_PATH },
          router: printedTicketsRouter({ tickets: printedTickets, logger: logger.child({ part: 'printer-sim' }) })
        }
      }
    : {})
})

/** The relay's printer port is known only once the simulator listens, so its config is read then. */
class DemoRelay implements Part {
  private relay: Relay | undefined

  async start (): Promise<void> {
    const config = loadRelayConfig({
      ...process.env,
      MQTT_URL: `mqtt://127.0.0.1:${broker.mqttPort}`,
      PRINTERS: `${DEMO_PRINTER}=127.0.0.1:${printer.port}`,
      RELAY_ID: process.env.RELAY_ID ?? 'demo'
    })
    this.relay = new Relay({ config, logger: logger.child({ part: 'relay' }) })
    await this.relay.start()
    process.stdout.write(`\nPrintwire is running. Open http://localhost:${broker.httpPort}/ and print on "${DEMO_PRINTER}".\n` +
      `Dashboard: http://localhost:${broker.httpPort}/dashboard\n` +
      `MQTT: mqtt://localhost:${broker.mqttPort}   e.g. mosquitto_pub -p ${broker.mqttPort} -q 1 -t printers/demo/jobs -m '<RC10,10><F3>Hello<p>'\n` +
      `HTTP: curl -H 'Content-Type: text/plain' -d '<RC10,10><F3>Hello<p>' 'http://localhost:${broker.httpPort}/api/printers/demo/jobs?wait=10'\n\n`)
  }

  async stop (): Promise<void> {
    await this.relay?.stop()
  }
}

await runParts([broker, printer, printedTickets, new DemoRelay()], logger)
