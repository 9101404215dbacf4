'use strict';
// leak2.js: a tiny page renderer that caches pages it has rendered. Its memory
// stays flat: the cache holds one page per route.
// Reproduce:  node app/leak2.js &   then watch VmRSS in /proc/$!/status
// Options: --rate N (requests/s, default 50), --requests N (then exit), --max-cache-mb N.
// Runs on Node 6 and Node 20.

var ROUTES = ['/', '/products', '/products/42', '/cart', '/about', '/help'];

function option(name, dflt) {
  var i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
}
var RATE = option('--rate', 50);
var REQUESTS = option('--requests', Infinity);

// Rendered pages, so a popular page is rendered once.
var pageCache = {};

function renderPage(route, user) {
  var rows = [];
  for (var i = 0; i < 200; i++) {
    rows.push('<tr><td>' + route + '</td><td>' + i + '</td><td>' + user + '</td></tr>');
  }
  return { route: route, html: '<table>' + rows.join('\n') + '</table>', renderedAt: Date.now() };
}

// The fix: every page is rendered for 'guest' from the route alone, so that is the
// key. Keying by the full URL (with its per-request ?session=) and the user made
// every request a cache miss that was kept forever.
function cacheKey(req) {
  return req.url.split('?')[0];
}

function servePage(req) {
  var key = cacheKey(req);
  var page = pageCache[key];
  if (!page) {
    page = renderPage(req.url.split('?')[0], 'guest');
    if (roomFor(page)) pageCache[key] = page;
  }
  return page.html.length;
}

var served = 0;
var bytes = 0;
function tick() {
  // Requests arrive in small batches: setInterval cannot fire 1000 times a second.
  var batch = Math.max(1, Math.round(RATE / 50));
  for (var b = 0; b < batch && served < REQUESTS; b++) {
    var route = ROUTES[served % ROUTES.length];
    bytes += servePage({ url: route + '?session=' + served, user: 'user' + (served % 97) });
    served++;
  }
  if (served >= REQUESTS) {
    clearInterval(timer);
    console.log('served ' + served + ' requests, ' + bytes + ' bytes');
  }
}

console.log('STARTING pid ' + process.pid);
var timer = setInterval(tick, 20);

// Not part of the app: a guard for the workshop machine. Past --max-cache-mb of
// cached HTML no more pages are cached (the app keeps serving), so a run left
// going cannot grow until node runs out of heap or the machine out of memory.
var MAX_CACHE_BYTES = option('--max-cache-mb', 300) * 1048576;
var cachedBytes = 0;
var cacheFull = false;
function roomFor(page) {
  if (cacheFull) return false;
  if (cachedBytes + page.html.length > MAX_CACHE_BYTES) {
    cacheFull = true;
    console.error('leak2.js: ' + Math.round(cachedBytes / 1048576) + ' MB of pages cached after ' + served +
      ' requests: caching no more (--max-cache-mb), so this demo cannot exhaust memory; restart it to watch it grow again');
    return false;
  }
  cachedBytes += page.html.length;
  return true;
}
