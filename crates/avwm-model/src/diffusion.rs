//! Gaussian diffusion as in DiT/NWM (improved-DDPM machinery; `reference/cdit.md` §6).
//!
//! * 1000 training steps, linear β from 1e-4 to 0.02, all constants in f64;
//! * ε-prediction with a learned variance: the network emits `[ε̂ | v]` along dimension 1 and
//!   `log σ² = frac·log β_t + (1 − frac)·log β̃_t` with `frac = (v + 1)/2` (no tanh, no clamp);
//! * loss per sample `mse(ε, ε̂) + L_vb`, where `L_vb` (bits) is the KL between the true
//!   posterior and the model's Gaussian computed with a stop-gradient on ε̂, or at t = 0 the
//!   discretised Gaussian decoder NLL (kept for parity with DiT/NWM);
//! * respacing (`space_timesteps`) and two samplers: ancestral DDPM (the paper's protocol, e.g.
//!   250 steps) and DDIM with η = 0 (few steps, for speed).
//!
//! Every modality is a tensor whose dimension 1 holds channels (visual `[B, C, H, W]`, audio
//! `[B, C, T]`, reward `[B, R]`); all share one step `t` per sample.

use crate::noise::NoiseSource;
use tch::{Kind, Tensor};

/// Training steps of the diffusion process.
pub const TRAIN_STEPS: usize = 1000;

/// A diffusion process, possibly respaced.
#[derive(Debug, Clone)]
pub struct Diffusion {
    /// The original (1000-step) timestep of each index; the network is called with these.
    pub timesteps: Vec<i64>,
    /// β of each index.
    pub betas: Vec<f64>,
    /// ᾱ of each index.
    pub alphas_cumprod: Vec<f64>,
    /// ᾱ of the previous index (1 at index 0).
    pub alphas_cumprod_prev: Vec<f64>,
    /// β̃ (posterior variance).
    pub posterior_variance: Vec<f64>,
    /// log β̃ with entry 0 replaced by β̃₁.
    pub posterior_log_variance_clipped: Vec<f64>,
    /// Posterior mean coefficient of x₀.
    pub posterior_mean_coef1: Vec<f64>,
    /// Posterior mean coefficient of x_t.
    pub posterior_mean_coef2: Vec<f64>,
}

/// The timesteps kept when respacing `steps` down to `count` (improved-DDPM's
/// `space_timesteps(steps, str(count))`: evenly strided, rounded half to even).
pub fn space_timesteps(steps: usize, count: usize) -> Vec<usize> {
    let count = count.clamp(1, steps);
    let stride = if count <= 1 {
        1.0
    } else {
        (steps - 1) as f64 / (count - 1) as f64
    };
    let mut cur = 0.0f64;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(cur.round_ties_even() as usize);
        cur += stride;
    }
    out
}

/// Per-sample loss terms.
pub struct LossTerms {
    /// `mean (ε − ε̂)²` per sample `[B]`.
    pub mse: Tensor,
    /// `L_vb` in bits per sample `[B]` (gradient reaches only v).
    pub vb: Tensor,
}

impl Diffusion {
    /// The linear-β process of `steps` steps (β from 1e-4·s to 0.02·s, s = 1000/steps).
    pub fn linear(steps: usize) -> Diffusion {
        let steps = steps.max(2);
        let s = 1000.0 / steps as f64;
        let (lo, hi) = (1e-4 * s, 0.02 * s);
        let div = (steps - 1) as f64;
        let mut betas: Vec<f64> = (0..steps)
            .map(|i| lo + i as f64 * ((hi - lo) / div))
            .collect();
        betas[steps - 1] = hi;
        Diffusion::from_betas(betas, (0..steps as i64).collect())
    }

    /// The training process: [`TRAIN_STEPS`] linear-β steps.
    pub fn training() -> Diffusion {
        Diffusion::linear(TRAIN_STEPS)
    }

    /// The training process with its schedule rescaled to zero terminal SNR (Lin et al. 2024):
    /// `√ᾱ` shifted and scaled so that the first step keeps its value and the last is exactly 0,
    /// so the noisiest step is pure noise and a one-step sample is exactly the network's
    /// estimate of x₀. For [`crate::config::Prediction::ResidualV`] (v-prediction stays defined
    /// where ε-prediction is not).
    pub fn training_zero_terminal_snr() -> Diffusion {
        let base = Diffusion::training();
        let s: Vec<f64> = base.alphas_cumprod.iter().map(|a| a.sqrt()).collect();
        let (first, last) = (s[0], s[s.len() - 1]);
        let ac: Vec<f64> = s
            .iter()
            .map(|v| ((v - last) * first / (first - last)).powi(2))
            .collect();
        let mut prev = 1.0;
        let betas = ac
            .iter()
            .map(|&a| {
                let b = 1.0 - a / prev;
                prev = a;
                b
            })
            .collect();
        Diffusion::from_betas(betas, base.timesteps)
    }

    /// The training process of a parameterisation: [`Diffusion::training`] for ε-prediction,
    /// [`Diffusion::training_zero_terminal_snr`] for the residual v-prediction.
    pub fn for_prediction(p: crate::config::Prediction) -> Diffusion {
        match p {
            crate::config::Prediction::Epsilon => Diffusion::training(),
            crate::config::Prediction::ResidualV => Diffusion::training_zero_terminal_snr(),
        }
    }

    /// This process respaced to `count` steps (new β from the kept ᾱ), as used for sampling.
    pub fn respaced(&self, count: usize) -> Diffusion {
        self.keeping(&space_timesteps(self.len(), count))
    }

    /// This process respaced to `count` steps with "trailing" spacing (Lin et al. 2024,
    /// *Common diffusion noise schedules and sample steps are flawed*): the kept steps are
    /// `round(i·N/count) − 1` for `i = 1…count`, so sampling always starts from the last,
    /// noisiest step; one step is the network's estimate from pure noise. (The leading spacing
    /// of [`Diffusion::respaced`] keeps only step 0 for `count = 1`.)
    pub fn respaced_trailing(&self, count: usize) -> Diffusion {
        let n = self.len();
        let count = count.clamp(1, n);
        let keep: Vec<usize> = (1..=count)
            .map(|i| ((i * n) as f64 / count as f64).round() as usize - 1)
            .collect();
        self.keeping(&keep)
    }

    fn keeping(&self, keep: &[usize]) -> Diffusion {
        let mut last = 1.0;
        let mut betas = Vec::with_capacity(keep.len());
        let mut timesteps = Vec::with_capacity(keep.len());
        for &i in keep {
            let ac = self.alphas_cumprod[i];
            betas.push(1.0 - ac / last);
            last = ac;
            timesteps.push(self.timesteps[i]);
        }
        Diffusion::from_betas(betas, timesteps)
    }

    fn from_betas(betas: Vec<f64>, timesteps: Vec<i64>) -> Diffusion {
        let n = betas.len();
        let mut ac = Vec::with_capacity(n);
        let mut p = 1.0;
        for b in &betas {
            p *= 1.0 - b;
            ac.push(p);
        }
        let prev: Vec<f64> = std::iter::once(1.0)
            .chain(ac[..n - 1].iter().copied())
            .collect();
        let var: Vec<f64> = (0..n)
            .map(|i| betas[i] * (1.0 - prev[i]) / (1.0 - ac[i]))
            .collect();
        let logvar: Vec<f64> = (0..n)
            .map(|i| if i == 0 { var[1.min(n - 1)] } else { var[i] }.ln())
            .collect();
        let c1 = (0..n)
            .map(|i| betas[i] * prev[i].sqrt() / (1.0 - ac[i]))
            .collect();
        let c2 = (0..n)
            .map(|i| (1.0 - prev[i]) * (1.0 - betas[i]).sqrt() / (1.0 - ac[i]))
            .collect();
        Diffusion {
            timesteps,
            betas,
            alphas_cumprod: ac,
            alphas_cumprod_prev: prev,
            posterior_variance: var,
            posterior_log_variance_clipped: logvar,
            posterior_mean_coef1: c1,
            posterior_mean_coef2: c2,
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.betas.len()
    }

    /// Always false (a process has at least two steps).
    pub fn is_empty(&self) -> bool {
        self.betas.is_empty()
    }

    /// `f(values)[t]` gathered per sample and shaped to broadcast against `like`.
    fn extract(&self, f: impl Fn(usize) -> f64, t: &Tensor, like: &Tensor) -> Tensor {
        let v: Vec<f32> = (0..self.len()).map(|i| f(i) as f32).collect();
        let mut shape = vec![-1i64];
        shape.extend(std::iter::repeat_n(1, like.dim() - 1));
        Tensor::from_slice(&v)
            .to_device(like.device())
            .index_select(0, &t.to_kind(Kind::Int64))
            .view(shape.as_slice())
    }

    /// Samples `x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε`.
    pub fn q_sample(&self, x0: &Tensor, t: &Tensor, noise: &Tensor) -> Tensor {
        let a = self.extract(|i| self.alphas_cumprod[i].sqrt(), t, x0);
        let b = self.extract(|i| (1.0 - self.alphas_cumprod[i]).sqrt(), t, x0);
        a * x0 + b * noise
    }

    /// Mean and clipped log-variance of `q(x_{t−1} | x_t, x₀)`.
    pub fn q_posterior(&self, x0: &Tensor, xt: &Tensor, t: &Tensor) -> (Tensor, Tensor) {
        let c1 = self.extract(|i| self.posterior_mean_coef1[i], t, xt);
        let c2 = self.extract(|i| self.posterior_mean_coef2[i], t, xt);
        let lv = self.extract(|i| self.posterior_log_variance_clipped[i], t, xt);
        (c1 * x0 + c2 * xt, lv.expand_as(xt))
    }

    /// x̂₀ from x_t and ε̂.
    pub fn predict_x0(&self, xt: &Tensor, t: &Tensor, eps: &Tensor) -> Tensor {
        let a = self.extract(|i| (1.0 / self.alphas_cumprod[i]).sqrt(), t, xt);
        let b = self.extract(|i| (1.0 / self.alphas_cumprod[i] - 1.0).sqrt(), t, xt);
        a * xt - b * eps
    }

    /// Mean, log-variance and x̂₀ of `p(x_{t−1} | x_t)` from the network output `[ε̂ | v]`.
    pub fn p_mean_variance(
        &self,
        out: &Tensor,
        xt: &Tensor,
        t: &Tensor,
    ) -> (Tensor, Tensor, Tensor) {
        let parts = out.chunk(2, 1);
        let (eps, v) = (&parts[0], &parts[1]);
        let min_log = self.extract(|i| self.posterior_log_variance_clipped[i], t, xt);
        let max_log = self.extract(|i| self.betas[i].ln(), t, xt);
        let frac = (v + 1.0) / 2.0;
        let logvar = &frac * max_log + (1.0 - &frac) * min_log;
        let x0 = self.predict_x0(xt, t, eps);
        let c1 = self.extract(|i| self.posterior_mean_coef1[i], t, xt);
        let c2 = self.extract(|i| self.posterior_mean_coef2[i], t, xt);
        let mean = c1 * &x0 + c2 * xt;
        (mean, logvar, x0)
    }

    /// The loss terms of one modality: network output `out = [ε̂ | v]`, clean `x0`, the noise
    /// `noise` that made `xt` at steps `t`.
    pub fn loss_terms(
        &self,
        out: &Tensor,
        x0: &Tensor,
        xt: &Tensor,
        t: &Tensor,
        noise: &Tensor,
    ) -> LossTerms {
        let parts = out.chunk(2, 1);
        let eps = &parts[0];
        let mse = per_sample_mean(&(noise - eps).square());
        // Stop-gradient on the mean: the VB term trains only the variance output.
        let frozen = Tensor::cat(&[eps.detach(), parts[1].shallow_clone()], 1);
        let (true_mean, true_logvar) = self.q_posterior(x0, xt, t);
        let (mean, logvar, _) = self.p_mean_variance(&frozen, xt, t);
        let ln2 = std::f64::consts::LN_2;
        let kl = per_sample_mean(&normal_kl(&true_mean, &true_logvar, &mean, &logvar)) / ln2;
        let nll = per_sample_mean(&-discretized_gaussian_log_likelihood(
            x0,
            &mean,
            &(&logvar * 0.5),
        )) / ln2;
        let vb = nll.where_self(&t.eq(0), &kl);
        LossTerms { mse, vb }
    }

    /// Runs the reverse chain from `xs`: at each index i (last to first) the network output of
    /// every stream goes through `update(i, x, out, t)` to give the stream's next value.
    fn reverse(
        &self,
        model: &mut dyn FnMut(&[Tensor], &Tensor) -> Vec<Tensor>,
        mut xs: Vec<Tensor>,
        update: &mut dyn FnMut(usize, &Tensor, &Tensor, &Tensor) -> Tensor,
    ) -> Vec<Tensor> {
        let b = xs[0].size()[0];
        let dev = xs[0].device();
        for i in (0..self.len()).rev() {
            let t = Tensor::full([b], i as i64, (Kind::Int64, dev));
            let t_orig = Tensor::full([b], self.timesteps[i], (Kind::Int64, dev));
            let outs = tch::no_grad(|| model(&xs, &t_orig));
            xs = xs
                .iter()
                .zip(&outs)
                .map(|(x, out)| tch::no_grad(|| update(i, x, out, &t)))
                .collect();
        }
        xs
    }

    /// Ancestral DDPM sampling of several modalities at once. `model(xs, t)` returns the network
    /// outputs `[ε̂ | v]` for the noisy `xs` at original timesteps `t` (`[B]`, i64). Starts from
    /// `xs` (pure noise), draws the step noise from `rng`.
    pub fn sample_ddpm(
        &self,
        model: &mut dyn FnMut(&[Tensor], &Tensor) -> Vec<Tensor>,
        xs: Vec<Tensor>,
        rng: &mut impl NoiseSource,
    ) -> Vec<Tensor> {
        self.reverse(model, xs, &mut |i, x, out, t| {
            let (mean, logvar, _) = self.p_mean_variance(out, x, t);
            if i > 0 {
                let z = rng.randn(&x.size(), x.device());
                mean + (logvar * 0.5).exp() * z
            } else {
                mean
            }
        })
    }

    /// Deterministic DDIM sampling (η = 0) over this (respaced) process; same contract as
    /// [`Diffusion::sample_ddpm`].
    pub fn sample_ddim(
        &self,
        model: &mut dyn FnMut(&[Tensor], &Tensor) -> Vec<Tensor>,
        xs: Vec<Tensor>,
    ) -> Vec<Tensor> {
        self.reverse(model, xs, &mut |i, x, out, t| {
            let prev = self.alphas_cumprod_prev[i];
            let eps = out.chunk(2, 1)[0].shallow_clone();
            let x0 = self.predict_x0(x, t, &eps);
            x0 * prev.sqrt() + eps * (1.0 - prev).sqrt()
        })
    }
}

impl Diffusion {
    /// x̂₀ of [`crate::config::Prediction::ResidualV`] from the network output `F`:
    /// `√ᾱ_t·x_t + √(1 − ᾱ_t)·F` (EDM's preconditioning with σ_data = 1 in the VP form).
    pub fn x0_from_v(&self, xt: &Tensor, t: &Tensor, f: &Tensor) -> Tensor {
        let a = self.extract(|i| self.alphas_cumprod[i].sqrt(), t, xt);
        let b = self.extract(|i| (1.0 - self.alphas_cumprod[i]).sqrt(), t, xt);
        a * xt + b * f
    }

    /// The training target of `F` for clean `x0` noised by `noise` at steps `t`:
    /// `√(1 − ᾱ_t)·x₀ − √ᾱ_t·ε` (the negated v of Salimans & Ho).
    pub fn v_target(&self, x0: &Tensor, t: &Tensor, noise: &Tensor) -> Tensor {
        let a = self.extract(|i| self.alphas_cumprod[i].sqrt(), t, x0);
        let b = self.extract(|i| (1.0 - self.alphas_cumprod[i]).sqrt(), t, x0);
        b * x0 - a * noise
    }

    /// Deterministic DDIM sampling (η = 0) for networks that output `F`
    /// ([`crate::config::Prediction::ResidualV`]); same contract as [`Diffusion::sample_ddim`].
    /// With one step this is the network's estimate of E\[x₀\] from pure noise.
    pub fn sample_ddim_v(
        &self,
        model: &mut dyn FnMut(&[Tensor], &Tensor) -> Vec<Tensor>,
        xs: Vec<Tensor>,
    ) -> Vec<Tensor> {
        self.reverse(model, xs, &mut |i, x, f, t| {
            let (ac, prev) = (self.alphas_cumprod[i], self.alphas_cumprod_prev[i]);
            let x0 = self.x0_from_v(x, t, f);
            let eps = (x - &x0 * ac.sqrt()) / (1.0 - ac).sqrt().max(1e-12);
            x0 * prev.sqrt() + eps * (1.0 - prev).sqrt()
        })
    }

    /// Ancestral sampling for networks that output `F`, with the fixed posterior variance β̃;
    /// same contract as [`Diffusion::sample_ddpm`].
    pub fn sample_ddpm_v(
        &self,
        model: &mut dyn FnMut(&[Tensor], &Tensor) -> Vec<Tensor>,
        xs: Vec<Tensor>,
        rng: &mut impl NoiseSource,
    ) -> Vec<Tensor> {
        self.reverse(model, xs, &mut |i, x, f, t| {
            let x0 = self.x0_from_v(x, t, f);
            let (mean, logvar) = self.q_posterior(&x0, x, t);
            if i > 0 {
                let z = rng.randn(&x.size(), x.device());
                mean + (logvar * 0.5).exp() * z
            } else {
                mean
            }
        })
    }
}

/// Mean over all dimensions but the first: `[B, …] → [B]`.
pub fn per_sample_mean(x: &Tensor) -> Tensor {
    x.flatten(1, -1).mean_dim(-1, false, Kind::Float)
}

/// KL(N(μ₁, e^{lv₁}) ‖ N(μ₂, e^{lv₂})) element-wise (nats).
pub fn normal_kl(mean1: &Tensor, logvar1: &Tensor, mean2: &Tensor, logvar2: &Tensor) -> Tensor {
    ((logvar2 - logvar1) - 1.0
        + (logvar1 - logvar2).exp()
        + (mean1 - mean2).square() * (-logvar2).exp())
        * 0.5
}

/// The tanh approximation of the standard normal CDF used by improved-DDPM.
fn approx_standard_normal_cdf(x: &Tensor) -> Tensor {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    ((x + x.pow_tensor_scalar(3) * 0.044715) * k).tanh() * 0.5 + 0.5
}

/// Log-likelihood of `x` under a Gaussian discretised into bins of width 2/255 on [−1, 1]
/// (improved-DDPM's decoder term), element-wise.
pub fn discretized_gaussian_log_likelihood(
    x: &Tensor,
    means: &Tensor,
    log_scales: &Tensor,
) -> Tensor {
    let centered = x - means;
    let inv_stdv = (-log_scales).exp();
    let cdf_plus = approx_standard_normal_cdf(&(&inv_stdv * (&centered + 1.0 / 255.0)));
    let cdf_min = approx_standard_normal_cdf(&(&inv_stdv * (&centered - 1.0 / 255.0)));
    let log_cdf_plus = cdf_plus.clamp_min(1e-12).log();
    let log_one_minus_cdf_min = (-&cdf_min + 1.0).clamp_min(1e-12).log();
    let log_delta = (&cdf_plus - &cdf_min).clamp_min(1e-12).log();
    let upper = log_one_minus_cdf_min.where_self(&x.gt(0.999), &log_delta);
    log_cdf_plus.where_self(&x.lt(-0.999), &upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_schedule_constants() {
        let d = Diffusion::training();
        assert_eq!(d.len(), 1000);
        assert!((d.betas[0] - 1e-4).abs() < 1e-15);
        assert!((d.betas[999] - 0.02).abs() < 1e-15);
        // reference/cdit.md §6.2: ᾱ₀ = 0.9999, ᾱ₄₉₉ ≈ 0.0786, ᾱ₉₉₉ ≈ 4.04e-5.
        assert!((d.alphas_cumprod[0] - 0.9999).abs() < 1e-12);
        assert!((d.alphas_cumprod[499] - 0.0786).abs() < 5e-4);
        assert!((d.alphas_cumprod[999] - 4.0358e-5).abs() < 1e-8);
        assert_eq!(
            d.posterior_log_variance_clipped[0],
            d.posterior_variance[1].ln()
        );
    }

    #[test]
    fn respacing_matches_improved_ddpm() {
        let keep = space_timesteps(1000, 250);
        assert_eq!(&keep[..4], &[0, 4, 8, 12]);
        assert_eq!(&keep[246..], &[987, 991, 995, 999]);
        assert_eq!(
            space_timesteps(1000, 10),
            vec![0, 111, 222, 333, 444, 555, 666, 777, 888, 999]
        );
        let d = Diffusion::training().respaced(250);
        assert_eq!(d.len(), 250);
        assert!((d.betas[0] - 1e-4).abs() < 1e-15);
        // reference/cdit.md §6.5: the last respaced β ≈ 0.0775.
        assert!((d.betas[249] - 0.0775).abs() < 5e-4, "{}", d.betas[249]);
        // The kept ᾱ are the original ones.
        let base = Diffusion::training();
        for (i, &t) in keep.iter().enumerate() {
            assert!((d.alphas_cumprod[i] - base.alphas_cumprod[t]).abs() < 1e-12);
        }
    }

    #[test]
    fn zero_terminal_snr_keeps_the_first_step_and_ends_in_pure_noise() {
        let base = Diffusion::training();
        let z = Diffusion::training_zero_terminal_snr();
        assert!((z.alphas_cumprod[0] - base.alphas_cumprod[0]).abs() < 1e-12);
        assert_eq!(z.alphas_cumprod[999], 0.0);
        assert!((z.betas[999] - 1.0).abs() < 1e-12);
        // Monotone, and close to the original in the middle (the shift is √ᾱ_T ≈ 0.0064).
        assert!(z.alphas_cumprod.windows(2).all(|w| w[1] < w[0]));
        assert!((z.alphas_cumprod[300].sqrt() - base.alphas_cumprod[300].sqrt()).abs() < 0.01);
        // Noising at the last step gives the noise itself.
        let x0 = Tensor::from_slice(&[1.0f32, -2.0]);
        let n = Tensor::from_slice(&[0.5f32, 0.25]);
        let t = Tensor::from_slice(&[999i64, 999]);
        assert!(z.q_sample(&x0, &t, &n).allclose(&n, 1e-7, 1e-7, false));
    }

    #[test]
    fn trailing_spacing_starts_from_the_noisiest_step() {
        let base = Diffusion::training();
        assert_eq!(base.respaced_trailing(1).timesteps, vec![999]);
        assert_eq!(
            base.respaced_trailing(4).timesteps,
            vec![249, 499, 749, 999]
        );
        let d = base.respaced_trailing(10);
        assert_eq!(d.timesteps[0], 99);
        // The first kept step's β is its ᾱ's complement (it starts from clean data), and the
        // kept ᾱ are the original ones.
        assert!((d.betas[0] - (1.0 - base.alphas_cumprod[99])).abs() < 1e-12);
        assert!((d.alphas_cumprod[9] - base.alphas_cumprod[999]).abs() < 1e-15);
    }
}
