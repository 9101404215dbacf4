#!/bin/sh -eux
# tracelab itself, so `tracelab check --track illumos` runs on the box. It runs
# on the modern Node from OmniOS extra; the students' `node` stays Node 6.
: "${TRACELAB_SRC:?uploaded by packer, or the repository on a synced folder}"

dest=/opt/tracelab
node=""
for n in /opt/ooce/bin/node /opt/ooce/node-*/bin/node; do
    if [ -x "$n" ]; then node=$n; break; fi
done
[ -n "$node" ] || { echo "50-tracelab: no modern node under /opt/ooce (10-packages.sh)" >&2; exit 1; }
npm=$(dirname "$node")/npm

rm -rf "$dest"
mkdir -p "$dest"
for part in package.json bin dist labs solutions packages; do
    cp -R "$TRACELAB_SRC/$part" "$dest/"
done
# Only what `tracelab check` loads: the portal's native modules are not built.
(cd "$dest" && "$npm" install --omit=dev --ignore-scripts --no-audit --no-fund)

cat >/usr/bin/tracelab <<WRAPPER
#!/bin/sh
# tracelab runs on $node; lab apps run on the students' node (Node 6).
exec $node $dest/bin/tracelab "\$@"
WRAPPER
chmod 0755 /usr/bin/tracelab
tracelab --version
