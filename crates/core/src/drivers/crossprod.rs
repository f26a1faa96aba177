//! Weighted sums and cross-products of the columns for several weightings (bootstrap
//! resamples) in one pass over the rows: the inner loop is the matrix product of the
//! rows' products xⱼxₖ with the rows' weights, computed in register tiles of
//! [`LANES`] products × [`BATCH`] weightings so that each value loaded is used many times.
//! Rows in [`Runs`] sum only their varying columns' products row by row.

use super::runs::{Place, Runs, run_cross, run_sum};

/// Weightings per pass.
pub(crate) const BATCH: usize = 4;
/// Products per register tile.
const LANES: usize = 4;
/// Rows per block (the block's products stay in cache).
const BLOCK: usize = 64;

/// Σ wᵢ, Σ wᵢ xᵢⱼ and Σ wᵢ xᵢⱼ xᵢₖ (j ≤ k, packed by row of the upper triangle) of one
/// weighting.
#[derive(Debug, Clone)]
pub(crate) struct Sums {
    pub total: f64,
    pub sum: Vec<f64>,
    pub cross: Vec<f64>,
}

impl Sums {
    /// No rows yet, of `width` columns.
    pub fn zeros(width: usize) -> Self {
        Sums {
            total: 0.0,
            sum: vec![0.0; width],
            cross: vec![0.0; width * (width + 1) / 2],
        }
    }

    /// Σ wᵢ xᵢⱼ xᵢₖ for any j, k.
    pub fn cross(&self, j: usize, k: usize) -> f64 {
        let w = self.sum.len();
        let (j, k) = (j.min(k), j.max(k));
        // Row j of the packed upper triangle starts after w + (w − 1) + … + (w − j + 1).
        self.cross[j * w - j * j.saturating_sub(1) / 2 + k - j]
    }

    /// Back to no rows.
    pub fn clear(&mut self) {
        self.total = 0.0;
        self.sum.fill(0.0);
        self.cross.fill(0.0);
    }

    /// Adds a row of values `x` weighted by `w` to the total and the sums.
    pub fn add_values(&mut self, w: f64, x: &[f64]) {
        self.total += w;
        for (s, x) in self.sum.iter_mut().zip(x) {
            *s += w * x;
        }
    }

    /// Adds a row of values `x` weighted by `w` to all sums.
    pub fn add_row(&mut self, w: f64, x: &[f64]) {
        self.add_values(w, x);
        let mut t = 0;
        for (j, a) in x.iter().enumerate() {
            let wa = w * a;
            for b in &x[j..] {
                self.cross[t] += wa * b;
                t += 1;
            }
        }
    }

    /// Adds a run's sums from its fixed values `b` and its varying columns' sums `s`.
    fn add_run(&mut self, places: &[Place], b: &[f64], s: &Sums) {
        let width = self.sum.len();
        self.total += s.total;
        let mut t = 0;
        for j in 0..width {
            self.sum[j] += run_sum(places, b, s, j);
            for k in j..width {
                self.cross[t] += run_cross(places, b, s, j, k);
                t += 1;
            }
        }
    }
}

/// The sums of the rows of `data` (row-major, `width` columns) under each weighting (at
/// most [`BATCH`]; `None` weighs every row once).
pub(crate) fn weighted_sums(data: &[f64], width: usize, weights: &[Option<&[u32]>]) -> Vec<Sums> {
    assert!(
        weights.len() <= BATCH,
        "at most {BATCH} weightings per pass"
    );
    let pairs = width * (width + 1) / 2;
    // Products, then the values, then 1 (for the total), padded to whole tiles.
    let tz = (pairs + width + 1).div_ceil(LANES) * LANES;
    let mut z = vec![0.0; BLOCK * tz];
    let mut c = vec![[0.0; BATCH]; BLOCK];
    let mut acc = vec![[0.0; BATCH]; tz];
    let mut filled = 0;
    for (i, row) in data.chunks_exact(width).enumerate() {
        let mut cr = [0.0; BATCH];
        for (slot, w) in cr.iter_mut().zip(weights) {
            *slot = w.map_or(1.0, |w| f64::from(w[i]));
        }
        if cr.iter().all(|&x| x == 0.0) {
            continue;
        }
        products(row, &mut z[filled * tz..(filled + 1) * tz], pairs);
        c[filled] = cr;
        filled += 1;
        if filled == BLOCK {
            accumulate(&z, &c, tz, &mut acc);
            filled = 0;
        }
    }
    accumulate(&z[..filled * tz], &c[..filled], tz, &mut acc);
    (0..weights.len())
        .map(|b| Sums {
            total: acc[pairs + width][b],
            sum: (0..width).map(|j| acc[pairs + j][b]).collect(),
            cross: (0..pairs).map(|t| acc[t][b]).collect(),
        })
        .collect()
}

/// [`weighted_sums`] of rows in `runs`: each run's varying columns summed row by row,
/// then all its products at once.
pub(crate) fn run_sums(
    data: &[f64],
    width: usize,
    runs: &Runs,
    weights: &[Option<&[u32]>],
) -> Vec<Sums> {
    let mut out = vec![Sums::zeros(width); weights.len()];
    let mut inner = Sums::zeros(runs.varying());
    for span in runs.spans() {
        let b = &data[span.start * width..(span.start + 1) * width];
        let values = runs.values(span.clone());
        for (o, w) in out.iter_mut().zip(weights) {
            inner.clear();
            for (i, v) in span.clone().zip(values.chunks_exact(runs.varying())) {
                match w.map_or(1, |w| w[i]) {
                    0 => {}
                    c => inner.add_row(f64::from(c), v),
                }
            }
            o.add_run(&runs.places, b, &inner);
        }
    }
    out
}

/// xⱼxₖ (j ≤ k, by row of the upper triangle), then the xⱼ, then 1.
fn products(row: &[f64], out: &mut [f64], pairs: usize) {
    let mut t = 0;
    for (j, a) in row.iter().enumerate() {
        for b in &row[j..] {
            out[t] = a * b;
            t += 1;
        }
    }
    out[pairs..pairs + row.len()].copy_from_slice(row);
    out[pairs + row.len()] = 1.0;
}

/// acc[t][b] += Σ_r z[r][t] c[r][b], by tiles of LANES products.
fn accumulate(z: &[f64], c: &[[f64; BATCH]], tz: usize, acc: &mut [[f64; BATCH]]) {
    for t0 in (0..tz).step_by(LANES) {
        let mut tile = [[0.0; BATCH]; LANES];
        for (r, cr) in c.iter().enumerate() {
            let zr: &[f64; LANES] = z[r * tz + t0..r * tz + t0 + LANES].try_into().unwrap();
            for (lane, zv) in tile.iter_mut().zip(zr) {
                for (a, cv) in lane.iter_mut().zip(cr) {
                    *a += zv * cv;
                }
            }
        }
        for (out, lane) in acc[t0..t0 + LANES].iter_mut().zip(&tile) {
            for (o, a) in out.iter_mut().zip(lane) {
                *o += a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_match_a_direct_loop() {
        let (n, width) = (150, 5);
        let data: Vec<f64> = (0..n * width)
            .map(|k| ((k * 37 % 101) as f64).sin())
            .collect();
        let counts: Vec<Vec<u32>> = (0..3)
            .map(|b| (0..n).map(|i| ((i * (b + 3)) % 4) as u32).collect())
            .collect();
        let weights = [Some(&counts[0][..]), None, Some(&counts[2][..])];
        let sums = weighted_sums(&data, width, &weights);
        for (s, w) in sums.iter().zip(weights) {
            let wt = |i: usize| w.map_or(1.0, |w| f64::from(w[i]));
            let x = |i: usize, j: usize| data[i * width + j];
            assert!((s.total - (0..n).map(wt).sum::<f64>()).abs() < 1e-9);
            for j in 0..width {
                let sum: f64 = (0..n).map(|i| wt(i) * x(i, j)).sum();
                assert!((s.sum[j] - sum).abs() < 1e-9);
                for k in 0..width {
                    let cross: f64 = (0..n).map(|i| wt(i) * x(i, j) * x(i, k)).sum();
                    assert!((s.cross(j, k) - cross).abs() < 1e-9, "{j} {k}");
                }
            }
        }
    }
}
