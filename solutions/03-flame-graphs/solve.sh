#!/bin/sh
# Lay the fixed report.js over a copy of labs/03-flame-graphs: solve.sh DIR
set -eu
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: solve.sh LAB_COPY_DIR" >&2; exit 2; }
cp "$(dirname "$0")/app/report.js" "$1/app/report.js"
