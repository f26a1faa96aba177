#!/usr/bin/env bash
# Import throughput: cxray import vs DuckDB read_csv into a table, same CSV, same run.
# Usage: bench/import.sh [ROWS]   (default 10,000,000). Needs a release build
# (cargo build --release) and `pip install duckdb`. Writes bench/results/import.json.
# The file is written to the page cache before both runs, so both read it warm.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-10000000}"
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/cxray"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
csv="${BENCH_CSV:-$work/transactions.csv}"   # BENCH_CSV reuses a generated file
[ -f "$csv" ] || python3 bench/gen_transactions.py "$rows" "$csv"
bytes=$(stat -c %s "$csv")

"$bin" --data "$work/cxray" init >/dev/null
cxray_json=$("$bin" --data "$work/cxray" import transactions "$csv" --json)
cxray_s=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$cxray_json")

duck_s=$(python3 - "$csv" "$work/duck.db" <<'PY'
import sys, time, duckdb
csv, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
t = time.perf_counter()
con.execute(f"CREATE TABLE transactions AS SELECT * FROM read_csv('{csv}', header=true)")
con.execute("CHECKPOINT")
print(time.perf_counter() - t)
PY
)

mkdir -p bench/results
python3 - "$rows" "$bytes" "$cxray_s" "$duck_s" <<'PY' | tee bench/results/import.json
import json, platform, os, sys, duckdb
rows, size, cx, dk = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(json.dumps({
    "rows": rows, "bytes": size,
    "cxray": {"seconds": cx, "rows_per_s": rows / cx},
    "duckdb": {"version": duckdb.__version__, "seconds": dk, "rows_per_s": rows / dk},
    "cxray_over_duckdb_throughput": (rows / cx) / (rows / dk),
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}, indent=2))
PY
