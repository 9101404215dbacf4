#!/bin/sh -eux
# The image works or the build fails. Each check here is something the talk's
# labs rely on and that has failed silently before.
: "${NODE6_VERSION:?}"

work=/var/tmp/tracelab-verify
rm -rf "$work"
mkdir -p "$work"
labs=/opt/tracelab/labs
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work" "$labs/.verify"
}
trap cleanup EXIT

# 1. The students' node is Node 6, for a non-login shell of the student too.
[ "$(su student -c 'node -v')" = "v$NODE6_VERSION" ]

# 2. The student can use DTrace without root.
su student -c "dtrace -q -n 'BEGIN { exit(0); }'"

# 3. dtrace-provider's probes really exist (its install hides build failures).
mkdir -p "$labs/.verify"
cat >"$labs/.verify/probe.js" <<'JS'
var d = require('dtrace-provider');
var p = d.createDTraceProvider('tlverify');
p.addProbe('ping', 'int');
p.enable();
setInterval(function () { p.fire('ping', function () { return [1]; }); }, 50);
JS
node "$labs/.verify/probe.js" &
probe_pid=$!
pids="$pids $probe_pid"
sleep 3
dtrace -l -P "tlverify$probe_pid" | tee "$work/probes"
grep -q ' ping$' "$work/probes"

# 4. jstack() shows JavaScript frames (the ustack helper of Node 6).
cat >"$work/busy.js" <<'JS'
function tracelabSpin() { var x = 0; for (var i = 0; i < 1e6; i++) { x += i; } return x; }
setInterval(tracelabSpin, 1);
JS
# shellcheck disable=SC2016  # $target is D's (the -c process), not the shell's
dtrace -q -n 'profile-97 /pid == $target/ { @[jstack(40, 4000)] = count(); } tick-4s { exit(0); }' \
    -c "node $work/busy.js" >"$work/jstack" 2>&1 || true
grep -q 'tracelabSpin at .*busy.js line' "$work/jstack" ||
    { echo "90-verify: jstack() showed no JavaScript frames:" >&2; head -40 "$work/jstack" >&2; exit 1; }

# 5. ::load v8 works in mdb, and ::findjsobjects finds a planted constructor.
cat >"$work/heap.js" <<'JS'
function TracelabMarker(n) { this.marker = 'tracelab-verify'; this.n = n; }
var keep = [];
for (var i = 0; i < 100; i++) keep.push(new TracelabMarker(i));
setInterval(function () { return keep.length; }, 1000);
JS
node "$work/heap.js" &
heap_pid=$!
pids="$pids $heap_pid"
sleep 2
gcore -o "$work/core" "$heap_pid"
printf '::load v8\n::findjsobjects\n' | mdb "$work/core.$heap_pid" >"$work/mdb" 2>&1
grep -q '#OBJECTS' "$work/mdb"
grep -q 'TracelabMarker' "$work/mdb" ||
    { echo "90-verify: mdb_v8 did not find TracelabMarker:" >&2; head -40 "$work/mdb" >&2; exit 1; }

# 6. Every lab with an illumos track: its checker fails on the buggy app and
#    passes on the solved copy, as the student. A solution is applied as the
#    test suite does: its solve.sh if it has one (some write answers with
#    bin/tracelab, which needs the modern node first on PATH), else laid over.
#    The checkers start lab apps with $TRACELAB_NODE6 (this Node 6).
node6=/opt/node-v$NODE6_VERSION/bin/node
modern=""
for n in /opt/ooce/bin/node /opt/ooce/node-*/bin/node; do
    if [ -x "$n" ]; then modern=$(dirname "$n"); break; fi
done
[ -n "$modern" ] || { echo "90-verify: no modern node under /opt/ooce" >&2; exit 1; }
# 00-warm-up's solve.sh writes answers measured on Linux (busiest-syscall
# futex); on illumos the trace names other calls, so there its solved copy must
# be judged (exit 0 or 1), not necessarily pass.
linux_answers="00-warm-up"
for labdir in "$labs"/[0-9][0-9]-*; do
    id=$(basename "$labdir")
    [ -d "$labdir/check" ] || { echo "90-verify: $id has no checker, skipped"; continue; }
    grep -q '"illumos"' "$labdir/lab.json" || { echo "90-verify: $id has no illumos track, skipped"; continue; }

    buggy=$work/$id-buggy
    fixed=$work/$id-fixed
    cp -R "$labdir" "$buggy"
    cp -R "$labdir" "$fixed"
    sol=/opt/tracelab/solutions/$id
    if [ -x "$sol/solve.sh" ]; then
        PATH="$modern:$PATH" "$sol/solve.sh" "$fixed"
    elif [ -d "$sol" ]; then
        cp -R "$sol/." "$fixed/"
    fi
    chown -R student "$buggy" "$fixed"

    rc=0
    su student -c "TRACELAB_NODE6=$node6 tracelab check $id --track illumos --dir $buggy" || rc=$?
    [ "$rc" -eq 1 ] || { echo "90-verify: $id checker on the buggy app exited $rc, expected 1 (fail)" >&2; exit 1; }
    rc=0
    su student -c "TRACELAB_NODE6=$node6 tracelab check $id --track illumos --dir $fixed" || rc=$?
    case " $linux_answers " in
    *" $id "*)
        [ "$rc" -le 1 ] || { echo "90-verify: $id checker on the solved copy exited $rc, expected 0 or 1" >&2; exit 1; }
        echo "90-verify: $id judged the Linux answers with exit $rc (not required to pass on illumos)" ;;
    *)
        [ "$rc" -eq 0 ] || { echo "90-verify: $id checker failed on the fixed app (exit $rc)" >&2; exit 1; } ;;
    esac
done
echo "90-verify: all checks passed"
