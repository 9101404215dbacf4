#!/bin/sh
# rss.sh  print a process's resident size (VmRSS) once a second, like the talk's prstat.
#
# USAGE: sh linux/rss.sh PID
#
# EXAMPLE OUTPUT (app/leak2.js at its default 50 requests/s):
#   time      VmRSS kB
#   10:02:01     48312
#   10:02:02     49688
#   10:02:03     51020
# RSS climbs ~1.3 MB a second and never comes back down: memory is kept.
set -eu
[ $# -eq 1 ] || { echo "usage: rss.sh PID" >&2; exit 2; }
printf '%-8s  %8s\n' time 'VmRSS kB'
while [ -r "/proc/$1/status" ]; do
  printf '%-8s  %8s\n' "$(date +%T)" "$(awk '/^VmRSS/ {print $2}' "/proc/$1/status")"
  sleep 1
done
