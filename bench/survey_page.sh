#!/usr/bin/env bash
# The survey page under load: p50/p95/p99 of GET /s/{token} (a personal link) and
# GET /s/open/{public_id} (the anonymous form, with a fresh signed nonce) at 200
# concurrent respondents on loopback, with `hey` (Debian package hey).
# Usage: bench/survey_page.sh [REQUESTS] (default 20,000 per page). Needs a release build
# (cargo build --release). Writes bench/results/survey_page.json.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-20000}"
concurrency=200
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/cxray"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
data="$work/data"
cx() { "$bin" --data "$data" "$@"; }

# 1,000 customers with a check-in two days ago, a survey about it, their links.
python3 - "$work" <<'PY'
import sys, datetime
work = sys.argv[1]
at = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
with open(f"{work}/customers.csv", "w") as f:
    f.write("customer_id,language\n")
    f.writelines(f"c{i},{'de' if i % 2 else 'en'}\n" for i in range(1000))
with open(f"{work}/interactions.csv", "w") as f:
    f.write("customer_id,at,touchpoint\n")
    f.writelines(f"c{i},{at},check_in\n" for i in range(1000))
PY
cx init >/dev/null
cx import customers "$work/customers.csv" >/dev/null
cx import interactions "$work/interactions.csv" >/dev/null
cx survey add --name "After check-in" --questions nps,grade --comment --languages en,de \
  --touchpoint check_in >/dev/null
cx survey policy --holdout-share 0 >/dev/null
cx survey rule add --name "after check-in" --survey "After check-in" --delay-hours 0 \
  --all-history >/dev/null
cx survey scan >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cx survey links --out "$work/links.csv" --base-url "http://127.0.0.1:$port" >/dev/null
personal=$(sed -n 2p "$work/links.csv" | cut -d, -f3)
open_id=$(cx survey show "After check-in" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["survey"]["public_id"])')

cx serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done

run() { # URL → hey's report
  hey -n "$requests" -c "$concurrency" "$1"
}
run "$personal" >"$work/personal.txt"
run "http://127.0.0.1:$port/s/open/$open_id" >"$work/open.txt"
bytes=$(curl -s "$personal" | wc -c)

mkdir -p bench/results
python3 - "$work" "$requests" "$concurrency" "$bytes" <<'PY' | tee bench/results/survey_page.json
import json, os, platform, re, sys
work, requests, concurrency, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def read(name):
    text = open(f"{work}/{name}.txt").read()
    pct = {int(p): float(s) * 1000 for p, s in re.findall(r"(\d+)%+ in ([\d.]+) secs", text)}
    statuses = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", text))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    return {"p50_ms": pct.get(50), "p95_ms": pct.get(95), "p99_ms": pct.get(99),
            "requests_per_s": rps, "statuses": statuses}
print(json.dumps({
    "requests": requests, "concurrency": concurrency, "page_bytes": size,
    "personal": read("personal"), "anonymous": read("open"),
    "machine": {"cpus": os.cpu_count(), "system": platform.platform()},
    "method": "cxray serve (release) on loopback, hey -n REQUESTS -c 200 per page, "
              "client and server on the same machine; latency as the client sees it",
}, indent=2))
PY
