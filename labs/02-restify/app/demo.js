'use strict';
// A small restify server with DTrace probes for every route and handler
// (restify creates them itself: createServer({dtrace: true})).
//   PORT=3000 node demo.js &
//   curl localhost:3000/foo/bar
// One request is slower than it should be. Which handler, and why?
var restify = require('restify');

var PORT = Number(process.env.PORT) || 3000;

// The tags every greeting carries: a fixed catalogue, with repeats.
var CATALOGUE = [];
(function () {
    var words = ['node', 'dtrace', 'mdb', 'v8', 'libuv', 'restify', 'probe',
        'stack', 'heap', 'flame', 'trace', 'kernel'];
    for (var i = 0; i < 12000; i++) {
        CATALOGUE.push(words[i % words.length] + '-' + (i % 2000));
    }
})();

function uniqueTags(list) {
    return list.filter(function (tag, i) {
        return list.indexOf(tag) === i;
    });
}

function parseName(req, res, next) {
    req.name = String(req.params.name).toLowerCase();
    next();
}

function loadTags(req, res, next) {
    req.tags = uniqueTags(CATALOGUE);
    next();
}

function greet(req, res, next) {
    res.send({ hello: req.name, tags: req.tags.length, first: req.tags[0] });
    next();
}

function ping(req, res, next) {
    res.send({ pong: true });
    next();
}

function echo(req, res, next) {
    res.send({ echo: req.query.say || '' });
    next();
}

var server = restify.createServer({ name: 'demo', dtrace: true });
// restify 5+ keeps its plugins in restify.plugins; the 4.x that Node 6 (the
// illumos track) runs has them on restify itself.
var plugins = restify.plugins || restify;
server.use(plugins.queryParser());
server.get('/foo/:name', parseName, loadTags, greet);
server.get('/ping', ping);
server.get('/echo', echo);

server.listen(PORT, '127.0.0.1', function () {
    console.log('%s listening at %s', server.name, server.url);
});
