/** The header's server clock: `server/time` (any ISO-8601 string) shown in local time. */
export class ServerTimeView {
  private readonly time: HTMLTimeElement
  private readonly format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

  constructor (time: HTMLTimeElement) {
    this.time = time
  }

  /**
   * Not connected: the time shown is the last one received, so it is marked stale (`data-stale="true"`, struck
   * through by the style, and said in its title) until the next one arrives.
   */
  markStale (stale: boolean): void {
    const { time } = this
    // Before any time was received there is nothing stale to mark.
    const marked = stale && time.textContent !== '—'
    time.dataset.stale = marked ? 'true' : 'false'
    if (marked) time.title = `last received before the connection was lost: ${time.textContent ?? ''}`
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
