//! Gaussian noise drawn from avwm's seeded ChaCha generators rather than libtorch's global one,
//! so diffusion noise is reproducible per call site (same seed ⇒ same bytes), independent of
//! other threads, and identical on every device.

use rand::Rng;
use tch::{Device, Kind, Tensor};

/// Standard normal samples (Box–Muller on 53-bit uniforms), as an f32 tensor of `shape`.
pub fn randn(rng: &mut impl Rng, shape: &[i64], device: Device) -> Tensor {
    let n: i64 = shape.iter().product();
    let n = n.max(0) as usize;
    let mut v = Vec::with_capacity(n + 1);
    while v.len() < n {
        // u1 in (0, 1], u2 in [0, 1).
        let u1 = 1.0 - rng.random::<f64>();
        let u2 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let th = std::f64::consts::TAU * u2;
        v.push((r * th.cos()) as f32);
        v.push((r * th.sin()) as f32);
    }
    v.truncate(n);
    Tensor::from_slice(&v)
        .view(shape)
        .to_kind(Kind::Float)
        .to_device(device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use avwm_core::Seed;

    #[test]
    fn standard_normal_moments_and_determinism() {
        let mut rng = Seed(3).rng();
        let x = randn(&mut rng, &[200, 500], Device::Cpu);
        let mean = x.mean(Kind::Double).double_value(&[]);
        let var = x.var(false).double_value(&[]);
        // 1e5 samples: the standard error of the mean is 0.003.
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        let y = randn(&mut Seed(3).rng(), &[200, 500], Device::Cpu);
        assert!(x.equal(&y));
    }
}
