#!/usr/bin/env python3
"""The journey's trip building and the trip-based analyses at scale, cxray against DuckDB
running the same joins and aggregations over the same Parquet files, in the same run.

Usage: bench/trips.py DATA_FOLDER LABEL [RUNS]   (a folder built by
`cxray demo --customers N --no-serve`; needs a release build and `pip install duckdb`).

cxray: the derived trips are removed, then `cxray journey` builds them (the build's own
seconds come from its log line) and the journey map; `areas`, `drivers --outcome
defection` and `scorecard` then run on the built data. Each cxray command is one
process: wall seconds and peak RSS (GNU time). DuckDB: the same two queries (legs, trips)
over `read_parquet` of the tables' files, each result written to Parquet as cxray writes
it, and the pairs of consecutive interactions (cxray sorts per customer partition and
counts in order; DuckDB runs the equivalent `lag` window), RUNS times (default 3),
median reported; both results are summarised (trips, observed, defected, later spend,
pairs) to show they agree.
Writes bench/results/trips-LABEL.json.
"""
import glob, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

import duckdb

data, label = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
target = os.environ.get("CARGO_TARGET_DIR", "target")
binary = os.path.join(target, "release", "cxray")
tables = os.path.join(data, "tables")


def files(table):
    return f"read_parquet('{tables}/{table}/*.parquet')"


def cxray(*args):
    env = dict(os.environ, CXRAY_LOG="cxray_analysis=info")
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "peak_kb=%M", binary, "--data", data, *args, "--json"],
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"cxray {' '.join(args)} failed: {p.stderr[-2000:]}")
    peak = int(re.search(r"peak_kb=(\d+)", p.stderr).group(1))
    log = re.sub(r"\x1b\[[0-9;]*m", "", p.stderr)
    built = re.search(r"journey data built seconds=([0-9.]+)", log)
    return {"seconds": wall, "peak_mb": peak / 1024,
            "build_seconds": float(built.group(1)) if built else None}


DAY = "CAST(floor(epoch({}) / 86400.0) AS BIGINT)"


def touchpoints():
    return [r[0] for r in duckdb.sql(
        f"SELECT DISTINCT touchpoint FROM {files('interactions')} ORDER BY 1").fetchall()]


def masks(names):
    words = max(1, -(-len(names) // 64))
    return words, [f"{m}_{w}" for m in ("visited", "bad", "slow") for w in range(words)]


def legs_sql(names, levels):
    """The legs query of `store::journey::derived`: interactions grouped by their
    customer's order (linked) or by day (not linked), with touchpoint masks."""
    words, _ = masks(names)
    quote = lambda t: "'" + t.replace("'", "''") + "'"
    limit = "CASE i.touchpoint " + " ".join(f"WHEN {quote(t)} THEN {v}" for t, v in levels) + " END"
    bits = []
    for w in range(words):
        arms = " ".join(f"WHEN {quote(t)} THEN {1 << (k % 64) if k % 64 < 63 else -(1 << 63)}"
                        for k, t in enumerate(names) if k // 64 == w)
        bits.append(f"CASE i.touchpoint {arms} ELSE 0 END AS bit_{w}")
    aggs = ",\n".join(
        f"bit_or(bit_{w}) AS visited_{w}, "
        f"bit_or(CASE WHEN is_failed + is_slow > 0 THEN bit_{w} ELSE 0 END) AS bad_{w}, "
        f"bit_or(CASE WHEN is_slow = 1 THEN bit_{w} ELSE 0 END) AS slow_{w}" for w in range(words))
    return f"""
WITH ix AS (SELECT i.customer_id, {DAY.format('i."at"')} AS day, o.day AS order_day, o.first_day,
                   CASE WHEN i.outcome = 'failed' THEN 1 ELSE 0 END AS is_failed,
                   CASE WHEN i.wait_seconds > {limit} THEN 1 ELSE 0 END AS is_slow,
                   {", ".join(bits)}
            FROM {files('interactions')} i LEFT JOIN (
                SELECT o.customer_id, o.order_id, o.day, f.first_day
                FROM (SELECT customer_id, order_id, min({DAY.format('"at"')}) AS day FROM {files('transactions')}
                      WHERE order_id IS NOT NULL GROUP BY customer_id, order_id) o
                JOIN (SELECT customer_id, min({DAY.format('"at"')}) AS first_day FROM {files('transactions')}
                      GROUP BY customer_id) f ON f.customer_id = o.customer_id) o
              ON o.order_id = i.order_id AND o.customer_id = i.customer_id)
SELECT customer_id, order_day IS NOT NULL AS linked, COALESCE(order_day, day) AS key_day, max(day) AS day,
       {aggs}
FROM ix WHERE order_day IS NULL OR day >= first_day
GROUP BY customer_id, order_day IS NOT NULL, COALESCE(order_day, day)"""


def trips_sql(names):
    """The trips query of `store::journey::derived`, over the legs."""
    _, cols = masks(names)
    lst = lambda f: ", ".join(f(m) for m in cols)
    return f"""
WITH pd AS (SELECT DISTINCT customer_id, {DAY.format('"at"')} AS day FROM {files('transactions')}),
u AS (SELECT customer_id, day, 0 AS kind, {lst(lambda m: f"CAST(0 AS BIGINT) AS {m}")} FROM pd
      WHERE customer_id IN (SELECT customer_id FROM legs WHERE NOT linked)
      UNION ALL SELECT customer_id, day, 1 AS kind, {lst(str)} FROM legs WHERE NOT linked),
latest AS (SELECT customer_id, kind, day, {lst(str)},
                  max(CASE WHEN kind = 0 THEN day END) OVER (PARTITION BY customer_id ORDER BY day, kind
                      ROWS UNBOUNDED PRECEDING) AS trip FROM u),
together AS (SELECT customer_id, key_day AS trip, day, {lst(str)} FROM legs WHERE linked
             UNION ALL SELECT customer_id, trip, day, {lst(str)} FROM latest WHERE kind = 1 AND trip IS NOT NULL),
ends AS (SELECT customer_id, trip, max(day) AS end_day, {lst(lambda m: f"bit_or({m}) AS {m}")}
         FROM together GROUP BY customer_id, trip),
days AS (SELECT customer_id, {DAY.format('"at"')} AS day, CAST(sum(amount) AS DOUBLE) AS amount
         FROM {files('transactions')} GROUP BY 1, 2),
data_end AS (SELECT max(day) AS day FROM days)
SELECT e.customer_id, e.trip, max(e.end_day) AS end_day, {lst(lambda m: f"max(e.{m}) AS {m}")},
       max(e.end_day) + 180 <= max(data_end.day) AS observed,
       count(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + 180 THEN 1 END) = 0 AS defected,
       COALESCE(sum(CASE WHEN d.day > e.end_day AND d.day <= e.end_day + 180 THEN d.amount END), 0.0) AS later_spend,
       count(CASE WHEN d.day < e.trip THEN 1 END) AS past_purchases,
       e.trip - min(d.day) AS tenure_days
FROM ends e CROSS JOIN data_end JOIN days d ON d.customer_id = e.customer_id
GROUP BY e.customer_id, e.trip"""


PAIRS = f"""
WITH s AS (SELECT customer_id, touchpoint, owner, "at", CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END AS failed,
                  lag(customer_id) OVER w AS prev_customer, lag(touchpoint) OVER w AS prev_touchpoint,
                  lag(owner) OVER w AS prev_owner, lag("at") OVER w AS prev_at
           FROM {files('interactions')} WINDOW w AS (PARTITION BY customer_id ORDER BY "at", touchpoint))
SELECT prev_touchpoint, prev_owner, touchpoint, owner, count(*) AS n, sum(failed) AS failed
FROM s WHERE prev_customer IS NOT NULL
  AND CAST(epoch_us("at") / 1000000 AS BIGINT) - CAST(epoch_us(prev_at) / 1000000 AS BIGINT) <= 172800
GROUP BY ALL"""


SUMMARY = "SELECT count(*), sum(CASE WHEN observed THEN 1 ELSE 0 END), sum(CASE WHEN observed AND defected THEN 1 ELSE 0 END), round(sum(later_spend), 2) FROM read_parquet('{}')"


def slas():
    out = subprocess.run([binary, "--data", data, "sla", "--json"], check=True,
                         capture_output=True, text=True).stdout
    return [(tp, s["max_wait_seconds"]) for tp, s in json.loads(out).items()
            if s.get("max_wait_seconds") is not None]


def duck_build(names, levels):
    work = tempfile.mkdtemp(prefix="duck-trips-")
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"COPY ({legs_sql(names, levels)}) TO '{work}/legs.parquet' (FORMAT parquet)")
    con.execute(f"CREATE VIEW legs AS SELECT * FROM read_parquet('{work}/legs.parquet')")
    con.execute(f"COPY ({trips_sql(names)}) TO '{work}/trips.parquet' (FORMAT parquet)")
    pairs = con.execute(f"SELECT sum(n) FROM ({PAIRS})").fetchall()[0][0]
    seconds = time.perf_counter() - t
    summary = con.execute(SUMMARY.format(f"{work}/trips.parquet")).fetchall()[0]
    con.close()
    shutil.rmtree(work)
    return seconds, summary + (pairs,)


shutil.rmtree(os.path.join(data, "derived", "journey"), ignore_errors=True)
results = {"journey (with the build)": cxray("journey")}
for name, args in [("journey (built)", ["journey"]), ("areas", ["areas"]),
                   ("drivers --outcome defection", ["drivers", "--outcome", "defection"]),
                   ("scorecard", ["scorecard"])]:
    results[name] = cxray(*args)
levels, names = slas(), touchpoints()
duck = [duck_build(names, levels) for _ in range(runs)]
built = [d for d in glob.glob(os.path.join(data, "derived", "journey", "*", "trips"))]
ours = duckdb.sql(SUMMARY.format(os.path.join(built[0], "*.parquet"))).fetchall()[0]
with open(os.path.join(os.path.dirname(built[0]), "pairs.json")) as f:
    ours += (sum(p["count"] for p in json.load(f)),)
duck_s = statistics.median(s for s, _ in duck)
build_s = results["journey (with the build)"]["build_seconds"]
counts = duckdb.connect().execute(
    f"SELECT (SELECT count(*) FROM {files('interactions')}), (SELECT count(*) FROM {files('customers')})").fetchall()[0]
out = {
    "label": label, "interactions": counts[0], "customers": counts[1],
    "cxray": results,
    "trip_build": {"cxray_s": build_s, "duckdb_s": duck_s, "cxray_over_duckdb": build_s / duck_s,
                   "duckdb_runs": [s for s, _ in duck],
                   "trips_observed_defected_later_spend_pairs": {"cxray": list(ours), "duckdb": list(duck[0][1])}},
    "duckdb": duckdb.__version__,
    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
}
os.makedirs("bench/results", exist_ok=True)
with open(f"bench/results/trips-{label}.json", "w") as f:
    json.dump(out, f, indent=2)
print(json.dumps(out, indent=2))
