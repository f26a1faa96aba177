#!/usr/bin/env python3
"""NPS by touchpoint x month (and by owner x month, which joins the interactions), cxray
against DuckDB on the same Delta tables' Parquet files, in the same run.

Usage: bench/nps.py DATA_FOLDER [RUNS]   (a data folder built by
`cxray demo --world bench/nps-world.toml --customers 4600000 --no-serve`; needs a release
build and `pip install duckdb`). Each query runs once to warm the page cache, then RUNS
times (default 5); the median wall time is reported. cxray runs as the CLI a user would
call (process start, Delta log, DataFusion plan, tallies, NPS with adjusted-Wald
intervals); DuckDB runs in-process over `read_parquet` of the same files and computes NPS
without intervals. Writes bench/results/nps.json.
"""
import json, os, platform, statistics, subprocess, sys, time

import duckdb

data = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")
tables = os.path.join(data, "tables")


def files(table):
    return f"{tables}/{table}/*.parquet"


def timed(f):
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def cxray(by):
    def run():
        out = subprocess.run(
            [binary, "--data", data, "metrics", "nps", "--by", by, "--json"],
            check=True, capture_output=True, text=True).stdout
        return len(json.loads(out))
    return run


con = duckdb.connect()
NPS = """count(*) AS n,
  100.0 * (avg(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - avg(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) AS nps"""


def duck(group, join):
    query = f"""SELECT {group}, date_trunc('month', r.at) AS month, {NPS}
        FROM read_parquet('{files('responses')}') r {join}
        WHERE r.instrument = 'nps' GROUP BY ALL"""
    return lambda: con.sql(query).to_arrow_table().num_rows


owner_join = f"""LEFT JOIN (SELECT touchpoint, max(owner) AS owner
    FROM read_parquet('{files('interactions')}') GROUP BY touchpoint) tp
    ON r.touchpoint = tp.touchpoint"""
counts = {t: con.execute(f"SELECT count(*) FROM read_parquet('{files(t)}')").fetchall()[0][0]
          for t in ["interactions", "responses", "customers"]}
results = {}
for name, by, group, join in [
    ("touchpoint_month", "touchpoint,month", "r.touchpoint", ""),
    ("owner_month", "owner,month", "tp.owner", owner_join),
]:
    cx, cx_rows = timed(cxray(by))
    dk, dk_rows = timed(duck(group, join))
    results[name] = {"cxray_s": cx, "duckdb_s": dk, "cxray_over_duckdb_time": cx / dk,
                     "groups": {"cxray": cx_rows, "duckdb": dk_rows}}
out = {
    "rows": counts, "runs": runs, "queries": results,
    "duckdb": duckdb.__version__,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open("bench/results/nps.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
