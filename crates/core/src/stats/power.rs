//! Power of a two-group comparison by the normal approximation: the smallest difference
//! detectable at the groups' sizes, and the size needed to detect a given one.

use serde::Serialize;

use super::StatsError;
use super::quantile::normal_quantile;

/// A two-sided test's significance level and the power wanted (defaults: 0.05, 80%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Power {
    pub alpha: f64,
    pub power: f64,
}

impl Default for Power {
    fn default() -> Self {
        Power {
            alpha: 0.05,
            power: 0.8,
        }
    }
}

impl Power {
    /// z₁₋α/₂ + z_power; `InvalidLevel` unless both are strictly between 0 and 1.
    fn z(&self) -> Result<f64, StatsError> {
        for v in [self.alpha, self.power] {
            if !(v > 0.0 && v < 1.0) {
                return Err(StatsError::InvalidLevel(v));
            }
        }
        Ok(normal_quantile(1.0 - self.alpha / 2.0) + normal_quantile(self.power))
    }

    /// The smallest difference of means detectable between groups of `n_a` and `n_b`
    /// values of standard deviation `sd`: (z₁₋α/₂ + z_power) · sd · √(1/n_a + 1/n_b).
    /// None when a group is empty.
    pub fn detectable(&self, sd: f64, n_a: u64, n_b: u64) -> Result<Option<f64>, StatsError> {
        let z = self.z()?;
        Ok((n_a > 0 && n_b > 0).then(|| z * sd * (1.0 / n_a as f64 + 1.0 / n_b as f64).sqrt()))
    }

    /// The smallest true effect detected by a test of an estimate with standard error
    /// `se`: (z₁₋α/₂ + z_power) · se (Bloom 1995).
    pub fn detectable_with_se(&self, se: f64) -> Result<f64, StatsError> {
        Ok(self.z()? * se)
    }

    /// The total size of two groups, a share `share_b` of it in group b, needed to detect
    /// a difference `effect` between values of standard deviation `sd`:
    /// (z₁₋α/₂ + z_power)² sd² / (effect² · share_b · (1 − share_b)), rounded up. None when
    /// the effect is 0 or the share not strictly between 0 and 1.
    pub fn needed(&self, sd: f64, effect: f64, share_b: f64) -> Result<Option<u64>, StatsError> {
        let z = self.z()?;
        let split = share_b * (1.0 - share_b);
        Ok((effect != 0.0 && split > 0.0)
            .then(|| (z * z * sd * sd / (effect * effect * split)).ceil() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_example() {
        // z = 1.959964 + 0.841621 = 2.801585; sd 1, 100 and 100: 2.801585 · √0.02 = 0.396203.
        let p = Power::default();
        let d = p.detectable(1.0, 100, 100).unwrap().unwrap();
        assert!((d - 0.396_203).abs() < 1e-6, "{d}");
        // To detect 0.3963 with half in each group: 2.801585² / (0.3963² · 0.25) = 199.90,
        // rounded up to 200.
        assert_eq!(p.needed(1.0, 0.3963, 0.5).unwrap(), Some(200));
        assert_eq!(p.detectable(1.0, 0, 5).unwrap(), None);
        assert_eq!(p.needed(1.0, 0.0, 0.5).unwrap(), None);
        let bad = Power { power: 1.0, ..p };
        assert_eq!(
            bad.needed(1.0, 1.0, 0.5),
            Err(StatsError::InvalidLevel(1.0))
        );
    }

    proptest! {
        /// At the size `needed` gives, the detectable difference is the effect asked for.
        #[test]
        fn needed_and_detectable_agree(
            sd in 0.01..1e4f64,
            effect in 0.001..0.25f64,
            share in 0.05..0.95f64,
        ) {
            let p = Power::default();
            let effect = effect * sd;
            let n = p.needed(sd, effect, share).unwrap().unwrap() as f64;
            prop_assume!(n >= 100.0);
            let (a, b) = (n * (1.0 - share), n * share);
            let z = p.z().unwrap();
            let at = z * sd * (1.0 / a + 1.0 / b).sqrt();
            prop_assert!(at <= effect * (1.0 + 1e-9) && at > effect * 0.99, "{at} {effect}");
        }
    }
}
