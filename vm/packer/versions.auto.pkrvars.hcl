# Pinned inputs of the illumos lab box. One place: Packer loads this file
# automatically (*.auto.pkrvars.hcl), the Vagrantfile reads it for the same
# values when it provisions a plain OmniOS box, and the provisioning scripts get
# them as environment variables. Change a version here and nowhere else.

# OmniOS r151054 LTS installer ISO ("r" respin). Checksum as published with the
# ISO and pinned by the bento OmniOS templates; not downloaded or re-hashed on
# the machine this file was written on (no network there).
omnios_iso_url      = "https://downloads.omnios.org/media/r151054/omnios-r151054r.iso"
omnios_iso_checksum = "sha256:f91796378671640fb253bfc431d335d59cdc6ed698abbc6da16148921b0a7a83"

# Node 6.17.1, the last Node where jstack() and mdb_v8 work. Official SmartOS
# (sunos-x64) build; sha256 from the release's signed SHASUMS256.txt.
node6_version = "6.17.1"
node6_url     = "https://nodejs.org/dist/v6.17.1/node-v6.17.1-sunos-x64.tar.xz"
node6_sha256  = "01c5bace398229a61bae32e98156d7b6d9a9d966074f232d03dbe3bb34fe1344"

# mdb_v8 (::load v8), built from source at a pinned commit (v1.3.x line, which
# supports Node 6 heaps). Installed as /usr/lib/mdb/proc/amd64/v8.so.
mdb_v8_repo   = "https://github.com/TritonDataCenter/mdb_v8.git"
mdb_v8_commit = "28f2bface843503eaf0805a12d7c699e9d854bf5"

# Lab app dependencies at versions that run on Node 6 (restify 11, which the
# Linux track uses, needs Node >= 10). dtrace-provider 0.8.8 is the real one here.
restify_version         = "4.3.4"
dtrace_provider_version = "0.8.8"
stackvis_version        = "0.5.0"

# The Node that runs tracelab itself (the checker) beside Node 6: OmniOS extra.
checker_node_pkg = "ooce/runtime/node-22"
