#!/usr/bin/env bash
# tracelab set-up: one command for a fresh Debian 12 machine.
#
#   ./setup.sh serve [tracelab serve options]   install what the labs need, build, start the portal
#   ./setup.sh test                             install what the tests need too, build, run all tests
#   ./setup.sh deps                             install and build only
#
# As root it installs Debian packages with apt-get; as another user it names the
# missing ones and the command that installs them. Extra steps live in
# scripts/setup.d/*.sh (run in name order, each sourced with $MODE set).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
MODE=${1:-serve}
[ $# -gt 0 ] && shift
case "$MODE" in
  serve|test|deps) ;;
  -h|--help|help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown mode '$MODE' (serve | test | deps)" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# What the labs need on the local Linux host (the embedded default).
# bubblewrap sandboxes students' shells in class mode; openssh-client reaches ssh lab hosts.
PKGS=(tmux bpftrace linux-perf strace gdb lldb liblldb-14-dev systemtap-sdt-dev
      procps python3 make g++ git ca-certificates curl bubblewrap openssh-client)
# What the tests need besides: a browser, an sshd for the ssh backend, validators.
[ "$MODE" = test ] && PKGS+=(chromium openssh-server shellcheck packer vagrant)

# Node.js 20+ with npm is the one prerequisite setup.sh does not install (Debian 12's own
# nodejs is 18, too old): take it from NodeSource or nodejs.org, as the message says.
need_node() {
  local arch
  case "$(uname -m)" in aarch64|arm64) arch=arm64 ;; *) arch=x64 ;; esac
  echo "setup.sh: $1; tracelab needs Node.js 20 or newer with npm. Install it as root, either:" >&2
  echo "  NodeSource (apt):  curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs" >&2
  echo "  nodejs.org:        curl -fsSL https://nodejs.org/dist/v20.18.0/node-v20.18.0-linux-$arch.tar.xz | tar -xJ -C /usr/local --strip-components=1" >&2
  echo "then check 'node --version' (v20 or later; open a new shell if it still says v18) and run $0 again." >&2
  exit 1
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  need_node "node: $(command -v node || echo missing), npm: $(command -v npm || echo missing)"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || need_node "Node.js $(node --version) is too old"

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "          install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Tracing needs tracefs (bpftrace tracepoints and uprobes). Mount it once per boot.
if [ ! -e /sys/kernel/tracing/events ]; then
  if [ "$(id -u)" = 0 ]; then
    say "mounting tracefs on /sys/kernel/tracing"
    mount -t tracefs nodev /sys/kernel/tracing || echo "setup.sh: could not mount tracefs; tracing labs will say so" >&2
  else
    echo "setup.sh: tracefs is not mounted; as root run: mount -t tracefs nodev /sys/kernel/tracing" >&2
  fi
fi

say "installing npm dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  say "setup step: ${step#scripts/setup.d/}"
  # shellcheck disable=SC1090
  MODE=$MODE ROOT=$ROOT bash "$step"
done

say "building"
npm run build

# What a learner would otherwise meet one check at a time: is every lab tool working?
say "checking this machine (tracelab doctor)"
"$ROOT/bin/tracelab" doctor || echo "setup.sh: some lab tools are not ready (see the fixes above); continuing" >&2

case "$MODE" in
  serve) exec "$ROOT/bin/tracelab" serve "$@" ;;
  test) exec npm test ;;
  deps) say "done" ;;
esac
