/**
 * `npm start` only (start.ts mounts it at SIMULATOR_TICKETS_PATH, `/simulator/tickets`, beside the page): the
 * simulated printer's last tickets, drawn. `GET /latest` → `{ n, printerId, at }` (404 before the first);
 * `GET /<n>.png` and `GET /<n>.svg` → ticket n drawn (404 once it is no longer kept). Errors are the HTTP API's
 * `{ code, message }` (NOT_FOUND, INTERNAL_ERROR). Nothing is read from disk:
 * a name is a number and an extension or it is 404, so no path reaches a file. A ticket the renderer cannot draw
 * answers 500 and is logged; the printer printed it all the same.
 */
import express, { type Router } from 'express'
import type { Logger } from '../runtime/logger.ts'
import type { PrintedTickets } from './printedTickets.ts'
import { ticketPng, ticketSvg } from './ticketPicture.ts'

const PICTURE = /^\/([1-9][0-9]{0,14})\.(png|svg)$/

export interface PrintedTicketsRouterDeps {
  tickets: PrintedTickets
  logger: Logger
}

export function printedTicketsRouter (deps: PrintedTicketsRouterDeps): Router {
  const { tickets, logger } = deps
  const router = express.Router()
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    next()
  })
  router.get('/latest', (_req, res) => {
    const latest = tickets.latest()
    if (latest === undefined) {
      res.status(404).json({ code: 'NOT_FOUND', message: `the simulated printer "${tickets.printerId}" has printed nothing yet` })
      return
    }
    res.json(latest)
  })
  router.get(/.*/, (req, res) => {
    const match = PICTURE.exec(req.path)
    const ticket = match === null ? undefined : tickets.get(Number(match[1]))
    if (match === null || ticket === undefined) {
      res.status(404).json({ code: 'NOT_FOUND', message: 'no such ticket: ask /latest, then /<n>.png or /<n>.svg of one of the last tickets printed' })
      return
    }
    const started = performance.now()
    try {
      if (match[2] === 'png') {
        res.type('image/png').send(Buffer.from(ticketPng(ticket.bytes)))
      } else {
        // Served as a document of its own: nothing in it may run or load.
        res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
        res.type('image/svg+xml').send(ticketSvg(ticket.bytes))
      }
      logger.debug({ printerId: tickets.printerId, ticket: ticket.number, format: match[2], durationMs: Math.round(performance.now() - started) }, 'ticket picture served')
    } catch (error) {
      logger.error({ err: error, printerId: tickets.printerId, ticket: ticket.number }, 'could not draw a printed ticket')
      res.status(500).json({ code: 'INTERNAL_ERROR', message: `ticket ${ticket.number} could not be drawn` })
    }
  })
  return router
}
