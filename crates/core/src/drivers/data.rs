//! The input of a driver analysis, its checks, and weighted moments: the data standardised
//! once and stored by row, so that bootstrap resamples' cross-products (rows weighted by
//! how often they were drawn) take one pass for several resamples.

use super::DriverError;
use super::crossprod::{BATCH, Sums, run_sums, weighted_sums};
use super::matrix::Matrix;
use super::runs::Runs;

/// An outcome and the named predictors to explain it, as borrowed columns of equal length.
#[derive(Debug, Clone, Default)]
pub struct Dataset<'a> {
    /// The outcome: any number (linear model), or 0 / 1 (logistic model).
    pub outcome: &'a [f64],
    /// The predictors, in the order the results report them.
    pub predictors: Vec<Column<'a>>,
    /// Frequency weights: row i stands for `weights[i]` identical observations (rows of
    /// equal values grouped into patterns); every row once without.
    pub weights: Option<&'a [u32]>,
}

/// A named predictor.
#[derive(Debug, Clone)]
pub struct Column<'a> {
    pub name: String,
    pub values: &'a [f64],
}

impl<'a> Dataset<'a> {
    /// A data set with this outcome and no predictors yet.
    pub fn new(outcome: &'a [f64]) -> Self {
        Dataset {
            outcome,
            predictors: Vec::new(),
            weights: None,
        }
    }

    /// Gives every row a frequency weight (see [`Dataset::weights`]).
    pub fn weighted(mut self, weights: &'a [u32]) -> Self {
        self.weights = Some(weights);
        self
    }

    /// The number of observations: the rows, counting each by its weight.
    pub fn total(&self) -> u64 {
        match self.weights {
            Some(w) => w.iter().map(|&w| u64::from(w)).sum(),
            None => self.outcome.len() as u64,
        }
    }

    /// Adds a predictor.
    pub fn predictor(mut self, name: impl Into<String>, values: &'a [f64]) -> Self {
        self.predictors.push(Column {
            name: name.into(),
            values,
        });
        self
    }

    /// The predictors' names.
    pub fn names(&self) -> Vec<String> {
        self.predictors.iter().map(|c| c.name.clone()).collect()
    }

    /// Checks the shape and values: at least one predictor, equal lengths, finite values,
    /// at least p + 2 observations (so the residual variance has a degree of freedom),
    /// and, for a logistic model, an outcome of 0s and 1s.
    pub(crate) fn check(&self, binary: bool) -> Result<(), DriverError> {
        let (n, p) = (self.outcome.len(), self.predictors.len());
        if p == 0 {
            return Err(DriverError::NoPredictors);
        }
        if self.total() < p as u64 + 2 {
            return Err(DriverError::TooFewRows {
                rows: self.total() as usize,
                predictors: p,
            });
        }
        if let Some(w) = self.weights
            && w.len() != n
        {
            return Err(DriverError::LengthMismatch {
                column: "weights".into(),
                len: w.len(),
                expected: n,
            });
        }
        for c in &self.predictors {
            if c.values.len() != n {
                return Err(DriverError::LengthMismatch {
                    column: c.name.clone(),
                    len: c.values.len(),
                    expected: n,
                });
            }
        }
        let columns = self.predictors.iter().map(|c| (c.name.as_str(), c.values));
        for (name, values) in std::iter::once(("outcome", self.outcome)).chain(columns) {
            if let Some(row) = values.iter().position(|v| !v.is_finite()) {
                let column = name.to_string();
                return Err(DriverError::NonFinite { column, row });
            }
        }
        if binary && let Some(row) = self.outcome.iter().position(|&y| y != 0.0 && y != 1.0) {
            let value = self.outcome[row];
            return Err(DriverError::NotBinary { row, value });
        }
        Ok(())
    }
}

/// A standardised column's weighted variance below this counts as zero.
const VARIANCE_TOL: f64 = 1e-14;

/// Columns standardised by their mean and standard deviation (1 for a constant column),
/// stored by row, with the runs of rows that passes over them take when that pays.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    pub width: usize,
    pub data: Vec<f64>,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub runs: Option<Runs>,
}

impl Rows {
    /// The columns (all of one length), standardised by their (weighted) mean and
    /// standard deviation, and interleaved.
    pub fn new(columns: &[&[f64]], weights: Option<&[u32]>) -> Self {
        let width = columns.len();
        let n = columns.first().map_or(0, |c| c.len());
        let weight = |i: usize| weights.map_or(1.0, |w| f64::from(w[i]));
        let total: f64 = (0..n).map(weight).sum();
        let mean: Vec<f64> = columns
            .iter()
            .map(|c| {
                c.iter()
                    .enumerate()
                    .map(|(i, x)| weight(i) * x)
                    .sum::<f64>()
                    / total
            })
            .collect();
        let scale: Vec<f64> = columns
            .iter()
            .zip(&mean)
            .map(|(c, m)| {
                let ss: f64 = c
                    .iter()
                    .enumerate()
                    .map(|(i, x)| weight(i) * (x - m) * (x - m))
                    .sum();
                let sd = (ss / (total - 1.0)).sqrt();
                if sd > 0.0 { sd } else { 1.0 }
            })
            .collect();
        let mut data = Vec::with_capacity(n * width);
        for i in 0..n {
            for (j, c) in columns.iter().enumerate() {
                data.push((c[i] - mean[j]) / scale[j]);
            }
        }
        Rows {
            runs: Runs::find(&data, width),
            width,
            data,
            mean,
            scale,
        }
    }

    /// Row i.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    /// Means, standard deviations and correlations of the columns, each row counted
    /// `counts[i]` times (once each without counts).
    pub fn moments(&self, counts: Option<&[u32]>) -> Moments {
        let mut m = self.moments_batch(&[counts]);
        m.swap_remove(0)
    }

    /// [`Rows::moments`] for several weightings, in one pass per [`BATCH`] of them. The
    /// cross-products are about the full-sample means, corrected to the weighted means
    /// (which are close to them, so the correction loses little).
    pub fn moments_batch(&self, counts: &[Option<&[u32]>]) -> Vec<Moments> {
        counts
            .chunks(BATCH)
            .flat_map(|chunk| match &self.runs {
                Some(runs) => run_sums(&self.data, self.width, runs, chunk),
                None => weighted_sums(&self.data, self.width, chunk),
            })
            .map(|s| self.finish(&s))
            .collect()
    }

    fn finish(&self, s: &Sums) -> Moments {
        let w = self.width;
        let total = s.total;
        let centre: Vec<f64> = s.sum.iter().map(|x| x / total).collect();
        let cov = Matrix::from_fn(w, |i, j| {
            (s.cross(i, j) - total * centre[i] * centre[j]) / (total - 1.0)
        });
        // Unit variance over all rows; far less in a resample is a constant column plus
        // cancellation error.
        let sd_std: Vec<f64> = (0..w)
            .map(|j| match cov[(j, j)] {
                v if v > VARIANCE_TOL => v.sqrt(),
                _ => 0.0,
            })
            .collect();
        let corr = Matrix::from_fn(w, |i, j| match (i == j, sd_std[i] * sd_std[j]) {
            (true, _) => 1.0,
            (false, d) if d > 0.0 => cov[(i, j)] / d,
            _ => 0.0,
        });
        Moments {
            weight: total,
            mean: (0..w)
                .map(|j| self.mean[j] + centre[j] * self.scale[j])
                .collect(),
            sd: (0..w).map(|j| sd_std[j] * self.scale[j]).collect(),
            corr,
        }
    }
}

/// Weighted moments of some columns, in their original units.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    /// Total weight (the number of rows, counting repeats).
    pub weight: f64,
    pub mean: Vec<f64>,
    /// Standard deviations with divisor weight − 1; exactly zero for a constant column.
    pub sd: Vec<f64>,
    /// Correlations; zero off the diagonal for a constant column.
    pub corr: Matrix,
}

impl Moments {
    /// Fails on the first constant column among the first `names.len()`, naming it.
    pub fn check_varies(&self, names: &[String]) -> Result<(), DriverError> {
        match names.iter().zip(&self.sd).find(|(_, sd)| **sd == 0.0) {
            Some((name, _)) => Err(DriverError::ConstantPredictor(name.clone())),
            None => Ok(()),
        }
    }

    /// Fails if the first `names.len()` columns are collinear, naming the first that is a
    /// linear combination of those before it.
    pub fn check_independent(&self, names: &[String]) -> Result<(), DriverError> {
        let p = names.len();
        match self.corr.leading(p).cholesky() {
            Ok(_) => Ok(()),
            Err(j) => Err(super::regression::collinear(names, j)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_moments_equal_repeated_rows() {
        let a = [1.0, 2.0, 4.0, 7.0];
        let b = [3.0, 1.0, 0.5, 2.0];
        let rows = Rows::new(&[&a, &b], None);
        let m = rows.moments(Some(&[2, 0, 1, 3]));
        let a2 = [1.0, 1.0, 4.0, 7.0, 7.0, 7.0];
        let b2 = [3.0, 3.0, 0.5, 2.0, 2.0, 2.0];
        let direct = Rows::new(&[&a2, &b2], None).moments(None);
        let weighted = Rows::new(&[&a, &b], Some(&[2, 0, 1, 3])).moments(Some(&[2, 0, 1, 3]));
        assert!((weighted.corr[(0, 1)] - direct.corr[(0, 1)]).abs() < 1e-12);
        assert_eq!(m.weight, 6.0);
        for j in 0..2 {
            assert!((m.mean[j] - direct.mean[j]).abs() < 1e-12);
            assert!((m.sd[j] - direct.sd[j]).abs() < 1e-12);
        }
        assert!((m.corr[(0, 1)] - direct.corr[(1, 0)]).abs() < 1e-12);
        assert!((direct.mean[0] - 4.5).abs() < 1e-12);
    }
}
