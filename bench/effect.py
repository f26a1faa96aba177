#!/usr/bin/env python3
"""`cxray cases effect` against DuckDB on the same cases and transactions, in the same run.

Usage: bench/effect.py DATA_FOLDER [RUNS]   (a data folder with cases whose windows have
ended, see docs/benchmarks.md; needs a release build and `pip install duckdb pyarrow`).
Each side runs once to warm the page cache, then RUNS times (default 5); the median wall
time is reported. cxray runs as the CLI a user would call (process start, the cases from
SQLite, the Delta log, the DataFusion join, every group's statistics for the 90- and
180-day windows). DuckDB runs in-process: the cases read from the same SQLite file, joined
with the transactions' Parquet files, and only the overall figures per arm (share who
bought again, mean revenue) for both windows — no groups, intervals or adjustment. The
overall figures of both are compared. Writes bench/results/cases-effect.json.
"""
import json, os, platform, sqlite3, statistics, subprocess, sys, time

import duckdb
import pyarrow as pa

data = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")
transactions = f"{data}/tables/transactions/*.parquet"
WINDOWS = [90, 180]


def timed(f):
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def cxray():
    out = subprocess.run([binary, "--data", data, "cases", "effect", "--json"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    figures = {}
    for w in report["windows"]:
        o = w["overall"]
        e = o["effect"]
        figures[w["days"]] = {"follow_up": o["follow_up"], "holdout": o["holdout"],
                              "repurchase_points": e["repurchase"]["value"],
                              "revenue": e["revenue"]["unadjusted"]["value"]}
    return figures


def duck():
    db = sqlite3.connect(f"{data}/cxray.db")
    rows = db.execute("SELECT id, customer_id, arm, substr(opened_at, 1, 10) FROM cases").fetchall()
    db.close()
    ids, customers, arms, days = zip(*rows)
    cases = pa.table({"id": ids, "customer_id": customers, "arm": arms,
                      "day": pa.array(days).cast(pa.date32())})
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("cases", cases)
    figures = {}
    for w in WINDOWS:
        rates = con.sql(f"""
            WITH t AS (SELECT customer_id, CAST("at" AS DATE) AS day,
                              CAST(amount AS DOUBLE) AS amount
                       FROM read_parquet('{transactions}')),
            last AS (SELECT max(day) AS d FROM t),
            per AS (SELECT c.id, c.arm, c.day,
                           sum(CASE WHEN t.day - c.day BETWEEN 1 AND {w} THEN 1 ELSE 0 END) AS n,
                           sum(CASE WHEN t.day - c.day BETWEEN 1 AND {w} THEN amount ELSE 0 END)
                               AS spend
                    FROM cases c LEFT JOIN t ON t.customer_id = c.customer_id
                    GROUP BY c.id, c.arm, c.day)
            SELECT arm, count(*) AS cases, avg(CASE WHEN n > 0 THEN 1.0 ELSE 0.0 END) AS rate,
                   avg(spend) AS spend
            FROM per, last WHERE per.day + {w} <= last.d GROUP BY arm""").fetchall()
        by = {arm: (n, rate, spend) for arm, n, rate, spend in rates}
        f, h = by["follow_up"], by["holdout"]
        figures[w] = {"follow_up": f[0], "holdout": h[0],
                      "repurchase_points": 100 * (f[1] - h[1]), "revenue": f[2] - h[2]}
    return figures


cx, cx_figures = timed(cxray)
dk, dk_figures = timed(duck)
same = all(abs(cx_figures[w][k] - dk_figures[w][k]) < 1e-6 * (1 + abs(dk_figures[w][k]))
           for w in WINDOWS for k in dk_figures[w])
db = sqlite3.connect(f"{data}/cxray.db")
cases = db.execute("SELECT count(*) FROM cases").fetchone()[0]
out = {
    "cases": cases, "runs": runs,
    "cxray_s": cx, "duckdb_s": dk, "cxray_over_duckdb_time": cx / dk,
    "figures": {"cxray": cx_figures, "duckdb": dk_figures, "equal": same},
    "duckdb": duckdb.__version__,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open("bench/results/cases-effect.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
