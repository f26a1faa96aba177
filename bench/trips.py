#!/usr/bin/env python3
"""The journey's trip building and the trip-based analyses at scale, cxray against DuckDB
running the same joins and aggregations over the same Parquet files, in the same run.

Usage: bench/trips.py DATA_FOLDER LABEL [RUNS]   (a folder built by
`cxray demo --customers N --no-serve`; needs a release build and `pip install duckdb`).

cxray: the derived trips and visits are removed, then `cxray journey` builds them (the
build's own seconds come from its log line) and the journey map; `areas`, `drivers
--outcome defection` and `scorecard` then run on the built data. Each cxray command is
one process: wall seconds and peak RSS (GNU time). DuckDB: the same three queries
(visits, trips, visits with outcomes) over `read_parquet` of the tables' files, each
result written to Parquet as cxray writes it, RUNS times (default 3), median reported.
Writes bench/results/trips-LABEL.json.
"""
import json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

import duckdb

data, label = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")
tables = os.path.join(data, "tables")


def files(table):
    return f"read_parquet('{tables}/{table}/*.parquet')"


def cxray(*args):
    env = dict(os.environ, CXRAY_LOG="cxray_store=info")
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "peak_kb=%M", binary, "--data", data, *args, "--json"],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"cxray {' '.join(args)} failed: {p.stderr[-2000:]}")
    peak = int(re.search(r"peak_kb=(\d+)", p.stderr).group(1))
    built = re.search(r"journey data built seconds=([0-9.]+)", p.stderr)
    return {"seconds": wall, "peak_mb": peak / 1024,
            "build_seconds": float(built.group(1)) if built else None}


DAY = "CAST(floor(epoch({}) / 86400.0) AS BIGINT)"
VISITS = f"""
WITH pd AS (SELECT DISTINCT customer_id, {DAY.format('"at"')} AS day FROM {files('transactions')}),
firsts AS (SELECT customer_id, min(day) AS first_day FROM pd GROUP BY customer_id),
orders AS (SELECT order_id, min({DAY.format('"at"')}) AS day FROM {files('transactions')} GROUP BY order_id),
ix AS (SELECT i.customer_id, i.touchpoint, {DAY.format('i."at"')} AS day,
              CASE WHEN i.outcome = 'failed' THEN 1 ELSE 0 END AS failed,
              CASE WHEN i.wait_seconds > s.max_wait THEN 1 ELSE 0 END AS long_wait,
              o.day AS order_day
       FROM {files('interactions')} i LEFT JOIN orders o ON o.order_id = i.order_id
       LEFT JOIN slas s ON s.touchpoint = i.touchpoint),
linked AS (SELECT ix.customer_id, ix.order_day AS trip, ix.touchpoint, ix.day, ix.failed, ix.long_wait
           FROM ix JOIN firsts f ON f.customer_id = ix.customer_id
           WHERE ix.order_day IS NOT NULL AND ix.day >= f.first_day),
u AS (SELECT customer_id, day, 0 AS kind, CAST(NULL AS VARCHAR) AS touchpoint, 0 AS failed, 0 AS long_wait FROM pd
      UNION ALL SELECT customer_id, day, 1, touchpoint, failed, long_wait FROM ix WHERE order_day IS NULL),
latest AS (SELECT customer_id, kind, touchpoint, day, failed, long_wait,
                  max(CASE WHEN kind = 0 THEN day END) OVER (PARTITION BY customer_id ORDER BY day, kind
                      ROWS UNBOUNDED PRECEDING) AS trip FROM u),
unlinked AS (SELECT customer_id, trip, touchpoint, day, failed, long_wait FROM latest WHERE kind = 1 AND trip IS NOT NULL),
together AS (SELECT * FROM linked UNION ALL SELECT * FROM unlinked)
SELECT customer_id, trip, touchpoint, max(day) AS day, max(failed) AS failed, max(long_wait) AS long_wait,
       greatest(max(failed), max(long_wait)) AS bad
FROM together GROUP BY customer_id, trip, touchpoint"""
TRIPS = f"""
WITH days AS (SELECT customer_id, {DAY.format('"at"')} AS day, CAST(sum(amount) AS DOUBLE) AS amount
              FROM {files('transactions')} GROUP BY 1, 2),
data_end AS (SELECT max(day) AS day FROM days),
ends AS (SELECT customer_id, trip, max(day) AS end_day,
                COALESCE(array_to_string(list(touchpoint ORDER BY touchpoint) FILTER (WHERE bad = 1), chr(31)), '') AS bad_touchpoints
         FROM visits GROUP BY customer_id, trip)
SELECT e.customer_id, e.trip, e.end_day, e.bad_touchpoints,
       e.end_day + 180 <= max(data_end.day) AS observed,
       count(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + 180 THEN 1 END) = 0 AS defected,
       COALESCE(sum(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + 180 THEN d.amount END), 0.0) AS later_spend,
       count(CASE WHEN d.day < e.trip THEN 1 END) AS past_purchases,
       e.trip - min(d.day) AS tenure_days
FROM ends e CROSS JOIN data_end JOIN days d ON d.customer_id = e.customer_id
GROUP BY e.customer_id, e.trip, e.end_day, e.bad_touchpoints"""
OUTCOMES = """SELECT v.customer_id, v.trip, v.touchpoint, v.day, v.failed, v.long_wait, v.bad, t.observed, t.defected
FROM visits v JOIN trips t ON t.customer_id = v.customer_id AND t.trip = v.trip"""


def slas():
    out = subprocess.run([binary, "--data", data, "sla", "--json"], check=True,
                         capture_output=True, text=True).stdout
    return [(tp, s["max_wait_seconds"]) for tp, s in json.loads(out).items()
            if s.get("max_wait_seconds") is not None]


def duck_build(levels):
    work = tempfile.mkdtemp(prefix="duck-trips-")
    con = duckdb.connect()
    con.execute("CREATE TABLE slas (touchpoint VARCHAR, max_wait DOUBLE)")
    con.executemany("INSERT INTO slas VALUES (?, ?)", levels)
    t = time.perf_counter()
    con.execute(f"COPY ({VISITS}) TO '{work}/visits.parquet' (FORMAT parquet)")
    con.execute(f"CREATE VIEW visits AS SELECT * FROM read_parquet('{work}/visits.parquet')")
    con.execute(f"COPY ({TRIPS}) TO '{work}/trips.parquet' (FORMAT parquet)")
    con.execute(f"CREATE VIEW trips AS SELECT * FROM read_parquet('{work}/trips.parquet')")
    con.execute(f"COPY ({OUTCOMES}) TO '{work}/outcomes.parquet' (FORMAT parquet)")
    seconds = time.perf_counter() - t
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{work}/outcomes.parquet')").fetchall()[0][0]
    con.close()
    shutil.rmtree(work)
    return seconds, rows


shutil.rmtree(os.path.join(data, "derived", "journey"), ignore_errors=True)
results = {"journey (with the build)": cxray("journey")}
for name, args in [("journey (built)", ["journey"]), ("areas", ["areas"]),
                   ("drivers --outcome defection", ["drivers", "--outcome", "defection"]),
                   ("scorecard", ["scorecard"])]:
    results[name] = cxray(*args)
levels = slas()
duck = [duck_build(levels) for _ in range(runs)]
duck_s = statistics.median(s for s, _ in duck)
build_s = results["journey (with the build)"]["build_seconds"]
counts = duckdb.connect().execute(
    f"SELECT (SELECT count(*) FROM {files('interactions')}), (SELECT count(*) FROM {files('customers')})").fetchall()[0]
out = {
    "label": label, "interactions": counts[0], "customers": counts[1],
    "cxray": results,
    "trip_build": {"cxray_s": build_s, "duckdb_s": duck_s, "cxray_over_duckdb": build_s / duck_s,
                   "visits_with_outcomes_duckdb": duck[0][1], "duckdb_runs": [s for s, _ in duck]},
    "duckdb": duckdb.__version__,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open(f"bench/results/trips-{label}.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
