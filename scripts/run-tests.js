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
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status === null ? 1 : r.status);
