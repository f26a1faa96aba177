#!/usr/bin/env python3
"""`cxray survey scan`: invitation rules evaluated on 1M new interactions.

Usage: bench/surveys.py [INTERACTIONS]   (needs a build of cxray at
$CARGO_TARGET_DIR/$PROFILE — PROFILE release by default).

A new data folder gets INTERACTIONS (default 1,000,000) interactions of 250,000 customers
over one year, deterministic, imported once. Two cases, each with a survey and one
invitation rule evaluating every interaction already there (--all-history) under the
default contact policy (30-day cooldown, at most 3 invitations in 180 days, 5% never-ask
holdout):
1. worst case: every interaction is at the rule's touchpoint, so each one is decided on
   (invited or suppressed with its reason) and logged;
2. typical: the interactions spread over 13 touchpoints, the rule watches one.
`cxray survey scan` is timed as a whole process with its peak memory (RSS, from wait4),
three runs, the operational database restored to its state before the scan between runs
(not timed). Target: under 10 s for 1M new interactions.
Writes bench/results/surveys.json.
"""
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

target = os.environ.get("CARGO_TARGET_DIR", "target")
profile = os.environ.get("PROFILE", "release")
binary = os.path.join(target, profile, "cxray")
TOUCHPOINTS = ["booking_web", "booking_app", "check_in", "bag_drop", "security", "boarding",
               "departure", "onboard_service", "catering", "baggage_reclaim", "refund",
               "booking_call", "disruption_handling"]
CUSTOMERS = 250_000
YEAR = 365 * 86_400
START = 1_700_000_000


def cxray(data, *args, quiet=False):
    """Seconds, peak RSS in MB and the JSON printed by `cxray --data DATA ARGS --json`."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([binary, "--data", data, *args, "--json"], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        if status != 0:
            sys.exit(f"{args}: {err.read()}")
        text = out.read()
        return {"seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}, (
            None if quiet else json.loads(text))


def write_interactions(path, n, spread, seed=7):
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "at", "touchpoint", "outcome"])
        for _ in range(n):
            at = START + rng.randrange(YEAR)
            tp = rng.choice(TOUCHPOINTS) if spread else "check_in"
            w.writerow([f"C{rng.randrange(CUSTOMERS):07d}",
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)), tp,
                        "failed" if rng.random() < 0.05 else "ok"])


def case(work, n, spread):
    data = os.path.join(work, "spread" if spread else "one")
    csv_path = os.path.join(work, "interactions.csv")
    write_interactions(csv_path, n, spread)
    cxray(data, "init", quiet=True)
    imported, _ = cxray(data, "import", "interactions", csv_path)
    cxray(data, "survey", "add", "--name", "After check-in", "--questions", "nps,csat",
          "--comment", "--touchpoint", "check_in")
    cxray(data, "survey", "rule", "add", "--name", "next day", "--survey", "After check-in",
          "--all-history")
    db = os.path.join(data, "cxray.db")
    pristine = db + ".before"
    shutil.copy(db, pristine)
    runs, result = [], None
    for _ in range(3):
        for suffix in ["", "-wal", "-shm"]:
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        shutil.copy(pristine, db)
        timing, result = cxray(data, "survey", "scan")
        runs.append(timing)
    runs.sort(key=lambda r: r["seconds"])
    scan = result[0]
    return {
        "interactions": n,
        "at_the_rule_touchpoint": scan["events"],
        "invited": scan["invited"],
        "suppressed": scan["suppressed"],
        "import_seconds": imported["seconds"],
        "scan_runs": runs,
        "scan_median_seconds": runs[1]["seconds"],
        "scan_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as work:
        results = {
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "binary": binary,
            "worst_case": case(work, n, spread=False),
            "typical": case(work, n, spread=True),
        }
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/surveys.json", "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
