/**
 * Debian's Chromium as every browser test launches it (the flags from the project's
 * conventions). Never `npx playwright install`: /usr/bin/chromium is the browser.
 */
import { chromium, Browser, BrowserContext } from 'playwright-core';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** playwright-core gives the browser a fresh temporary profile itself (it refuses --user-data-dir in launch()). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A fresh profile in `profileDir` (launchPersistentContext is playwright's way to pass --user-data-dir). */
export function launchChromiumProfile(profileDir: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport });
}
