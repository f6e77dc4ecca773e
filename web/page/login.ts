/**
 * The page's log-in (SPEC "Access"): shown when the broker refuses the connection, it keeps the user
 * name and password in sessionStorage — this tab only, gone when it closes or on "Log out" — and hands
 * them to the connection. Never in localStorage, cookies or the URL. A token from the page's address
 * (pageToken.ts) is kept the same way, for the tab only.
 */

export interface Credentials {
  username: string
  password: string
  /** The password is a browser token (pageToken.ts). */
  token?: boolean
}

const STORAGE_KEY = 'printwire.login'

export function storedCredentials (storage: Storage): Credentials | undefined {
  try {
    const value = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as Partial<Credentials> | null
    if (typeof value?.username === 'string' && typeof value.password === 'string') return { username: value.username, password: value.password, ...(value.token === true ? { token: true } : {}) }
  } catch {
    // A damaged entry is as good as none.
  }
  storage.removeItem(STORAGE_KEY)
  return undefined
}

export function storeCredentials (storage: Storage, credentials: Credentials | undefined): void {
  if (credentials === undefined) storage.removeItem(STORAGE_KEY)
  else storage.setItem(STORAGE_KEY, JSON.stringify(credentials))
}

/** What the log-in form says after the broker refused `credentials` (none: nothing, it is the first log-in). */
export function loginRefusalText (credentials: Credentials | undefined): string {
  if (credentials === undefined) return ''
  return credentials.token === true
    ? 'The broker refused this page\'s token: it has expired or is not valid. Open the page again from where you got it, or log in.'
    : 'The broker refused this user name and password.'
}

export interface LoginUi {
  section: HTMLElement
  form: HTMLFormElement
  reason: HTMLElement
  user: HTMLInputElement
  password: HTMLInputElement
  error: HTMLElement
  session: HTMLElement
  sessionUser: HTMLElement
  logout: HTMLButtonElement
}

export class LoginForm {
  private readonly ui: LoginUi
  private readonly onLogin: (credentials: Credentials) => void

  constructor (ui: LoginUi, handlers: { onLogin: (credentials: Credentials) => void, onLogout: () => void }) {
    this.ui = ui
    this.onLogin = handlers.onLogin
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault()
      this.submit()
    })
    ui.logout.addEventListener('click', () => handlers.onLogout())
  }

  /** Asks for a user name and password; `error` says why the last attempt failed. */
  ask (error: string): void {
    const { ui } = this
    ui.section.hidden = false
    ui.session.hidden = true
    ui.error.textContent = error
    ui.error.hidden = error === ''
    ui.password.value = ''
    if (error === '') ui.password.removeAttribute('aria-invalid')
    else ui.password.setAttribute('aria-invalid', 'true')
    ;(ui.user.value === '' ? ui.user : ui.password).focus()
  }

  /** Logged in (or anonymous, when `credentials` is undefined): hides the form. */
  loggedIn (credentials: Credentials | undefined): void {
    const { ui } = this
    ui.section.hidden = true
    ui.session.hidden = credentials === undefined
    ui.sessionUser.textContent = credentials === undefined ? '' : credentials.token === true ? 'Printing with a token' : `Logged in as ${credentials.username}`
  }

  private submit (): void {
    const { ui } = this
    const username = ui.user.value.trim()
    const password = ui.password.value
    if (username === '' || password === '') {
      ui.error.textContent = 'Enter a user name and a password.'
      ui.error.hidden = false
      ;(username === '' ? ui.user : ui.password).focus()
      return
    }
    ui.error.hidden = true
    this.onLogin({ username, password })
  }
}
