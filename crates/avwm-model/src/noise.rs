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

/// Where a sampler's Gaussian noise comes from. Every seeded generator is one (independent noise
/// for every row of a batch); [`SharedNoise`] gives every row the same noise.
pub trait NoiseSource {
    /// Standard normal samples of `shape`.
    fn randn(&mut self, shape: &[i64], device: Device) -> Tensor;
}

impl<R: Rng> NoiseSource for R {
    fn randn(&mut self, shape: &[i64], device: Device) -> Tensor {
        randn(self, shape, device)
    }
}

/// Common random numbers: one draw for the first row of a batch, repeated for every row, so
/// that the branches of a batch (a planner's candidate actions) differ only by their inputs.
#[derive(Debug, Clone)]
pub struct SharedNoise<R>(pub R);

impl<R: Rng> NoiseSource for SharedNoise<R> {
    fn randn(&mut self, shape: &[i64], device: Device) -> Tensor {
        match shape.split_first() {
            Some((&b, rest)) if b > 1 => {
                let one: Vec<i64> = std::iter::once(1).chain(rest.iter().copied()).collect();
                let mut reps = vec![1i64; shape.len()];
                reps[0] = b;
                randn(&mut self.0, &one, device).repeat(reps.as_slice())
            }
            _ => randn(&mut self.0, shape, device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use avwm_core::Seed;

    #[test]
    fn shared_noise_repeats_the_first_row() {
        let mut shared = SharedNoise(Seed(5).rng());
        let x = shared.randn(&[3, 2, 4], Device::Cpu);
        assert_eq!(x.size(), [3, 2, 4]);
        let single = randn(&mut Seed(5).rng(), &[1, 2, 4], Device::Cpu);
        for i in 0..3 {
            assert!(x.narrow(0, i, 1).equal(&single));
        }
    }

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
