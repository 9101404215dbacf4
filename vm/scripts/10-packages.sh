#!/bin/sh -eux
# OmniOS packages the lab box needs: tmux (students' terminals are tmux
# sessions), a compiler and GNU make (dtrace-provider's addon, mdb_v8), git
# (mdb_v8's sources), xz (the Node tarball) and a modern Node from the OmniOS
# extra publisher, which runs tracelab's own checker beside the students' Node 6.
: "${CHECKER_NODE_PKG:?set in vm/packer/versions.auto.pkrvars.hcl}"

release=$(uname -v | sed -n 's/^omnios-r\(15[0-9]*\).*/\1/p')
[ -n "$release" ] || { echo "10-packages: not OmniOS ($(uname -v))" >&2; exit 1; }

# The extra publisher carries node-22; a fresh install does not have it.
if ! pkg publisher extra.omnios >/dev/null 2>&1; then
    pkg set-publisher -g "https://pkg.omnios.org/r${release}/extra/" extra.omnios
fi

# pkg exits 4 when everything is already installed: that is success here.
pkg install terminal/tmux build-essential developer/versioning/git \
    compress/xz "$CHECKER_NODE_PKG" || [ $? -eq 4 ]

command -v tmux
command -v gcc
command -v gmake
