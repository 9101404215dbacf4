// The ssh backend inside the real portal, seen in Debian's Chromium: a student's
// terminal whose shell is a tmux session on a host reached over ssh (the loopback
// sshd of test/hosts/sshd-fixture.ts), and a page that never carries the portal's key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../../portal/server/app';
import { FIXTURE_LABS, tempData, cleanupData, testConfig } from '../server/harness';
import { startSshd, sshdAvailable, Sshd, killRemoteTmux } from './sshd-fixture';
import { waitScreen as waitFor } from '../helpers/screen';

const CHROMIUM = '/usr/bin/chromium';
const skip = sshdAvailable() ?? (fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing`);
const SOCKET = `tracelab-ptest-${process.pid}`;
let sshd: Sshd;
let data: string;
let work: string;
let portal: ReturnType<typeof buildApp>;
let base: string;
let browser: BrowserContext;
let page: Page;

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  data = tempData();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-sshportal-'));
  // The portal trusts exactly the test server's key.
  fs.copyFileSync(sshd.knownHosts, path.join(data, 'known_hosts'));
  portal = buildApp(testConfig(data, { hostBackend: 'ssh', inventory: sshd.inventory }));
  portal.hosts.backendOf = () => ({
    kind: 'ssh',
    extra: { inventory: sshd.inventory, workspace: path.join(work, 'ws'), labsSource: FIXTURE_LABS, stateDir: path.join(work, 'state'), tmuxSocket: SOCKET },
  });
  base = (await portal.listen()).url;
  // a fresh profile in the test's temp dir
  browser = await chromium.launchPersistentContext(path.join(work, 'chromium'), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 800 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await portal?.close();
  killRemoteTmux(SOCKET);
  await sshd.stop();
  cleanupData(data);
  fs.rmSync(work, { recursive: true, force: true });
});

const waitScreen = (re: RegExp, what: string, ms = 30_000) => waitFor(page, re, what, { ms });

test('in Chromium: the lab page\'s terminal is a tmux shell on the ssh host; the page holds no key', { skip: skip ?? false }, async () => {
  await page.goto(`${base}?token=${encodeURIComponent(portal.issueLoginToken())}`);
  await page.waitForSelector('a.card[data-lab="00-hello"]');
  await page.click('a.card[data-lab="00-hello"]');
  await page.waitForSelector('#term-state.attached', { timeout: 60_000 });
  await page.locator('#term .xterm-helper-textarea').focus();
  // SSH_CONNECTION is set by sshd: proof the shell came in over ssh, to this server's port.
  await page.keyboard.type('echo "via-ssh:${SSH_CONNECTION##* }:$TMUX:$((6*7))"');
  await page.keyboard.press('Enter');
  const screen = await waitScreen(new RegExp(`via-ssh:${sshd.port}:\\S*${SOCKET}\\S*:42`), 'the ssh shell to answer');
  assert.match(screen, /via-ssh/);
  assert.equal(fs.existsSync(path.join(work, 'ws', '00-hello', 'lab.json')), true, 'workspace copied on the host');
  if (process.env.TRACELAB_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.TRACELAB_SCREENSHOTS, 'ssh-terminal.png') });
  // Nothing the browser got names or holds the key.
  const html = await page.content();
  assert.doesNotMatch(html, /client_key|PRIVATE KEY|IdentityFile/);
  const key = fs.readFileSync(path.join(sshd.dir, 'client_key'), 'utf8').split('\n')[1];
  assert.ok(!html.includes(key));
  const stored = JSON.stringify((await portal.hosts.get('self')).getState());
  assert.doesNotMatch(stored, /client_key|PRIVATE KEY|inventory/);
});
