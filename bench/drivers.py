#!/usr/bin/env python3
"""Driver analysis: cxray against what an analyst would use from PyPI, same data, same run.

Data (deterministic, seeded numpy): N customers, P correlated rating-like predictors
x1..xP (10 + 1.5·z, z normal with correlation 0.3 + 0.7·0.5^|i−j|; positive, so
dominance-analysis' chi² screen for logistic models accepts them), a linear outcome y from
known standardised slopes (0.30 falling to 0) plus noise for R² ≈ 0.35, and a 0/1 outcome
yb from a logistic model on the same slopes (×2.5, intercept −1). One Parquet file.

cxray is the release binary called as a user would (one process per analysis: start, read
the Parquet file through SQL, fit, bootstrap, print JSON): `cxray drivers --sql "SELECT y,
x1, …, xP FROM 'FILE'" --method shapley|relative-weights [--logistic] --resamples R --json`.
Each configuration runs once to warm the page cache, then RUNS times; medians (a
configuration whose first run takes over 30 s is run once).

Peers, on the same file:
- `dominance-analysis` 1.1.9 (PyPI), general dominance of R² without a bootstrap, two
  ways: on the data frame (`Dominance(df, target, objective=1)`, one scikit-learn fit on
  all N rows per subset) at P ≤ --da-raw-p predictors, and on the correlation matrix
  (`data_format=1`, its fast path; `df.corr()` included in the time) at --da-corr-ps
  predictors; a logistic run (`objective=0`, McFadden, one statsmodels Logit per subset) at
  --da-logit-p predictors. Its time for the full 15 predictors and 200 resamples is
  extrapolated from the largest measured sizes and labelled so. bokeh 2.4.3, which it
  imports, needs `np.bool8` (removed in numpy 2); the bench sets it to np.bool_.
- a plain numpy bootstrap (vectorised, what an analyst could write): per resample the
  multinomial row counts, the weighted cross-product matrix, the correlation matrix, all
  2^P − 1 subset R² by batched solves, Shapley weights; or Johnson's relative weights. For
  the logistic relative weights a numpy Newton fit per resample, timed over
  --logit-resamples resamples and extrapolated to R.
Every Python time counts the analysis only (data already in memory); cxray's counts the
whole process. Agreement: max |weight difference| against cxray's point estimates (same
data, no resampling involved), and for the numpy bootstrap the max difference of interval
ends (different random draws, so within bootstrap noise only).

Usage: bench/drivers.py [--n 1000000] [--p 15] [--resamples 200] [--runs 3]
                        [--da-raw-p 8] [--da-corr-ps 12,13,14] [--da-logit-p 4]
                        [--da-cap 300] [--logit-resamples 10] [--no-logistic]
Writes bench/results/drivers.json.
"""
import argparse
import contextlib
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from loyalty import CXRAY, ROOT, write_results

SLOPES = [0.30, 0.25, 0.20, 0.15, 0.12, 0.10, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0.0, 0.0]
SLOW = 30.0  # seconds: a cxray configuration slower than this runs once


def names(p):
    return [f"x{j + 1}" for j in range(p)]


def generate(n, p, seed, path):
    """Correlated predictors, a linear and a 0/1 outcome; Parquet at `path`."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed)
    i = np.arange(p)
    corr = 0.3 + 0.7 * 0.5 ** np.abs(i[:, None] - i[None, :])
    z = rng.standard_normal((n, p)) @ np.linalg.cholesky(corr).T
    beta = np.array((SLOPES + [0.0] * p)[:p])
    signal = z @ beta
    var = beta @ corr @ beta
    y = 50 + 10 * (signal + rng.standard_normal(n) * math.sqrt(var * 0.65 / 0.35))
    yb = (rng.random(n) < 1 / (1 + np.exp(1.0 - 2.5 * signal))).astype(np.int64)
    cols = {"y": y, "yb": yb}
    cols.update({f"x{j + 1}": 10 + 1.5 * z[:, j] for j in range(p)})
    assert min(cols[c].min() for c in names(p)) > 0  # for dominance-analysis' chi² screen
    pq.write_table(pa.table(cols), path)
    return {"r2_population": 0.35, "yb_mean": float(yb.mean()), "slopes": beta.tolist()}


# --- cxray ---------------------------------------------------------------------------

def cxray_once(data, file, outcome, p, method, logistic, resamples, cap):
    query = f"SELECT {outcome}, {', '.join(names(p))} FROM '{file}'"
    cmd = [CXRAY, "--data", str(data), "drivers", "--sql", query, "--method", method,
           "--resamples", str(resamples), "--seed", "1", "--json"]
    if logistic:
        cmd.append("--logistic")
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=cap)
    return time.perf_counter() - t, json.loads(out.stdout), cmd


def cxray_timed(data, file, outcome, p, method, logistic, resamples, runs, cap):
    first, result, cmd = cxray_once(data, file, outcome, p, method, logistic, resamples, cap)
    times = []
    if first <= SLOW:
        for _ in range(runs):
            times.append(cxray_once(data, file, outcome, p, method, logistic, resamples, cap)[0])
    row = {
        "command": " ".join(f'"{c}"' if " " in c else c for c in cmd),
        "seconds": statistics.median(times) if times else first,
        "runs_s": times, "first_run_s": first,
        "timing": f"median of {len(times)} after a warm-up" if times else "single run",
        "r2": result["r2"], "resamples": result["resamples"],
        "failed_resamples": result["failed_resamples"],
        "weights": {d["name"]: d["weight"] for d in result["drivers"]},
    }
    print(f"   cxray {method}{' logistic' if logistic else ''} {p} predictors, {resamples} resamples: "
          f"{row['seconds']:.2f} s ({row['timing']}: {[round(t, 2) for t in times] or round(first, 2)})",
          file=sys.stderr, flush=True)
    return row


# --- numpy reference ---------------------------------------------------------------

class Subsets:
    """Index arrays of every non-empty subset of p predictors, grouped by size, and the
    Shapley coefficients to turn their R² into weights."""

    def __init__(self, p):
        self.p = p
        self.groups = []  # (masks, index array m × k)
        for k in range(1, p + 1):
            idx = np.array(list(combinations(range(p), k)), dtype=np.intp)
            masks = (1 << idx).sum(axis=1)
            self.groups.append((masks, idx))
        sizes = np.array([bin(m).count("1") for m in range(1 << p)])
        self.without, self.coef = [], []
        for j in range(p):
            s = np.array([m for m in range(1 << p) if not m >> j & 1], dtype=np.intp)
            k = sizes[s]
            self.without.append(s)
            self.coef.append(np.array([1 / (p * math.comb(p - 1, int(c))) for c in k]))

    def shapley(self, corr):
        """corr: (p+1)² correlation matrix, outcome first."""
        rxx, rxy = corr[1:, 1:], corr[1:, 0]
        r2 = np.zeros(1 << self.p)
        for masks, idx in self.groups:
            a = rxx[idx[:, :, None], idx[:, None, :]]
            b = rxy[idx]
            r2[masks] = np.einsum("mk,mk->m", b, np.linalg.solve(a, b[:, :, None])[:, :, 0])
        return np.array([(c * (r2[s | 1 << j] - r2[s])).sum()
                         for j, (s, c) in enumerate(zip(self.without, self.coef))])


def relative_weights(corr):
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    vals, vecs = np.linalg.eigh(rxx)
    lam = (vecs * np.sqrt(vals)) @ vecs.T
    beta = (vecs / np.sqrt(vals)) @ vecs.T @ rxy
    return (lam ** 2) @ beta ** 2


def weighted_corr(a, counts):
    """Correlation matrix of the columns of `a` with row frequency weights `counts`."""
    w = counts / counts.sum()
    mean = w @ a
    cov = a.T @ (a * w[:, None]) - np.outer(mean, mean)
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def numpy_bootstrap(a, resamples, seed, stat):
    """Point statistic and `resamples` bootstrap draws of stat(weighted correlation)."""
    n = len(a)
    point = stat(weighted_corr(a, np.ones(n)))
    rng = np.random.default_rng(seed)
    draws = np.array([stat(weighted_corr(a, np.bincount(rng.integers(0, n, n), minlength=n).astype(float)))
                      for _ in range(resamples)])
    return point, draws


def logistic_rw(x, y, counts):
    """Tonidandel & LeBreton logistic relative weights with row weights: Newton fit on
    standardised predictors, McFadden pseudo-R², slopes on Z rescaled to it."""
    w = counts / counts.sum() * len(y)
    mean = (w @ x) / w.sum()
    sd = np.sqrt((w @ (x - mean) ** 2) / w.sum())
    z = np.column_stack([np.ones(len(y)), (x - mean) / sd])
    b = np.zeros(z.shape[1])
    ybar = (w @ y) / w.sum()
    b[0] = math.log(ybar / (1 - ybar))
    for _ in range(50):
        eta = z @ b
        mu = 1 / (1 + np.exp(-eta))
        step = np.linalg.solve(z.T @ (z * (w * mu * (1 - mu))[:, None]), z.T @ (w * (y - mu)))
        b += step
        if np.abs(step).max() < 1e-10:
            break
    eta = z @ b
    ll = w @ (y * eta - np.logaddexp(0, eta))
    ll0 = w.sum() * (ybar * math.log(ybar) + (1 - ybar) * math.log(1 - ybar))
    r2 = 1 - ll / ll0
    cov = np.cov(z[:, 1:], rowvar=False, aweights=w)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    vals, vecs = np.linalg.eigh(corr)
    lam = (vecs * np.sqrt(vals)) @ vecs.T
    on_z = lam @ b[1:]
    beta = on_z * math.sqrt(r2 / (on_z ** 2).sum())
    return (lam ** 2) @ beta ** 2


def interval(draws, level=0.95):
    return np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)


def compare(cx_weights, p, values, draws=None):
    cx = np.array([cx_weights[f"x{j + 1}"]["value"] for j in range(p)])
    out = {"max_abs_weight_diff": float(np.abs(cx - np.asarray(values)).max())}
    if draws is not None:
        lo, hi = interval(draws)
        cxl = np.array([cx_weights[f"x{j + 1}"]["low"] for j in range(p)])
        cxh = np.array([cx_weights[f"x{j + 1}"]["high"] for j in range(p)])
        out["max_abs_interval_end_diff"] = float(max(np.abs(cxl - lo).max(), np.abs(cxh - hi).max()))
    return out


# --- dominance-analysis (in a child process, so that a cap can stop it) -------------

def child(kind, file, p, out):
    import pandas as pd
    np.bool8 = np.bool_  # bokeh 2.4.3, imported by dominance_analysis, needs it
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from dominance_analysis import Dominance
    outcome = "yb" if kind == "logit" else "y"
    df = pd.read_parquet(file, columns=[outcome] + names(p))
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if kind == "raw":
            d = Dominance(data=df, target=outcome, objective=1)
        elif kind == "corr":
            d = Dominance(data=df.corr(), target=outcome, objective=1, data_format=1)
        else:
            d = Dominance(data=df, target=outcome, objective=0, pseudo_r2="mcfadden", top_k=p)
        weights = d.incremental_rsquare()
    seconds = time.perf_counter() - t
    Path(out).write_text(json.dumps({"seconds": seconds, "weights": {k: float(v) for k, v in weights.items()}}))


def dominance_analysis(kind, file, p, cap, work):
    out = work / f"da-{kind}-{p}.json"
    cmd = [sys.executable, __file__, "--child", kind, str(file), str(p), str(out)]
    try:
        subprocess.run(cmd, check=True, timeout=cap, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        print(f"   dominance-analysis {kind} {p} predictors: over {cap} s, stopped", file=sys.stderr, flush=True)
        return {"predictors": p, "finished": False, "cap_s": cap}
    except subprocess.CalledProcessError as e:
        return {"predictors": p, "finished": False, "error": e.stderr[-2000:]}
    r = json.loads(out.read_text())
    print(f"   dominance-analysis {kind} {p} predictors: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
    return {"predictors": p, "finished": True, "seconds": r["seconds"],
            "weights": [r["weights"][c] for c in names(p)]}


def versions():
    from importlib.metadata import version
    v = {k: version(k) for k in ("numpy", "pandas", "pyarrow", "scikit-learn", "statsmodels", "dominance-analysis")}
    v["python"] = platform.python_version()
    v["cxray"] = subprocess.run([CXRAY, "--version"], capture_output=True, text=True).stdout.strip()
    v["cxray_binary_mtime"] = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(os.path.getmtime(CXRAY)))
    v["git_head"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                   capture_output=True, text=True).stdout.strip()
    return v


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, file, p, out = sys.argv[2:6]
        return child(kind, file, int(p), out)
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=15)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--da-raw-p", type=int, default=8)
    ap.add_argument("--da-corr-ps", default="12,13,14")
    ap.add_argument("--da-logit-p", type=int, default=4)
    ap.add_argument("--da-cap", type=float, default=300)
    ap.add_argument("--cxray-cap", type=float, default=600)
    ap.add_argument("--logit-resamples", type=int, default=10)
    ap.add_argument("--no-logistic", action="store_true")
    args = ap.parse_args()
    n, p, R = args.n, args.p, args.resamples
    out = {"n": n, "predictors": p, "resamples": R, "versions": versions(),
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                       "load_average_at_start": os.getloadavg()}}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        file = work / "drivers.parquet"
        t = time.perf_counter()
        out["data"] = generate(n, p, args.seed, file)
        out["data"].update({"seed": args.seed, "parquet_mb": file.stat().st_size / 1e6,
                            "generate_s": time.perf_counter() - t})
        print(f"== {n:,} rows × {p} predictors, {file.stat().st_size / 1e6:.0f} MB Parquet", file=sys.stderr, flush=True)
        data = work / "cx"
        subprocess.run([CXRAY, "--data", str(data), "init"], check=True, capture_output=True)

        # cxray at the target sizes.
        cx = out["cxray"] = {}
        cx["shapley"] = cxray_timed(data, file, "y", p, "shapley", False, R, args.runs, args.cxray_cap)
        cx["relative_weights"] = cxray_timed(data, file, "y", p, "relative-weights", False, R, args.runs, args.cxray_cap)
        if not args.no_logistic:
            try:
                cx["logistic_relative_weights"] = cxray_timed(data, file, "yb", p, "relative-weights", True, R,
                                                              args.runs, args.cxray_cap)
            except subprocess.TimeoutExpired:
                cx["logistic_relative_weights"] = {"finished": False, "cap_s": args.cxray_cap}

        # The numpy bootstrap reference at the target sizes.
        import pandas as pd
        df = pd.read_parquet(file)
        a = df[["y"] + names(p)].to_numpy()
        subsets = Subsets(p)
        ref = out["numpy"] = {}
        for key, stat in (("shapley", subsets.shapley), ("relative_weights", relative_weights)):
            t = time.perf_counter()
            point, draws = numpy_bootstrap(a, R, args.seed, stat)
            secs = time.perf_counter() - t
            ref[key] = {"seconds": secs, "resamples": R, "vs_cxray": compare(cx[key]["weights"], p, point, draws),
                        "cxray_speedup": secs / cx[key]["seconds"]}
            print(f"   numpy {key}: {secs:.2f} s {ref[key]['vs_cxray']}", file=sys.stderr, flush=True)
        if not args.no_logistic and "weights" in cx.get("logistic_relative_weights", {}):
            x, yb = df[names(p)].to_numpy(), df["yb"].to_numpy().astype(float)
            t = time.perf_counter()
            point = logistic_rw(x, yb, np.ones(n))
            rng = np.random.default_rng(args.seed)
            for _ in range(args.logit_resamples):
                logistic_rw(x, yb, np.bincount(rng.integers(0, n, n), minlength=n).astype(float))
            secs = time.perf_counter() - t
            extrapolated = secs * (R + 1) / (args.logit_resamples + 1)
            lr = cx["logistic_relative_weights"]
            ref["logistic_relative_weights"] = {
                "measured_s": secs, "measured_fits": args.logit_resamples + 1,
                "extrapolated_s": extrapolated, "extrapolated": True,
                "vs_cxray": compare(lr["weights"], p, point),
                "cxray_speedup_extrapolated": extrapolated / lr["seconds"]}
            print(f"   numpy logistic RW: {secs:.2f} s for {args.logit_resamples + 1} fits, "
                  f"{extrapolated:.1f} s extrapolated to {R + 1}", file=sys.stderr, flush=True)
        del df, a

        # dominance-analysis: one analysis each, no bootstrap; cxray on the same data
        # without resamples for the weights and for a like-for-like time.
        da = out["dominance_analysis"] = {"raw": [], "corr": [], "logit": []}
        plan = [("raw", args.da_raw_p)] + [("corr", int(q)) for q in args.da_corr_ps.split(",") if q]
        if not args.no_logistic:
            plan.append(("logit", args.da_logit_p))
        for kind, q in plan:
            row = dominance_analysis(kind, file, q, args.da_cap, work)
            ref_run = cxray_timed(data, file, "yb" if kind == "logit" else "y", q, "shapley", kind == "logit", 0,
                                  1, args.cxray_cap)
            row["cxray_no_resamples_s"] = ref_run["seconds"]
            if row["finished"]:
                row["vs_cxray"] = compare(ref_run["weights"], q, row["weights"])
                row["cxray_speedup"] = row["seconds"] / ref_run["seconds"]
            da[kind].append(row)
        # Extrapolation to p predictors and R resamples from the two largest corr runs.
        done = [r for r in da["corr"] if r["finished"]]
        if len(done) >= 2:
            a2, b2 = done[-2], done[-1]
            growth = (b2["seconds"] / a2["seconds"]) ** (1 / (b2["predictors"] - a2["predictors"]))
            one = b2["seconds"] * growth ** (p - b2["predictors"])
            da["extrapolated"] = {
                "extrapolated": True,
                "method": f"correlation-matrix path: time at {b2['predictors']} predictors × "
                          f"{growth:.2f} per added predictor (growth from {a2['predictors']} to {b2['predictors']}), "
                          f"then × {R + 1} analyses (the point estimate and {R} resamples)",
                "one_analysis_s": one, "with_resamples_s": one * (R + 1),
                "cxray_speedup": one * (R + 1) / cx["shapley"]["seconds"]}
            print(f"   dominance-analysis extrapolated: {one:.0f} s for one analysis at {p} predictors, "
                  f"{one * (R + 1) / 3600:.1f} h with {R} resamples", file=sys.stderr, flush=True)
    out["target"] = {"statement": f"drivers over {n:,} customers × {p} predictors with {R} bootstrap resamples under 10 s",
                     "shapley_s": cx["shapley"]["seconds"], "met": cx["shapley"]["seconds"] < 10}
    out["machine"]["load_average_at_end"] = os.getloadavg()
    write_results("drivers.json", out)


if __name__ == "__main__":
    main()
