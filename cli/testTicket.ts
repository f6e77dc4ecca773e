/**
 * The ticket `printwire test-print` prints (FGL, BOCA.md): the printer's id, the time, and a QR code holding both,
 * so that one look (and one scan) proves the whole path: broker, relay, printer, paper, print head.
 */

/** The test ticket for `printerId` at `at`, as FGL bytes. */
export function testTicket (printerId: string, at: Date): Buffer {
  const time = at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  return Buffer.from([
    '<RC10,20><LT2><BX364,730>',
    '<RC25,40><F6>PRINTWIRE TEST',
    // A long id (up to 64 characters) in a smaller font, to stay on the ticket.
    `<RC95,40><F${printerId.length > 24 ? 2 : 3}>Printer ${printerId}`,
    `<RC140,40><F9>${time}`,
    '<RC180,40><F2>Broker, relay and printer work.',
    `<RC25,790><QR6,0,0,M>{printwire-test ${printerId} ${at.toISOString()}}`,
    '<RC250,790><F2>Scan to check',
    '<p>',
    ''
  ].join('\n'), 'latin1')
}
