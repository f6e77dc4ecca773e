/**
 * A browser token in the page's address, `…/#token=pwt1.…` (SPEC "Browser tokens"): a ticketing backend
 * hands a box-office page a short-lived token instead of a password. The page logs in with it at once (any
 * user name: TOKEN_USER_NAME), without showing the log-in form.
 *
 * Read once at start and taken out of the address straight away (history.replaceState), so it stays out of
 * the browser's history, bookmarks and copied links. A fragment is never sent to the server, not even in a
 * Referer, so it never reaches the server or its logs; the page keeps it for the tab only (login.ts).
 */

/** The user name the page logs in with a token under (the broker ignores it). */
export const TOKEN_USER_NAME = 'token'

/** The token in `location`'s fragment, removed from the address; undefined without one. */
export function takeFragmentToken (location: Pick<Location, 'hash' | 'pathname' | 'search'>, history: Pick<History, 'replaceState' | 'state'>): string | undefined {
  const fragment = location.hash.replace(/^#/, '')
  if (fragment === '') return undefined
  const params = new URLSearchParams(fragment)
  const token = params.get('token')
  if (token === null) return undefined
  params.delete('token')
  const rest = params.toString()
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest === '' ? '' : `#${rest}`}`)
  return token === '' ? undefined : token
}
