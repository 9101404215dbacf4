#!/bin/sh
# Writes the warm-up's answers, as measured on Node 20 (Linux track), into a
# workspace copy: the checker measures them again and compares.
#   solutions/00-warm-up/solve.sh WORKSPACE/00-warm-up
set -eu
dest=${1:?usage: solve.sh LAB_DIR}
mkdir -p "$dest/.tracelab"
cat > "$dest/.tracelab/answers.json" <<'JSON'
{
  "busiest-syscall": "futex",
  "slowest-url": "/page.txt.sum"
}
JSON
echo "answered in $dest/.tracelab/answers.json"
