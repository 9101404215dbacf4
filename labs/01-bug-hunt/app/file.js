'use strict';
// Copies `words` to tmp/words.save and prints the md5 of what it read.
// Reproduce the bug:   node file.js && ls -l words tmp/words.save
// The two sizes should be equal. They are not.
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
            });
        });
    });
}

dtp.enable();
copyFile('words', 'words.save');
