/**
 * Chromium for a browser test file: launched once before its tests, closed after them; each tab in a context of
 * its own, closed with the test's Cleanup, and every uncaught error in a tab fails the test it happened in (after
 * the test's parts are stopped). Call it once at the top of the file.
 */
import type { Browser, Page, ViewportSize } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { launchChromium } from '../../harness/browser.ts'
import type { Cleanup } from '../../harness/parts.ts'

export interface TabOptions {
  viewport?: ViewportSize
  /** Uncaught errors in the tab fail the test (true by default). */
  recordErrors?: boolean
}

export interface BrowserSuite {
  /** A new tab, nothing loaded yet. */
  tab(options?: TabOptions): Promise<Page>
  /** A new tab at `url`; `beforeOpen` runs on it before it loads. */
  open(url: string, options?: TabOptions & { beforeOpen?: (page: Page) => Promise<void> }): Promise<Page>
}

export function browserSuite (cleanup: Cleanup): BrowserSuite {
  let browser: Browser | undefined
  const pageErrors: string[] = []
  beforeAll(async () => { browser = await launchChromium() })
  afterEach(async () => {
    const errors = pageErrors.splice(0)
    await cleanup.closeAll()
    expect(errors, 'uncaught errors in the page').toEqual([])
  })
  afterAll(async () => { await browser?.close() })
  const tab = async ({ viewport = { width: 1280, height: 800 }, recordErrors = true }: TabOptions = {}): Promise<Page> => {
    if (browser === undefined) throw new Error('the browser did not start')
    const context = await browser.newContext({ viewport })
    cleanup.defer(() => context.close())
    const page = await context.newPage()
    if (recordErrors) page.on('pageerror', (error) => pageErrors.push(error.message))
    return page
  }
  return {
    tab,
    open: async (url, { beforeOpen, ...options } = {}) => {
      const page = await tab(options)
      await beforeOpen?.(page)
      await page.goto(url)
      return page
    }
  }
}
