#!/bin/sh -eux
# mdb_v8, so `::load v8` works in mdb: OmniOS does not ship it. Built from a
# pinned commit and installed where mdb looks for process-target modules.
: "${MDB_V8_REPO:?}" "${MDB_V8_COMMIT:?}"

dest=/usr/lib/mdb/proc/amd64/v8.so
src=/var/tmp/mdb_v8

rm -rf "$src"
git clone --quiet "$MDB_V8_REPO" "$src"
cd "$src"
git checkout --quiet "$MDB_V8_COMMIT"
# -Werror turns today's gcc warnings on 2018 code into a failed build.
sed 's/-Werror//' GNUmakefile >GNUmakefile.tracelab
gmake -f GNUmakefile.tracelab

so=$(find build -name mdb_v8.so -path '*amd64*' | head -n 1)
[ -n "$so" ] || { echo "30-mdb-v8: build produced no amd64 mdb_v8.so" >&2; exit 1; }
cp "$so" "$dest"
chmod 0555 "$dest"
cd /
rm -rf "$src"
