#!/usr/bin/env python3
"""Loyalty engine benchmark: cxray against Python `lifetimes` on the same data, same run.

For each data set: the per-customer summary from raw transactions, the BG/NBD fit, and
prediction (P(alive), expected purchases over 52 weeks, Gamma-Gamma spend, CLV). cxray's
predict command reports its parts: summary, fits (reading the summaries into patterns,
BG/NBD and Gamma-Gamma), values (every customer), write (customer_value); issue 3's
"fit + predict" is fits + values, with and without the write. cxray's predict command runs
five times and the run with the median fit + predict is reported; lifetimes runs once. cxray is
the release binary (`cargo build --release`); `lifetimes==0.11.3` is called with the
exact-time summary (freq='D', freq_multiplier=7, the literature's weeks), so both fit the
same (x, t_x, T). Data: the CDNOW sample (2,357 customers) and master (23,570), and
BG/NBD-simulated customers (r=0.243, alpha=4.414, a=0.793, b=2.426; Gamma-Gamma spend
p=6.25, q=3.74, gamma=15.44; first purchases spread over 12 weeks; 39 calibration weeks).

pymc-marketing's `BetaGeoModel` is fitted on the same lifetimes summary with
`fit(method="map")` and flat (HalfFlat) priors on r, alpha, a, b: PyMC's MAP leaves out the
Jacobian of the log transform, so with flat priors it is the maximum-likelihood estimate
both others compute (the default priors would move it). Its fit time includes building
and compiling the PyTensor graph (C code is cached in ~/.pytensor after the first run);
its predict time is expected purchases over 52 weeks and P(alive). A pymc-marketing
failure is recorded with its message and the run goes on.

Usage: bench/loyalty.py [--sizes 2357,23570,1000000,10000000] [--lifetimes-max 1000000]
                        [--pymc-max 1000000] [--out loyalty.json]
Writes bench/results/loyalty.json (or --out).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "cdnow"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CXRAY = os.environ.get("CXRAY_BIN", str(TARGET / "release" / "cxray"))
START = pd.Timestamp("1997-01-01")
CAL_END = "1997-09-30"
PREDICT_RUNS = 5


def cxray(data, *args):
    out = subprocess.run([CXRAY, "--data", str(data), *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def simulate(n, seed, path):
    """BG/NBD purchases with Gamma-Gamma spend, written as Parquet."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.243, 1 / 4.414, n)  # purchases per week
    p = rng.beta(0.793, 2.426, n)
    nu = rng.gamma(3.74, 1 / 15.44, n)
    birth = rng.integers(0, 84, n) / 7.0  # weeks, on whole days
    horizon = 78.0
    ids, times = [np.arange(n)], [birth]
    active, t = np.arange(n), birth.copy()
    while active.size:
        t = t + rng.exponential(1 / lam[active])
        keep = t < horizon
        active, t = active[keep], t[keep]
        ids.append(active)
        times.append(t)
        stay = rng.random(active.size) >= p[active]
        active, t = active[stay], t[stay]
    ids, times = np.concatenate(ids), np.concatenate(times)
    amount = np.round(rng.gamma(6.25, 1 / nu[ids]), 2)
    at = START + pd.to_timedelta(np.floor(times * 7), unit="D")
    df = pd.DataFrame({
        "customer_id": pd.Series(ids).map("C{:08d}".format),
        "at": pd.DatetimeIndex(at).tz_localize("UTC").as_unit("us"),
        "amount": amount,
    })
    df.to_parquet(path, index=False)
    return len(df)


def load_cdnow(name, header):
    df = pd.read_csv(SHARED / name, sep=r"\s+", header=None, skiprows=1 if header else 0, dtype=str)
    amount_col = df.columns[-1]
    date_col = 1 if header else 2
    return pd.DataFrame({
        "customer_id": df[0],
        "at": pd.to_datetime(df[date_col], format="%Y%m%d").dt.tz_localize("UTC"),
        "amount": df[amount_col].astype(float),
    })


def run_cxray(folder, source, import_args):
    cxray(folder, "init")
    t = time.perf_counter()
    cxray(folder, "import", "transactions", str(source), *import_args)
    imported = time.perf_counter() - t
    fit = cxray(folder, "loyalty", "fit", "--model", "bgnbd", "--unit", "week", "--calibration-end", CAL_END)
    # The predict command PREDICT_RUNS times; the run with the median fit + predict time
    # is reported (a fraction of a second is at the mercy of the scheduler), all are kept.
    runs = [cxray(folder, "loyalty", "predict", "--model", "bgnbd", "--unit", "week", "--calibration-end", CAL_END,
                  "--horizon", "52", "--discount-rate", "0.1") for _ in range(PREDICT_RUNS)]
    runs.sort(key=lambda p: p["fit_seconds"] + p["predict_seconds"])
    pred = runs[len(runs) // 2]
    return {
        "import_s": imported,
        "summary_s": fit["summary_seconds"],
        "fit_s": fit["seconds"] - fit["summary_seconds"],
        # The whole predict command: summary, both fits, every customer, the table write.
        "all_s": pred["seconds"],
        # Its parts after the summary: reading the summaries into patterns and both fits;
        # every customer's values; writing customer_value.
        "predict_fits_s": pred["fit_seconds"],
        "predict_values_s": pred["predict_seconds"],
        "predict_write_s": pred["write_seconds"],
        "fit_predict_s": pred["fit_seconds"] + pred["predict_seconds"],
        "fit_predict_runs_s": [p["fit_seconds"] + p["predict_seconds"] for p in runs],
        "patterns": fit["n_patterns"],
        "params": fit["params"],
        "log_likelihood": fit["log_likelihood"],
        "customers": fit["n_customers"],
    }


def write_results(name, out):
    """Writes bench/results/NAME and prints it."""
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / name).write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


def summarise(df):
    """lifetimes' per-customer summary of the calibration period, and its seconds."""
    from lifetimes.utils import summary_data_from_transaction_data
    df = df.assign(at=df["at"].dt.tz_localize(None))
    t = time.perf_counter()
    cal = df[df["at"] <= pd.Timestamp(CAL_END)]
    s = summary_data_from_transaction_data(cal, "customer_id", "at", monetary_value_col="amount",
                                           observation_period_end=CAL_END, freq="D", freq_multiplier=7)
    return s, time.perf_counter() - t


def run_lifetimes(s, summary_s):
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    t = time.perf_counter()
    bgf = BetaGeoFitter(penalizer_coef=0.0).fit(s["frequency"], s["recency"], s["T"])
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    bgf.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
    bgf.conditional_expected_number_of_purchases_up_to_time(52, s["frequency"], s["recency"], s["T"])
    repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]  # as cxray: positive repeat spend
    ggf = GammaGammaFitter(penalizer_coef=0.0).fit(repeat["frequency"], repeat["monetary_value"])
    ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"],
                                time=12, discount_rate=0.1 / 12, freq="W")
    predict_s = time.perf_counter() - t
    params = {k: float(v) for k, v in bgf.params_.items()}
    return {"summary_s": summary_s, "fit_s": fit_s, "predict_s": predict_s, "params": params, "customers": len(s),
            "all_s": summary_s + fit_s + predict_s}


def run_pymc(s):
    import numpy as np
    if not hasattr(np, "bool8"):  # removed in numpy 2; pymc-marketing 0.19.2's stack still uses it
        np.bool8 = np.bool_
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel
    data = s.reset_index()[["customer_id", "frequency", "recency", "T"]]
    t = time.perf_counter()
    model = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
    model.fit(data=data, method="map", progressbar=False)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    model.expected_purchases(future_t=52)
    model.expected_probability_alive()
    predict_s = time.perf_counter() - t
    params = {k: float(model.fit_result[k].values.squeeze()) for k in ("r", "alpha", "a", "b")}
    return {"fit_s": fit_s, "predict_s": predict_s, "params": params}


def max_rel_diff(params, reference):
    return max(abs(params[k] - reference[k]) / abs(reference[k]) for k in ("r", "alpha", "a", "b"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2357,23570,1000000,10000000")
    ap.add_argument("--lifetimes-max", type=int, default=1_000_000)
    ap.add_argument("--pymc-max", type=int, default=1_000_000)
    ap.add_argument("--out", default="loyalty.json", help="results file in bench/results")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for size in [int(s) for s in args.sizes.split(",")]:
            if size == 2357:
                source, import_args = SHARED / "CDNOW_sample.txt", ["--no-header", "--map", "customer_id=1,at=3,amount=5", "--date-format", "%Y%m%d"]
                df, label = load_cdnow("CDNOW_sample.txt", False), "CDNOW sample"
            elif size == 23570:
                source, import_args = SHARED / "CDNOW_master.txt", ["--map", "at=date,amount=dollar_value", "--date-format", "%Y%m%d"]
                df, label = load_cdnow("CDNOW_master.txt", True), "CDNOW master"
            else:
                source = work / f"sim-{size}.parquet"
                rows = simulate(size, 7, source)
                df, label, import_args = None, f"simulated BG/NBD, {rows:,} transactions", []
            print(f"== {label}: {size:,} customers", file=sys.stderr, flush=True)
            row = {"customers": size, "data": label, "cxray": run_cxray(work / f"cx-{size}", source, import_args)}
            print(f"   cxray {row['cxray']}", file=sys.stderr, flush=True)
            if size <= max(args.lifetimes_max, args.pymc_max):
                if df is None:
                    df = pd.read_parquet(source)
                s, summary_s = summarise(df)
            cx = row["cxray"]
            if size <= args.lifetimes_max:
                row["lifetimes"] = lt = run_lifetimes(s, summary_s)
                print(f"   lifetimes {lt}", file=sys.stderr, flush=True)
                row["ratios"] = {k: lt[k] / cx[k] for k in ("summary_s", "fit_s")}
                row["ratios"]["summary_fit_predict"] = lt["all_s"] / cx["all_s"]
                # Issue 3's target: fit + predict (lifetimes writes nothing; cxray without
                # and with writing customer_value).
                lt_fp = lt["fit_s"] + lt["predict_s"]
                row["ratios"]["fit_predict"] = lt_fp / cx["fit_predict_s"]
                row["ratios"]["fit_predict_write"] = lt_fp / (cx["fit_predict_s"] + cx["predict_write_s"])
                row["max_param_rel_diff"] = max_rel_diff(cx["params"], lt["params"])
            if size <= args.pymc_max:
                try:
                    pm = run_pymc(s)
                    pm["fit_ratio"] = pm["fit_s"] / cx["fit_s"]
                    pm["max_param_rel_diff_from_cxray"] = max_rel_diff(pm["params"], cx["params"])
                except Exception as e:
                    pm = {"error": f"{type(e).__name__}: {e}"}
                row["pymc_marketing"] = pm
                print(f"   pymc-marketing {pm}", file=sys.stderr, flush=True)
            results.append(row)
    out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "results": results}
    write_results(args.out, out)


if __name__ == "__main__":
    main()
