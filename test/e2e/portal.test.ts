/**
 * The portal as a user meets it: `tracelab serve` as a real child process, Debian's
 * Chromium driven by playwright-core, the local host's tmux and bash.
 *
 * Set TRACELAB_SCREENSHOTS=DIR to keep screenshots of the lab list and a lab page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { FIXTURE_LABS, tempData, cleanupData } from '../server/harness';
import { freePort } from '../../src/check/proc';
import { launchChromium } from '../helpers/chromium';
import { startServe, stopServe, Serve } from '../helpers/portal';
import { screenText, waitScreen as waitFor } from '../helpers/screen';

const shots = process.env.TRACELAB_SCREENSHOTS;

let data: string;
let port: number;
let portal: Serve | null = null;
let browser: Browser;
let page: Page;

/** Start `tracelab serve` on the fixture labs and resolve the login URL it prints. */
async function startPortal(): Promise<string> {
  portal = await startServe({ port, data, labs: FIXTURE_LABS });
  return portal.url;
}

function stopPortal(): Promise<void> {
  const s = portal;
  portal = null;
  return stopServe(s);
}

/** The terminal's visible text, as rendered in the page. */
const screen = () => screenText(page);
const waitScreen = (re: RegExp, what: string, ms = 15000) => waitFor(page, re, what, { ms });

async function waitConnected(): Promise<void> {
  await page.waitForSelector('#term-state.attached', { timeout: 20000 });
}

async function typeCommand(cmd: string): Promise<void> {
  await page.locator('#term .xterm-helper-textarea').focus();
  await page.keyboard.type(cmd);
  await page.keyboard.press('Enter');
}

before(async () => {
  data = tempData();
  port = await freePort();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await stopPortal();
  cleanupData(data);
});

test('log in with the printed token, see the lab list, open a lab', async () => {
  const url = await startPortal();
  await page.goto(url);
  assert.equal(new URL(page.url()).search, '', 'the token leaves the URL');
  await page.waitForSelector('a.card[data-lab="00-hello"]');
  assert.deepEqual(await page.locator('a.card').evaluateAll((els) => els.map((e) => e.getAttribute('data-lab'))), ['00-hello', '01-second']);
  if (shots) await page.screenshot({ path: path.join(shots, 'lab-list.png') });
  await page.click('a.card[data-lab="00-hello"]');
  await page.waitForSelector('#step h1');
  assert.equal(await page.locator('#title').innerText(), 'Hello, terminal');
  assert.equal(await page.locator('#track').innerText(), 'linux');
  // Track blocks: the Linux ones show, the illumos ones are not in the page at all.
  assert.match(await page.locator('#step').innerText(), /only-on-linux/);
  assert.doesNotMatch(await page.locator('#step').innerHTML(), /only-on-illumos/);
  await waitConnected();
});

test('typing in the terminal: echo tl-$((6*7)) shows tl-42', async () => {
  await typeCommand('echo tl-$((6*7))');
  await waitScreen(/^tl-42$/m, 'tl-42');
});

test('a Run button types its block into the terminal', async () => {
  await page.locator('#step .runnable button.run').first().click();
  await waitScreen(/^run-42$/m, 'run-42');
  if (shots) await page.screenshot({ path: path.join(shots, 'lab-page.png') });
});

test('an artifact opens beside the terminal: a message before it exists, the file after', async () => {
  const show = page.locator('#step button.artifact[data-artifact="hello.svg"]');
  await show.click();
  await page.waitForSelector('#artifact-msg:not([hidden])');
  assert.match(await page.locator('#artifact-msg').innerText(), /not there yet/);
  // The Run button on the block that writes out/hello.svg.
  await page.locator('#step .runnable', { hasText: 'hello.svg' }).locator('button.run').click();
  const file = path.join(data, 'workspaces', 'self', '00-hello', 'out', 'hello.svg');
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await page.waitForTimeout(100);
  await show.click();
  // The frame has an opaque origin (sandbox): read it through the browser, as the user sees it.
  let shown = '';
  for (let i = 0; i < 100 && !shown.includes('fixture-svg'); i++) {
    const f = page.frames().find((fr) => fr.url().includes('/artifacts/hello.svg'));
    shown = f ? await f.content().catch(() => '') : '';
    if (!shown.includes('fixture-svg')) await page.waitForTimeout(100);
  }
  assert.match(shown, /fixture-svg/, `file made: ${fs.existsSync(file)}; frames: ${page.frames().map((f) => f.url()).join(' ')}; screen: ${await screen()}`);
  assert.equal(await page.locator('#artifact-frame').isVisible(), true);
  assert.equal(await page.locator('#artifact-frame').getAttribute('sandbox'), 'allow-scripts');
  await page.click('#artifact-close');
  assert.equal(await page.locator('#artifact').isHidden(), true);
});

test('resizing the window resizes the terminal', async () => {
  await typeCommand('stty size');
  await waitScreen(/^[0-9]+ [0-9]+$/m, 'stty size');
  const before = /^([0-9]+) ([0-9]+)$/m.exec(await screen())!;
  await page.setViewportSize({ width: 1000, height: 600 });
  await typeCommand('clear; stty size');
  let after: RegExpExecArray | null = null;
  for (let i = 0; i < 50; i++) {
    after = /^([0-9]+) ([0-9]+)$/m.exec(await screen());
    if (after && after[0] !== before[0]) break;
    await page.waitForTimeout(100);
  }
  assert.ok(after, 'stty size printed after the resize');
  assert.ok(Number(after![1]) < Number(before[1]), `rows ${before[1]} -> ${after![1]}`);
  assert.ok(Number(after![2]) < Number(before[2]), `cols ${before[2]} -> ${after![2]}`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await typeCommand('clear');
});

test('Check shows what `tracelab check` said; a question step takes an answer', async () => {
  await page.click('#check');
  await page.waitForSelector('#results-slot .results:not(.pending)', { timeout: 200000 });
  // The fixture lab has no checker: the page must show that as an error, in the checker's words.
  assert.equal(await page.locator('#results-slot .results').getAttribute('data-outcome'), 'error');
  assert.match(await page.locator('#results-slot .results').innerText(), /could not run|cannot run/);
  assert.equal(await page.locator('#check').isEnabled(), true);
  await page.click('#stepnav .pill:nth-child(2)');
  await page.waitForSelector('#question-slot form.question');
  assert.match(await page.locator('#question-slot label').innerText(), /6 times 7/);
  await page.fill('#question-slot input', '42');
  await page.click('#question-slot button[type=submit]');
  await page.waitForSelector('#question-slot .answer-out.good, #question-slot .answer-out.bad');
  assert.notEqual((await page.locator('#question-slot .answer-out').innerText()).trim(), '');
  await page.click('#stepnav .pill:nth-child(1)');
});

test('a reload keeps the earlier output on screen', async () => {
  await typeCommand('echo kept-$((6*7))');
  await waitScreen(/^kept-42$/m, 'kept-42');
  await page.reload();
  await waitConnected();
  await waitScreen(/^kept-42$/m, 'kept-42 after reload');
});

test('a portal restart re-attaches to the same shell', async () => {
  await typeCommand('export TL_E2E=same-$((5*5)); echo set-$TL_E2E');
  await waitScreen(/^set-same-25$/m, 'variable set');
  await stopPortal();
  await page.waitForSelector('#term-state.reconnecting', { timeout: 10000 });
  const t0 = Date.now();
  await startPortal(); // same port, same data dir; no new login: the session is in SQLite
  await waitConnected();
  console.log(`# re-attached ${Date.now() - t0} ms after the portal was started again`);
  await typeCommand('echo again-$TL_E2E');
  await waitScreen(/^again-same-25$/m, 'the same shell after restart');
});

/**
 * From now on the page notes (wall clock) when Ctrl-C reaches it as a keydown and when
 * the terminal's last non-empty row first reads as a bare prompt. A MutationObserver
 * sees the frame that drew it, so the time is not rounded up to a polling period.
 */
async function watchForPrompt(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { tlPrompt: { key: number; prompt: number } };
    w.tlPrompt = { key: 0, prompt: 0 };
    const rows = document.querySelector('#term .xterm-rows')!;
    const PROMPT = /^tracelab \S+#$/;
    const check = () => {
      if (w.tlPrompt.prompt) return;
      for (let el = rows.lastElementChild; el; el = el.previousElementSibling) {
        const t = (el.textContent || '').replace(/\u00a0/g, ' ').trim();
        if (!t) continue;
        if (PROMPT.test(t)) w.tlPrompt.prompt = Date.now();
        return;
      }
    };
    const mo = new MutationObserver(() => {
      check();
      if (w.tlPrompt.prompt) mo.disconnect();
    });
    mo.observe(rows, { childList: true, subtree: true, characterData: true });
    document.addEventListener('keydown', (e) => {
      if (e.ctrlKey && e.key.toLowerCase() === 'c' && !w.tlPrompt.key) w.tlPrompt.key = Date.now();
    }, { capture: true });
  });
}

/** page.evaluate round trips (ms) every ~100 ms for `ms`: how long the page takes to answer while it draws. */
async function evalTimes(ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const e0 = Date.now();
    await page.evaluate(() => 1);
    times.push(Date.now() - e0);
    await new Promise((r) => setTimeout(r, 100));
  }
  return times;
}

test('keystrokes typed during an output burst reach the shell', async () => {
  // Typed while seq floods the screen: the tty holds the line until seq ends, then bash runs it.
  // A burst of a known length (timeout stops seq after 8 s), so "during" is certain even
  // when typing the command itself is slow (4 s was not always enough on a loaded machine).
  const t0 = Date.now();
  await typeCommand(`clear; timeout 8 seq 1 999999999; printf '\\nburst-over-%s\\n' $?`);
  await waitScreen(/^[0-9]{5,}$/m, 'seq output');
  await typeCommand('echo "typed-$((6*7))-during"');
  const typedMs = Date.now() - t0;
  assert.ok(typedMs < 8000, `the keys were typed while the burst was on (${typedMs} ms after it started)`);
  const shown = await waitScreen(/^typed-42-during$/m, 'the command typed during the burst, run after it', 60000);
  // The burst ran to its end (timeout's 124) before the typed line ran: nothing was lost on the way.
  assert.match(shown, /^burst-over-124$/m, 'the burst ended first');
});

test('seq 1 3000000 keeps the page responsive and Ctrl-C stops it within a second', async () => {
  await typeCommand('clear; seq 1 3000000');
  await waitScreen(/^[0-9]{5,}$/m, 'seq output');
  // While the burst is streaming the page must answer.
  const evals = await evalTimes(1000);
  const evalMax = Math.max(...evals);
  assert.ok(!/^3000000$/m.test(await screen()), 'the burst was still running when Ctrl-C was pressed');
  await watchForPrompt();
  const t0 = Date.now();
  await page.keyboard.press('Control+C');
  await page.waitForFunction(() => (window as unknown as { tlPrompt: { prompt: number } }).tlPrompt.prompt > 0, undefined, { timeout: 20000, polling: 50 });
  const { key, prompt } = await page.evaluate(() => (window as unknown as { tlPrompt: { key: number; prompt: number } }).tlPrompt);
  const stopMs = prompt - t0;
  // Keystrokes still arrive, and bash saw seq die of SIGINT (130), not finish (0).
  await typeCommand('echo rc=$?');
  await waitScreen(/^rc=[0-9]+$/m, 'the exit status');
  const rc = /^rc=([0-9]+)$/m.exec(await screen())![1];
  console.log(`# seq 1 3000000: page.evaluate round trips during the burst max ${evalMax} ms (${evals.join(' ')}); Ctrl-C to prompt on screen ${stopMs} ms (key reached the page after ${key - t0} ms); seq exit status ${rc}`);
  assert.equal(rc, '130', 'Ctrl-C interrupted seq');
  assert.ok(evalMax < 500, `the page answered within 500 ms while drawing the burst (slowest ${evalMax} ms)`);
  assert.ok(stopMs < 1000, `the prompt was back on screen ${stopMs} ms after Ctrl-C (issue 2: within a second)`);
});
