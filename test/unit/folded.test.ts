/**
 * The folded-stacks parser behind the lab page's interactive flame graph
 * (portal/shared/folded.ts): a real capture of lab 3, odd lines, and the bounds that
 * keep a huge file from freezing the browser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { INSTALL_ROOT } from '../../src/labs';
import { parseFoldedStacks, describeParse, type FoldedNode } from '../../portal/shared/folded';
import { renderMarkdown, ARTIFACT_RE } from '../../portal/server/markdown';

const FIXTURE = path.join(INSTALL_ROOT, 'test', 'fixtures', 'folded', 'report-bpftrace.folded');

function find(node: FoldedNode, name: string): FoldedNode[] {
  const out: FoldedNode[] = node.n === name ? [node] : [];
  for (const c of node.c || []) out.push(...find(c, name));
  return out;
}

function sumOfKidsAtMost(node: FoldedNode): void {
  const kids = node.c || [];
  assert.ok(kids.reduce((a, c) => a + c.v, 0) <= node.v, `children of ${node.n} add up to more than it`);
  kids.forEach(sumOfKidsAtMost);
}

test('a real lab 3 capture: every sample counted, the hot function found, widths consistent', () => {
  const p = parseFoldedStacks(fs.readFileSync(FIXTURE, 'utf8'));
  assert.equal(p.root.n, 'all');
  assert.equal(p.root.v, 198);
  assert.equal(p.stacks, 24);
  assert.equal(p.skipped, 0);
  assert.equal(p.truncated, null);
  const isNew = find(p.root, 'Visitors.isNew report.js:53');
  assert.equal(isNew.reduce((a, n) => a + n.v, 0), 169);
  sumOfKidsAtMost(p.root);
  assert.match(describeParse(p), /^198 samples in 24 stacks$/);
});

test('stacks sharing a prefix share boxes; children are sorted by name; counts add up', () => {
  const p = parseFoldedStacks('main;b;leaf 3\nmain;a 2\nmain;b;leaf 4\n\nmain;b 1\n');
  assert.deepEqual(p.root, {
    n: 'all',
    v: 10,
    c: [{ n: 'main', v: 10, c: [{ n: 'a', v: 2 }, { n: 'b', v: 8, c: [{ n: 'leaf', v: 7 }] }] }],
  });
  assert.equal(p.stacks, 4);
});

test('frames may contain spaces and digits; lines that are not "stack count" are skipped and counted', () => {
  const text = ['Attaching 4 probes...', 'main;f report.js:12 5', 'main;g 0', 'no count here', 'main;h 1e3', '  main;f report.js:12   2  ', 'main;;x 1'].join('\r\n');
  const p = parseFoldedStacks(text);
  assert.equal(p.root.v, 8);
  assert.equal(find(p.root, 'f report.js:12')[0].v, 7);
  assert.equal(find(p.root, '[empty]')[0].v, 1, 'an empty frame gets a visible name');
  assert.equal(p.skipped, 4);
  assert.match(describeParse(p), /4 lines were not/);
});

test('bounded: bytes, lines and depth are capped, and the description says so', () => {
  const line = 'root;' + 'f;'.repeat(20) + 'leaf 1\n';
  const big = line.repeat(1000);
  const byBytes = parseFoldedStacks(big, { maxBytes: line.length * 10 + 5 });
  assert.equal(byBytes.stacks, 10, 'cut at the last whole line inside the byte budget');
  assert.match(describeParse(byBytes), /file too large: read the first/);

  const byLines = parseFoldedStacks(big, { maxLines: 7 });
  assert.equal(byLines.stacks, 7);
  assert.equal(byLines.root.v, 7);
  assert.match(describeParse(byLines), /read the first 7 stacks only/);

  const deep = parseFoldedStacks('a;'.repeat(5000) + 'z 2\n', { maxDepth: 100 });
  let depth = 0;
  for (let n: FoldedNode | undefined = deep.root; n && n.c; n = n.c[0]) depth++;
  assert.equal(depth, 100);
  assert.equal(deep.deep, 1);
  assert.match(describeParse(deep), /1 stacks cut to their first 100 frames/);
});

test('frames with a negligible share are dropped, their samples stay in the parent', () => {
  const lines = ['main;hot 100000'];
  for (let i = 0; i < 50; i++) lines.push(`main;rare${i} 1`);
  const p = parseFoldedStacks(lines.join('\n'), { minShare: 0.0001 });
  const main = find(p.root, 'main')[0];
  assert.equal(main.v, 100050);
  assert.deepEqual(main.c!.map((c) => c.n), ['hot']);
});

test('raw bpftrace or perf script output is recognised, not parsed into odd frames', () => {
  const bpf = 'Attaching 4 probes...\n@[\n\t7fe1a0027cbc JS:*Visitors.isNew /root/ws/03-flame-graphs/app/report.js:53:37+229 (/tmp/perf-4242.map)\n]: 78\n';
  assert.equal(parseFoldedStacks(bpf).raw, 'bpftrace');
  assert.equal(parseFoldedStacks(bpf).root.v, 0);
  const perf = 'node 16143/16143  1159.507218: cpu-clock:ppp:\n\t    7f850c02a36a JS:*Visitors.isNew /root/ws/03-flame-graphs/app/report.js:53:37 (/tmp/perf-16143.map)\n\n';
  assert.equal(parseFoldedStacks(perf).raw, 'perf script');
  assert.equal(parseFoldedStacks(fs.readFileSync(FIXTURE, 'utf8')).raw, null);
});

test('a file with no stacks parses to an empty root', () => {
  const p = parseFoldedStacks('<html><script>alert(1)</script></html>\n');
  assert.equal(p.root.v, 0);
  assert.equal(p.root.c, undefined);
  assert.equal(p.skipped, 1);
});

test('an artifact block may name a .folded file; the server route and the renderer share one rule', () => {
  assert.match(renderMarkdown('```artifact linux\nstacks.folded\n```\n', 'linux'), /data-artifact="stacks.folded">Show stacks.folded</);
  assert.equal(renderMarkdown('```artifact linux\nstacks.folded\n```\n', 'illumos'), '');
  assert.ok(ARTIFACT_RE.test('perf.folded'));
  assert.ok(!ARTIFACT_RE.test('stacks.folded.sh'));
  assert.match(renderMarkdown('```artifact\nx.exe\n```\n', 'linux'), /not allowed \(letters, digits, \. _ - ending in \.svg \.txt \.json \.html \.folded\)/);
});
