#!/bin/sh
# Applies lab 1's fix to a workspace copy of the lab: pause the source stream
# until it is piped, keeping the probes. The fixed app is the talk's
# file_good.js; the check runs app/file.js, so it is copied over that.
#   solutions/01-bug-hunt/solve.sh WORKSPACE/01-bug-hunt
set -eu
dest=${1:?usage: solve.sh LAB_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$dest/app/file.js" ] || { echo "solve.sh: $dest/app/file.js not found" >&2; exit 2; }
cp "$here/app/file_good.js" "$dest/app/file.js"
echo "fixed $dest/app/file.js"
