#!/usr/bin/env bash
# Installs the lab apps' npm dependencies once, in labs/node_modules (restify, and
# dtrace-provider = this repo's USDT addon, linked from packages/usdt-provider,
# which 20-usdt.sh has built). Apps in a workspace copy find them through NODE_PATH.
# Idempotent: npm install only changes what is missing or out of date.
set -euo pipefail
cd "${ROOT:?ROOT is set by setup.sh}/labs"
# Serialized with anything else running npm in this tree.
flock /tmp/tracelab-npm.lock npm install --no-audit --no-fund
for pkg in dtrace-provider restify; do
  if [ ! -f "node_modules/$pkg/package.json" ]; then
    echo "30-labs-deps: labs/node_modules/$pkg is missing after npm install" >&2
    exit 1
  fi
done
if [ ! -f node_modules/dtrace-provider/build/Release/tracelab_usdt.node ]; then
  echo "30-labs-deps: the USDT addon is not built (labs/node_modules/dtrace-provider/build/Release/tracelab_usdt.node); app probes will not fire" >&2
  exit 1
fi
