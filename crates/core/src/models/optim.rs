//! Box-bounded BFGS with a strong-Wolfe line search, a numerical Hessian from the
//! analytic gradient, and covariance by Cholesky inversion.

/// Sufficient-decrease constant of the Wolfe conditions.
const C1: f64 = 1e-4;
/// Curvature constant of the (strong) Wolfe conditions.
const C2: f64 = 0.9;
/// Largest move of any coordinate in one line search (log-parameter units).
const MAX_MOVE: f64 = 5.0;
/// Stop when the decrease a unit step promises, −∇f·d, is below this many ulps of |f|:
/// rounding in f then hides any progress, and line searches would only burn evaluations.
const MEASURABLE: f64 = 10.0 * f64::EPSILON;
/// The same once the gradient is within [`SETTLED`] times the tolerance: a sum over many
/// patterns rounds to more than a few ulps, and the polishing steps left are quadratic
/// (each promises far less than the one before), so a smaller promise is only noise.
const MEASURABLE_SETTLED: f64 = 100.0 * f64::EPSILON;
/// See [`MEASURABLE_SETTLED`].
const SETTLED: f64 = 1e3;

/// An objective: value at `x`, gradient written into the second argument.
pub(crate) type Objective<'a> = dyn Fn(&[f64], &mut [f64]) -> f64 + 'a;

/// Where a minimisation stopped.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub f: f64,
    pub grad: Vec<f64>,
    pub iterations: usize,
    /// The BFGS approximation of the inverse Hessian there.
    pub inverse_hessian: Vec<Vec<f64>>,
}

impl Minimum {
    /// Largest absolute gradient component, ignoring components that push against an
    /// active bound.
    pub fn grad_norm(&self, bounds: (f64, f64)) -> f64 {
        inf_norm(&projected(&self.x, &self.grad, bounds))
    }
}

/// The gradient with components zeroed where descent would leave the box.
fn projected(x: &[f64], grad: &[f64], bounds: (f64, f64)) -> Vec<f64> {
    x.iter()
        .zip(grad)
        .map(|(xi, gi)| {
            if (*xi <= bounds.0 && *gi > 0.0) || (*xi >= bounds.1 && *gi < 0.0) {
                0.0
            } else {
                *gi
            }
        })
        .collect()
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, g| m.max(g.abs()))
}

fn dot(u: &[f64], v: &[f64]) -> f64 {
    u.iter().zip(v).map(|(a, b)| a * b).sum()
}

/// A point of the line search: step, value, gradient and directional derivative.
struct Probe {
    step: f64,
    f: f64,
    grad: Vec<f64>,
    slope: f64,
}

struct LineSearch<'a> {
    f: &'a Objective<'a>,
    x: &'a [f64],
    d: &'a [f64],
    f0: f64,
    slope0: f64,
}

impl LineSearch<'_> {
    fn probe(&self, step: f64) -> Probe {
        let x: Vec<f64> = self
            .x
            .iter()
            .zip(self.d)
            .map(|(x, d)| x + step * d)
            .collect();
        let mut grad = vec![0.0; x.len()];
        let f = (self.f)(&x, &mut grad);
        let f = if f.is_finite() && grad.iter().all(|g| g.is_finite()) {
            f
        } else {
            f64::INFINITY
        };
        Probe {
            step,
            f,
            slope: dot(&grad, self.d),
            grad,
        }
    }

    fn armijo_fails(&self, p: &Probe) -> bool {
        p.f > self.f0 + C1 * p.step * self.slope0
    }

    fn curvature_ok(&self, p: &Probe) -> bool {
        p.slope.abs() <= -C2 * self.slope0
    }

    /// Nocedal & Wright, algorithm 3.5: expand until a bracket, then zoom.
    fn run(&self, first: f64, max_step: f64) -> Option<Probe> {
        let mut prev = Probe {
            step: 0.0,
            f: self.f0,
            grad: Vec::new(),
            slope: self.slope0,
        };
        let mut step = first.min(max_step);
        for i in 0..40 {
            let p = self.probe(step);
            if self.armijo_fails(&p) || (i > 0 && p.f >= prev.f) {
                return self.zoom(prev, p);
            }
            if self.curvature_ok(&p) {
                return Some(p);
            }
            if p.slope >= 0.0 {
                return self.zoom(p, prev);
            }
            if step >= max_step {
                return Some(p);
            }
            step = (2.0 * step).min(max_step);
            prev = p;
        }
        None
    }

    /// Nocedal & Wright, algorithm 3.6, with safeguarded quadratic interpolation.
    fn zoom(&self, mut lo: Probe, mut hi: Probe) -> Option<Probe> {
        for _ in 0..60 {
            let width = hi.step - lo.step;
            let mut step = lo.step + 0.5 * width;
            if hi.f.is_finite() {
                let curv = hi.f - lo.f - lo.slope * width;
                if curv > 0.0 {
                    step = lo.step - lo.slope * width * width / (2.0 * curv);
                }
            }
            let (a, b) = (lo.step + 0.1 * width, hi.step - 0.1 * width);
            step = step.clamp(a.min(b), a.max(b));
            if width.abs() <= 1e-14 * lo.step.abs().max(1e-14) {
                break;
            }
            let p = self.probe(step);
            if self.armijo_fails(&p) || p.f >= lo.f {
                hi = p;
            } else {
                if self.curvature_ok(&p) {
                    return Some(p);
                }
                if p.slope * (hi.step - lo.step) >= 0.0 {
                    hi = lo;
                }
                lo = p;
            }
        }
        (lo.step > 0.0).then_some(lo)
    }
}

/// Largest step along `d` that keeps `x` inside `[lower, upper]` and moves no coordinate
/// by more than [`MAX_MOVE`].
fn max_step(x: &[f64], d: &[f64], lower: f64, upper: f64) -> f64 {
    let mut step = f64::INFINITY;
    for (xi, di) in x.iter().zip(d) {
        if *di > 0.0 {
            step = step.min((upper - xi) / di);
        } else if *di < 0.0 {
            step = step.min((lower - xi) / di);
        }
        if *di != 0.0 {
            step = step.min(MAX_MOVE / di.abs());
        }
    }
    step.max(0.0)
}

/// Inverse-Hessian BFGS update with `s = x_{k+1} − x_k`, `y = g_{k+1} − g_k`.
fn bfgs_update(h: &mut [Vec<f64>], s: &[f64], y: &[f64]) {
    let sy = dot(s, y);
    if sy <= 1e-12 * dot(s, s).sqrt() * dot(y, y).sqrt() {
        return;
    }
    let rho = 1.0 / sy;
    let n = s.len();
    let hy: Vec<f64> = (0..n).map(|i| dot(&h[i], y)).collect();
    let yhy = dot(y, &hy);
    for i in 0..n {
        for j in 0..n {
            h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
        }
    }
}

fn identity(n: usize, scale: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { scale } else { 0.0 }).collect())
        .collect()
}

/// Minimises `f` over the box `[lower, upper]^n` from `x0` by BFGS until the largest
/// gradient component is below `tol`, no step improves, the next step's promised decrease
/// is lost in the rounding of `f`, or `max_iter` iterations pass.
/// Returns `None` if `f` is not finite at the start.
pub(crate) fn bfgs(
    f: &Objective,
    x0: &[f64],
    bounds: (f64, f64),
    tol: f64,
    max_iter: usize,
) -> Option<Minimum> {
    bfgs_from(f, x0, None, bounds, tol, max_iter)
}

/// [`bfgs`] starting from the inverse Hessian `h0` (e.g. of a nearby problem) instead of
/// the identity.
pub(crate) fn bfgs_from(
    f: &Objective,
    x0: &[f64],
    h0: Option<&[Vec<f64>]>,
    bounds: (f64, f64),
    tol: f64,
    max_iter: usize,
) -> Option<Minimum> {
    let n = x0.len();
    let mut x: Vec<f64> = x0.iter().map(|v| v.clamp(bounds.0, bounds.1)).collect();
    let mut grad = vec![0.0; n];
    let mut fx = f(&x, &mut grad);
    if !fx.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return None;
    }
    let mut h = h0.map_or_else(|| identity(n, 1.0), <[_]>::to_vec);
    let mut fresh = h0.is_none();
    let mut iterations = 0;
    while iterations < max_iter && inf_norm(&projected(&x, &grad, bounds)) > tol {
        iterations += 1;
        let mut d: Vec<f64> = h.iter().map(|row| -dot(row, &grad)).collect();
        if dot(&d, &grad) >= 0.0 {
            h = identity(n, 1.0);
            fresh = true;
            d = grad.iter().map(|g| -g).collect();
        }
        // Never push against an active bound.
        let free = projected(&x, &d.iter().map(|v| -v).collect::<Vec<_>>(), bounds);
        d.iter_mut().zip(&free).for_each(|(di, fi)| *di = -fi);
        let slope0 = dot(&d, &grad);
        let settled = inf_norm(&projected(&x, &grad, bounds)) <= SETTLED * tol;
        let rounding = if settled {
            MEASURABLE_SETTLED
        } else {
            MEASURABLE
        };
        if slope0 >= 0.0 || -slope0 <= rounding * fx.abs() {
            break;
        }
        let limit = max_step(&x, &d, bounds.0, bounds.1);
        let search = LineSearch {
            f,
            x: &x,
            d: &d,
            f0: fx,
            slope0,
        };
        let Some(p) = (limit > 0.0).then(|| search.run(1.0, limit)).flatten() else {
            if fresh {
                break;
            }
            h = identity(n, 1.0);
            fresh = true;
            continue;
        };
        let s: Vec<f64> = d.iter().map(|di| p.step * di).collect();
        let y: Vec<f64> = p.grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        if fresh {
            let (sy, yy) = (dot(&s, &y), dot(&y, &y));
            if sy > 0.0 && yy > 0.0 {
                h = identity(n, sy / yy);
            }
        }
        bfgs_update(&mut h, &s, &y);
        fresh = false;
        x.iter_mut()
            .zip(&s)
            .for_each(|(xi, si)| *xi = (*xi + si).clamp(bounds.0, bounds.1));
        fx = p.f;
        grad = p.grad;
    }
    Some(Minimum {
        x,
        f: fx,
        grad,
        iterations,
        inverse_hessian: h,
    })
}

/// Hessian of `f` at `x` from differences of its analytic gradient, symmetrised: central
/// differences, or forward ones from `grad`, the gradient at `x`, when given (half the
/// evaluations, error O(step) ≈ 1e-5 relative: ample for standard errors).
pub(crate) fn numerical_hessian(f: &Objective, x: &[f64], grad: Option<&[f64]>) -> Vec<Vec<f64>> {
    let n = x.len();
    let gradient_at = |xs: &[f64]| {
        let mut g = vec![0.0; n];
        f(xs, &mut g);
        g
    };
    let columns: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let step = 1e-5 * x[j].abs().max(1.0);
            let moved = |by: f64| {
                let mut xs = x.to_vec();
                xs[j] += by;
                gradient_at(&xs)
            };
            let gp = moved(step);
            let (gm, width) = match grad {
                Some(g) => (g.to_vec(), step),
                None => (moved(-step), 2.0 * step),
            };
            gp.iter().zip(&gm).map(|(p, m)| (p - m) / width).collect()
        })
        .collect();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| 0.5 * (columns[j][i] + columns[i][j]))
                .collect()
        })
        .collect()
}

/// Inverse of a symmetric positive-definite matrix by Cholesky; `None` if not positive
/// definite.
pub(crate) fn spd_inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i != j {
                l[i][j] = s / l[j][j];
            } else if s > 0.0 {
                l[i][i] = s.sqrt();
            } else {
                return None;
            }
        }
    }
    // Columns of L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
    let columns: Vec<Vec<f64>> = (0..n)
        .map(|c| {
            let mut col = vec![0.0; n];
            for i in c..n {
                let rhs = if i == c { 1.0 } else { 0.0 };
                col[i] = (rhs - (c..i).map(|k| l[i][k] * col[k]).sum::<f64>()) / l[i][i];
            }
            col
        })
        .collect();
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
    Some(
        columns
            .iter()
            .map(|ci| columns.iter().map(|cj| dot(ci, cj)).collect())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
        g[0] = -2.0 * a - 400.0 * x[0] * b;
        g[1] = 200.0 * b;
        a * a + 100.0 * b * b
    }

    #[test]
    fn bfgs_solves_rosenbrock() {
        let m = bfgs(&rosenbrock, &[-1.2, 1.0], (-10.0, 10.0), 1e-10, 500).unwrap();
        assert!(
            (m.x[0] - 1.0).abs() < 1e-7 && (m.x[1] - 1.0).abs() < 1e-7,
            "{:?}",
            m.x
        );
        assert!(m.grad_norm((-10.0, 10.0)) <= 1e-10);
    }

    #[test]
    fn bfgs_stops_when_rounding_hides_progress() {
        // A gradient with noise of 1e-9 cannot reach tol 1e-13; BFGS must stop near the
        // minimum after few evaluations instead of line-searching the noise.
        let evaluations = std::cell::Cell::new(0);
        let f = |x: &[f64], g: &mut [f64]| {
            evaluations.set(evaluations.get() + 1);
            for (i, (gi, xi)) in g.iter_mut().zip(x).enumerate() {
                *gi = 2.0 * (xi - 0.3 * i as f64) + 1e-9 * (1e12 * xi).sin();
            }
            1e3 + x
                .iter()
                .enumerate()
                .map(|(i, xi)| (xi - 0.3 * i as f64).powi(2))
                .sum::<f64>()
        };
        let m = bfgs(&f, &[2.0, -1.0, 0.5], (-10.0, 10.0), 1e-13, 1000).unwrap();
        assert!(evaluations.get() < 40, "{} evaluations", evaluations.get());
        for (i, xi) in m.x.iter().enumerate() {
            assert!((xi - 0.3 * i as f64).abs() < 1e-5, "{:?}", m.x);
        }
    }

    #[test]
    fn bfgs_respects_bounds() {
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * (x[0] - 3.0);
            (x[0] - 3.0).powi(2)
        };
        let m = bfgs(&f, &[0.0], (-1.0, 1.0), 1e-12, 100).unwrap();
        assert!((m.x[0] - 1.0).abs() < 1e-12, "{:?}", m.x);
        assert_eq!(m.grad_norm((-1.0, 1.0)), 0.0);
    }

    #[test]
    fn hessian_and_inverse_of_a_quadratic() {
        // f = ½ xᵀ A x with A = [[4, 1], [1, 3]].
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = 4.0 * x[0] + x[1];
            g[1] = x[0] + 3.0 * x[1];
            0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1])
        };
        let h = numerical_hessian(&f, &[0.3, -0.2], None);
        assert!((h[0][0] - 4.0).abs() < 1e-8 && (h[0][1] - 1.0).abs() < 1e-8);
        // Forward differences are exact on a quadratic too.
        let mut g = [0.0; 2];
        f(&[0.3, -0.2], &mut g);
        let forward = numerical_hessian(&f, &[0.3, -0.2], Some(&g));
        assert!((forward[0][0] - 4.0).abs() < 1e-8 && (forward[1][1] - 3.0).abs() < 1e-8);
        let inv = spd_inverse(&h).unwrap();
        // A⁻¹ = [[3, −1], [−1, 4]] / 11.
        assert!((inv[0][0] - 3.0 / 11.0).abs() < 1e-8 && (inv[0][1] + 1.0 / 11.0).abs() < 1e-8);
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }
}
