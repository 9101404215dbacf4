#!/bin/sh
# Applies lab 2's fix to a workspace copy: loadTags reuses tags computed once,
# with a Set, instead of an O(n^2) indexOf scan on every request.
#   solutions/02-restify/solve.sh WORKSPACE/02-restify
set -eu
dest=${1:?usage: solve.sh LAB_DIR}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$dest/app/demo.js" ] || { echo "solve.sh: $dest/app/demo.js not found" >&2; exit 2; }
cp "$here/app/demo.js" "$dest/app/demo.js"
echo "fixed $dest/app/demo.js"
