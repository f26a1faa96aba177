//! Non-negative matrix factorisation V ≈ W H of a sparse non-negative n × m matrix into W
//! (n × k) and H (k × m), both non-negative, minimising ‖V − WH‖²_F by hierarchical
//! alternating least squares (HALS: each column of W, then each row of H, set to its exact
//! non-negative least-squares minimiser with the others fixed; Cichocki & Phan 2009, Gillis
//! 2014 §3). Seeded and deterministic: each of [`NmfSettings::restarts`] runs starts H from
//! k rows of V chosen by k-means++ seeding (Arthur & Vassilvitskii 2007) from its own
//! [`Rng::stream`], and the fit with the smallest loss is kept.

use crate::rng::Rng;

/// A sparse matrix by rows: each row its (column, value) pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    pub columns: usize,
    pub rows: Vec<Vec<(usize, f64)>>,
}

/// How a factorisation is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NmfSettings {
    /// k, the rank of the factorisation.
    pub rank: usize,
    pub seed: u64,
    pub restarts: u64,
    pub max_iterations: usize,
    /// A run stops when an iteration lowers the loss by less than this share of it.
    pub tolerance: f64,
}

impl Default for NmfSettings {
    fn default() -> Self {
        NmfSettings {
            rank: 8,
            seed: 1,
            restarts: 4,
            max_iterations: 500,
            tolerance: 1e-6,
        }
    }
}

/// A fitted factorisation; H's rows have unit length (W scaled to match).
#[derive(Debug, Clone, PartialEq)]
pub struct Factors {
    pub rank: usize,
    /// n × k, by rows.
    pub w: Vec<f64>,
    /// k × m, by rows.
    pub h: Vec<f64>,
    /// ‖V − WH‖²_F.
    pub loss: f64,
    /// The iterations of the run kept.
    pub iterations: usize,
}

impl Factors {
    /// W's entry for row `i` and factor `j`.
    pub fn w(&self, i: usize, j: usize) -> f64 {
        self.w[i * self.rank + j]
    }

    /// H's row of factor `j`.
    pub fn h_row(&self, j: usize) -> &[f64] {
        let m = self.h.len() / self.rank;
        &self.h[j * m..(j + 1) * m]
    }
}

/// Factorises `v` (non-negative, at least `rank` rows and columns; `rank` ≥ 1).
pub fn nmf(v: &SparseRows, s: &NmfSettings) -> Factors {
    let norm: f64 = v.rows.iter().flatten().map(|(_, x)| x * x).sum();
    let mut best: Option<Factors> = None;
    for restart in 0..s.restarts.max(1) {
        let fit = run(v, norm, s, &mut Rng::stream(s.seed, restart));
        if best.as_ref().is_none_or(|b| fit.loss < b.loss) {
            best = Some(fit);
        }
    }
    let mut f = best.expect("at least one run");
    normalise(&mut f, v.columns);
    f
}

/// One HALS run from a k-means++ start.
fn run(v: &SparseRows, norm: f64, s: &NmfSettings, rng: &mut Rng) -> Factors {
    let (n, m, k) = (v.rows.len(), v.columns, s.rank);
    let mut h = seeds(v, k, rng);
    let mut w = vec![0.0; n * k];
    let (mut previous, mut iterations) = (f64::INFINITY, 0);
    loop {
        let a = times_transposed(v, &h, k);
        let b = gram(&h, k, m);
        let loss = loss(norm, &w, &a, &gram_columns(&w, k, n), &b);
        let settled = previous.is_finite() && previous - loss <= s.tolerance * previous;
        if iterations >= s.max_iterations || settled {
            return Factors {
                rank: k,
                w,
                h,
                loss,
                iterations,
            };
        }
        previous = loss;
        update_columns(&mut w, &a, &b, k, n);
        let c = transposed_times(v, &w, k);
        let d = gram_columns(&w, k, n);
        update_rows(&mut h, &c, &d, k, m);
        iterations += 1;
    }
}

/// k rows of V as dense rows of H: the first uniformly, each next with probability
/// proportional to its squared distance from the nearest chosen (k-means++).
fn seeds(v: &SparseRows, k: usize, rng: &mut Rng) -> Vec<f64> {
    let (n, m) = (v.rows.len(), v.columns);
    let mut h = vec![0.0; k * m];
    let squares: Vec<f64> = v
        .rows
        .iter()
        .map(|r| r.iter().map(|(_, x)| x * x).sum())
        .collect();
    let mut nearest = vec![f64::INFINITY; n];
    let mut pick = rng.below(n as u64) as usize;
    for j in 0..k {
        let centre = &mut h[j * m..(j + 1) * m];
        for &(c, x) in &v.rows[pick] {
            centre[c] = x;
        }
        let centre_square: f64 = centre.iter().map(|x| x * x).sum();
        for (i, row) in v.rows.iter().enumerate() {
            let dot: f64 = row.iter().map(|&(c, x)| x * centre[c]).sum();
            let d = (squares[i] + centre_square - 2.0 * dot).max(0.0);
            nearest[i] = nearest[i].min(d);
        }
        pick = match nearest.iter().sum::<f64>() > 0.0 {
            true => rng.weighted(&nearest),
            false => rng.below(n as u64) as usize,
        };
    }
    h
}

/// V Hᵀ (n × k).
fn times_transposed(v: &SparseRows, h: &[f64], k: usize) -> Vec<f64> {
    let m = v.columns;
    let mut a = vec![0.0; v.rows.len() * k];
    for (i, row) in v.rows.iter().enumerate() {
        for &(c, x) in row {
            for j in 0..k {
                a[i * k + j] += x * h[j * m + c];
            }
        }
    }
    a
}

/// Vᵀ W (m × k).
fn transposed_times(v: &SparseRows, w: &[f64], k: usize) -> Vec<f64> {
    let mut c = vec![0.0; v.columns * k];
    for (i, row) in v.rows.iter().enumerate() {
        for &(col, x) in row {
            for j in 0..k {
                c[col * k + j] += x * w[i * k + j];
            }
        }
    }
    c
}

/// H Hᵀ (k × k) of H (k × m, by rows).
fn gram(h: &[f64], k: usize, m: usize) -> Vec<f64> {
    let mut g = vec![0.0; k * k];
    for j in 0..k {
        for l in 0..=j {
            let dot: f64 = (0..m).map(|c| h[j * m + c] * h[l * m + c]).sum();
            g[j * k + l] = dot;
            g[l * k + j] = dot;
        }
    }
    g
}

/// Wᵀ W (k × k) of W (n × k, by rows).
fn gram_columns(w: &[f64], k: usize, n: usize) -> Vec<f64> {
    let mut g = vec![0.0; k * k];
    for i in 0..n {
        let row = &w[i * k..(i + 1) * k];
        for j in 0..k {
            for l in 0..k {
                g[j * k + l] += row[j] * row[l];
            }
        }
    }
    g
}

/// ‖V − WH‖² = ‖V‖² − 2 ⟨W, V Hᵀ⟩ + ⟨Wᵀ W, H Hᵀ⟩.
fn loss(norm: f64, w: &[f64], a: &[f64], wtw: &[f64], hht: &[f64]) -> f64 {
    let cross: f64 = w.iter().zip(a).map(|(x, y)| x * y).sum();
    let quadratic: f64 = wtw.iter().zip(hht).map(|(x, y)| x * y).sum();
    (norm - 2.0 * cross + quadratic).max(0.0)
}

/// HALS for W (n × k, by rows) given A = V Hᵀ and B = H Hᵀ: column j ← max(0, W_j +
/// (A_j − W B_j) / B_jj).
fn update_columns(w: &mut [f64], a: &[f64], b: &[f64], k: usize, n: usize) {
    for j in 0..k {
        let bjj = b[j * k + j];
        if bjj <= 0.0 {
            continue;
        }
        for i in 0..n {
            let row = &w[i * k..(i + 1) * k];
            let wb: f64 = (0..k).map(|l| row[l] * b[l * k + j]).sum();
            let x = w[i * k + j] + (a[i * k + j] - wb) / bjj;
            w[i * k + j] = x.max(0.0);
        }
    }
}

/// HALS for H (k × m, by rows) given C = Vᵀ W (m × k) and D = Wᵀ W: row j ← max(0, H_j +
/// (C_j − D_j H) / D_jj).
fn update_rows(h: &mut [f64], c: &[f64], d: &[f64], k: usize, m: usize) {
    for j in 0..k {
        let djj = d[j * k + j];
        if djj <= 0.0 {
            continue;
        }
        for col in 0..m {
            let dh: f64 = (0..k).map(|l| d[j * k + l] * h[l * m + col]).sum();
            let x = h[j * m + col] + (c[col * k + j] - dh) / djj;
            h[j * m + col] = x.max(0.0);
        }
    }
}

/// Scales H's rows to unit length and W's columns by the same factors.
fn normalise(f: &mut Factors, m: usize) {
    let k = f.rank;
    for j in 0..k {
        let length = f.h[j * m..(j + 1) * m]
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt();
        if length > 0.0 {
            f.h[j * m..(j + 1) * m]
                .iter_mut()
                .for_each(|x| *x /= length);
            f.w.iter_mut().skip(j).step_by(k).for_each(|x| *x *= length);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows that are each a multiple of one of two disjoint patterns: rank 2 exactly.
    fn blocks() -> SparseRows {
        let rows = (0..12)
            .map(|i| {
                let scale = 1.0 + (i % 3) as f64;
                match i % 2 {
                    0 => vec![(0, 2.0 * scale), (1, scale), (2, scale)],
                    _ => vec![(3, scale), (4, 3.0 * scale)],
                }
            })
            .collect();
        SparseRows { columns: 5, rows }
    }

    #[test]
    fn recovers_an_exact_low_rank_matrix_deterministically() {
        let s = NmfSettings {
            rank: 2,
            ..NmfSettings::default()
        };
        let f = nmf(&blocks(), &s);
        assert!(f.loss < 1e-8, "{f:?}");
        for j in 0..2 {
            let row = f.h_row(j);
            let length: f64 = row.iter().map(|x| x * x).sum();
            assert!((length - 1.0).abs() < 1e-12);
            // Each factor is one block: zero on the other's columns.
            let (first, second) = (row[..3].iter().sum::<f64>(), row[3..].iter().sum::<f64>());
            assert!(first.min(second) < 1e-6, "{row:?}");
        }
        assert_eq!(f, nmf(&blocks(), &s));
    }

    #[test]
    fn the_loss_is_the_squared_residual() {
        let v = blocks();
        let s = NmfSettings {
            rank: 1,
            max_iterations: 3,
            ..NmfSettings::default()
        };
        let f = nmf(&v, &s);
        let mut residual = 0.0;
        for (i, row) in v.rows.iter().enumerate() {
            let mut dense = [0.0; 5];
            row.iter().for_each(|&(c, x)| dense[c] = x);
            for (c, x) in dense.iter().enumerate() {
                residual += (x - f.w(i, 0) * f.h_row(0)[c]).powi(2);
            }
        }
        assert!(
            (residual - f.loss).abs() < 1e-9 * residual.max(1.0),
            "{residual} {}",
            f.loss
        );
    }
}
