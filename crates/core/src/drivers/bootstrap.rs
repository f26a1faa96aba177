//! The nonparametric bootstrap by row counts: a resample of n rows drawn with replacement
//! is the number of times each row was drawn (multinomial counts), which statistics take
//! as frequency weights, so no resampled copy of the data is ever made. Rows may stand for
//! several equal observations (frequency weights, e.g. trips grouped into patterns): then
//! the observations are drawn and counted by the row they belong to, which is the same
//! resample as drawing from the ungrouped data. Resample b draws from
//! `Rng::stream(seed, b)`, so results depend on the seed alone, not on the number of
//! threads or the order they run in.

use super::{Dataset, Options};
use crate::rng::Rng;

/// The rows resamples are drawn from: `n` rows, each standing for `weights[i]`
/// observations (one each without weights).
pub struct Population {
    rows: usize,
    /// The row of each observation, when rows are weighted.
    row_of: Option<Vec<u32>>,
}

impl Population {
    pub fn new(rows: usize, weights: Option<&[u32]>) -> Self {
        let row_of = weights.map(|w| {
            w.iter()
                .enumerate()
                .flat_map(|(row, &times)| std::iter::repeat_n(row as u32, times as usize))
                .collect()
        });
        Population { rows, row_of }
    }

    /// The number of observations.
    fn observations(&self) -> usize {
        self.row_of.as_ref().map_or(self.rows, Vec::len)
    }
}

/// Runs `stat` on `resamples` resamples of the population on `threads` threads (at least
/// one) and returns the results in resample order.
pub fn resample<T: Send>(
    population: &Population,
    resamples: usize,
    seed: u64,
    threads: usize,
    stat: impl Fn(&[u32]) -> T + Sync,
) -> Vec<T> {
    resample_batched(population, resamples, seed, threads, 1, |counts| {
        counts.iter().map(|c| stat(c)).collect()
    })
}

/// [`resample`] for statistics that take `batch` resamples at a time (the last batch may
/// be smaller) and return one result per resample, in order. Batch k holds resamples
/// k·batch, k·batch + 1, …; batches go to the threads in turn.
pub fn resample_batched<T: Send>(
    population: &Population,
    resamples: usize,
    seed: u64,
    threads: usize,
    batch: usize,
    stat: impl Fn(&[Vec<u32>]) -> Vec<T> + Sync,
) -> Vec<T> {
    let batch = batch.max(1);
    let batches = resamples.div_ceil(batch);
    let threads = threads.clamp(1, batches.max(1));
    let run = |first: usize| {
        let mut counts = vec![vec![0u32; population.rows]; batch];
        (first..batches)
            .step_by(threads)
            .map(|k| {
                let ids = k * batch..((k + 1) * batch).min(resamples);
                let used = &mut counts[..ids.len()];
                for (b, c) in ids.zip(used.iter_mut()) {
                    draw_counts(&mut Rng::stream(seed, b as u64), population, c);
                }
                let results = stat(used);
                assert_eq!(results.len(), used.len(), "one result per resample");
                (k, results)
            })
            .collect::<Vec<_>>()
    };
    let mut results: Vec<(usize, Vec<T>)> = if threads == 1 {
        run(0)
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || run(t))).collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("bootstrap thread panicked"))
                .collect()
        })
    };
    results.sort_by_key(|(k, _)| *k);
    results.into_iter().flat_map(|(_, r)| r).collect()
}

/// [`resample_batched`] of the rows of `data` with the resamples, seed and threads of
/// `options`.
pub(crate) fn resample_rows<T: Send>(
    data: &Dataset,
    options: &Options,
    batch: usize,
    stat: impl Fn(&[Vec<u32>]) -> Vec<T> + Sync,
) -> Vec<T> {
    let population = Population::new(data.outcome.len(), data.weights);
    let (resamples, seed, threads) = (options.resamples, options.seed, options.threads);
    resample_batched(&population, resamples, seed, threads, batch, stat)
}

/// Draws as many observations as the population has, uniformly with replacement, and
/// counts them by row into `counts` (one per row).
pub fn draw_counts(rng: &mut Rng, population: &Population, counts: &mut [u32]) {
    counts.fill(0);
    let n = population.observations() as u64;
    match &population.row_of {
        None => (0..n).for_each(|_| counts[rng.below(n) as usize] += 1),
        Some(row_of) => count_by_section(rng, row_of, counts),
    }
}

/// Observations are counted by sections of 2^16, so that the rows of a section's
/// observations (256 KiB) stay in cache while its draws are counted.
const SECTION_BITS: u32 = 16;

/// Draws `row_of.len()` observations and counts them by row: the draws are first put by
/// section, then counted section by section. The same counts as looking each up as it is
/// drawn, without a cache miss per draw.
fn count_by_section(rng: &mut Rng, row_of: &[u32], counts: &mut [u32]) {
    let n = row_of.len() as u64;
    let sections: Vec<&[u32]> = row_of.chunks(1 << SECTION_BITS).collect();
    let mut draws: Vec<Vec<u16>> = sections
        .iter()
        .map(|s| Vec::with_capacity(s.len() + s.len() / 8))
        .collect();
    for _ in 0..n {
        let obs = rng.below(n);
        // The low bits are the observation's place in its section.
        draws[(obs >> SECTION_BITS) as usize].push(obs as u16);
    }
    for (rows, draws) in sections.iter().zip(&draws) {
        draws
            .iter()
            .for_each(|&d| counts[rows[usize::from(d)] as usize] += 1);
    }
}

/// The percentile interval at `level` (e.g. 0.95) of the values (type-7 quantiles: linear
/// interpolation between order statistics); `None` for fewer than two values.
pub fn percentile_interval(values: &[f64], level: f64) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let tail = 0.5 * (1.0 - level);
    Some((quantile(&sorted, tail), quantile(&sorted, 1.0 - tail)))
}

/// The type-7 quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    match sorted.get(lo + 1) {
        Some(next) => sorted[lo] + frac * (next - sorted[lo]),
        None => sorted[lo],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_to_n_and_threads_do_not_matter() {
        let sums = resample(&Population::new(1000, None), 7, 3, 1, |c| {
            c.iter().sum::<u32>()
        });
        assert!(sums.iter().all(|&s| s == 1000));
        let fifty = Population::new(50, None);
        let one = resample(&fifty, 9, 11, 1, |c| c.to_vec());
        let two = resample(&fifty, 9, 11, 2, |c| c.to_vec());
        assert_eq!(one, two);
        assert_ne!(one[0], one[1]);
        let batched = resample_batched(&fifty, 9, 11, 2, 4, |cs| cs.to_vec());
        assert_eq!(one, batched);
    }

    #[test]
    fn weighted_rows_draw_their_observations() {
        // Rows of weights 3, 0, 2: the same draws as 5 single rows, counted by row.
        let grouped = resample(&Population::new(3, Some(&[3, 0, 2])), 20, 5, 2, |c| {
            c.to_vec()
        });
        let single = resample(&Population::new(5, None), 20, 5, 1, |c| c.to_vec());
        for (g, s) in grouped.iter().zip(&single) {
            assert_eq!(g, &vec![s[0] + s[1] + s[2], 0, s[3] + s[4]]);
        }
    }

    #[test]
    fn percentiles_interpolate() {
        let v: Vec<f64> = (0..=100).map(f64::from).rev().collect();
        let (lo, hi) = percentile_interval(&v, 0.95).unwrap();
        assert!((lo - 2.5).abs() < 1e-12 && (hi - 97.5).abs() < 1e-12);
        assert_eq!(percentile_interval(&[1.0], 0.95), None);
        let (lo, hi) = percentile_interval(&[1.0, 2.0], 0.9).unwrap();
        assert!((lo - 1.05).abs() < 1e-12 && (hi - 1.95).abs() < 1e-12);
    }
}
