#!/usr/bin/env node
'use strict';
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Files are found from the filesystem; groups run in order (unit first, browser last)
// so a broken foundation fails fast. `node scripts/run-tests.js unit lab` runs groups;
// TEST_FILTER=substring narrows to matching file paths.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..', 'dist', 'test');
const ORDER = ['unit', 'usdt', 'server', 'lab', 'hosts', 'vm', 'class', 'e2e', 'faults'];

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const wanted = process.argv.slice(2);
const filter = process.env.TEST_FILTER || '';
const files = walk(root)
  .filter((f) => !filter || f.includes(filter))
  .filter((f) => !wanted.length || wanted.includes(path.relative(root, f).split(path.sep)[0]))
  .sort((a, b) => {
    const ga = ORDER.indexOf(path.relative(root, a).split(path.sep)[0]);
    const gb = ORDER.indexOf(path.relative(root, b).split(path.sep)[0]);
    return (ga < 0 ? 99 : ga) - (gb < 0 ? 99 : gb) || a.localeCompare(b);
  });

if (!files.length) {
  console.error('run-tests: no test files found under dist/test (did `npm run build` run?)');
  process.exit(1);
}
console.log(`run-tests: ${files.length} test files`);
// One file at a time: browser and tracing tests compete for 2 cores and for tracefs.
function run(args, env = process.env) {
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...args], { stdio: 'inherit', env });
  return r.status === null ? 1 : r.status;
}
let status = run(files);

// The terminal's other attach path: TRACELAB_TMUX_ATTACH=client (a `tmux attach` client
// in a node-pty per terminal, portal/hosts/local.ts) is not the default, so the terminal
// tests run again with it: the gateway's tests whole, and in the browser the burst tests
// (login first: they need its page). About 20 s. Skipped when the mode was chosen by hand.
const CLIENT_AGAIN = [
  { file: path.join('server', 'portal.test.js') },
  { file: path.join('e2e', 'portal.test.js'), only: 'log in with the printed token|during an output burst|Ctrl-C stops it' },
];
if (process.env.TRACELAB_TMUX_ATTACH === undefined) {
  const env = { ...process.env, TRACELAB_TMUX_ATTACH: 'client' };
  for (const again of CLIENT_AGAIN) {
    const f = files.find((x) => path.relative(root, x) === again.file);
    if (!f) continue;
    console.log(`run-tests: ${again.file} again with TRACELAB_TMUX_ATTACH=client${again.only ? ' (the burst tests)' : ''}`);
    const s = run([...(again.only ? [`--test-name-pattern=${again.only}`] : []), f], env);
    if (s !== 0) status = status || s;
  }
}
process.exit(status);
