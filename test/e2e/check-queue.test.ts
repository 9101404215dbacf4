/**
 * The check queue as a student meets it, in Chromium: with the only slot taken, Check
 * says "Queued: position 1 of 1"; a reload while queued waits for the same check again;
 * when the slot frees the result appears, stored once. The portal runs in-process
 * (buildApp) so the test can hold the slot.
 *
 * Set TRACELAB_SCREENSHOTS=DIR to keep a screenshot of the queued page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { buildApp, App } from '../../portal/server/app';
import { tempData, testConfig, cleanupData } from '../server/harness';
import { launchChromium } from '../helpers/chromium';

let data: string;
let portal: App;
let url: string;
let browser: Browser;
let page: Page;

before(async () => {
  data = tempData();
  portal = buildApp(testConfig(data, { checkConcurrency: 1 }), { log: () => undefined });
  url = (await portal.listen()).url;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

after(async () => {
  await browser?.close();
  await portal?.close();
  cleanupData(data);
});

test('Check while the only slot is taken: queued with its position, a reload rejoins, then the result', async () => {
  let open!: () => void;
  const held = new Promise<void>((r) => (open = r));
  const hold = portal.checks.submit('someone-else', '00-hello', async () => {
    await held;
    return { ok: true, lab: '00-hello', exitCode: 0, checkedAt: Date.now() };
  }).promise;
  try {
    await page.goto(`${url}?token=${portal.issueLoginToken('ann')}`);
    await page.goto(new URL('/labs/00-hello', url).href);
    await page.waitForSelector('#term-state.attached', { timeout: 20000 });
    await page.click('#check');
    const pending = page.locator('#results-slot .results.pending');
    await pending.filter({ hasText: 'Queued: position 1 of 1' }).waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#check').isDisabled(), true);
    if (process.env.TRACELAB_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.TRACELAB_SCREENSHOTS, 'check-queued.png') });
    // A reload while queued: the page finds the check in flight and waits for it again.
    await page.reload();
    await pending.filter({ hasText: 'Queued: position 1 of 1' }).waitFor({ timeout: 10000 });
    open();
    await hold;
    await page.waitForSelector('#results-slot .results:not(.pending)', { timeout: 60000 });
    // The fixture lab has no checker: the page says the check cannot run here.
    assert.match(await page.locator('#results-slot .results').innerText(), /cannot run/);
    assert.equal(await page.locator('#check').isEnabled(), true);
    const rows = portal.store.db.prepare("SELECT COUNT(*) AS n FROM check_results WHERE user = 'ann'").get() as { n: number };
    assert.equal(rows.n, 1, 'one check for the click and the reload');
  } finally {
    open();
  }
});
