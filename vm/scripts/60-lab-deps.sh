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

# The addon is compiled against Node 6's headers (in the tarball), by today's
# node-gyp: Node 6's own node-gyp wants Python 2, which OmniOS no longer has.
cd "$labs"
rm -rf node_modules package-lock.json
npm_config_nodedir=$node6 npm_config_target=$NODE6_VERSION npm_config_runtime=node \
    "$npm" install --no-audit --no-fund --no-package-lock \
    "restify@$RESTIFY_VERSION" "dtrace-provider@$DTRACE_PROVIDER_VERSION"

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
