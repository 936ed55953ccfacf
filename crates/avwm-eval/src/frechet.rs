//! Fréchet distance between two Gaussians fitted to feature sets (FID, FAD).
//!
//! For `N(μ1, Σ1)` and `N(μ2, Σ2)`:
//!
//! ```text
//! d² = ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 · tr (Σ1 Σ2)^{1/2}
//! ```
//!
//! **Method.** `Σ1 Σ2` is not symmetric, so instead of a general matrix square root (pytorch-fid
//! calls `scipy.linalg.sqrtm` on it, and adds `1e-6·I` when that fails) we use that, with
//! `A = Σ1^{1/2}` (symmetric), `Σ1 Σ2 = A (A Σ2 A) A^{-1}` is similar to the symmetric PSD matrix
//! `A Σ2 A`, so both have the same eigenvalues and
//! `tr (Σ1 Σ2)^{1/2} = tr (A Σ2 A)^{1/2} = Σ_i √λ_i(A Σ2 A)`. Both steps are symmetric
//! eigendecompositions (`torch.linalg.eigh` / `eigvalsh`) in f64; the inputs are symmetrised first
//! and eigenvalues below `D · ε · λ_max` (ε = f64's machine epsilon), which for a PSD matrix are
//! rounding noise around 0 (e.g. the null space of a rank-deficient covariance when there are fewer
//! samples than dimensions; their square roots would otherwise add up to ~1e-8 each), are set
//! to 0, as a pseudo-inverse's cut-off does. No regularising offset is
//! added, and the identity also holds when `Σ1` is singular. Rounding can make the final distance
//! a tiny negative number; it is clamped to 0.

use tch::{Device, Kind, Tensor};

use crate::{EvalError, Result};

/// A Gaussian fitted to a feature set: mean, covariance (f64, on the CPU) and sample count.
#[derive(Debug)]
pub struct Gaussian {
    /// Mean, `[D]`, f64.
    pub mean: Tensor,
    /// Covariance, `[D, D]`, f64, unbiased (divided by `N − 1`, as `numpy.cov` in pytorch-fid).
    pub cov: Tensor,
    /// Number of samples it was fitted to (0 when built from moments).
    pub count: usize,
}

impl Gaussian {
    /// Fits mean and unbiased covariance to features `[N, D]` (any float kind; computed in f64).
    /// Needs `N ≥ 2`.
    pub fn fit(features: &Tensor) -> Result<Gaussian> {
        let size = features.size();
        if size.len() != 2 {
            return Err(EvalError::Input(format!(
                "features must be [N, D], got {size:?}"
            )));
        }
        let (n, d) = (size[0], size[1]);
        if n < 2 || d < 1 {
            return Err(EvalError::Input(format!(
                "a Gaussian needs at least 2 samples of dimension ≥ 1, got [{n}, {d}]"
            )));
        }
        let x = features.to_device(Device::Cpu).to_kind(Kind::Double);
        check_finite(&x, "features")?;
        let mean = x.mean_dim(0, false, Kind::Double);
        let xc = &x - mean.unsqueeze(0);
        let cov = xc.transpose(0, 1).matmul(&xc) / (n - 1) as f64;
        Ok(Gaussian {
            mean,
            cov,
            count: n as usize,
        })
    }

    /// Fits to `n` row-major feature vectors of dimension `d` stored in `data`.
    pub fn fit_slice(data: &[f64], n: usize, d: usize) -> Result<Gaussian> {
        if data.len() != n * d {
            return Err(EvalError::Input(format!(
                "{} values for [{n}, {d}]",
                data.len()
            )));
        }
        Gaussian::fit(&Tensor::from_slice(data).view([n as i64, d as i64]))
    }

    /// A Gaussian from given moments: `mean` of length `D` and row-major `cov` of length `D²`.
    pub fn from_moments(mean: &[f64], cov: &[f64]) -> Result<Gaussian> {
        let d = mean.len();
        if d == 0 || cov.len() != d * d {
            return Err(EvalError::Input(format!(
                "mean of length {d} needs a covariance of {} values, got {}",
                d * d,
                cov.len()
            )));
        }
        Ok(Gaussian {
            mean: Tensor::from_slice(mean),
            cov: Tensor::from_slice(cov).view([d as i64, d as i64]),
            count: 0,
        })
    }

    /// Feature dimension `D`.
    pub fn dim(&self) -> usize {
        self.mean.size()[0] as usize
    }
}

fn check_finite(t: &Tensor, what: &str) -> Result<()> {
    if t.isfinite().all().int64_value(&[]) == 1 {
        Ok(())
    } else {
        Err(EvalError::NonFinite(what.to_string()))
    }
}

fn symmetrise(a: &Tensor) -> Tensor {
    (a + a.transpose(0, 1)) * 0.5
}

/// Sets eigenvalues below `n · ε · max(λ_max, 0)` to 0 (see the module docs).
fn clamp_noise(lambda: &Tensor) -> Tensor {
    let n = lambda.size()[0] as f64;
    let top = lambda.max().double_value(&[]).max(0.0);
    let cut = n * f64::EPSILON * top;
    lambda.where_scalarother(&lambda.ge(cut), 0.0)
}

/// Square root of a symmetric positive semi-definite matrix `[D, D]` by symmetric
/// eigendecomposition in f64: `V diag(√λ) Vᵀ`, with eigenvalues below `D · ε · λ_max` set to 0.
/// The input is symmetrised first.
pub fn sqrtm_psd(a: &Tensor) -> Result<Tensor> {
    let a = symmetrise(&a.to_device(Device::Cpu).to_kind(Kind::Double));
    check_finite(&a, "matrix")?;
    let (lambda, v) = a.f_linalg_eigh("L")?;
    let s = clamp_noise(&lambda).sqrt();
    Ok((&v * s.unsqueeze(0)).matmul(&v.transpose(0, 1)))
}

/// `tr (Σ1 Σ2)^{1/2}` for symmetric PSD `Σ1`, `Σ2`, as `Σ √λ_i(A Σ2 A)` with `A = Σ1^{1/2}`.
pub fn trace_sqrt_product(sigma1: &Tensor, sigma2: &Tensor) -> Result<f64> {
    let a = sqrtm_psd(sigma1)?;
    let s2 = symmetrise(&sigma2.to_device(Device::Cpu).to_kind(Kind::Double));
    let m = symmetrise(&a.matmul(&s2).matmul(&a));
    let lambda = m.f_linalg_eigvalsh("L")?;
    Ok(clamp_noise(&lambda)
        .sqrt()
        .sum(Kind::Double)
        .double_value(&[]))
}

/// Fréchet distance between two Gaussians of the same dimension (see the module docs).
pub fn frechet_distance(g1: &Gaussian, g2: &Gaussian) -> Result<f64> {
    if g1.dim() != g2.dim() {
        return Err(EvalError::Input(format!(
            "Gaussians of dimensions {} and {}",
            g1.dim(),
            g2.dim()
        )));
    }
    let m1 = g1.mean.to_kind(Kind::Double);
    let m2 = g2.mean.to_kind(Kind::Double);
    let c1 = g1.cov.to_kind(Kind::Double);
    let c2 = g2.cov.to_kind(Kind::Double);
    for (t, what) in [
        (&m1, "mean"),
        (&m2, "mean"),
        (&c1, "covariance"),
        (&c2, "covariance"),
    ] {
        check_finite(t, what)?;
    }
    let diff = (&m1 - &m2).square().sum(Kind::Double).double_value(&[]);
    let tr1 = c1.trace().double_value(&[]);
    let tr2 = c2.trace().double_value(&[]);
    let tr_sqrt = trace_sqrt_product(&c1, &c2)?;
    let d = diff + tr1 + tr2 - 2.0 * tr_sqrt;
    if !d.is_finite() {
        return Err(EvalError::NonFinite("Fréchet distance".into()));
    }
    Ok(d.max(0.0))
}

/// Fréchet distance between Gaussians fitted to two feature sets `[N1, D]` and `[N2, D]`.
pub fn frechet_distance_features(x: &Tensor, y: &Tensor) -> Result<f64> {
    frechet_distance(&Gaussian::fit(x)?, &Gaussian::fit(y)?)
}
