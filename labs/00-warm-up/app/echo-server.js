'use strict';
// The talk's echofile server: GET /NAME sends the file NAME from this
// directory; GET /NAME.sum sends a fingerprint of it.
//   PORT=8080 node -r dtrace-provider/http-probes echo-server.js &
//   curl -s localhost:8080/echo-server.js > /dev/null
// (-r dtrace-provider/http-probes gives node the talk's http-server-request
// and http-server-response probes, which Debian's node does not have.)
var http = require('http');
var fs = require('fs');
var path = require('path');
var crypto = require('crypto');

var PORT = Number(process.env.PORT) || 8080;

// A page to serve: about half a megabyte of text, made once at start-up.
var page = [];
for (var i = 0; i < 10000; i++) {
    page.push('line ' + i + ': the quick brown fox jumps over the lazy dog');
}
fs.writeFileSync(path.join(__dirname, 'page.txt'), page.join('\n') + '\n');

function notFound(res, e) {
    res.statusCode = 404;
    res.end(JSON.stringify({ code: e.code }) + '\n');
}

var server = http.createServer(function (req, res) {
    var name = decodeURIComponent(req.url.split('?')[0]).replace(/^\/+/, '');
    if (!name || name.indexOf('..') >= 0 || name.indexOf('/') >= 0) {
        return notFound(res, { code: 'EINVAL' });
    }
    if (/\.sum$/.test(name)) {
        return fs.readFile(path.join(__dirname, name.slice(0, -4)), function (e, data) {
            if (e) {
                return notFound(res, e);
            }
            // A fingerprint "nobody can forge": a key-derivation function
            // run over the file.
            var sum = crypto.pbkdf2Sync(data, 'tracelab', 100000, 32, 'sha256');
            res.end(sum.toString('hex') + '  ' + name.slice(0, -4) + '\n');
        });
    }
    var file = fs.createReadStream(path.join(__dirname, name));
    file.on('error', function (e) {
        notFound(res, e);
    });
    file.pipe(res);
});

server.listen(PORT, '127.0.0.1', function () {
    console.log('echo server listening on http://127.0.0.1:' + PORT);
});
