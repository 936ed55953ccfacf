//! Fréchet distance against values computed by hand.

use avwm_eval::frechet::{sqrtm_psd, trace_sqrt_product, trace_sqrt_product_eigh};
use avwm_eval::{Gaussian, frechet_distance, frechet_distance_features};
use tch::{Kind, Tensor};

fn g(mean: &[f64], cov: &[f64]) -> Gaussian {
    Gaussian::from_moments(mean, cov).unwrap()
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[test]
fn diagonal_by_hand() {
    // Σ1 = diag(1, 4), Σ2 = diag(4, 9) commute, so (Σ1 Σ2)^{1/2} = diag(2, 6):
    // d = |(0,0) − (1,2)|² + (1 + 4) + (4 + 9) − 2 (2 + 6) = 5 + 18 − 16 = 7
    // (equivalently Σ_i (√a_i − √b_i)² + |Δμ|² = (1 − 2)² + (2 − 3)² + 5 = 7).
    let d = frechet_distance(
        &g(&[0.0, 0.0], &[1.0, 0.0, 0.0, 4.0]),
        &g(&[1.0, 2.0], &[4.0, 0.0, 0.0, 9.0]),
    )
    .unwrap();
    close(d, 7.0, 1e-12);
}

#[test]
fn non_diagonal_commuting_by_hand() {
    // Σ1 = [[2, 1], [1, 2]], Σ2 = [[2, −1], [−1, 2]]: Σ1 Σ2 = [[2·2 − 1, −2 + 2], [2 − 2, −1 + 4]] = 3 I,
    // so tr (Σ1 Σ2)^{1/2} = 2√3 and, with equal means, d = 4 + 4 − 4√3.
    let d = frechet_distance(
        &g(&[1.0, -1.0], &[2.0, 1.0, 1.0, 2.0]),
        &g(&[1.0, -1.0], &[2.0, -1.0, -1.0, 2.0]),
    )
    .unwrap();
    close(d, 8.0 - 4.0 * 3f64.sqrt(), 1e-12);
}

#[test]
fn non_commuting_by_hand() {
    // Σ1 = diag(1, 4), Σ2 = [[2, 1], [1, 2]] do not commute. For 2 × 2 matrices with non-negative
    // eigenvalues λ1, λ2: tr M^{1/2} = √λ1 + √λ2 = √(tr M + 2 √det M). Here M = Σ1 Σ2 = [[2, 1], [4, 8]]:
    // tr M = 10, det M = det Σ1 · det Σ2 = 4 · 3 = 12, so tr (Σ1 Σ2)^{1/2} = √(10 + 4√3).
    // Means (0, 0) and (3, 4): |Δμ|² = 25. d = 25 + 5 + 4 − 2 √(10 + 4√3) ≈ 25.77122.
    let expected = 34.0 - 2.0 * (10.0 + 4.0 * 3f64.sqrt()).sqrt();
    let a = g(&[0.0, 0.0], &[1.0, 0.0, 0.0, 4.0]);
    let b = g(&[3.0, 4.0], &[2.0, 1.0, 1.0, 2.0]);
    close(frechet_distance(&a, &b).unwrap(), expected, 1e-12);
    // Symmetric in its arguments.
    close(frechet_distance(&b, &a).unwrap(), expected, 1e-12);
    close(
        trace_sqrt_product(&a.cov, &b.cov).unwrap(),
        (10.0 + 4.0 * 3f64.sqrt()).sqrt(),
        1e-12,
    );
}

#[test]
fn one_dimensional_closed_form() {
    // For 1-D Gaussians the Fréchet (2-Wasserstein) distance is (μ1 − μ2)² + (σ1 − σ2)².
    for (m1, s1, m2, s2) in [
        (0.0, 1.0, 0.0, 1.0),
        (1.5, 0.3, -2.0, 2.5),
        (0.0, 0.0, 1.0, 3.0),
    ] {
        let d = frechet_distance(&g(&[m1], &[s1 * s1]), &g(&[m2], &[s2 * s2])).unwrap();
        close(d, (m1 - m2) * (m1 - m2) + (s1 - s2) * (s1 - s2), 1e-12);
    }
}

#[test]
fn fit_is_unbiased_like_numpy_cov() {
    // Samples (0, 1), (2, 5), (4, 3): mean (2, 3); centred (−2, −2), (0, 2), (2, 0);
    // Σ = Xᵀ X / (N − 1) = [[8, 4], [4, 8]] / 2 = [[4, 2], [2, 4]].
    let gs = Gaussian::fit_slice(&[0.0, 1.0, 2.0, 5.0, 4.0, 3.0], 3, 2).unwrap();
    assert_eq!(Vec::<f64>::try_from(&gs.mean).unwrap(), [2.0, 3.0]);
    assert_eq!(
        Vec::<f64>::try_from(&gs.cov.flatten(0, -1)).unwrap(),
        [4.0, 2.0, 2.0, 4.0]
    );
    assert_eq!(gs.count, 3);
    assert!(
        Gaussian::fit_slice(&[1.0, 2.0], 1, 2).is_err(),
        "one sample has no covariance"
    );
}

fn features(seed: u64, n: i64, d: i64, shift: f64) -> Tensor {
    // A deterministic pseudo-random [n, d] set (no libtorch generator: no lock needed).
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v: Vec<f64> = (0..n * d)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0 + shift
        })
        .collect();
    Tensor::from_slice(&v).view([n, d])
}

#[test]
fn identical_sets_give_zero_and_distance_is_symmetric() {
    for (n, d) in [(50, 8), (5, 20)] {
        // (5, 20): fewer samples than dimensions, rank-deficient covariances.
        let x = features(1, n, d, 0.0);
        let y = features(2, n, d, 0.3);
        let dxx = frechet_distance_features(&x, &x).unwrap();
        assert!(dxx.abs() < 1e-9, "d(x, x) = {dxx}");
        let dxy = frechet_distance_features(&x, &y).unwrap();
        let dyx = frechet_distance_features(&y, &x).unwrap();
        assert!(dxy > 0.1, "d(x, y) = {dxy}");
        close(dxy, dyx, 1e-9 * dxy.max(1.0));
        // f32 input gives the same (computed in f64).
        let dxy32 =
            frechet_distance_features(&x.to_kind(Kind::Float), &y.to_kind(Kind::Float)).unwrap();
        close(dxy32, dxy, 1e-4 * dxy);
    }
}

#[test]
fn sqrtm_squares_back() {
    let x = features(3, 40, 6, 0.0);
    let cov = Gaussian::fit(&x).unwrap().cov;
    let s = sqrtm_psd(&cov).unwrap();
    let err = (s.matmul(&s) - &cov).abs().max().double_value(&[]);
    assert!(err < 1e-12, "|S² − Σ| = {err}");
}

#[test]
fn mismatched_dimensions_and_non_finite_are_errors() {
    assert!(frechet_distance(&g(&[0.0], &[1.0]), &g(&[0.0, 0.0], &[1.0, 0.0, 0.0, 1.0])).is_err());
    assert!(frechet_distance(&g(&[f64::NAN], &[1.0]), &g(&[0.0], &[1.0])).is_err());
    assert!(Gaussian::fit(&Tensor::from_slice(&[1.0f64, 2.0, 3.0])).is_err());
}

fn reference(x: &Tensor, y: &Tensor) -> f64 {
    // Always through Σ1^{1/2} by eigendecomposition.
    let (a, b) = (Gaussian::fit(x).unwrap(), Gaussian::fit(y).unwrap());
    let diff = (&a.mean - &b.mean)
        .square()
        .sum(Kind::Double)
        .double_value(&[]);
    diff + a.cov.trace().double_value(&[]) + b.cov.trace().double_value(&[])
        - 2.0 * trace_sqrt_product_eigh(&a.cov, &b.cov).unwrap()
}

#[test]
fn the_three_square_root_paths_agree() {
    // (n, d): sample-factor SVD path when n1·n2 ≤ d² (5·5 ≤ 400, 40·40 ≤ 64² = 4096), Cholesky path
    // otherwise (50·50 > 64, 30·30 > 400); rank-deficient Σ1 (n ≤ d) falls back to eigh.
    for (n, d) in [(5, 20), (40, 64), (50, 8), (30, 20)] {
        let x = features(10 + n as u64, n, d, 0.0);
        let y = features(20 + d as u64, n, d, 0.2);
        let r = reference(&x, &y);
        let f = frechet_distance_features(&x, &y).unwrap();
        let m = frechet_distance(&Gaussian::fit(&x).unwrap(), &Gaussian::fit(&y).unwrap()).unwrap();
        assert!(
            (f - r).abs() <= 1e-9 * r,
            "({n}, {d}): features {f} vs reference {r}"
        );
        assert!(
            (m - r).abs() <= 1e-9 * r,
            "({n}, {d}): moments {m} vs reference {r}"
        );
    }
    // Cholesky vs eigh on positive-definite covariances.
    let a = Gaussian::fit(&features(5, 60, 10, 0.0)).unwrap();
    let b = Gaussian::fit(&features(6, 60, 10, 0.0)).unwrap();
    let (c, e) = (
        trace_sqrt_product(&a.cov, &b.cov).unwrap(),
        trace_sqrt_product_eigh(&a.cov, &b.cov).unwrap(),
    );
    assert!((c - e).abs() < 1e-12 * e, "{c} vs {e}");
}
