#!/bin/sh -eux
# Node 6.17.1, the official SmartOS build: the last Node whose ustack helper
# (jstack()) and heap layout (mdb_v8) work. It becomes `node` on every PATH.
: "${NODE6_VERSION:?}" "${NODE6_URL:?}" "${NODE6_SHA256:?}"

prefix=/opt/node-v$NODE6_VERSION
if [ ! -x "$prefix/bin/node" ]; then
    tarball=/var/tmp/node-v$NODE6_VERSION-sunos-x64.tar.xz
    curl -fsSL -o "$tarball" "$NODE6_URL"
    got=$(digest -a sha256 "$tarball")
    if [ "$got" != "$NODE6_SHA256" ]; then
        echo "20-node6: $tarball has sha256 $got, expected $NODE6_SHA256" >&2
        exit 1
    fi
    rm -rf "/var/tmp/node-v$NODE6_VERSION-sunos-x64"
    (cd /var/tmp && xz -dc "$tarball" | tar xf -)
    mv "/var/tmp/node-v$NODE6_VERSION-sunos-x64" "$prefix"
    rm -f "$tarball"
fi

# /usr/bin is first on every user's PATH on OmniOS, including non-login ssh.
ln -sf "$prefix/bin/node" /usr/bin/node
ln -sf "$prefix/bin/npm" /usr/bin/npm

[ "$(/usr/bin/node -v)" = "v$NODE6_VERSION" ]
