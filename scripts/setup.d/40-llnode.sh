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

# lldb's output is read whole before grep: lldb 14 spins at 100% CPU, forever, when
# the reader of its output goes away (grep -q exits at the first match).
works() {
  local out
  [ -f "$PLUGIN" ] || return 1
  out=$(lldb -x -b -o "plugin load $PLUGIN" -o "v8 help" </dev/null 2>&1) || true
  grep -q findjsobjects <<<"$out"
}

# lldb loads a core ~4 s faster with a copy of node without its DWARF (why: the top of
# src/check/llnode.ts). Checks make it on first use; made here so that the first check
# is not the slow one. The name must be lldbExecutable()'s in src/check/llnode.ts:
# node-<first 8 hex of sha1(node's real path)>-<size>-<mtime in s>.
node_copy() {
  local cache=${TRACELAB_LLNODE_CACHE:-/var/cache/tracelab/llnode} real tag name
  command -v objcopy >/dev/null || { echo "40-llnode: no objcopy (binutils): checks read node's debug info (slower)"; return 0; }
  real=$(readlink -f "$(command -v node)")
  tag=$(printf %s "$real" | sha1sum | cut -c1-8)
  name="node-$tag-$(stat -c %s "$real")-$(stat -c %Y "$real")"
  if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    echo "40-llnode: $cache is not writable: each check copies node itself"
    return 0
  fi
  if [ ! -f "$cache/$name" ]; then
    if ! objcopy --strip-debug "$real" "$cache/.$name.$$"; then
      rm -f "$cache/.$name.$$"
      echo "40-llnode: objcopy failed: checks will try again, or read node's debug info (slower)"
      return 0
    fi
    mv "$cache/.$name.$$" "$cache/$name"
    find "$cache" -maxdepth 1 -name "node-$tag-*" ! -name "$name" -delete
  fi
  echo "40-llnode: node for lldb: $cache/$name"
}

if works; then
  echo "40-llnode: plugin ready: $PLUGIN"
  node_copy
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
node_copy
