'use strict';
// Copies `words` to tmp/words.save and prints the md5 of what it read.
// The talk's file_good.js: file.js fixed. The source stream is paused until it
// is piped, so no chunk is hashed (and dropped) before the destination is
// listening. solve.sh copies it over a workspace's app/file.js (the check
// runs file.js); in app/ it also runs as it is:
//   node file_good.js && ls -l words tmp/words.save && md5sum words tmp/words.save
var fs = require('fs');
var crypto = require('crypto');
var rimraf = require('./rimraf');
var d = require('dtrace-provider');

var dtp = d.createDTraceProvider('fileapp');
dtp.addProbe('rimraf', 'char *');
dtp.addProbe('srcstream', 'char *');
dtp.addProbe('chksum', 'char *', 'int');

function copyFile(from, to) {
    var md5sum = crypto.createHash('md5');
    var srcstream = fs.createReadStream(from);
    var i = 0;

    srcstream.on('data', function (chunk) {
        i++;
        dtp.fire('chksum', function () {
            return ['md5sum.update(chunk)', i];
        });
        md5sum.update(chunk);
    });
    // A 'data' listener starts the flow at once; hold it until the pipe exists.
    srcstream.pause();
    srcstream.on('end', function () {
        console.log('tmp/' + to + ' md5sum = ' + md5sum.digest('hex'));
    });

    dtp.fire('rimraf', function () {
        return ['calling rimraf'];
    });
    rimraf('tmp', function (err) {
        if (err) {
            throw err;
        }
        fs.mkdir('tmp', function (err2) {
            if (err2) {
                throw err2;
            }
            fs.stat(from, function (err3, st) {
                if (err3) {
                    throw err3;
                }
                var toStream = fs.createWriteStream('tmp/' + to, { mode: st.mode });
                dtp.fire('srcstream', function () {
                    return ['srcstream.pipe(toStream);'];
                });
                srcstream.pipe(toStream);
                srcstream.resume();
            });
        });
    });
}

dtp.enable();
copyFile('words', 'words.save');
