#!/usr/bin/env python3
"""`cxray initiative measure` and `cxray whatif`, beside pyfixest on the same panel.

Usage: bench/initiatives.py [DEMO_DIR]   (needs a build of cxray at
$CARGO_TARGET_DIR/$PROFILE — PROFILE release by default — and `pip install pyfixest`).

1. Difference in differences on a panel of 1,000 units x 104 weeks (300 units treated from
   week 60, effect -0.5, unit and week effects, noise; deterministic), written to a CSV
   file: `cxray initiative measure --sql "SELECT * FROM 'panel.csv'" --estimator did`
   (reading the file, the two-way fixed effects, CR1 errors by unit, and the event study
   with its pre-trend test) against pyfixest's `feols("outcome ~ treated | unit + period",
   vcov={"CRV1": "unit"})` on the same file (read with pandas; its imports included),
   timed in the same run; the estimates and standard errors compared.
2. Synthetic control with 50 donors and the placebo runs: 51 units x 60 periods, one
   treated from period 40: `--estimator synthetic` (target: under 2 s).
3. With DEMO_DIR (a demo world, e.g. `cxray demo --customers 1000000 --no-serve`): the
   demo's planted initiative measured on the failure rate and on waits (target: under
   10 s at 1M customers), and `cxray whatif --reduce-failures 30%` over every touchpoint.

Each cxray command is timed as a whole process with its peak memory (RSS, from wait4).
Writes bench/results/initiatives.json.
"""
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time

target = os.environ.get("CARGO_TARGET_DIR", "target")
profile = os.environ.get("PROFILE", "release")
binary = os.path.join(target, profile, "cxray")
DEMO_INITIATIVE = "CPH baggage handling fix (NordGround)"


def run(data, *args):
    """Seconds, peak RSS in MB and the JSON printed by `cxray --data DATA ARGS --json`."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([binary, "--data", data, *args, "--json"], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        if status != 0:
            sys.exit(f"{args}: {err.read()}")
        return {"seconds": round(seconds, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}, json.load(out)


def write_panel(path, units, periods, treated, start, effect, seed):
    rng = random.Random(seed)
    unit_effect = [rng.gauss(0, 1) for _ in range(units)]
    period_effect = [rng.gauss(0, 0.5) for _ in range(periods)]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["unit", "period", "outcome", "treated_from", "treated"])
        for u in range(units):
            treated_unit = u < treated
            for t in range(periods):
                on = treated_unit and t >= start
                y = 10 + unit_effect[u] + period_effect[t] + (effect if on else 0) + rng.gauss(0, 1)
                w.writerow([f"u{u}", t, round(y, 6), start if treated_unit else "", int(on)])


PYFIXEST = """
import json, sys, time
start = time.perf_counter()
import pandas as pd
import pyfixest as pf
df = pd.read_csv(sys.argv[1])
fit = pf.feols("outcome ~ treated | unit + period", data=df, vcov={"CRV1": "unit"})
print(json.dumps({"seconds": round(time.perf_counter() - start, 3),
                  "estimate": float(fit.coef()["treated"]), "se": float(fit.se()["treated"])}))
"""


def pyfixest_did(path):
    """pyfixest in a process of its own (imports included in its time), so that this
    process stays small: a child forked from it starts with its memory."""
    out = subprocess.run([sys.executable, "-c", PYFIXEST, path], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    demo = sys.argv[1] if len(sys.argv) > 1 else None
    results = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
               "binary": binary}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        subprocess.run([binary, "--data", data, "init"], check=True, capture_output=True)
        panel = os.path.join(tmp, "panel.csv")
        write_panel(panel, 1000, 104, 300, 60, -0.5, seed=16)
        query = f"SELECT unit, period, outcome, CAST(treated_from AS BIGINT) AS treated_from FROM '{panel}'"
        timing, m = run(data, "initiative", "measure", "--sql", query, "--estimator", "did")
        results["did_1000_units_104_periods"] = {
            "cxray": {**timing, "estimate": m["effect"]["absolute"]["value"], "se": m["effect"]["se"]},
            "pyfixest": pyfixest_did(panel),
        }
        synth = os.path.join(tmp, "synth.csv")
        write_panel(synth, 51, 60, 1, 40, -2.0, seed=17)
        query = f"SELECT unit, period, outcome, CAST(treated_from AS BIGINT) AS treated_from FROM '{synth}'"
        timing, m = run(data, "initiative", "measure", "--sql", query, "--estimator", "synthetic")
        results["synthetic_50_donors_60_periods"] = {**timing, "estimate": m["effect"]["absolute"]["value"]}
    if demo:
        for outcome in ["failure_rate", "wait"]:
            timing, m = run(demo, "initiative", "measure", DEMO_INITIATIVE, "--outcome", outcome)
            results[f"demo_measure_{outcome}"] = {**timing, "estimator": m.get("estimator"),
                                                  "effect": m.get("effect", {}).get("absolute")}
        timing, w = run(demo, "whatif", "--reduce-failures", "30%")
        results["demo_whatif"] = {**timing, "priced": len(w["by_value"]), "unpriced": len(w["unpriced"])}
    os.makedirs("bench/results", exist_ok=True)
    with open("bench/results/initiatives.json", "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
