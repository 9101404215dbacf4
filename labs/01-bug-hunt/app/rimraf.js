'use strict';
// A small `rm -rf` like the npm rimraf module the talk's file.js used: try to
// unlink the path; if it is a directory, remove what is inside, then the
// directory. Each step is a separate asynchronous file system call.
var fs = require('fs');
var path = require('path');

function rimraf(p, cb) {
    fs.unlink(p, function (err) {
        if (!err || err.code === 'ENOENT') {
            return cb(null);
        }
        if (err.code !== 'EISDIR' && err.code !== 'EPERM') {
            return cb(err);
        }
        fs.readdir(p, function (err2, names) {
            if (err2) {
                return cb(err2);
            }
            var left = names.length;
            if (left === 0) {
                return fs.rmdir(p, cb);
            }
            names.forEach(function (name) {
                rimraf(path.join(p, name), function (err3) {
                    if (err3) {
                        left = -1;
                        return cb(err3);
                    }
                    if (--left === 0) {
                        fs.rmdir(p, cb);
                    }
                });
            });
        });
    });
}

module.exports = rimraf;
