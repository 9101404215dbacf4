#!/bin/sh
# Lay the fixed leak2.js over a copy of labs/04-memory-leak: solve.sh DIR
set -eu
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: solve.sh LAB_COPY_DIR" >&2; exit 2; }
cp "$(dirname "$0")/app/leak2.js" "$1/app/leak2.js"
