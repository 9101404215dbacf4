/**
 * The student's shell dies, three ways, in a real `tracelab serve` seen through Chromium:
 * `exit` typed in it, `kill -9` of its bash from outside, `kill -9` of the tmux server
 * that holds every session. Each time the page must say so (a notice over the terminal,
 * with why where the server can tell), its "Start a new shell" button must open a fresh
 * shell in the same workspace that runs what is typed next, and the portal must go on
 * serving everything else.
 *
 * Set TRACELAB_SCREENSHOTS=DIR to keep the screenshot of the notice (else it goes to a
 * temp dir, removed afterwards).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { FIXTURE_LABS, tempData, cleanupData } from '../server/harness';
import { freePort } from '../../src/check/proc';
import { launchChromium } from '../helpers/chromium';
import { startServe, stopServe, Serve } from '../helpers/portal';
import { screenText, waitScreen as waitFor } from '../helpers/screen';

let data: string;
let portal: Serve | null = null;
let browser: Browser;
let page: Page;
let shots: string;
const keepShots = !!process.env.TRACELAB_SCREENSHOTS;
const pageErrors: string[] = [];

const tmux = (...args: string[]) => spawnSync('tmux', ['-S', path.join(data, 'tmux.sock'), ...args], { encoding: 'utf8' });

/** The pid of the student's bash (the pane's process in session tl-self), or null when there is no shell. */
function shellPid(): number | null {
  const r = tmux('list-panes', '-a', '-F', '#{session_name} #{pane_dead} #{pane_pid}');
  const mine = r.stdout.split('\n').filter((l) => l.startsWith('tl-self 0 '));
  const pids = [...new Set(mine.map((l) => Number(l.split(' ')[2])))];
  assert.ok(pids.length <= 1, `one student, one shell: ${r.stdout}`);
  return pids.length ? pids[0] : null;
}

function tmuxServerPid(): number {
  const r = tmux('display-message', '-p', '#{pid}');
  assert.equal(r.status, 0, `tmux server answers: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const screen = () => screenText(page);
const waitScreen = (re: RegExp, what: string, ms = 20000) => waitFor(page, re, what, { ms });

async function typeCommand(cmd: string): Promise<void> {
  await page.locator('#term .xterm-helper-textarea').focus();
  await page.keyboard.type(cmd);
  await page.keyboard.press('Enter');
}

/** A shell is attached and answers: a computed value comes back on the screen. */
async function shellAnswers(a: number, b: number): Promise<void> {
  await page.waitForSelector('#term-state.attached', { timeout: 20000 });
  await waitScreen(/tracelab/, 'the prompt');
  await typeCommand(`echo fresh-$((${a}*${b}))`);
  await waitScreen(new RegExp(`fresh-${a * b}`), `fresh-${a * b}`);
}

/** The notice is up: its text, and the reason the page was given. */
async function notice(): Promise<{ text: string; why: string; reason: string }> {
  const el = page.locator('#term .shell-ended');
  await el.waitFor({ state: 'visible', timeout: 20000 });
  const text = await el.innerText();
  const why = await el.locator('.why').innerText();
  const reason = (await el.getAttribute('data-reason')) || '';
  assert.match(text, /Your shell ended/);
  assert.match(text, /Start a new shell/);
  assert.equal(await page.locator('#term-state').getAttribute('class'), 'term-state ended', 'the header says the shell ended');
  return { text, why, reason };
}

/** Press the button; the notice goes, a shell is attached again. */
async function startNewShell(): Promise<void> {
  await page.getByRole('button', { name: 'Start a new shell' }).click();
  await page.locator('#term .shell-ended').waitFor({ state: 'hidden', timeout: 20000 });
}

/** The rest of the portal is unharmed: the lab list, a lab's JSON, the process itself. */
async function portalServes(): Promise<void> {
  const r = await page.evaluate(async () => {
    const list = await fetch('/api/labs', { credentials: 'same-origin' });
    const lab = await fetch('/api/labs/00-hello', { credentials: 'same-origin' });
    const home = await fetch('/', { credentials: 'same-origin' });
    return [list.status, lab.status, home.status, (await list.json()).labs.length];
  });
  assert.deepEqual(r.slice(0, 3), [200, 200, 200], 'the portal still serves its pages');
  assert.ok((r[3] as number) >= 2, 'with the labs in them');
  assert.equal(portal!.child.exitCode, null, 'tracelab serve is still running');
}

before(async () => {
  data = tempData();
  shots = keepShots ? process.env.TRACELAB_SCREENSHOTS! : fs.mkdtempSync(path.join(os.tmpdir(), 'tl-shots-'));
  fs.mkdirSync(shots, { recursive: true });
  portal = await startServe({ port: await freePort(), data, labs: FIXTURE_LABS });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(portal.url);
  await page.goto(new URL('/labs/00-hello', portal.url).href);
  await page.waitForSelector('#term-state.attached', { timeout: 20000 });
  await waitScreen(/tracelab/, 'the first prompt');
});

after(async () => {
  await browser?.close();
  const p = portal;
  portal = null;
  await stopServe(p);
  cleanupData(data);
  if (!keepShots) fs.rmSync(shots, { recursive: true, force: true });
});

test('`exit` typed in the shell: the page says the shell exited; the button opens a fresh one', { timeout: 90_000 }, async () => {
  const before = shellPid();
  await typeCommand('export MARK=old-shell; exit');
  const n = await notice();
  console.log(`exit typed: "${n.why}" (reason ${n.reason})`);
  // The client attach mode sees bash's own "exit" line (exit); control mode only a closed pane (ended).
  assert.ok(['exit', 'ended'].includes(n.reason), `a shell that exited is never said to be anything else: ${n.reason}`);
  // The page does not open a shell by itself: nothing runs until the student asks.
  await page.waitForTimeout(1000);
  assert.equal(shellPid(), null, 'no shell was started behind the notice');
  await startNewShell();
  await shellAnswers(6, 7);
  assert.notEqual(shellPid(), before, 'a new bash');
  // A fresh shell: what the old one had set is gone, and it starts in the workspace.
  await typeCommand('echo "mark=[${MARK:-none}] dir=$(basename $PWD)"');
  await waitScreen(/mark=\[none\] dir=self/, 'a fresh shell in the workspace');
  await portalServes();
});

test('kill -9 of the shell\'s bash from outside: the page says the shell ended; the button opens a fresh one', { timeout: 90_000 }, async () => {
  const pid = shellPid();
  assert.ok(pid, 'a shell to kill');
  process.kill(pid!, 'SIGKILL');
  const n = await notice();
  console.log(`bash killed: "${n.why}" (reason ${n.reason})`);
  assert.equal(n.reason, 'ended', 'a killed shell is not said to have exited by itself');
  await startNewShell();
  await shellAnswers(7, 8);
  assert.notEqual(shellPid(), pid, 'a new bash');
  await portalServes();
});

test('kill -9 of the tmux server: the page says the session was killed; the button starts a new one', { timeout: 90_000 }, async () => {
  const server = tmuxServerPid();
  process.kill(server, 'SIGKILL');
  const n = await notice();
  console.log(`tmux server killed: "${n.why}" (reason ${n.reason})`);
  // The client attach mode hears tmux's "[server exited unexpectedly]"; control mode only loses its client.
  assert.ok(['session-killed', 'lost'].includes(n.reason), `reason ${n.reason}`);
  assert.match(n.text, n.reason === 'session-killed' ? /terminal session was killed/ : /connection to your terminal session \(tmux\) was lost/);
  const shot = path.join(shots, 'shell-ended.png');
  await page.screenshot({ path: shot });
  console.log(`screenshot of the notice: ${shot}`);
  await startNewShell();
  await shellAnswers(8, 9);
  assert.notEqual(tmuxServerPid(), server, 'a new tmux server');
  await portalServes();
});

test('after the shell ends, any key opens a fresh shell too (and is not typed into it)', { timeout: 90_000 }, async () => {
  await typeCommand('exit');
  await notice();
  await page.locator('#term .xterm-helper-textarea').focus();
  await page.keyboard.press('q');
  await page.locator('#term .shell-ended').waitFor({ state: 'hidden', timeout: 20000 });
  await shellAnswers(9, 9);
  assert.doesNotMatch(await screen(), /q: command not found/);
  assert.deepEqual(pageErrors, [], 'no errors in the page');
  assert.doesNotMatch(portal!.err(), /\n\s+at .+:\d+:\d+/, 'no stack trace from the portal');
});
