#!/bin/sh -eux
# The lab apps' dependencies at versions that run on Node 6, with the real
# dtrace-provider (the Linux track's package.json points at tracelab's own USDT
# addon, and restify 11 needs Node >= 10). Then the student's workspace.
: "${NODE6_VERSION:?}" "${RESTIFY_VERSION:?}" "${DTRACE_PROVIDER_VERSION:?}" "${STACKVIS_VERSION:?}"

node6=/opt/node-v$NODE6_VERSION
labs=/opt/tracelab/labs
npm=""
for n in /opt/ooce/bin/npm /opt/ooce/node-*/bin/npm; do
    if [ -x "$n" ]; then npm=$n; break; fi
done
[ -n "$npm" ] || { echo "60-lab-deps: no modern npm under /opt/ooce" >&2; exit 1; }

# The box's own labs/package.json: the Linux track's copy also lists llnode
# (lldb's plugin: its preinstall exits 1 on SunOS, and the box has mdb_v8) and
# stackvis (installed globally below), and points dtrace-provider at tracelab's
# USDT addon. `npm install` installs everything a package.json lists, so the
# copy's is replaced, not added to; the student's workspace copy gets this one.
cd "$labs"
rm -rf node_modules package-lock.json
cat >package.json <<JSON
{
  "name": "tracelab-labs",
  "version": "0.1.0",
  "private": true,
  "type": "commonjs",
  "description": "Dependencies of the lab apps on the illumos box (Node 6): written by vm/scripts/60-lab-deps.sh",
  "dependencies": {
    "dtrace-provider": "$DTRACE_PROVIDER_VERSION",
    "restify": "$RESTIFY_VERSION"
  }
}
JSON

# The addon is compiled against Node 6's headers (in the tarball), by today's
# node-gyp: Node 6's own node-gyp wants Python 2, which OmniOS no longer has.
npm_config_nodedir=$node6 npm_config_target=$NODE6_VERSION npm_config_runtime=node \
    "$npm" install --no-audit --no-fund --no-package-lock

[ ! -e node_modules/llnode ] || { echo "60-lab-deps: llnode got installed (it does not build on SunOS)" >&2; exit 1; }

# dtrace-provider's install script swallows build failures; fail here instead.
find node_modules/dtrace-provider -name 'DTraceProviderBindings.node' | grep -q . ||
    { echo "60-lab-deps: dtrace-provider built no addon" >&2; exit 1; }

# stackvis renders the flame graphs of lab 3 (pure JavaScript).
"$node6/bin/npm" install -g "stackvis@$STACKVIS_VERSION"
ln -sf "$node6/bin/stackvis" /usr/bin/stackvis

# The student's workspace: a copy of labs/, theirs to break and fix.
home=/export/home/student
rm -rf "$home/labs"
cp -R "$labs" "$home/labs"
chown -R student "$home/labs"
