#!/usr/bin/env bash
# Build the USDT addon behind the labs' `dtrace-provider` (packages/usdt-provider)
# and install the lab apps' npm dependencies, which link it under that name.
# Idempotent: rebuilds only when the addon is missing or older than its sources.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PKG=$ROOT/packages/usdt-provider
ADDON=$PKG/build/Release/tracelab_usdt.node

[ "$(uname -s)" = Linux ] || { echo "20-usdt: not Linux, nothing to build"; exit 0; }

stale=0
[ -f "$ADDON" ] || stale=1
for src in "$PKG/src/usdt.c" "$PKG/binding.gyp"; do
  [ "$stale" = 1 ] || [ "$src" -nt "$ADDON" ] && stale=1
done

if [ "$stale" = 1 ]; then
  # npm's bundled node-gyp; build.js passes --nodedir so no headers are downloaded.
  NPM_GYP=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  if [ -z "${npm_config_node_gyp:-}" ] && [ -f "$NPM_GYP" ]; then export npm_config_node_gyp=$NPM_GYP; fi
  (cd "$PKG" && node scripts/build.js)
fi
if [ ! -f "$ADDON" ]; then
  echo "20-usdt: the USDT addon did not build ($ADDON missing); see the errors above" >&2
  exit 1
fi
echo "20-usdt: addon ready: $ADDON"

if [ -f "$ROOT/labs/package.json" ]; then
  # Serialized with the other npm installs of this tree (see package.json notes).
  (cd "$ROOT/labs" && flock /tmp/tracelab-npm.lock npm install --no-audit --no-fund)
fi
