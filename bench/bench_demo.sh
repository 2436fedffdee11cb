#!/usr/bin/env bash
# Time `make demo` on a fresh clone: from the command to a Dagster UI that answers, with every
# mart materialised. Usage: bench/bench_demo.sh [events]   (default 1,000,000)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/wfa-demo-XXXX)"
events="${1:-1000000}"
ui_port=3300
api_port=8300
db_port=54350
if curl -sf "http://127.0.0.1:$ui_port/server_info" >/dev/null 2>&1; then
  echo "port $ui_port already answers: stop what runs there first"; exit 1
fi
git clone --quiet "$repo" "$work/clone"
cd "$work/clone"
start=$(date +%s.%N)
# In a session of its own, so that everything `make demo` starts (UI, daemon, code servers,
# API) stops with it.
setsid bash -c "WFA_PORT=$db_port make demo DEMO_EVENTS=$events UI_PORT=$ui_port API_PORT=$api_port" \
  >"$work/demo.log" 2>&1 &
demo_pid=$!
stop_demo() {
  kill -- -"$demo_pid" 2>/dev/null || true
  sleep 3
  kill -9 -- -"$demo_pid" 2>/dev/null || true
  WFA_PORT=$db_port .venv/bin/wfa db down >/dev/null 2>&1 || true
  cd / && rm -rf "$work"
}
trap stop_demo EXIT
until curl -sf "http://127.0.0.1:$ui_port/server_info" >/dev/null 2>&1; do
  if ! kill -0 $demo_pid 2>/dev/null; then echo "make demo stopped early:"; tail -40 "$work/demo.log"; exit 1; fi
  sleep 1
done
end=$(date +%s.%N)
grep -E "^run .*(succeeded|FAILED)|assets materialised|checks:" "$work/demo.log" || true
printf 'make demo on a fresh clone: UI up with materialised marts after %.0f s (%s events)\n' \
  "$(awk "BEGIN{print $end - $start}")" "$events"
for _ in $(seq 60); do
  curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null 2>&1 && echo "API ready on :$api_port" \
  || echo "API not ready on :$api_port"
grep -E "^wfa_" "$work/demo.log" | sed -E 's/^(wfa_[a-z0-9]+_).*/\1… (API key printed)/' || true
