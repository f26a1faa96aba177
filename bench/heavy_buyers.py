#!/usr/bin/env python3
"""Heavy buyers: cxray and Python `lifetimes` on customers with thousands of purchase days.

Pareto/NBD and BG/NBD formulas raise (alpha + T) and (beta + T) to the power r + x and
evaluate Gauss hypergeometric functions whose parameters grow with x, the number of repeat
purchases; with x in the hundreds or thousands a direct evaluation can overflow. This run
generates transactions (deterministic, seeded numpy) of 5,000 Pareto/NBD customers
(purchase rates Gamma r=0.55, alpha=10.5 and dropout rates Gamma s=0.6, beta=12, per week;
first purchases spread over the first year) plus three heavy buyers who buy from the first
day on 1,200, 2,500 and 4,000 distinct days, active to the end. Both tools count purchases
on the same day once, so the heavy buyers' purchases are on distinct days, and the window
is long enough for 4,000 of them: 2010-01-01 to the calibration end 2021-12-31 (626 weeks).

Both tools fit Pareto/NBD and BG/NBD in weeks on the same (x, t_x, T): cxray with `loyalty
fit` and `loyalty predict --horizon 52` (P(alive) and expected purchases from
`customer_value`); lifetimes 0.11.3 with the exact-week summary (freq='D',
freq_multiplier=7), `ParetoNBDFitter` (Nelder-Mead from a random start: numpy seeded) and
`BetaGeoFitter`, then `conditional_probability_alive` and
`conditional_expected_number_of_purchases_up_to_time(52, ...)` for the heavy buyers. For
lifetimes it records exceptions, warnings and the optimiser's own convergence message
(scipy's, through `verbose=True`; converged means scipy reported success), and its
log-likelihood in weeks at its estimates by its own formula. Timing is not the point.

Usage: bench/heavy_buyers.py
Writes bench/results/heavy_buyers.json.
"""
import contextlib
import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty import cxray, write_results  # cxray: the release binary, or CXRAY_BIN

START = pd.Timestamp("2010-01-01")
CAL_END = "2021-12-31"
HEAVY = {"H1200": 1200, "H2500": 2500, "H4000": 4000}
MODELS = {"pnbd": ("r", "alpha", "s", "beta"), "bgnbd": ("r", "alpha", "a", "b")}


def generate(path, n=5000, seed=11):
    """Pareto/NBD customers and the heavy buyers, one row per purchase, as CSV with dates."""
    rng = np.random.default_rng(seed)
    days = (pd.Timestamp(CAL_END) - START).days + 1
    lam = rng.gamma(0.55, 1 / 10.5, n)  # purchases per week
    mu = rng.gamma(0.6, 1 / 12, n)  # dropouts per week
    birth = rng.integers(0, 365, n)  # day of the first purchase
    end = np.minimum(birth + rng.exponential(1 / mu) * 7, days)  # death or the calibration end
    repeats = rng.poisson(lam * (end - birth) / 7)
    ids = np.concatenate([np.arange(n), np.repeat(np.arange(n), repeats)])
    offsets = np.repeat(end - birth, repeats) * rng.random(repeats.sum())
    day = np.concatenate([birth, np.repeat(birth, repeats) + np.floor(offsets).astype(int)])
    customer = [f"C{i:05d}" for i in ids]
    for name, count in HEAVY.items():
        heavy_days = np.concatenate([[0], np.sort(rng.choice(np.arange(1, days), count - 1, replace=False))])
        customer += [name] * count
        day = np.concatenate([day, heavy_days])
    df = pd.DataFrame({
        "customer_id": customer,
        "at": (START + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
        "amount": np.round(rng.gamma(6.0, 6.0, len(customer)) + 0.01, 2),
    })
    df.to_csv(path, index=False)
    return df


def run_cxray(folder, source):
    cxray(folder, "init")
    cxray(folder, "import", "transactions", str(source))
    window = ["--unit", "week", "--calibration-end", CAL_END]
    heavy = ", ".join(f"'{c}'" for c in HEAVY)
    out = {}
    for model in MODELS:
        fit = cxray(folder, "loyalty", "fit", "--model", model, *window)
        cxray(folder, "loyalty", "predict", "--model", model, *window, "--horizon", "52")
        rows = cxray(folder, "sql", "SELECT customer_id, x, t_x, t, p_alive, expected_transactions "
                     f"FROM customer_value WHERE customer_id IN ({heavy}) ORDER BY customer_id")
        out[model] = {k: fit[k] for k in ("params", "log_likelihood", "converged", "gradient_norm",
                                          "hessian_positive_definite", "iterations")}
        out[model]["heavy"] = {r["customer_id"]: {k: r[k] for k in ("x", "t_x", "t", "p_alive", "expected_transactions")}
                               for r in rows}
    return out


def finite(v):
    """A float for JSON, or the name of a non-finite value."""
    v = float(v)
    return v if np.isfinite(v) else str(v)


def run_lifetimes(df):
    from lifetimes import BetaGeoFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data
    s = summary_data_from_transaction_data(df.assign(at=pd.to_datetime(df["at"])), "customer_id", "at",
                                           observation_period_end=CAL_END, freq="D", freq_multiplier=7)
    x, t_x, T = (s[c].to_numpy() for c in ("frequency", "recency", "T"))  # numpy: NaN sums to NaN
    fitters = {
        "pnbd": (ParetoNBDFitter, lambda p: ParetoNBDFitter._conditional_log_likelihood(p, x, t_x, T).sum()),
        "bgnbd": (BetaGeoFitter, lambda p: -len(s) * BetaGeoFitter._negative_log_likelihood(np.log(p), x, t_x, T, np.ones(len(s)), 0.0)),
    }
    out = {}
    for model, (fitter, log_likelihood) in fitters.items():
        np.random.seed(0)
        stdout = io.StringIO()
        row = {"exception": None}
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
            warnings.simplefilter("always")
            try:
                f = fitter(penalizer_coef=0.0).fit(x, t_x, T, verbose=True)
                params = np.array([f.params_[k] for k in MODELS[model]])
                row["params"] = {k: finite(v) for k, v in zip(MODELS[model], params)}
                row["log_likelihood"] = finite(log_likelihood(params))
                h = s.loc[list(HEAVY)]
                alive = f.conditional_probability_alive(h["frequency"], h["recency"], h["T"])
                expected = f.conditional_expected_number_of_purchases_up_to_time(52, h["frequency"], h["recency"], h["T"])
                row["heavy"] = {c: {"x": int(h.loc[c, "frequency"]), "t_x": float(h.loc[c, "recency"]), "t": float(h.loc[c, "T"]),
                                    "p_alive": finite(a), "expected_transactions": finite(e)}
                                for c, a, e in zip(HEAVY, np.asarray(alive), np.asarray(expected))}
            except Exception as e:
                row["exception"] = f"{type(e).__name__}: {e}"
        row["optimizer"] = " ".join(stdout.getvalue().split())[:500]
        row["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        row["converged"] = (row["exception"] is None and "successfully" in row["optimizer"]
                            and not any("Maximum number" in w for w in row["warnings"]))
        out[model] = row
    return out


def main():
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        source = work / "heavy.csv"
        df = generate(source)
        out = {
            "data": {"customers": df["customer_id"].nunique(), "transactions": len(df),
                     "start": str(START.date()), "calibration_end": CAL_END, "heavy_purchase_days": HEAVY},
            "cxray": run_cxray(work / "cx", source),
            "lifetimes": run_lifetimes(df),
        }
    write_results("heavy_buyers.json", out)


if __name__ == "__main__":
    main()
