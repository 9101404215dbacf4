'use strict';
// Writes `words`: a word list of about 2 MB, the same bytes on every machine, so
// every student (and the checker) copies exactly the same file.
//   node make-words.js [FILE]
var fs = require('fs');

var out = process.argv[2] || 'words';
var syll = ['ba', 'ke', 'tri', 'lo', 'mun', 'de', 'sa', 'vor', 'pi', 'qua',
    'ne', 'rho', 'gu', 'ty', 'xel', 'fo', 'zan', 'ci', 'mar', 'wy'];
var seed = 42;
function rand(n) {
    // A tiny LCG: deterministic, and the same on Node 6 and Node 20.
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
}
var lines = [];
var size = 0;
var i, w, k, parts;
for (i = 0; size < 2200000; i++) {
    parts = 2 + rand(3);
    w = '';
    for (k = 0; k < parts; k++) {
        w += syll[rand(syll.length)];
    }
    lines.push(w);
    size += w.length + 1;
}
fs.writeFileSync(out, lines.join('\n') + '\n');
console.log(out + ': ' + lines.length + ' words, ' + size + ' bytes');
