'use strict';
// report.js: summarises a day of (generated) web access log, the way a nightly
// job would: requests per route, median latency per route, new visitors per hour.
// It is correct but slow. Reproduce:  time node app/report.js
// Runs on Node 6 and Node 20. `--loop` repeats the report forever (for profiling).

var HOURS = 24;
var RECORDS = 70000;
var ROUTES = ['/', '/login', '/search', '/cart', '/checkout', '/api/items', '/api/price', '/static/app.js'];

// A small deterministic generator so every run (and every student) sees the same log.
function makeRandom(seed) {
  var s = seed >>> 0;
  return function () {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function generateLog(n) {
  var rnd = makeRandom(42);
  var lines = [];
  for (var i = 0; i < n; i++) {
    var hour = Math.floor((i / n) * HOURS);
    var visitor = '10.' + Math.floor(rnd() * 200) + '.' + Math.floor(rnd() * 250) + '.' + Math.floor(rnd() * 3);
    var route = ROUTES[Math.floor(rnd() * rnd() * ROUTES.length)];
    var ms = Math.floor(5 + rnd() * rnd() * 400);
    lines.push(hour + ' ' + visitor + ' GET ' + route + '?id=' + Math.floor(rnd() * 1000) + ' ' + ms);
  }
  return lines;
}

// "10.3.117.2" -> one number, a compact visitor id.
function ipToInt(ip) {
  var p = ip.split('.');
  return ((Number(p[0]) * 256 + Number(p[1])) * 256 + Number(p[2])) * 256 + Number(p[3]);
}

function parseLine(line) {
  var f = line.split(' ');
  return { hour: Number(f[0]), visitor: ipToInt(f[1]), method: f[2], url: f[3], ms: Number(f[4]) };
}

function routeOf(url) {
  var q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

// Remembers every visitor seen so far today.
function Visitors() {
  this.seen = [];
}
Visitors.prototype.isNew = function (visitor) {
  for (var i = 0; i < this.seen.length; i++) {
    if (this.seen[i] === visitor) return false;
  }
  this.seen.push(visitor);
  return true;
};

function median(values) {
  var sorted = values.slice().sort(function (a, b) { return a - b; });
  return sorted[Math.floor(sorted.length / 2)];
}

function summarise(lines) {
  var visitors = new Visitors();
  var perRoute = {};
  var newPerHour = [];
  for (var h = 0; h < HOURS; h++) newPerHour.push(0);
  for (var i = 0; i < lines.length; i++) {
    var r = parseLine(lines[i]);
    var route = routeOf(r.url);
    if (!perRoute[route]) perRoute[route] = { count: 0, ms: [] };
    perRoute[route].count++;
    perRoute[route].ms.push(r.ms);
    if (visitors.isNew(r.visitor)) newPerHour[r.hour]++;
  }
  return { perRoute: perRoute, newPerHour: newPerHour, visitors: visitors.seen.length };
}

function format(summary) {
  var out = ['route            requests  median ms'];
  Object.keys(summary.perRoute).sort().forEach(function (route) {
    var s = summary.perRoute[route];
    out.push((route + '                 ').slice(0, 17) + ('        ' + s.count).slice(-8) + ('           ' + median(s.ms)).slice(-11));
  });
  out.push('visitors: ' + summary.visitors);
  out.push('new visitors per hour: ' + summary.newPerHour.join(' '));
  return out.join('\n');
}

function report() {
  return format(summarise(generateLog(RECORDS)));
}

if (process.argv.indexOf('--loop') !== -1) {
  // Keep the CPU busy so a profiler has something to sample; Ctrl-C to stop.
  var again = function () {
    report();
    setImmediate(again);
  };
  again();
} else {
  console.log(report());
}
