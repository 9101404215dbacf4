#!/usr/bin/env bash
# Put `tracelab` on PATH: as root, link $BIN_DIR/tracelab (default /usr/local/bin) to
# this clone's bin/tracelab. Idempotent; a link to another clone is replaced (the clone
# set up last wins, and says so); a file that is not a link is left alone.
# Not root: says how, and that ./bin/tracelab works as it is.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN_DIR=${TRACELAB_BIN_DIR:-/usr/local/bin}
target=$ROOT/bin/tracelab
link=$BIN_DIR/tracelab

if [ "$(readlink "$link" 2>/dev/null || true)" = "$target" ]; then
  echo "50-path: $link -> $target (already)"
  exit 0
fi
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "50-path: $link exists and is not a link; left alone: run $target instead" >&2
  exit 0
fi
if [ ! -w "$BIN_DIR" ]; then
  echo "50-path: cannot write $BIN_DIR; run $target, or as root: ln -sfn $target $link" >&2
  exit 0
fi
if [ -L "$link" ]; then echo "50-path: $link pointed to $(readlink "$link"); now -> $target"
else echo "50-path: $link -> $target"; fi
ln -sfn "$target" "$link"
