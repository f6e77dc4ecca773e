/**
 * The dashboard's test ticket: a small FGL ticket naming the printer and the time, so that whoever stands at the
 * printer can tell which printer it came out of and when (BOCA.md: `<RC>` row/column, `<F>` font, `<p>` print and cut).
 */

/** FGL keeps `<` and `>` for commands: they are left out of the text printed. */
function printable (text: string): string {
  return text.replace(/[<>]/g, '')
}

export function testTicket (printerId: string, at: Date, from: string): string {
  return [
    '<RC20,20><F3><HW2,2>TEST TICKET',
    `<RC110,20><F3>Printer: ${printable(printerId)}`,
    `<RC160,20><F2>${printable(at.toISOString())}`,
    `<RC200,20><F2>From the Printwire dashboard${from === '' ? '' : ` (${printable(from)})`}`,
    '<p>'
  ].join('')
}
