/** Times as the dashboard shows them: local time (with the date when not today), and how long ago. */

const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' })
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

export function localTime (ms: number, now = Date.now()): string {
  return new Date(ms).toDateString() === new Date(now).toDateString() ? timeOnly.format(ms) : dateTime.format(ms)
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago (ms: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000))
  if (seconds < 45) return 'just now'
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.round(hours / 24)} days ago`
}

/** A `<time>` element for an ISO-8601 string; the text as received when it is not a date. */
export function timeElement (iso: string, withAgo: boolean, now = Date.now()): HTMLTimeElement {
  const time = document.createElement('time')
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) {
    time.textContent = iso.slice(0, 64)
    return time
  }
  time.dateTime = new Date(ms).toISOString()
  time.title = dateTime.format(ms)
  time.textContent = withAgo ? `${localTime(ms, now)} (${ago(ms, now)})` : localTime(ms, now)
  return time
}

/** Local midnight of `now`'s day (epoch ms): "today" for jobs printed today. */
export function startOfToday (now = Date.now()): number {
  const day = new Date(now)
  day.setHours(0, 0, 0, 0)
  return day.getTime()
}

/** A `datetime-local` input's value (local time) as epoch ms; undefined when empty or not a time. */
export function localInputMs (value: string): number | undefined {
  if (value === '') return undefined
  const ms = new Date(value).getTime()
  return Number.isNaN(ms) ? undefined : ms
}
