/**
 * Lab apps and solutions run on the illumos track's Node 6 too: they must parse
 * as ES2016 scripts (no async/await, no `?.`/`??`, no object spread, no trailing
 * commas in calls). Checked with acorn, file by file, found from the filesystem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as acorn from 'acorn';
import { DEFAULT_LABS_ROOT, DEFAULT_SOLUTIONS_ROOT } from '../../src/labs';

function jsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'check' ? [] : jsFiles(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

const roots = [
  ...fs.readdirSync(DEFAULT_LABS_ROOT).filter((d) => /^\d\d-/.test(d)).map((d) => path.join(DEFAULT_LABS_ROOT, d, 'app')),
  ...(fs.existsSync(DEFAULT_SOLUTIONS_ROOT) ? fs.readdirSync(DEFAULT_SOLUTIONS_ROOT).map((d) => path.join(DEFAULT_SOLUTIONS_ROOT, d)) : []),
];

for (const file of roots.flatMap(jsFiles)) {
  test(`${path.relative(path.dirname(DEFAULT_LABS_ROOT), file)} parses as ES2016 (Node 6)`, () => {
    const src = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '');
    assert.doesNotThrow(() => acorn.parse(src, { ecmaVersion: 2016, sourceType: 'script' }), (e: Error) => `${file}: ${e.message}`);
  });
}
