#!/usr/bin/env node
// stackfold.js  fold stack samples into one line per stack, for stackvis.
//
// USAGE: node linux/stackfold.js < out/stacks.txt > out/stacks.folded
//        node linux/stackfold.js --stackvis < out/stacks.txt |
//            stackvis collapsed flamegraph-svg > out/stacks.svg
//
// Reads either bpftrace output (@[ ustack ]: count, default or `perf` format)
// or `perf script` output, and writes "root;caller;...;leaf count" lines, the
// usual folded format (flamegraph.pl, speedscope). --stackvis separates frames
// with commas instead, as stackvis 0.5 reads them (commas inside a frame, as
// in C++ template arguments, become spaces).
// Frames are cleaned so one function is one box: V8's tier prefix (~ ^ + *
// after "JS:", which changes as a function gets optimised), the +offset,
// the address, the module, C++ argument lists and JS directories are dropped.
//
// EXAMPLE (bpftrace stacks of app/report.js, 5 s, the biggest two lines, cut):
//   [...];again report.js:99;report report.js:93;summarise report.js:66;Visitors.isNew report.js:53 78
//   [...];processImmediate node:internal/timers:438;again report.js:99;report report.js:93;summarise report.js:66;Visitors.isNew report.js:53 30
// The last field is the number of samples: 78 + 30 in Visitors.isNew, out of 162.
'use strict';

var fs = require('fs');

function stripArgs(sym) {
  // "ns::f(int, char*) const [clone .isra.0]" -> "ns::f"; keep "(anonymous namespace)".
  sym = sym.replace(/ \[clone [^\]]*\]$/, '').replace(/ const$/, '');
  if (sym.charAt(sym.length - 1) !== ')') return sym;
  var depth = 0;
  for (var i = sym.length - 1; i >= 0; i--) {
    var c = sym.charAt(i);
    if (c === ')') depth++;
    else if (c === '(') {
      depth--;
      if (depth === 0) return i > 0 ? sym.slice(0, i) : sym;
    }
  }
  return sym;
}

function cleanFrame(raw) {
  var f = raw.trim();
  // perf formats: "7f62...  SYMBOL (MODULE)" (bpftrace ustack(perf), perf script)
  var m = /^[0-9a-f]+\s+(.*?)(?:\s+\(([^()]*)\))?$/.exec(f);
  if (m && /^[0-9a-f]+\s/.test(f)) f = m[1];
  f = f.replace(/\+0x[0-9a-f]+$/i, '').replace(/\+\d+$/, '');
  if (/^(0x)?[0-9a-f]+$/i.test(f) || f === '[unknown]') return '[unknown]';
  var js = /^(?:JS|LazyCompile|Function|Script):[~^+*]?(.*)$/.exec(f);
  if (js) {
    // "name /dir/app/report.js:47:41" -> "name report.js:47"
    var parts = /^(.*?)\s*(\S+?):(\d+)(?::\d+)?$/.exec(js[1]);
    if (!parts) return js[1] || '(anonymous)';
    var file = parts[2].indexOf('node:') === 0 ? parts[2] : parts[2].replace(/^.*\//, '');
    return (parts[1] || '(anonymous)') + ' ' + file + ':' + parts[3];
  }
  return stripArgs(f).replace(/;/g, ':') || '[unknown]';
}

function add(folded, frames, count) {
  if (!frames.length || !(count > 0)) return;
  var key = frames.map(cleanFrame).reverse().join(';');
  folded[key] = (folded[key] || 0) + count;
}

function fold(text) {
  var folded = {};
  var lines = text.split('\n');
  var frames = null;
  var i;
  if (/^@\w*\[/m.test(text)) {
    // bpftrace: "@[" frames "]: N"
    for (i = 0; i < lines.length; i++) {
      var l = lines[i];
      if (/^@\w*\[\s*$/.test(l)) frames = [];
      else if (frames && /^\]:\s*\d+/.test(l)) {
        add(folded, frames, Number(/\d+/.exec(l)[0]));
        frames = null;
      } else if (frames && l.trim()) frames.push(l);
    }
  } else {
    // perf script: a header line, indented frames, a blank line.
    for (i = 0; i <= lines.length; i++) {
      var p = i < lines.length ? lines[i] : '';
      if (!p.trim()) {
        if (frames) add(folded, frames, 1);
        frames = null;
      } else if (/^\s/.test(p)) {
        if (frames) frames.push(p);
      } else frames = [];
    }
  }
  return folded;
}

function forStackvis(key) {
  return key.split(';').map(function (f) { return f.replace(/,\s*/g, ' '); }).join(',');
}

if (require.main === module) {
  var args = process.argv.slice(2);
  if (args.some(function (a) { return a !== '--stackvis'; })) {
    process.stderr.write('usage: node stackfold.js [--stackvis] < stacks.txt > stacks.folded\n');
    process.exit(2);
  }
  var stackvis = args.length > 0;
  var input = fs.readFileSync(0, 'utf8');
  var folded = fold(input);
  var keys = Object.keys(folded).sort();
  if (!keys.length) {
    process.stderr.write('stackfold: no stacks found in the input (bpftrace @[...]: N or perf script)\n');
    process.exit(1);
  }
  process.stdout.write(keys.map(function (k) { return (stackvis ? forStackvis(k) : k) + ' ' + folded[k]; }).join('\n') + '\n');
}

module.exports = { fold: fold, cleanFrame: cleanFrame };
