//! Two groups' mean difference adjusted for a covariate measured before assignment (CUPED:
//! Deng, Xu, Kohavi & Walker 2013): each value y becomes y − θ(x − x̄), with θ the pooled
//! within-group cov(y, x) / var(x), and the adjusted means are compared by Welch's t.

use serde::Serialize;

use super::{Difference, Scale, Settings, StatsError, Summary, mean_difference};

/// Running moments of paired values (y, x): the count, both means and the sums of squared
/// and cross deviations, updated one pair at a time (Welford), so no values are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Paired {
    n: u64,
    mean_y: f64,
    mean_x: f64,
    syy: f64,
    sxx: f64,
    sxy: f64,
}

impl Paired {
    /// Adds the pair (y, x).
    pub fn push(&mut self, y: f64, x: f64) {
        self.n += 1;
        let n = self.n as f64;
        let (dx, dy) = (x - self.mean_x, y - self.mean_y);
        self.mean_x += dx / n;
        self.mean_y += dy / n;
        self.sxx += dx * (x - self.mean_x);
        self.syy += dy * (y - self.mean_y);
        self.sxy += dx * (y - self.mean_y);
    }

    /// The moments of the pairs.
    pub fn of(pairs: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let mut p = Paired::default();
        pairs.into_iter().for_each(|(y, x)| p.push(y, x));
        p
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    /// The summary of the y values.
    pub fn y(&self) -> Summary {
        self.summary(self.mean_y, self.syy)
    }

    /// The summary of the x values.
    pub fn x(&self) -> Summary {
        self.summary(self.mean_x, self.sxx)
    }

    fn summary(&self, mean: f64, squares: f64) -> Summary {
        let variance = if self.n > 1 {
            squares / (self.n - 1) as f64
        } else {
            0.0
        };
        Summary {
            n: self.n,
            mean,
            variance,
        }
    }

    /// The summary of y − θ(x − centre).
    fn adjusted(&self, theta: f64, centre: f64) -> Summary {
        let squares = self.syy - 2.0 * theta * self.sxy + theta * theta * self.sxx;
        self.summary(
            self.mean_y - theta * (self.mean_x - centre),
            squares.max(0.0),
        )
    }
}

/// A mean difference a − b with and without the adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cuped {
    /// The difference of the adjusted means.
    pub adjusted: Difference,
    /// The plain difference of the means.
    pub unadjusted: Difference,
    /// The coefficient θ of the covariate.
    pub theta: f64,
    /// The pooled standard deviation of the adjusted values within the groups.
    pub adjusted_sd: f64,
    /// The share of the difference's variance the adjustment removed (0 … 1; negative
    /// when it added variance).
    pub variance_reduction: f64,
}

/// The CUPED comparison of y between groups a and b (amounts, [`Scale::Amount`]). θ is 0
/// when x does not vary. `NoData` if a group is empty; `NonFinite` on a value that is not
/// a number.
pub fn cuped_difference(a: &Paired, b: &Paired, s: &Settings) -> Result<Cuped, StatsError> {
    if a.n == 0 || b.n == 0 {
        return Err(StatsError::NoData);
    }
    for v in [a.mean_y, a.mean_x, a.syy, b.mean_y, b.mean_x, b.syy] {
        if !v.is_finite() {
            return Err(StatsError::NonFinite(v));
        }
    }
    let sxx = a.sxx + b.sxx;
    let theta = if sxx > 0.0 {
        (a.sxy + b.sxy) / sxx
    } else {
        0.0
    };
    let centre = (a.mean_x * a.n as f64 + b.mean_x * b.n as f64) / (a.n + b.n) as f64;
    let (adj_a, adj_b) = (a.adjusted(theta, centre), b.adjusted(theta, centre));
    let se2 = |x: &Summary, y: &Summary| x.variance / x.n as f64 + y.variance / y.n as f64;
    let before = se2(&a.y(), &b.y());
    let variance_reduction = if before > 0.0 {
        1.0 - se2(&adj_a, &adj_b) / before
    } else {
        0.0
    };
    let pooled = (adj_a.variance * (a.n.max(1) - 1) as f64
        + adj_b.variance * (b.n.max(1) - 1) as f64)
        / ((a.n + b.n).saturating_sub(2).max(1)) as f64;
    Ok(Cuped {
        adjusted: mean_difference(&adj_a, &adj_b, Scale::Amount, s)?,
        adjusted_sd: pooled.sqrt(),
        unadjusted: mean_difference(&a.y(), &b.y(), Scale::Amount, s)?,
        theta,
        variance_reduction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    #[test]
    fn moments_match_two_pass_sums() {
        // y: 1, 3, 5, 7; x: 2, 2, 4, 8. Means 4 and 4; Σ(y−4)² = 20, Σ(x−4)² = 24,
        // Σ(x−4)(y−4) = 6 + 2 + 0 + 12 = 20.
        let p = Paired::of([(1.0, 2.0), (3.0, 2.0), (5.0, 4.0), (7.0, 8.0)]);
        assert_eq!((p.n(), p.y().mean, p.x().mean), (4, 4.0, 4.0));
        assert!((p.y().variance - 20.0 / 3.0).abs() < 1e-12);
        assert!((p.x().variance - 8.0).abs() < 1e-12);
        assert!((p.sxy - 20.0).abs() < 1e-12);
    }

    #[test]
    fn hand_example() {
        // a: (y, x) = (3, 1), (5, 3); b: (1, 1), (3, 3). Within groups Σxy = 2 + 2 = 4,
        // Σxx = 2 + 2 = 4, θ = 1; y − x is 2, 2 in a and 0, 0 in b: an adjusted
        // difference of exactly 2 with no variance left.
        let a = Paired::of([(3.0, 1.0), (5.0, 3.0)]);
        let b = Paired::of([(1.0, 1.0), (3.0, 3.0)]);
        let c = cuped_difference(&a, &b, &Settings::default()).unwrap();
        assert_eq!(c.theta, 1.0);
        assert_eq!(c.adjusted.value, 2.0);
        assert_eq!((c.adjusted.low, c.adjusted.high), (Some(2.0), Some(2.0)));
        assert_eq!(c.unadjusted.value, 2.0);
        assert!(c.unadjusted.low.unwrap() < 0.0);
        assert_eq!(c.variance_reduction, 1.0);
        let empty = Paired::default();
        assert_eq!(
            cuped_difference(&a, &empty, &Settings::default()),
            Err(StatsError::NoData)
        );
    }

    /// Arms of `n` values each with revenue y = 2x + noise (x the pre-period spend) and
    /// `effect` added to arm a.
    fn arms(seed: u64, n: usize, effect: f64) -> (Paired, Paired) {
        let mut rng = Rng::new(seed);
        let mut draw = |plus: f64| {
            let x = rng.gamma(2.0, 0.01);
            (2.0 * x + 50.0 * rng.normal() + plus, x)
        };
        let a = Paired::of((0..n).map(|_| draw(effect)));
        let b = Paired::of((0..n).map(|_| draw(0.0)));
        (a, b)
    }

    #[test]
    fn adjustment_removes_the_covariates_variance() {
        let (a, b) = arms(7, 500, 0.0);
        let c = cuped_difference(&a, &b, &Settings::default()).unwrap();
        assert!((c.theta - 2.0).abs() < 0.1, "{c:?}");
        assert!(c.variance_reduction > 0.8, "{c:?}");
        let width = |d: &Difference| d.high.unwrap() - d.low.unwrap();
        assert!(width(&c.adjusted) < 0.5 * width(&c.unadjusted));
    }

    #[test]
    fn intervals_cover_the_true_difference_in_about_95_percent_of_seeds() {
        for effect in [0.0, 20.0] {
            let covered = (0..400)
                .filter(|&seed| {
                    let (a, b) = arms(seed, 200, effect);
                    let d = cuped_difference(&a, &b, &Settings::default())
                        .unwrap()
                        .adjusted;
                    d.low.unwrap() <= effect && effect <= d.high.unwrap()
                })
                .count();
            assert!((368..=392).contains(&covered), "{effect}: {covered} of 400");
        }
    }

    proptest! {
        /// A covariate that does not vary changes nothing.
        #[test]
        fn a_constant_covariate_changes_nothing(
            ya in prop::collection::vec(-1e4..1e4f64, 2..30),
            yb in prop::collection::vec(-1e4..1e4f64, 2..30),
            x in -100.0..100.0f64,
        ) {
            let a = Paired::of(ya.iter().map(|&y| (y, x)));
            let b = Paired::of(yb.iter().map(|&y| (y, x)));
            let c = cuped_difference(&a, &b, &Settings::default()).unwrap();
            prop_assert_eq!(c.theta, 0.0);
            prop_assert_eq!(c.adjusted, c.unadjusted);
        }

        /// The adjustment never widens the interval much: θ minimises the pooled
        /// within-group variance.
        #[test]
        fn pooled_variance_never_grows(
            pairs in prop::collection::vec((-1e3..1e3f64, -1e3..1e3f64), 6..40),
        ) {
            let half = pairs.len() / 2;
            let a = Paired::of(pairs[..half].iter().copied());
            let b = Paired::of(pairs[half..].iter().copied());
            let c = cuped_difference(&a, &b, &Settings::default()).unwrap();
            let squares = |p: &Paired, theta: f64| {
                p.syy - 2.0 * theta * p.sxy + theta * theta * p.sxx
            };
            let after = squares(&a, c.theta) + squares(&b, c.theta);
            prop_assert!(after <= a.syy + b.syy + 1e-6 * (a.syy + b.syy));
        }
    }
}
