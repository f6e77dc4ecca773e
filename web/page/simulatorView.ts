/**
 * `npm start` only (`simulator` in `/config.json`): after a job on its simulated printer is printed, "What the
 * printer printed" shows the last ticket that printer printed, drawn by the server from the bytes it received
 * (printer-sim/printedTicketsRouter.ts): `<ticketsPath>/latest` says which, `<ticketsPath>/<n>.png` is the picture.
 */
import type { SimulatorTicketsConfig } from '../../protocol/pageConfig.ts'

export interface SimulatorViewUi {
  section: HTMLElement
  image: HTMLImageElement
  caption: HTMLElement
}

export interface SimulatorViewDeps {
  ui: SimulatorViewUi
  config: SimulatorTicketsConfig
  fetch: typeof fetch
}

interface LatestTicket { n: number, printerId: string, at: string }

export class SimulatorView {
  private readonly deps: SimulatorViewDeps

  constructor (deps: SimulatorViewDeps) {
    this.deps = deps
  }

  /** A job has printed on `printerId`: show the simulator's newest ticket if that printer is the simulator. */
  async jobPrinted (printerId: string): Promise<void> {
    const { ui, config } = this.deps
    if (printerId !== config.printerId) return
    let latest: LatestTicket | undefined
    try {
      const response = await this.deps.fetch(`${config.ticketsPath}/latest`, { cache: 'no-store', headers: { Accept: 'application/json' } })
      latest = response.ok ? readLatest(await response.json()) : undefined
    } catch {
      latest = undefined
    }
    ui.section.hidden = false
    if (latest === undefined) {
      ui.image.hidden = true
      ui.caption.textContent = 'The simulated printer has no ticket to show.'
      return
    }
    ui.image.hidden = false
    ui.image.alt = `Ticket ${latest.n} as the simulated printer "${latest.printerId}" printed it`
    ui.image.src = `${config.ticketsPath}/${latest.n}.png`
    ui.caption.textContent = `Ticket ${latest.n}, printed by "${latest.printerId}" at ${new Date(latest.at).toLocaleTimeString()}.`
  }
}

function readLatest (body: unknown): LatestTicket | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { n, printerId, at } = body as Record<string, unknown>
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || typeof printerId !== 'string' || typeof at !== 'string') return undefined
  return { n, printerId, at }
}
