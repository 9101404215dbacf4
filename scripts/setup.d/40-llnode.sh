#!/usr/bin/env bash
# Build the llnode lldb plugin (npm llnode 4.0.0, a dependency in labs/package.json)
# against Debian's lldb 14 (liblldb-14-dev): lab 5 and its checker read cores with it.
# Idempotent: does nothing when the plugin exists and lldb loads it. Needs only npm.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
LABS=$ROOT/labs
PLUGIN=$LABS/node_modules/llnode/llnode.so
# Debian's lldb prints a Python traceback without this (harmless, but noisy).
export PYTHONPATH=/usr/lib/llvm-14/lib/python3.11/dist-packages

[ "$(uname -s)" = Linux ] || { echo "40-llnode: not Linux; the illumos track uses mdb_v8"; exit 0; }
if ! command -v lldb >/dev/null || [ ! -d /usr/lib/llvm-14/include/lldb ]; then
  echo "40-llnode: needs lldb and liblldb-14-dev: apt-get install lldb liblldb-14-dev" >&2
  exit 1
fi

works() {
  [ -f "$PLUGIN" ] && lldb -x -b -o "plugin load $PLUGIN" -o "v8 help" 2>&1 | grep -q findjsobjects
}

if works; then
  echo "40-llnode: plugin ready: $PLUGIN"
  exit 0
fi

# npm 11 runs llnode's build scripts only because labs/package.json lists it in
# "allowScripts". Serialized with every other npm run in this tree.
if [ -d "$LABS/node_modules/llnode" ]; then
  (cd "$LABS" && flock /tmp/tracelab-npm.lock npm rebuild --foreground-scripts llnode)
else
  (cd "$LABS" && flock /tmp/tracelab-npm.lock npm install --no-audit --no-fund --foreground-scripts)
fi

if ! works; then
  echo "40-llnode: llnode did not build or lldb cannot load $PLUGIN; see the output above" >&2
  exit 1
fi
echo "40-llnode: plugin ready: $PLUGIN"
