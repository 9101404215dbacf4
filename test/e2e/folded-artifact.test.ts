/**
 * The student's own flame graph, in real Chromium: `tracelab serve` on the real labs,
 * lab 3's "Draw the flame graph" step, folded stacks captured from lab 3's own scripts
 * (test/fixtures/folded/README.md) put where stackfold.js writes them, then Show,
 * zoom and search as a student would. Also: a hostile or huge file stays text, bounded.
 *
 * The real stackvis SVG too: the fixture's stacks through stackfold.js --stackvis and
 * stackvis, as the step makes out/stacks.svg, opened in the sandboxed frame.
 *
 * Set TRACELAB_SCREENSHOTS=DIR to keep folded.png, folded-zoomed.png and stackvis.png.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Browser, Page } from 'playwright-core';
import { REPO, tempData, cleanupData } from '../server/harness';
import { freePort } from '../../src/check/proc';
import { launchChromium } from '../helpers/chromium';
import { startServe, stopServe, Serve } from '../helpers/portal';

const LAB = '03-flame-graphs';
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'folded', 'report-bpftrace.folded');
const shots = process.env.TRACELAB_SCREENSHOTS;

let data: string;
let portal: Serve | null = null;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Start `tracelab serve` on this installation's labs and resolve the login URL it prints. */
async function startPortal(port: number): Promise<string> {
  portal = await startServe({ port, data, labs: path.join(REPO, 'labs') });
  return portal.url;
}

function stopPortal(): Promise<void> {
  const s = portal;
  portal = null;
  return stopServe(s);
}

const outDir = () => path.join(data, 'workspaces', 'self', LAB, 'out');

async function showArtifact(name: string): Promise<void> {
  await page.locator(`#step button.artifact[data-artifact="${name}"]`).click();
}

/** Summed width of the boxes whose text matches `re`, as a share of the graph's width. */
function share(re: RegExp): Promise<number> {
  return page.evaluate((src) => {
    const g = document.querySelector('#artifact-graph .viz-fg') as HTMLElement;
    const r = new RegExp(src);
    const boxes = Array.from(g.querySelectorAll('.fr')).filter((b) => r.test(b.textContent || '')) as HTMLElement[];
    return boxes.reduce((a, b) => a + b.getBoundingClientRect().width, 0) / g.getBoundingClientRect().width;
  }, re.source);
}

before(async () => {
  data = tempData();
  const url = await startPortal(await freePort());
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector(`a.card[data-lab="${LAB}"]`);
  await page.click(`a.card[data-lab="${LAB}"]`);
  // The terminal attaching means the workspace (with its out/ dir) has been made.
  await page.waitForSelector('#term-state.attached', { timeout: 20000 });
  const pill = page.locator('#stepnav .pill').nth(2);
  await pill.click();
  await page.waitForSelector('#step button.artifact[data-artifact="stacks.folded"]');
  assert.match(await page.locator('#step h1').innerText(), /Draw the flame graph/);
});

after(async () => {
  await browser?.close();
  await stopPortal();
  cleanupData(data);
});

test('before the file exists, Show says which step makes it', async () => {
  fs.rmSync(path.join(outDir(), 'stacks.folded'), { force: true });
  await showArtifact('stacks.folded');
  await page.waitForSelector('#artifact-msg:not([hidden])');
  assert.match(await page.locator('#artifact-msg').innerText(), /03-flame-graphs\/out\/stacks\.folded is not there yet/);
  assert.equal(await page.locator('#artifact-graph').isHidden(), true);
});

test('the student\'s folded stacks render in the page as a flame graph, the hot frame wide', async () => {
  fs.mkdirSync(outDir(), { recursive: true });
  fs.copyFileSync(FIXTURE, path.join(outDir(), 'stacks.folded'));
  await showArtifact('stacks.folded');
  await page.waitForSelector('#artifact-graph .viz-flamegraph .fr');
  assert.equal(await page.locator('#artifact-msg').isHidden(), true);
  assert.equal(await page.locator('#artifact-frame').isHidden(), true, 'no iframe for folded stacks');
  assert.equal(await page.locator('#artifact-graph iframe').count(), 0);
  assert.match(await page.locator('#artifact-graph .artifact-note').innerText(), /^198 samples in 24 stacks$/);
  assert.ok((await page.locator('#artifact-graph .fr').count()) > 10);
  const hot = await share(/^Visitors\.isNew report\.js:53$/);
  assert.ok(hot > 0.75 && hot < 0.95, `isNew spans ${hot} of the graph (169 of 198 samples)`);
  // Beside the terminal: the panel sits above the terminal, in the right-hand column.
  const [panel, term] = [await page.locator('#artifact').boundingBox(), await page.locator('#term').boundingBox()];
  assert.ok(panel && term && panel.y + panel.height <= term.y + 1 && Math.abs(panel.x - term.x) < 2, 'graph panel above the terminal');
  if (shots) await page.screenshot({ path: path.join(shots, 'folded.png') });
});

test('clicking a frame zooms into it; searching highlights and measures a function', async () => {
  const status = page.locator('#artifact-graph .viz-fg-status');
  const summarise = page.locator('#artifact-graph .fr', { hasText: /^summarise report\.js:66$/ }).first();
  const before = await share(/^summarise report\.js:66$/);
  assert.ok(before < 0.97, `summarise spans ${before} before zooming`);
  await summarise.click();
  assert.match(await status.innerText(), /^zoomed: summarise report\.js:66 — \d+ samples/);
  const after = await share(/^summarise report\.js:66$/);
  assert.ok(after > 0.99, `summarise spans the whole graph once zoomed (${after})`);
  assert.ok((await share(/^Visitors\.isNew /)) > (await share(/^summarise /)) * 0.8, 'isNew fills most of summarise');

  await page.locator('#artifact-graph input[type=search]').fill('isNew');
  assert.match(await status.innerText(), /matched 85\.4%/); // 169 / 198
  assert.ok((await page.locator('#artifact-graph .fr.hit').count()) >= 1);
  if (shots) await page.screenshot({ path: path.join(shots, 'folded-zoomed.png') });

  await page.locator('#artifact-graph .viz-reset').click();
  assert.match(await status.innerText(), /^198 samples/);
});

test('the file is data, not HTML: markup in frame names shows as text', async () => {
  fs.writeFileSync(path.join(outDir(), 'stacks.folded'), 'main;<img src=x onerror="window.__pwned=1">;leaf 3\nmain;other 1\n');
  await showArtifact('stacks.folded');
  await page.locator('#artifact-graph .fr', { hasText: '<img src=x' }).waitFor();
  assert.equal(await page.locator('#artifact-graph img').count(), 0);
  assert.equal(await page.evaluate(() => (window as any).__pwned), undefined);
  assert.match(await page.locator('#artifact-graph .artifact-note').innerText(), /^4 samples in 2 stacks$/);
});

test('a file that is not folded stacks, or one too large, says so in the panel', async () => {
  // bpftrace's own output (stackfold.js not run): named as such, with the fix.
  fs.writeFileSync(path.join(outDir(), 'stacks.folded'), 'Attaching 4 probes...\n@[\n\t7f00 JS:*isNew /w/report.js:53:37+229 (/tmp/perf-1.map)\n]: 3\n');
  await showArtifact('stacks.folded');
  await page.locator('#artifact-graph .artifact-note.bad').waitFor();
  assert.match(await page.locator('#artifact-graph').innerText(), /stacks\.folded is bpftrace output, not folded stacks: fold it first, e\.g\. node linux\/stackfold\.js/);
  fs.writeFileSync(path.join(outDir(), 'stacks.folded'), 'nothing to see\n');
  await showArtifact('stacks.folded');
  await page.locator('#artifact-graph .artifact-note.bad', { hasText: 'has no stacks' }).waitFor();

  // 10 MB of stacks: the page reads the first 8 MB and says it did.
  const line = 'main;' + 'frame;'.repeat(30) + 'leaf 1\n';
  fs.writeFileSync(path.join(outDir(), 'stacks.folded'), line.repeat(Math.ceil((10 * 1024 * 1024) / line.length)));
  await showArtifact('stacks.folded');
  await page.locator('#artifact-graph .artifact-note.warn').waitFor({ timeout: 30000 });
  assert.match(await page.locator('#artifact-graph .artifact-note').innerText(), /file too large: read the first 8 MB only/);
  assert.ok((await page.locator('#artifact-graph .fr').count()) > 0);
});

/**
 * out/stacks.svg as the step makes it: the fixture's stacks in bpftrace's @[...]: N shape
 * (leaf first), then `node linux/stackfold.js --stackvis | stackvis collapsed flamegraph-svg`.
 */
function stackvisSvg(): string {
  const stacks = fs
    .readFileSync(FIXTURE, 'utf8')
    .trim()
    .split('\n')
    .map((l) => /^(.*) (\d+)$/.exec(l)!)
    .map(([, stack, n]) => `@[\n${stack.split(';').reverse().map((f) => `    ${f}\n`).join('')}]: ${n}\n`)
    .join('\n');
  const fold = spawnSync(process.execPath, [path.join(REPO, 'labs', LAB, 'linux', 'stackfold.js'), '--stackvis'], { input: stacks, encoding: 'utf8' });
  assert.equal(fold.status, 0, fold.stderr);
  const stackvis = path.join(REPO, 'labs', 'node_modules', '.bin', 'stackvis');
  assert.ok(fs.existsSync(stackvis), `${stackvis} is missing: setup.sh installs the labs' packages`);
  const svg = spawnSync(stackvis, ['collapsed', 'flamegraph-svg'], { input: fold.stdout, encoding: 'utf8' });
  assert.equal(svg.status, 0, svg.stderr);
  return svg.stdout;
}

test('the real stackvis SVG renders its frames in the sandboxed frame; hovering a frame names it', async () => {
  const svg = stackvisSvg();
  assert.match(svg, /^<\?xml[\s\S]*<svg [\s\S]*onload="init\(evt\)"/, 'stackvis\'s SVG with its script');
  fs.writeFileSync(path.join(outDir(), 'stacks.svg'), svg);
  await showArtifact('stacks.svg');
  await page.waitForSelector('#artifact-frame:not([hidden])');
  assert.equal(await page.locator('#artifact-graph').isHidden(), true);
  const frame = page.frameLocator('#artifact-frame');
  // Every stack's frames are drawn: a box per frame, the hot one as wide as its samples.
  const isNew = frame.locator('rect[onmouseover*="Visitors.isNew report.js:53"]');
  await isNew.first().waitFor({ timeout: 15000 });
  assert.ok((await frame.locator('rect[rx]').count()) > 40, 'stackvis drew the frames');
  const all = await frame.locator('rect[onmouseover*="all samples (198 samples"]').boundingBox();
  const hot = await isNew.first().boundingBox();
  assert.ok(all && hot && all.width > 300, `the root spans the frame (${all?.width})`);
  const widest = Math.max(...(await isNew.evaluateAll((rs) => rs.map((r) => (r as SVGGraphicsElement).getBoundingClientRect().width))));
  assert.ok(widest / all!.width > 0.75 && widest / all!.width < 0.95, `isNew spans ${(widest / all!.width).toFixed(2)} of the root (169 of 198)`);
  // stackvis's SVG has no zoom; its one interaction is hover, which its own script shows.
  const details = frame.locator('#details');
  await isNew.first().hover();
  await frame.locator('#details', { hasText: 'Visitors.isNew report.js:53 (169 samples, 85.35%)' }).waitFor({ timeout: 5000 });
  assert.match(await details.textContent() ?? '', /^Visitors\.isNew report\.js:53 \(169 samples, 85\.35%\)$/);
  // The sandbox: the SVG's script runs, but without the portal's origin.
  assert.equal(await frame.locator('svg').evaluate(() => { try { return String(window.parent.document.title); } catch { return 'blocked'; } }), 'blocked');
  if (shots) await page.screenshot({ path: path.join(shots, 'stackvis.png') });
});

test('an SVG artifact still opens in the sandboxed frame, and Close empties the panel', async () => {
  fs.writeFileSync(path.join(outDir(), 'stacks.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><text y="20">svg-made</text></svg>');
  await showArtifact('stacks.svg');
  await page.waitForSelector('#artifact-frame:not([hidden])');
  assert.equal(await page.locator('#artifact-graph').isHidden(), true);
  await page.click('#artifact-close');
  assert.equal(await page.locator('#artifact').isHidden(), true);
  assert.equal(await page.locator('#artifact-graph .fr').count(), 0);
  assert.deepEqual(pageErrors, []);
});
