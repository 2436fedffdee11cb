#!/usr/bin/env bash
# Time `make demo` on a fresh clone: from the command to a Dagster UI that answers, with every
# mart materialised. Usage: bench/bench_demo.sh [events]   (default 1,000,000)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/wfa-demo-XXXX)"
events="${1:-1000000}"
ui_port=3300
db_port=54350
git clone --quiet "$repo" "$work/clone"
cd "$work/clone"
start=$(date +%s.%N)
( WFA_PORT=$db_port make demo DEMO_EVENTS="$events" UI_PORT=$ui_port >"$work/demo.log" 2>&1 ) &
demo_pid=$!
until curl -sf "http://127.0.0.1:$ui_port/server_info" >/dev/null 2>&1; do
  if ! kill -0 $demo_pid 2>/dev/null; then echo "make demo stopped early:"; tail -40 "$work/demo.log"; exit 1; fi
  sleep 1
done
end=$(date +%s.%N)
grep -E "^run .*(succeeded|FAILED)|assets materialised|checks:" "$work/demo.log" || true
printf 'make demo on a fresh clone: UI up with materialised marts after %.0f s (%s events)\n' \
  "$(awk "BEGIN{print $end - $start}")" "$events"
pkill -f "dagster.*-p $ui_port" || true
kill $demo_pid 2>/dev/null || true
sleep 2
WFA_PORT=$db_port .venv/bin/wfa db down || true
rm -rf "$work"
