//! The whole driver analysis: fit, split the fit statistic between the predictors, and
//! bootstrap every figure.

use super::crossprod::BATCH;
use super::data::{Dataset, Moments, Rows};
use super::dominance::{general_dominance, members, weights_from_table};
use super::logistic::Design;
use super::regression::{self, Coefficient, all_subsets_r2, check_linear, linear_rows};
use super::relative_weights::{logistic_relative_weights, relative_weights};
use super::{DriverError, Method, Model, Options, bootstrap};
use crate::stats::Estimate;
use crate::stats::quantile::{normal_quantile, t_quantile};
use serde::Serialize;

/// One predictor's importance and effect. Every figure is an [`Estimate`] of the
/// analysis's n rows ([`Estimate::unflagged`]): its interval from the bootstrap percentiles
/// when the analysis resampled, else Wald for coefficients and none for the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    pub name: String,
    /// Its part of the fit statistic (R² or pseudo-R²); the weights sum to it.
    pub weight: Estimate,
    /// weight / the sum of the weights.
    pub share: Estimate,
    /// 1 for the largest weight.
    pub rank: usize,
    /// Its slope in the full model, in outcome units (log odds for logistic) per unit.
    pub coefficient: Estimate,
    /// The slope's model-based standard error.
    pub std_error: f64,
    /// exp(slope), for a logistic model.
    pub odds_ratio: Option<Estimate>,
}

/// The result of [`analyse`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Rows used.
    pub n: u64,
    pub model: Model,
    /// The method used (`Auto` resolved).
    pub method: Method,
    pub level: f64,
    /// Resamples that gave a result (a resample can fail, e.g. by separation).
    pub resamples: usize,
    /// Resamples that failed and were left out of the intervals.
    pub failed_resamples: usize,
    /// R² (linear) or McFadden's pseudo-R² (logistic) of the full model.
    pub r2: Estimate,
    pub intercept: Estimate,
    /// Log-likelihoods of the full and intercept-only models (logistic only).
    pub log_likelihood: Option<f64>,
    pub null_log_likelihood: Option<f64>,
    /// One per predictor, in the data set's order.
    pub drivers: Vec<Driver>,
}

/// Runs a driver analysis of `data` as `options` say: the full model, each predictor's
/// weight and share of its fit statistic, and bootstrap percentile intervals for every
/// figure (deterministic for a seed).
pub fn analyse(data: &Dataset, options: &Options) -> Result<Analysis, DriverError> {
    let fit = Fitted::new(data, options)?;
    let draws = bootstrap::resample_rows(data, options, fit.batch(), |c| fit.draws(c));
    Ok(fit.finish(draws, options))
}

/// The analysis on all rows, ready to be run on resamples.
pub(crate) struct Fitted<'a> {
    data: &'a Dataset<'a>,
    method: Method,
    prepared: Prepared<'a>,
    point: Stats,
}

impl<'a> Fitted<'a> {
    pub(crate) fn new(data: &'a Dataset<'a>, options: &Options) -> Result<Self, DriverError> {
        if !(options.level > 0.0 && options.level < 1.0) {
            return Err(DriverError::InvalidLevel(options.level));
        }
        let method = options.method.resolve(data.predictors.len())?;
        let prepared = Prepared::new(data, options.model)?;
        let point = prepared.stats(method, data.weights)?;
        Ok(Fitted {
            data,
            method,
            prepared,
            point,
        })
    }

    /// Resamples per call of [`Fitted::draws`].
    pub(crate) fn batch(&self) -> usize {
        self.prepared.batch()
    }

    /// The figures of each resample (`None` where its fit fails).
    pub(crate) fn draws(&self, counts: &[Vec<u32>]) -> Vec<Option<Stats>> {
        self.prepared
            .stats_batch(self.method, counts, &self.point.start)
    }

    /// The analysis with its intervals from the resamples' `draws`.
    pub(crate) fn finish(self, draws: Vec<Option<Stats>>, options: &Options) -> Analysis {
        let (data, point) = (self.data, &self.point);
        let n = data.total() as usize;
        let draws: Vec<Stats> = draws.into_iter().flatten().collect();
        let failed = options.resamples - draws.len();
        let p = data.predictors.len();
        let logistic = options.model == Model::Logistic;
        let crit = if logistic {
            normal_quantile(0.5 + 0.5 * options.level)
        } else {
            t_quantile(0.5 + 0.5 * options.level, (n - p - 1) as f64)
        };
        let figure = |value: f64, of: &dyn Fn(&Stats) -> f64, wald: Option<(f64, f64)>| {
            let values: Vec<f64> = draws.iter().map(of).collect();
            let interval = bootstrap::percentile_interval(&values, options.level).or(wald);
            Estimate::unflagged(n as u64, value, interval)
        };
        let coefficient = |k: usize, transform: fn(f64) -> f64| {
            let c = point.coefficients[k];
            let wald = (
                transform(c.estimate - crit * c.std_error),
                transform(c.estimate + crit * c.std_error),
            );
            figure(
                transform(c.estimate),
                &|s: &Stats| transform(s.coefficients[k].estimate),
                Some(wald),
            )
        };
        let ranks = ranks(&point.weights);
        let drivers = (0..p)
            .map(|j| Driver {
                name: data.predictors[j].name.clone(),
                weight: figure(point.weights[j], &|s| s.weights[j], None),
                share: figure(point.share(j), &|s| s.share(j), None),
                rank: ranks[j],
                coefficient: coefficient(j + 1, |b| b),
                std_error: point.coefficients[j + 1].std_error,
                odds_ratio: logistic.then(|| coefficient(j + 1, f64::exp)),
            })
            .collect();
        Analysis {
            n: n as u64,
            model: options.model,
            method: self.method,
            level: options.level,
            resamples: draws.len(),
            failed_resamples: failed,
            r2: figure(point.r2, &|s| s.r2, None),
            intercept: coefficient(0, |b| b),
            log_likelihood: point.log_likelihood,
            null_log_likelihood: point.null_log_likelihood,
            drivers,
        }
    }
}

/// 1-based ranks by decreasing weight (ties in input order).
fn ranks(weights: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
    let mut ranks = vec![0; weights.len()];
    for (r, &j) in order.iter().enumerate() {
        ranks[j] = r + 1;
    }
    ranks
}

/// The figures of one fit, on all rows or a resample.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    r2: f64,
    weights: Vec<f64>,
    /// Intercept first.
    coefficients: Vec<Coefficient>,
    log_likelihood: Option<f64>,
    null_log_likelihood: Option<f64>,
    /// The logistic fit on standardised predictors, to start resample fits from.
    start: Vec<f64>,
}

impl Stats {
    fn share(&self, j: usize) -> f64 {
        let total: f64 = self.weights.iter().sum();
        if total > 0.0 {
            self.weights[j] / total
        } else {
            0.0
        }
    }
}

/// Checked data, ready for fits on any resample.
enum Prepared<'a> {
    Linear { rows: Rows, names: Vec<String> },
    Logistic(Design<'a>),
}

impl<'a> Prepared<'a> {
    fn new(data: &Dataset<'a>, model: Model) -> Result<Self, DriverError> {
        Ok(match model {
            Model::Linear => Prepared::Linear {
                rows: linear_rows(data)?,
                names: data.names(),
            },
            Model::Logistic => Prepared::Logistic(Design::new(data)?),
        })
    }

    /// Resamples per call of [`Prepared::stats_batch`]: several for a linear model, whose
    /// resamples share one pass over the data.
    fn batch(&self) -> usize {
        match self {
            Prepared::Linear { .. } => BATCH,
            Prepared::Logistic(_) => 1,
        }
    }

    /// The figures of each resample (`None` where its fit fails), logistic fits starting
    /// from `start`.
    fn stats_batch(
        &self,
        method: Method,
        counts: &[Vec<u32>],
        start: &[f64],
    ) -> Vec<Option<Stats>> {
        match self {
            Prepared::Linear { rows, names } => {
                let weights: Vec<Option<&[u32]>> = counts.iter().map(|c| Some(&c[..])).collect();
                rows.moments_batch(&weights)
                    .iter()
                    .map(|m| linear_stats(m, names, method).ok())
                    .collect()
            }
            Prepared::Logistic(design) => counts
                .iter()
                .map(|c| logistic_stats(design, method, Some(c), Some(start)).ok())
                .collect(),
        }
    }

    /// The figures on all rows, weighted by `weights` (the data's frequency weights).
    fn stats(&self, method: Method, weights: Option<&[u32]>) -> Result<Stats, DriverError> {
        match self {
            Prepared::Linear { rows, names } => linear_stats(&rows.moments(weights), names, method),
            Prepared::Logistic(design) => logistic_stats(design, method, None, None),
        }
    }
}

fn linear_stats(m: &Moments, names: &[String], method: Method) -> Result<Stats, DriverError> {
    let p = names.len();
    check_linear(m, names)?;
    let fit = regression::fit(m, names)?;
    let weights = match method {
        Method::RelativeWeights => {
            let r_xy: Vec<f64> = (0..p).map(|j| m.corr[(j, p)]).collect();
            relative_weights(&m.corr.leading(p), &r_xy)
        }
        _ => weights_from_table(p, &all_subsets_r2(&m.corr)),
    };
    Ok(Stats {
        r2: fit.r2,
        weights,
        coefficients: std::iter::once(fit.intercept)
            .chain(fit.slopes.iter().copied())
            .collect(),
        log_likelihood: None,
        null_log_likelihood: None,
        start: Vec::new(),
    })
}

fn logistic_stats(
    design: &Design,
    method: Method,
    counts: Option<&[u32]>,
    start: Option<&[f64]>,
) -> Result<Stats, DriverError> {
    let p = design.names.len();
    let null = design.null_log_likelihood(counts)?;
    let all: Vec<usize> = (0..p).collect();
    let full = design.fit(&all, counts, start)?;
    let r2 = 1.0 - full.log_likelihood / null;
    let weights = match method {
        Method::RelativeWeights => {
            let m = match counts {
                Some(_) => design.rows.moments(counts),
                None => design.moments.clone(),
            };
            m.check_varies(&design.names)?;
            // Slopes per resample standard deviation of each predictor.
            let standardised: Vec<f64> = (0..p)
                .map(|j| full.beta[j + 1] / design.rows.scale[j] * m.sd[j])
                .collect();
            logistic_relative_weights(&m.corr.leading(p), &standardised, r2)
        }
        _ => {
            let mut betas = vec![Vec::new(); 1 << p];
            betas[0] = vec![design.null_intercept(counts)];
            let whole = (1u32 << p) - 1;
            general_dominance(p, |mask| {
                if mask == whole {
                    return Ok(r2);
                }
                let parent = mask & !(1 << (31 - mask.leading_zeros()));
                let mut from = betas[parent as usize].clone();
                from.push(0.0);
                let fit = design.fit(&members(mask), counts, Some(&from))?;
                betas[mask as usize] = fit.beta;
                Ok(1.0 - fit.log_likelihood / null)
            })?
        }
    };
    Ok(Stats {
        r2,
        weights,
        coefficients: design.coefficients(&full),
        log_likelihood: Some(full.log_likelihood),
        null_log_likelihood: Some(null),
        start: full.beta,
    })
}
