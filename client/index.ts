/**
 * `printwire/client` (SPEC "Client library"): print from a web app or a Node program in a few lines.
 *
 *   const pw = await connect('wss://tickets.example/mqtt', { username, password })
 *   const result = await pw.print('lobby', '<RC10,10><F3>Row F seat 12<p>', { timeoutMs: 30000 })
 *
 * Browser-safe: imports the protocol's browser-safe modules and mqtt.js only.
 */
export { connect, PrintwireClient, type ClientEvents, type ConnectionState, type ConnectOptions, type PrintOptions } from './printwireClient.ts'
export type { JobData } from './jobEnvelope.ts'
export type { PrinterInfo } from './printerDirectory.ts'
export { PrintwireError, isPrintwireError, type PrintwireErrorCode } from '../protocol/errorCodes.ts'
export type { JobErrorMessage, JobResult, PrinterState } from '../protocol/payloads.ts'
