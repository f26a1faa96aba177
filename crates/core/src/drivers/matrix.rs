//! The small dense linear algebra driver analysis needs: a square matrix, Cholesky
//! factorisation (solves and inverses of positive-definite systems) and the Jacobi
//! eigen-decomposition of a symmetric matrix.

use std::ops::{Index, IndexMut};

/// A pivot below this fraction of its diagonal entry counts as zero: the column is a
/// linear combination of the ones before it.
const PIVOT_TOL: f64 = 1e-10;
/// Jacobi sweeps before giving up (convergence is quadratic; 10 is typical for p ≤ 50).
const MAX_SWEEPS: usize = 100;

/// A square matrix of `f64`, stored by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    n: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// The n × n zero matrix.
    pub fn zeros(n: usize) -> Self {
        Matrix {
            n,
            data: vec![0.0; n * n],
        }
    }

    /// The n × n identity.
    pub fn identity(n: usize) -> Self {
        Matrix::from_fn(n, |i, j| if i == j { 1.0 } else { 0.0 })
    }

    /// The n × n matrix with entry `f(i, j)` in row i, column j.
    pub fn from_fn(n: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let data = (0..n * n).map(|k| f(k / n, k % n)).collect();
        Matrix { n, data }
    }

    /// The number of rows (and columns).
    pub fn size(&self) -> usize {
        self.n
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n..(i + 1) * self.n]
    }

    /// The leading k × k block.
    pub fn leading(&self, k: usize) -> Matrix {
        Matrix::from_fn(k, |i, j| self[(i, j)])
    }

    /// The product with a column vector.
    pub fn mul_vec(&self, v: &[f64]) -> Vec<f64> {
        (0..self.n).map(|i| dot(self.row(i), v)).collect()
    }

    /// The product A·B.
    pub fn mul(&self, b: &Matrix) -> Matrix {
        Matrix::from_fn(self.n, |i, j| {
            (0..self.n).map(|k| self[(i, k)] * b[(k, j)]).sum()
        })
    }

    /// The Cholesky factor L (A = L·Lᵀ) of a symmetric positive-definite matrix, or
    /// `Err(j)` with the first column j whose pivot vanishes (column j is, numerically, a
    /// linear combination of columns 0..j).
    pub fn cholesky(&self) -> Result<Cholesky, usize> {
        let n = self.n;
        let mut l = Matrix::zeros(n);
        for j in 0..n {
            let d = self[(j, j)] - sum_sq(&l.row(j)[..j]);
            let positive = d.is_finite() && d > PIVOT_TOL * self[(j, j)].abs();
            if !positive {
                return Err(j);
            }
            let djj = d.sqrt();
            l[(j, j)] = djj;
            for i in j + 1..n {
                let s = self[(i, j)] - dot(&l.row(i)[..j], &l.row(j)[..j]);
                l[(i, j)] = s / djj;
            }
        }
        Ok(Cholesky { l })
    }

    /// Eigenvalues and unit eigenvectors (the columns of the second matrix) of a
    /// symmetric matrix, by cyclic Jacobi rotations; eigenvalues in no particular order.
    pub fn symmetric_eigen(&self) -> (Vec<f64>, Matrix) {
        let n = self.n;
        let mut a = self.clone();
        let mut v = Matrix::identity(n);
        let total = sum_sq(&a.data);
        for _ in 0..MAX_SWEEPS {
            let off: f64 = (0..n)
                .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
                .map(|(i, j)| a[(i, j)] * a[(i, j)])
                .sum();
            if off <= 1e-30 * total {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    if a[(p, q)] != 0.0 {
                        rotate(&mut a, &mut v, p, q);
                    }
                }
            }
        }
        ((0..n).map(|i| a[(i, i)]).collect(), v)
    }

    /// The symmetric square root S (S·S = A) of a symmetric positive-semidefinite matrix,
    /// with its eigen-decomposition; negative rounding-error eigenvalues count as zero.
    pub fn symmetric_sqrt(&self) -> (Matrix, Vec<f64>, Matrix) {
        let (values, vectors) = self.symmetric_eigen();
        let roots: Vec<f64> = values.iter().map(|l| l.max(0.0).sqrt()).collect();
        (scaled_outer(&vectors, &roots), values, vectors)
    }
}

/// V·diag(d)·Vᵀ.
pub(crate) fn scaled_outer(v: &Matrix, d: &[f64]) -> Matrix {
    let n = v.size();
    Matrix::from_fn(n, |i, j| (0..n).map(|k| v[(i, k)] * d[k] * v[(j, k)]).sum())
}

/// One Jacobi rotation A ← PᵀAP, V ← VP zeroing A[p][q] (Numerical Recipes §11.1).
fn rotate(a: &mut Matrix, v: &mut Matrix, p: usize, q: usize) {
    let n = a.n;
    let theta = (a[(q, q)] - a[(p, p)]) / (2.0 * a[(p, q)]);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..n {
        let (kp, kq) = (a[(k, p)], a[(k, q)]);
        a[(k, p)] = c * kp - s * kq;
        a[(k, q)] = s * kp + c * kq;
    }
    for k in 0..n {
        let (pk, qk) = (a[(p, k)], a[(q, k)]);
        a[(p, k)] = c * pk - s * qk;
        a[(q, k)] = s * pk + c * qk;
    }
    for k in 0..n {
        let (kp, kq) = (v[(k, p)], v[(k, q)]);
        v[(k, p)] = c * kp - s * kq;
        v[(k, q)] = s * kp + c * kq;
    }
}

impl Index<(usize, usize)> for Matrix {
    type Output = f64;
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.data[i * self.n + j]
    }
}

impl IndexMut<(usize, usize)> for Matrix {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut f64 {
        &mut self.data[i * self.n + j]
    }
}

/// A Cholesky factorisation A = L·Lᵀ.
#[derive(Debug, Clone)]
pub struct Cholesky {
    l: Matrix,
}

impl Cholesky {
    /// x with A·x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let (l, n) = (&self.l, self.l.n);
        let mut x = b.to_vec();
        for i in 0..n {
            x[i] = (x[i] - dot(&l.row(i)[..i], &x[..i])) / l[(i, i)];
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|k| l[(k, i)] * x[k]).sum();
            x[i] = (x[i] - s) / l[(i, i)];
        }
        x
    }

    /// A⁻¹, column by column.
    pub fn inverse(&self) -> Matrix {
        let n = self.l.n;
        let columns: Vec<Vec<f64>> = (0..n).map(|j| self.solve(&unit(n, j))).collect();
        Matrix::from_fn(n, |i, j| 0.5 * (columns[j][i] + columns[i][j]))
    }
}

fn unit(n: usize, j: usize) -> Vec<f64> {
    (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect()
}

/// Σ uᵢvᵢ.
pub(crate) fn dot(u: &[f64], v: &[f64]) -> f64 {
    u.iter().zip(v).map(|(a, b)| a * b).sum()
}

/// Σ uᵢ².
pub(crate) fn sum_sq(u: &[f64]) -> f64 {
    dot(u, u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Matrix {
        let rows = [[4.0, 2.0, 0.6], [2.0, 5.0, 1.5], [0.6, 1.5, 3.0]];
        Matrix::from_fn(3, |i, j| rows[i][j])
    }

    fn close(a: &Matrix, b: &Matrix, tol: f64) -> bool {
        a.data.iter().zip(&b.data).all(|(x, y)| (x - y).abs() < tol)
    }

    #[test]
    fn cholesky_solves_and_inverts() {
        let a = example();
        let c = a.cholesky().unwrap();
        let x = c.solve(&[1.0, 2.0, 3.0]);
        let back = a.mul_vec(&x);
        assert!((back[0] - 1.0).abs() + (back[1] - 2.0).abs() + (back[2] - 3.0).abs() < 1e-12);
        assert!(close(&a.mul(&c.inverse()), &Matrix::identity(3), 1e-12));
    }

    #[test]
    fn cholesky_names_the_dependent_column() {
        // Column 2 = column 0 + column 1.
        let x = [
            [1.0, 0.0, 1.0],
            [0.0, 1.0, 1.0],
            [1.0, 1.0, 2.0],
            [2.0, -1.0, 1.0],
        ];
        let gram = Matrix::from_fn(3, |i, j| x.iter().map(|r| r[i] * r[j]).sum());
        assert_eq!(gram.cholesky().unwrap_err(), 2);
    }

    #[test]
    fn jacobi_eigen_reconstructs() {
        let a = example();
        let (values, vectors) = a.symmetric_eigen();
        assert!(close(&scaled_outer(&vectors, &values), &a, 1e-12));
        assert!((values.iter().sum::<f64>() - 12.0).abs() < 1e-12);
        let (root, _, _) = a.symmetric_sqrt();
        assert!(close(&root.mul(&root), &a, 1e-12));
        // A 2 × 2 with known eigenvalues 1 and 3.
        let b = Matrix::from_fn(2, |i, j| if i == j { 2.0 } else { 1.0 });
        let mut values = b.symmetric_eigen().0;
        values.sort_by(f64::total_cmp);
        assert!((values[0] - 1.0).abs() < 1e-14 && (values[1] - 3.0).abs() < 1e-14);
    }
}
