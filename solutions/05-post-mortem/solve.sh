#!/bin/sh
# Answer lab 5's questions for a copy of labs/05-post-mortem: solve.sh DIR
# The instructor's shortcut: the shop's contents come from app/shop.js's own
# generator (seeded by host and directory), read here without a core. Students
# find the same values with gcore + lldb/llnode (or mdb); the checker does that,
# with the steps' commands, and compares. So this script does not prove the
# steps work (the checker's own core reading, judged against these values, does),
# and the answers are not core-only: see labs/05-post-mortem/check/index.ts.
set -eu
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: solve.sh LAB_COPY_DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
answers=$(node -e '
  var path = require("path");
  var m = require(path.join(process.argv[1], "app", "shop.js"));
  var shop = m.openShop(m.seedText(path.join(process.argv[1], "app")));
  var all = shop.carts.concat(shop.customers, shop.promotions);
  var holder = all.filter(function (o) { return o.coupon; })[0];
  console.log(shop.orders.length, holder.coupon.code, holder.constructor.name);
' "$dir")
set -- $answers
"$root/bin/tracelab" answer 05-post-mortem order-count "$1" --dir "$dir"
"$root/bin/tracelab" answer 05-post-mortem coupon-code "$2" --dir "$dir"
"$root/bin/tracelab" answer 05-post-mortem coupon-holder "$3" --dir "$dir"
