/**
 * The terminal as a student meets it, in Debian's Chromium (headless, same flags for
 * both): keystroke-to-screen latency, output throughput, and time from opening the
 * page to a usable prompt — tracelab's lab page vs wetty 3.2.0 with each renderer
 * that works here. Both terminals get the same font and the same cols x rows.
 */
import { attachMode, AttachMode } from '../../portal/hosts/local';
import { chromium, Browser, BrowserContext, Page } from 'playwright-core';
import { DEFAULT_LABS_ROOT, listLabs } from '../../src/labs';
import { ensurePeers, startWetty, Wetty } from './lib/peers';
import { startPortal, Portal } from './lib/portal';
import { PROBE } from './lib/probe';
import { summarize, table } from './lib/stats';
import { atLeast, below, report } from './lib/summary';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const KEYS = 240;
const CHARS = 'qwzxjvy';
const BASE64_BYTES = 5300000;
const PRODUCED = Math.ceil(BASE64_BYTES / 3) * 4 + Math.ceil(BASE64_BYTES / 57);
const FONT = '"DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", monospace';

interface Result {
  name: string;
  renderer: string;
  size: string;
  lat: ReturnType<typeof summarize>;
  /** keydown → the WebSocket message with the echo arrived in the page. */
  data: ReturnType<typeof summarize>;
  mbps: number;
  secs: number;
}

async function focusTerm(page: Page): Promise<void> {
  await page.locator('.xterm-helper-textarea').focus();
}

async function rendererOf(page: Page): Promise<string> {
  return page.evaluate(() => {
    const c = document.querySelector('.xterm-screen canvas') as HTMLCanvasElement | null;
    if (!c) return 'dom';
    return 'webgl';
  });
}

/** KEYS keys, one at a time: time from keydown to the render showing it; each is rubbed out again (untimed). */
async function keystrokes(page: Page): Promise<{ render: number[]; data: number[] }> {
  await focusTerm(page);
  await page.evaluate(() => (window as any).__bench.watch());
  const render: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const ch = CHARS[i % CHARS.length];
    const wait = page.evaluate((c) => (window as any).__bench.until(() => (window as any).__bench.cursorRow().endsWith(c), true, 10000, c), ch);
    // The probe arms itself synchronously inside evaluate; give that call a head start before the key.
    await page.evaluate(() => 0);
    await page.keyboard.press(ch);
    const [r, d] = (await wait) as [number, number];
    render.push(r);
    if (Number.isFinite(d)) data.push(d);
    const gone = page.evaluate((c) => (window as any).__bench.until(() => !(window as any).__bench.cursorRow().endsWith(c), true, 10000), ch);
    await page.evaluate(() => 0);
    await page.keyboard.press('Backspace');
    await gone;
  }
  return { render, data };
}

async function output(page: Page): Promise<{ mbps: number; secs: number }> {
  await focusTerm(page);
  await page.keyboard.type('clear; head -c 1000 /dev/urandom | base64 >/dev/null; echo WAR$((1+1))M');
  let w = page.evaluate(() => (window as any).__bench.until(() => /WAR2M/.test((window as any).__bench.screen()), false, 20000));
  await page.keyboard.press('Enter');
  await w;
  await page.keyboard.type(`clear; head -c ${BASE64_BYTES} /dev/urandom | base64; echo SENT$((1+1))INEL`);
  w = page.evaluate(() => (window as any).__bench.until(() => /SENT2INEL/.test((window as any).__bench.screen()), true, 180000));
  await page.evaluate(() => 0);
  await page.keyboard.press('Enter');
  const ms = ((await w) as number[])[0];
  return { mbps: PRODUCED / 1e6 / (ms / 1000), secs: ms / 1000 };
}

/** Wait until the screen shows a prompt matching `re`; the ms since `t0` (Date.now()). */
async function promptAfter(page: Page, re: RegExp, t0: number): Promise<number> {
  const end = Date.now() + 30000;
  while (Date.now() < end) {
    const text = await page.evaluate(() => (window as any).__bench?.screen() ?? '').catch(() => '');
    if (re.test(text)) return Date.now() - t0;
    await page.waitForTimeout(10);
  }
  throw new Error(`bench: no prompt ${re} on screen within 30 s`);
}

async function newPage(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  await page.addInitScript(PROBE);
  // Expected where WebGL is taken away on purpose (wetty's addon throws, xterm keeps the DOM renderer).
  page.on('pageerror', (e) => /WebGL2 not supported/.test(e.message) || console.error('page error:', e.message));
  return page;
}

/** tmux control mode (one client for all terminals) and a tmux client per terminal; the default first. */
const ATTACH_MODES: AttachMode[] = attachMode() === 'control' ? ['control', 'client'] : ['client', 'control'];

export async function run(): Promise<void> {
  const why = ensurePeers();
  const labs = listLabs(DEFAULT_LABS_ROOT);
  if (!labs.length) throw new Error('bench: no labs to open');
  const lab = labs[0].id;
  let browser: Browser | null = null;
  let portal: Portal | null = null;
  let wetty: Wetty | null = null;
  const results: Result[] = [];
  const starts: (string | number)[][] = [['open page → usable prompt', 'ms']];
  let size = { cols: 80, rows: 24 };
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }); // playwright gives it a fresh temp profile
    // --- ours, both ways of reaching tmux (the default first): the lab page, a student who has never opened a terminal
    for (const mode of ATTACH_MODES) {
      const saved = process.env.TRACELAB_TMUX_ATTACH;
      process.env.TRACELAB_TMUX_ATTACH = mode;
      const tag = mode === ATTACH_MODES[0] ? '' : ` (tmux ${mode})`;
      try {
        portal = await startPortal(DEFAULT_LABS_ROOT);
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await newPage(ctx);
        page.on('websocket', (ws) => {
          const u = new URL(ws.url());
          if (u.pathname === '/api/terminal') size = { cols: Number(u.searchParams.get('cols')), rows: Number(u.searchParams.get('rows')) };
        });
        await page.goto(await portal.loginUrl('bench-browser'));
        let t0 = Date.now();
        await page.goto(`${portal.url}labs/${lab}`);
        const first = await promptAfter(page, /tracelab \S+[#$]/, t0);
        starts.push([`tracelab${tag} lab page, first shell (host start + tmux session)`, first]);
        t0 = Date.now();
        await page.reload();
        const again = await promptAfter(page, /tracelab \S+[#$]/, t0);
        starts.push([`tracelab${tag} lab page, reload (re-attach to tmux)`, again]);
        const k = await keystrokes(page);
        const tp = await output(page);
        results.push({ name: `tracelab${tag}`, renderer: await rendererOf(page), size: `${size.cols}x${size.rows}`, lat: summarize(k.render), data: summarize(k.data), ...tp });
        await ctx.close();
      } finally {
        await portal?.stop();
        portal = null;
        if (saved === undefined) delete process.env.TRACELAB_TMUX_ATTACH;
        else process.env.TRACELAB_TMUX_ATTACH = saved;
      }
    }
    // --- wetty, each renderer that works here
    if (why) starts.push([`wetty: not run (${why})`, NaN]);
    else {
      wetty = await startWetty();
      for (const want of ['webgl', 'dom']) {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        // Same font as ours; fit off so we can give it our exact cols x rows.
        await ctx.addInitScript((o) => localStorage.setItem('options', o), JSON.stringify({ xterm: { fontSize: 14, lineHeight: 1.15, fontFamily: FONT }, wettyVoid: 0, wettyFitTerminal: false }));
        // wetty loads the WebGL addon whenever it can; taking WebGL away leaves xterm's DOM renderer.
        if (want === 'dom') await ctx.addInitScript(() => {
          const orig = HTMLCanvasElement.prototype.getContext;
          (HTMLCanvasElement.prototype as any).getContext = function (this: HTMLCanvasElement, kind: string, ...rest: unknown[]) {
            return /webgl/.test(kind) ? null : (orig as any).call(this, kind, ...rest);
          };
        });
        const page = await newPage(ctx);
        const t0 = Date.now();
        await page.goto(wetty.url);
        const ms = await promptAfter(page, /^(\$|bash-[0-9.]+#)\s*$/m, t0);
        const got = await rendererOf(page);
        starts.push([`wetty (${got}), new shell`, ms]);
        await page.evaluate(({ cols, rows }) => (window as any).wetty_term.resize(cols, rows), size);
        const k = await keystrokes(page);
        const tp = await output(page);
        results.push({ name: 'wetty 3.2.0', renderer: got, size: await page.evaluate(() => `${(window as any).wetty_term.cols}x${(window as any).wetty_term.rows}`), lat: summarize(k.render), data: summarize(k.data), ...tp });
        await ctx.close();
        if (got !== want) starts.push([`wetty: asked for ${want}, got ${got}`, NaN]);
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await wetty?.stop();
  }

  console.log(`Chromium ${CHROMIUM_ARGS.join(' ')}; viewport 1280x800; ${KEYS} keys each (keydown → render showing the echo); ~${(PRODUCED / 1e6).toFixed(2)} MB of base64 (Enter → sentinel rendered).`);
  table([
    ['browser terminal', 'renderer', 'size', 'key→screen p50 ms', 'p95', 'p99', 'max', 'key→data p50 ms', 'p99', 'base64 MB/s', 'secs'],
    ...results.map((r) => [r.name, r.renderer, r.size, r.lat.p50, r.lat.p95, r.lat.p99, r.lat.max, r.data.p50, r.data.p99, r.mbps, r.secs]),
  ]);
  console.log('key→screen: keydown to the render that shows the echo (headless Chromium draws at 60 Hz: a frame every 16.7 ms,');
  console.log('so this includes waiting for the next frame, 8 ms on average). key→data: keydown to the WebSocket message with the echo.');
  console.log('');
  table(starts);

  const ours = results.find((r) => r.name === 'tracelab');
  const peers = results.filter((r) => !r.name.startsWith('tracelab'));
  if (ours) {
    below('keystroke p50 (Chromium)', ours.lat.p50, 5, 'ms');
    below('keystroke p99 (Chromium)', ours.lat.p99, 15, 'ms');
    atLeast('output throughput (Chromium)', ours.mbps, 20, 'MB/s');
  }
  if (ours && peers.length) {
    const bestLat = peers.reduce((a, b) => (a.lat.p99 < b.lat.p99 ? a : b));
    below(`keystroke p99 vs wetty's best (${bestLat.renderer})`, ours.lat.p99, bestLat.lat.p99, 'ms', ` (wetty ${bestLat.renderer})`);
    const best = peers.reduce((a, b) => (a.mbps > b.mbps ? a : b));
    const ratio = ours.mbps / best.mbps;
    report({ what: `throughput vs wetty's best (${best.renderer})`, target: '≥ 1.2x', measured: `${ratio.toFixed(2)}x (${ours.mbps.toFixed(1)} vs ${best.mbps.toFixed(1)} MB/s)`, met: ratio >= 1.2, by: ratio >= 1.2 ? undefined : `${(1.2 - ratio).toFixed(2)}x short` });
  }
}
