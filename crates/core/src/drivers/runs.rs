//! Runs of consecutive rows that agree on some columns (0/1 flags of data sorted by them,
//! say). Weighted sums of products of the columns factorise by run: in a run whose rows
//! share the values b of the fixed columns and differ in the varying ones vᵢ, Σ wᵢ xᵢxᵢᵀ
//! has the blocks (Σ wᵢ) b bᵀ, b (Σ wᵢ vᵢ)ᵀ and Σ wᵢ vᵢvᵢᵀ. A pass over the rows then
//! costs the varying columns' products per row and the full products once per run.

use super::crossprod::Sums;
use std::ops::Range;

/// Runs are used when they cut the estimated work of a pass by at least this factor.
const PAYS: usize = 2;

/// Where a column's values come from within a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The same in every row of the run: the run's first row.
    Fixed,
    /// Varying within runs: this column of the varying values.
    Varying(usize),
}

/// Rows split into runs of consecutive rows that agree on the fixed columns.
#[derive(Debug, Clone)]
pub(crate) struct Runs {
    /// One per column.
    pub places: Vec<Place>,
    /// The varying columns by row (row-major).
    pub values: Vec<f64>,
    /// Where each run starts, then the number of rows.
    starts: Vec<usize>,
}

impl Runs {
    /// The runs that make a pass over `data` (row-major, `width` columns) cheapest, or
    /// `None` when none pays. Columns are made fixed in order of how rarely they change
    /// from one row to the next; at least one varies.
    pub fn find(data: &[f64], width: usize) -> Option<Runs> {
        let n = data.len().checked_div(width)?;
        let differs = |i: usize, j: usize| data[i * width + j] != data[(i - 1) * width + j];
        let changes: Vec<usize> = (0..width)
            .map(|j| (1..n).filter(|&i| differs(i, j)).count())
            .collect();
        let mut order: Vec<usize> = (0..width).collect();
        order.sort_by_key(|&j| changes[j]);
        let mut start = vec![false; n];
        let (mut runs, mut best) = (1, (work(n, width, 0, 0), 0));
        for (m, &j) in order[..width.saturating_sub(1)].iter().enumerate() {
            for (i, s) in start.iter_mut().enumerate().skip(1) {
                if !*s && differs(i, j) {
                    *s = true;
                    runs += 1;
                }
            }
            best = best.min((work(n, width, m + 1, runs), m + 1));
        }
        let (cost, fixed) = best;
        (fixed > 0 && cost * PAYS <= work(n, width, 0, 0))
            .then(|| Runs::split(data, width, &order[..fixed]))
    }

    /// The runs of rows that agree on the `fixed` columns.
    pub(crate) fn split(data: &[f64], width: usize, fixed: &[usize]) -> Runs {
        let mut places = vec![Place::Fixed; width];
        let varying: Vec<usize> = (0..width).filter(|j| !fixed.contains(j)).collect();
        for (slot, &j) in varying.iter().enumerate() {
            places[j] = Place::Varying(slot);
        }
        let rows: Vec<&[f64]> = data.chunks_exact(width).collect();
        let starts = (0..rows.len())
            .filter(|&i| i == 0 || fixed.iter().any(|&j| rows[i][j] != rows[i - 1][j]))
            .chain(std::iter::once(rows.len()))
            .collect();
        let values = rows
            .iter()
            .flat_map(|r| varying.iter().map(move |&j| r[j]))
            .collect();
        Runs {
            places,
            values,
            starts,
        }
    }

    /// The varying columns' count.
    pub fn varying(&self) -> usize {
        self.places.len() - self.fixed()
    }

    fn fixed(&self) -> usize {
        self.places.iter().filter(|p| **p == Place::Fixed).count()
    }

    /// The rows of each run.
    pub fn spans(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.starts.windows(2).map(|w| w[0]..w[1])
    }

    /// The varying values of rows `rows`.
    pub fn values(&self, rows: Range<usize>) -> &[f64] {
        let v = self.varying();
        &self.values[rows.start * v..rows.end * v]
    }
}

/// Estimated work of a pass over `n` rows of `width` columns, `fixed` of them fixed within
/// `runs` runs (none: every column's products on every row).
fn work(n: usize, width: usize, fixed: usize, runs: usize) -> usize {
    let products = |w: usize| (w + 1) * (w + 2) / 2;
    match fixed {
        0 => n * products(width),
        _ => n * products(width - fixed) + runs * 2 * products(width),
    }
}

/// Σ wᵢ xᵢⱼ over a run, from its fixed values `b` and its varying columns' sums `s`;
/// `places` and `b` are indexed by column.
pub(crate) fn run_sum(places: &[Place], b: &[f64], s: &Sums, j: usize) -> f64 {
    match places[j] {
        Place::Fixed => s.total * b[j],
        Place::Varying(v) => s.sum[v],
    }
}

/// Σ wᵢ xᵢⱼ xᵢₖ over a run, as [`run_sum`].
pub(crate) fn run_cross(places: &[Place], b: &[f64], s: &Sums, j: usize, k: usize) -> f64 {
    match (places[j], places[k]) {
        (Place::Fixed, _) => b[j] * run_sum(places, b, s, k),
        (_, Place::Fixed) => b[k] * run_sum(places, b, s, j),
        (Place::Varying(u), Place::Varying(v)) => s.cross(u, v),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::drivers::crossprod::{run_sums, weighted_sums};
    use proptest::prelude::*;

    /// Rows (row-major) in runs whose `fixed` columns are the same within each run, with
    /// frequency weights (some zero).
    #[derive(Debug, Clone)]
    pub(crate) struct Sample {
        pub width: usize,
        pub fixed: Vec<usize>,
        pub data: Vec<f64>,
        pub weights: Vec<u32>,
    }

    /// Random samples: 2 to 5 columns, any of them fixed but one, 1 to 14 runs of 1 to 11
    /// rows.
    pub(crate) fn samples() -> impl Strategy<Value = Sample> {
        (2usize..6, prop::collection::vec(1usize..12, 1..15))
            .prop_flat_map(|(width, lens)| {
                let n: usize = lens.iter().sum();
                (
                    Just(width),
                    Just(lens),
                    prop::collection::vec(any::<bool>(), width),
                    prop::collection::vec(-3.0f64..3.0, n * width),
                    prop::collection::vec(0u32..5, n),
                )
            })
            .prop_map(|(width, lens, mask, mut data, weights)| {
                let mut fixed: Vec<usize> = (0..width).filter(|&j| mask[j]).collect();
                fixed.truncate(width - 1);
                let mut start = 0;
                for len in lens {
                    for i in start + 1..start + len {
                        for &j in &fixed {
                            data[i * width + j] = data[start * width + j];
                        }
                    }
                    start += len;
                }
                Sample {
                    width,
                    fixed,
                    data,
                    weights,
                }
            })
    }

    /// |a − b| within `tol` relative to 1 + |a|.
    pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs())
    }

    proptest! {
        #[test]
        fn sums_by_run_equal_sums_by_row(s in samples()) {
            let runs = Runs::split(&s.data, s.width, &s.fixed);
            let weights = [Some(&s.weights[..]), None];
            let direct = weighted_sums(&s.data, s.width, &weights);
            let by_run = run_sums(&s.data, s.width, &runs, &weights);
            for (d, r) in direct.iter().zip(&by_run) {
                prop_assert!(close(d.total, r.total, 1e-12));
                for (a, b) in d.sum.iter().zip(&r.sum).chain(d.cross.iter().zip(&r.cross)) {
                    prop_assert!(close(*a, *b, 1e-12), "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn sorted_flags_are_fixed_and_shuffled_rows_have_no_runs() {
        // Two flags sorted into 4 runs of 50 rows, and a column that changes every row.
        let data: Vec<f64> = (0..200)
            .flat_map(|i| [(i / 100) as f64, (i / 50 % 2) as f64, (i * 7 % 13) as f64])
            .collect();
        let runs = Runs::find(&data, 3).expect("runs pay");
        assert_eq!(runs.places, [Place::Fixed, Place::Fixed, Place::Varying(0)]);
        assert_eq!(runs.spans().count(), 4);
        assert_eq!(runs.values(50..52), [50.0 * 7.0 % 13.0, 51.0 * 7.0 % 13.0]);
        let alternating: Vec<f64> = (0..200)
            .flat_map(|i| [(i % 2) as f64, (i * 7 % 13) as f64])
            .collect();
        assert!(Runs::find(&alternating, 2).is_none());
        assert!(Runs::find(&[], 2).is_none());
    }
}
