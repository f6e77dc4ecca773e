/** The header's server clock: `server/time` (any ISO-8601 string) shown in local time. */
export class ServerTimeView {
  private readonly time: HTMLTimeElement
  private readonly format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

  constructor (time: HTMLTimeElement) {
    this.time = time
  }

  /** Shown in local time, or as received (clipped) when it is not a date. */
  show (text: string): void {
    const { time } = this
    const ms = Date.parse(text)
    if (Number.isNaN(ms)) {
      time.removeAttribute('datetime')
      time.textContent = text.slice(0, 64)
      time.title = 'not a date the browser understands'
      return
    }
    time.dateTime = new Date(ms).toISOString()
    time.textContent = this.format.format(ms)
    time.title = text.slice(0, 64)
  }
}
