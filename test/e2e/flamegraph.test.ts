/**
 * The pictures in check results, in real Chromium: lab 3's checker runs for real on a
 * solved copy, its before/after flame graphs are drawn by portal/client/viz, and a
 * user's clicks zoom and search them; lab 4's RSS plot and a histogram render too.
 *
 * Set TRACELAB_SCREENSHOTS=DIR to keep the screenshots (flamegraph.png, zoomed.png).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type BrowserContext, type Page } from 'playwright-core';
import { launchChromiumProfile } from '../helpers/chromium';
import * as esbuild from 'esbuild';
import { runCheck } from '../../src/check/run';
import { INSTALL_ROOT } from '../../src/labs';
import { copyLab, rmCopy, solve } from '../lab/helpers';
import { parseHistograms } from '../../src/check/bpftrace';


let tmp: string;
let browser: BrowserContext;
let page: Page;
let flameData: unknown;
let seriesData: unknown;

async function checkData(lab: string, step: string): Promise<unknown> {
  const dir = copyLab(lab);
  try {
    solve(lab, dir);
    const r = await runCheck(lab, { dir, track: 'linux', timeoutMs: 90_000 });
    const s = r.steps.find((x) => x.id === step);
    assert.ok(s && s.data, `lab ${lab} step ${step} returned no data: ${JSON.stringify(r.steps)}`);
    return s.data;
  } finally {
    rmCopy(dir);
  }
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-viz-'));
  flameData = await checkData('03-flame-graphs', 'flat-profile');
  seriesData = await checkData('04-memory-leak', 'fixed');
  const bundle = path.join(tmp, 'viz.js');
  await esbuild.build({
    entryPoints: [path.join(INSTALL_ROOT, 'portal', 'client', 'viz', 'index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'viz',
    outfile: bundle,
    logLevel: 'silent',
  });
  browser = await launchChromiumProfile(path.join(tmp, 'profile'), { width: 1280, height: 900 });
  page = await browser.newPage();
  const css = fs.readFileSync(path.join(INSTALL_ROOT, 'portal', 'public', 'style.css'), 'utf8');
  await page.setContent(`<!doctype html><html><head><style>${css}</style></head><body style="padding:16px;overflow:auto"><div id="slot"></div></body></html>`);
  await page.addScriptTag({ content: fs.readFileSync(bundle, 'utf8') });
});

after(async () => {
  await browser?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function show(data: unknown): Promise<void> {
  await page.evaluate((d) => {
    const slot = document.getElementById('slot')!;
    slot.textContent = '';
    const el = (window as any).viz.renderStepData(d);
    if (el) slot.append(el);
  }, data as any);
}

async function shot(name: string): Promise<void> {
  const dir = process.env.TRACELAB_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, name), fullPage: true });
}

/** Summed width of the frame boxes matching `text`, as a share of their graph's width (a function may have several towers). */
async function share(graph: number, text: RegExp): Promise<number> {
  return page.evaluate(
    ([g, src]) => {
      const graphEl = document.querySelectorAll('.viz-fg')[g] as HTMLElement;
      const re = new RegExp(src);
      const boxes = Array.from(graphEl.querySelectorAll('.fr')).filter((b) => re.test(b.textContent || '')) as HTMLElement[];
      const sum = boxes.reduce((acc, b) => acc + b.getBoundingClientRect().width, 0);
      return sum / graphEl.getBoundingClientRect().width;
    },
    [graph, text.source] as const,
  );
}

test('both flame graphs render side by side, with the hot frame wide before and narrow after', async () => {
  await show(flameData);
  const graphs = page.locator('.viz-flamegraph');
  assert.equal(await graphs.count(), 2);
  assert.match((await graphs.nth(0).locator('.viz-title').innerText()), /^before/);
  assert.match((await graphs.nth(1).locator('.viz-title').innerText()), /^after/);
  const [a, b] = [await graphs.nth(0).boundingBox(), await graphs.nth(1).boundingBox()];
  assert.ok(a && b && b.x > a.x + a.width - 1 && Math.abs(a.y - b.y) < 2, 'the two graphs sit side by side');
  assert.ok((await graphs.nth(0).locator('.fr').count()) > 10, 'the before graph has frames');
  const before = await share(0, /^Visitors\.isNew /);
  const after = await share(1, /^Visitors\.isNew /);
  assert.ok(before > 0.35, `isNew spans ${before} of the before graph`);
  assert.ok(after < before / 2, `isNew spans ${after} of the after graph (before ${before})`);
  await shot('flamegraph.png');
});

test('clicking a frame zooms into it; Reset zooms out', async () => {
  await show(flameData);
  const g = page.locator('.viz-flamegraph').nth(0);
  const summarise = g.locator('.fr', { hasText: /^summarise / }).first();
  const wide0 = await share(0, /^summarise /);
  assert.ok(wide0 < 0.999, 'summarise starts narrower than the graph');
  await summarise.click();
  const wide1 = await share(0, /^summarise /);
  assert.ok(wide1 > 0.99, `after the click summarise spans ${wide1} of the graph`);
  assert.match(await g.locator('.viz-fg-status').innerText(), /^zoomed: summarise/);
  // The callers stay visible below, dimmed, to zoom back out through.
  assert.ok((await g.locator('.fr.anc').count()) > 3);
  await shot('zoomed.png');
  await g.locator('.viz-reset').click();
  assert.ok(Math.abs((await share(0, /^summarise /)) - wide0) < 0.01, 'Reset restores the full view');
});

test('search highlights matching frames and reports their share', async () => {
  await show(flameData);
  const g = page.locator('.viz-flamegraph').nth(0);
  await g.locator('input[type=search]').fill('isNew');
  assert.ok((await g.locator('.fr.hit').count()) >= 1);
  const m = /matched ([0-9.]+)%/.exec(await g.locator('.viz-fg-status').innerText());
  assert.ok(m && Number(m[1]) > 35, `search says ${m && m[0]}`);
  await g.locator('input[type=search]').fill('no-such-frame-xyz');
  assert.equal(await g.locator('.fr.hit').count(), 0);
});

test("lab 4's RSS and heap plots draw one line per run", async () => {
  await show(seriesData);
  const charts = page.locator('.viz-series');
  assert.equal(await charts.count(), 2);
  assert.equal(await charts.nth(0).locator('path[data-series]').count(), 2);
  assert.match(await charts.nth(0).locator('.viz-legend').innerText(), /original.*MB[\s\S]*yours.*MB/);
  // Every line stays inside its plot: the y axis reaches the highest value.
  const tops = await page.evaluate(() => Array.from(document.querySelectorAll('.viz-series path[data-series]')).map((p) => (p as SVGGraphicsElement).getBBox().y));
  assert.ok(tops.length === 4 && tops.every((y) => y >= 0), `line tops: ${tops}`);
  await shot('series.png');
});

// bpftrace hist() output as printed (server-latency.bt style), parsed by the checkers' parser.
const HIST = `@us[/slow]:
[0]                    1 |@@                                                  |
[256, 512)             3 |@@@@@@                                              |
[512, 1K)             25 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1K, 2K)               7 |@@@@@@@@@@@@@@                                      |
[1M, ...)              1 |@@                                                  |

`;

test('a parsed bpftrace histogram draws one row per bucket; unknown data draws nothing', async () => {
  // Through JSON, as a check result travels: the open last bucket's Infinity becomes null.
  const data = JSON.parse(JSON.stringify({ kind: 'histograms', items: parseHistograms(HIST, 'us') }));
  await show(data);
  assert.equal(await page.locator('.viz-hist .bar').count(), 5);
  const text = await page.locator('.viz-hist').innerText();
  assert.match(text, /\[0\]/);
  assert.match(text, /\[1K, 2K\)/);
  assert.match(text, /\[1M, \.\.\.\)/);
  const widths = await page.locator('.viz-hist .bar').evaluateAll((bars) => bars.map((b) => b.getBoundingClientRect().width));
  assert.equal(Math.max(...widths), widths[2], 'the fullest bucket has the longest bar');
  await shot('histogram.png');
  const none = await page.evaluate(() => (window as any).viz.renderStepData({ kind: 'nope' }));
  assert.equal(none, null);
});
