/**
 * The browser terminal as a user sees it: the text xterm.js rendered into the page, and
 * a wait for it to show something (polled, because a frame draws when it draws).
 */
import type { Page } from 'playwright-core';

/** The visible rows of the terminal under `sel` (the lab page's is #term). */
export function screenText(page: Page, sel = '#term'): Promise<string> {
  return page.locator(`${sel} .xterm-rows`).innerText();
}

/** Resolve with the screen once `re` matches it; fail after `ms` showing what was there. */
export async function waitScreen(page: Page, re: RegExp, what: string, opts: { sel?: string; ms?: number } = {}): Promise<string> {
  const end = Date.now() + (opts.ms ?? 20000);
  let last = '';
  while (Date.now() < end) {
    last = await screenText(page, opts.sel).catch(() => '');
    if (re.test(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what} (${re}); the screen shows:\n${last}`);
}
