#!/usr/bin/env python3
"""Table layout: NPS by touchpoint x month after many small commits, before and after
`cxray optimize`.

Usage: bench/optimize.py [CUSTOMERS] [COMMITS] [RUNS]   (defaults 50000, 1000, 5)
Needs a release build (CXRAY_BIN or CARGO_TARGET_DIR locate it); Python standard library
only.

Builds the demo world (`cxray demo --customers CUSTOMERS --no-serve`) in a temporary
folder, then makes COMMITS small commits into `responses`, each a `cxray import` of a
5-row CSV of NPS answers at the demo's touchpoints in its months: one append commit with
one small Parquet file, the layout the ingestion API's commits leave (the API commits a
table's batches at most every 2 s, so 1,000 of its commits would take over half an hour).
Then, before and after `cxray optimize`, times `cxray metrics nps --by touchpoint,month
--json` (one warm-up, then the median of RUNS) and `cxray tables --json` (which reads
every table's Delta log), records each table's files and bytes, and checks that the
figures are identical. The machine's 1-minute load average when each measurement starts is
recorded (other work on the machine slows the timings). Writes
bench/results/optimize.json.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CXRAY = os.environ.get("CXRAY_BIN", str(TARGET / "release" / "cxray"))

customers = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
commits = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5


def cxray(data, *args):
    return subprocess.run([CXRAY, "--data", str(data), *args], check=True,
                          capture_output=True, text=True).stdout


def timed(data, *args):
    """One warm-up, then RUNS runs: the median wall time and the (last) output."""
    cxray(data, *args)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = cxray(data, *args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def layout(data):
    tables = json.loads(cxray(data, "tables", "--json"))
    return {t["table"]: {"rows": t["rows"], "version": t["version"], "files": t["files"],
                         "bytes": t["size_bytes"], "checkpoint": t["checkpoint"]}
            for t in tables}


def measure(data):
    load = os.getloadavg()[0]
    nps_s, nps = timed(data, "metrics", "nps", "--by", "touchpoint,month", "--json")
    tables_s, _ = timed(data, "tables", "--json")
    return {"nps_by_touchpoint_month_s": nps_s, "tables_s": tables_s,
            "load_average_1min": load, "tables": layout(data)}, json.loads(nps)


with tempfile.TemporaryDirectory() as work:
    data = Path(work) / "demo"
    started = time.perf_counter()
    cxray(data, "demo", "--customers", str(customers), "--no-serve")
    demo_s = time.perf_counter() - started

    query = ("SELECT DISTINCT touchpoint AS t FROM responses WHERE touchpoint IS NOT NULL "
             "ORDER BY 1")
    touchpoints = [r["t"] for r in json.loads(cxray(data, "sql", "--json", query))]
    months = json.loads(cxray(data, "sql", "--json",
                              "SELECT DISTINCT CAST(date_trunc('month', at) AS VARCHAR) AS m "
                              "FROM responses ORDER BY 1"))
    months = [r["m"][:7] for r in months]
    started = time.perf_counter()
    for c in range(commits):
        rows = "".join(
            f"bench-{c}-{k},{months[(c + k) % len(months)]}-{k + 10}T09:00:00Z,nps,"
            f"{(c * 5 + k) % 11},{touchpoints[(c + k) % len(touchpoints)]}\n"
            for k in range(5))
        answers = Path(work) / "answers.csv"
        answers.write_text("customer_id,at,instrument,score,touchpoint\n" + rows)
        cxray(data, "import", "responses", str(answers))
    commits_s = time.perf_counter() - started

    before, figures_before = measure(data)
    started = time.perf_counter()
    optimized = json.loads(cxray(data, "optimize", "--json"))
    optimize_s = time.perf_counter() - started
    after, figures_after = measure(data)

out = {
    "customers": customers,
    "commits": commits,
    "rows_per_commit": 5,
    "runs": runs,
    "demo_s": demo_s,
    "commits_s": commits_s,
    "optimize_s": optimize_s,
    "before": before,
    "after": after,
    "nps_speedup": before["nps_by_touchpoint_month_s"] / after["nps_by_touchpoint_month_s"],
    "tables_speedup": before["tables_s"] / after["tables_s"],
    "figures_identical": figures_before == figures_after,
    "groups": len(figures_after),
    "optimize": optimized,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                "cpu": next((line.split(":", 1)[1].strip()
                             for line in open("/proc/cpuinfo") if line.startswith("model name")),
                            None)},
}
os.makedirs(ROOT / "bench" / "results", exist_ok=True)
with open(ROOT / "bench" / "results" / "optimize.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps({k: v for k, v in out.items() if k != "optimize"}, indent=2))
