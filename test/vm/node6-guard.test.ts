// The Node-6 guard: every lab app, lab-side script and solution must parse as
// ES2015 (what Node 6.17.1, the illumos track's Node, runs). Files are found on
// disk: labs/*/app/**, any other .js under labs/<lab>/ except the TypeScript
// checkers' output, and solutions/**. node_modules are not ours to judge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { findNewerSyntax } from './node6-syntax';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function jsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'check' ? [] : jsFiles(p);
    return /\.(js|cjs)$/.test(e.name) ? [p] : [];
  });
}

/** Lab-side JavaScript: labs/<NN-lab>/** (apps, helper scripts) and solutions/**. */
function labSideJs(root: string = ROOT): string[] {
  const labDirs = (base: string) =>
    fs.existsSync(base)
      ? fs.readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory() && /^[0-9]{2}-/.test(e.name)).map((e) => path.join(base, e.name))
      : [];
  return [...labDirs(path.join(root, 'labs')), ...labDirs(path.join(root, 'solutions'))].flatMap(jsFiles).sort();
}

test('the guard names each construct Node 6 cannot parse (self-test)', () => {
  const cases: [string, RegExp][] = [
    ['async function f() { await g(); }', /async function/],
    ['var x = a?.b;', /optional chaining/],
    ['var x = a ?? b;', /nullish/],
    ['var o = { ...p };', /object spread/],
    ['var { a, ...rest } = o;', /object rest/],
    ['class A { x = 1; }', /class field/],
    ['f(a, b,);', /trailing comma in a call/],
    ['function f(a, b,) {}', /trailing comma in parameters/],
    ['var y = 2 ** 8;', /exponent/],
    ['try { f(); } catch { }', /catch without a binding/],
    ['var n = 10n;', /BigInt/],
    ["import fs from 'fs';", /ES module syntax/],
  ];
  for (const [src, re] of cases) {
    const found = findNewerSyntax(src);
    assert.ok(found.some((f) => re.test(f.construct)), `${src} → ${JSON.stringify(found)}`);
  }
  const f = findNewerSyntax('var a = 1;\nvar b = 2;\nvar c = x?.y;\n');
  assert.deepEqual([f[0].line, f[0].column], [3, 9]);
});

test('the guard accepts the ES2015 that Node 6 runs (self-test)', () => {
  const es2015 = [
    "#!/usr/bin/env node\n'use strict';",
    'const a = [1, 2]; let [x, ...ys] = a; const f = (p, q) => p + q;',
    'class A extends B { constructor() { super(); } static m() { return `t${1}`; } }',
    'function* g() { yield 1; } for (const v of g()) {}',
    'var o = { a, b: 2, [k]: 3, m() {} }; f(...args); var { p, q: r = 1 } = o;',
    'f(a, b /* , not trailing */);',
  ];
  for (const src of es2015) assert.deepEqual(findNewerSyntax(src), [], src);
});

test('every lab app, lab-side script and solution parses as Node 6 JavaScript', () => {
  const files = labSideJs();
  const problems: string[] = [];
  for (const file of files) {
    for (const f of findNewerSyntax(fs.readFileSync(file, 'utf8'))) {
      problems.push(`${path.relative(ROOT, file)}:${f.line}:${f.column}: ${f.construct}`);
    }
  }
  assert.deepEqual(problems, [], `Node 6 (the illumos track) cannot run:\n${problems.join('\n')}`);
  // Say what was judged, so an empty glob is visible in the log.
  console.log(`node6-guard: ${files.length} files checked`);
});
