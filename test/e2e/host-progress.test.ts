/**
 * A slow lab host as a student meets it in Chromium: the lab page shows a progress
 * bar with the host's message over the terminal, then the shell's prompt; a failed
 * start shows the host's reason and a Retry button that brings the shell up.
 *
 * The portal runs in-process (buildApp) so the TEST BACKEND of
 * test/server/slow-start-host.ts can be registered for this file only: a real
 * LabHost whose start takes ~1 s with progress, then the local host's tmux shell.
 *
 * Set TRACELAB_SCREENSHOTS=DIR to keep the screenshots.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { buildApp, App } from '../../portal/server/app';
import { tempData, testConfig, cleanupData, FIXTURE_LABS } from '../server/harness';
import { BACKEND, registerSlowStartBackend } from '../server/slow-start-host';
import { waitScreen as waitFor } from '../helpers/screen';

const shots = process.env.TRACELAB_SCREENSHOTS;

let data: string;
let portal: App;
let base: string;
let browser: Browser;
let unregister: () => void;

before(async () => {
  unregister = registerSlowStartBackend();
  data = tempData();
  portal = buildApp(testConfig(data, { hostBackend: BACKEND, labsDir: FIXTURE_LABS }), { log: () => undefined });
  base = (await portal.listen()).url;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  unregister();
  await portal.close();
  cleanupData(data);
});

/** A fresh browser context logged in as `user`, on lab 00-hello. */
async function labPage(user: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${base}?token=${portal.issueLoginToken(user)}`);
  await page.goto(`${base}labs/00-hello`);
  return page;
}

const waitScreen = (page: Page, re: RegExp, what: string, ms = 20000) => waitFor(page, re, what, { ms });

async function shot(page: Page, name: string): Promise<void> {
  if (shots) await page.screenshot({ path: path.join(shots, name) });
}

test('while the host starts the page shows a progress bar with its message, then the prompt', async () => {
  const page = await labPage('slow-e2e');
  try {
    const overlay = page.locator('#term .host-start');
    await overlay.waitFor({ state: 'visible', timeout: 20000 });
    // The message the backend is at, with its percent, over the terminal.
    await page.locator('#term .host-start .msg', { hasText: /^\d+% — (creating the VM|booting|provisioning)$/ }).waitFor({ timeout: 20000 });
    assert.match(await overlay.locator('.title').innerText(), /Starting your lab host/);
    await page.locator('#term .host-start .msg', { hasText: '40% — booting' }).waitFor({ timeout: 20000 });
    const width = await overlay.locator('.fill').evaluate((el) => (el as HTMLElement).style.width);
    assert.ok(Number.parseFloat(width) >= 40, `the bar is filled to the percent (${width})`);
    await shot(page, 'host-progress-bar.png');

    await page.waitForSelector('#term-state.attached', { timeout: 20000 });
    await overlay.waitFor({ state: 'hidden' });
    await waitScreen(page, /tracelab/, 'the prompt');
    await page.locator('#term .xterm-helper-textarea').focus();
    await page.keyboard.type('echo hp-$((6*7))');
    await page.keyboard.press('Enter');
    await waitScreen(page, /^hp-42$/m, 'hp-42');
    await shot(page, 'host-progress-shell.png');
  } finally {
    await page.context().close();
  }
});

test('a failed start shows the host\'s reason and Retry; Retry brings up the shell', async () => {
  const page = await labPage('failing-e2e');
  try {
    const overlay = page.locator('#term .host-start.failed');
    await overlay.waitFor({ state: 'visible', timeout: 20000 });
    assert.match(await overlay.locator('.title').innerText(), /did not start/);
    assert.match(await overlay.locator('.msg').innerText(), /could not be found \(HOST_START_FAILED\)/);
    assert.match(await page.locator('#term-state').getAttribute('class') || '', /error/);
    await shot(page, 'host-progress-failed.png');
    // The page waits for the student: no reconnect loop re-running the start behind the message.
    await page.waitForTimeout(1500);
    assert.equal(await overlay.isVisible(), true);

    await overlay.locator('button.retry').click();
    await page.waitForSelector('#term-state.attached', { timeout: 20000 });
    await page.locator('#term .host-start').waitFor({ state: 'hidden' });
    await waitScreen(page, /tracelab/, 'the prompt after Retry');
  } finally {
    await page.context().close();
  }
});
