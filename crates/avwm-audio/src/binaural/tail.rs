//! The late tail: band-limited Gaussian noise shaped by √(energy per bin) (Schröder's
//! "noise shaped by the energy envelope", as pyroomacoustics and Vorländer 2008 §11).
//!
//! For speed, the noise is generated once per process and sample rate ([`NOISE_BANK_LEN`]
//! samples per band and ear, circular) and a render only picks, per band, a seed-dependent
//! circular offset into it: a circular shift of stationary periodic noise is another
//! realisation of the same process, so every seed gets its own tail at no cost.
//!
//! Per band `b`, the left ear gets noise `A_b` and the right ear `ρ_b A_b + √(1 − ρ_b²) B_b`,
//! with `A_b`, `B_b` independent: the two ears then have interaural coherence `ρ_b`, the
//! diffuse-field coherence of a head ([`band_coherence`]).
//!
//! Band `b`'s noise has power spectrum `band_weight(b, f)` and so power `share_b`
//! ([`band_power_shares`]), not 1: the six band noises add up to unit-power white noise, and a
//! histogram whose bands all hold energy E renders a tail of energy E, as the discrete paths
//! render a source whose bands all have gain 1. (Rendering every band at unit power made the
//! tail 8 dB too loud for white noise, 12 dB for the ringtone, and tilted it towards the bass.)

use std::sync::{Arc, Mutex, OnceLock};

use avwm_core::{NUM_BANDS, Seed};
use rand::Rng;
use realfft::num_complex::Complex;

use crate::dsp::bands::{band_power_shares, band_weight};
use crate::dsp::fft::FftCache;

/// Length of the pre-generated noise (samples per band and ear): 2^16, ≈ 4.1 s at 16 kHz,
/// which bounds the RIR length.
pub const NOISE_BANK_LEN: usize = 1 << 16;

/// Binaural diffuse-field coherence at `f_hz`: the model of Jeub et al. (2010, "Model-based
/// dereverberation preserving binaural cues"), `Γ(f) = sinc(2πf·α·d/c) / √(1 + (2πf·β·d/c)⁴)`
/// with ear distance d = 2 × 8.75 cm, α = 2.2, β = 0.5, `sinc(x) = sin x / x`. It is ≈ 1
/// at low frequencies, crosses 0 near 450 Hz and stays near 0 above 1 kHz.
pub fn diffuse_coherence(f_hz: f32) -> f32 {
    let d = 2.0 * super::HEAD_RADIUS_M;
    let c = avwm_core::SPEED_OF_SOUND_M_S;
    let w = 2.0 * std::f32::consts::PI * f_hz;
    let x = w * 2.2 * d / c;
    let s = if x.abs() < 1e-6 { 1.0 } else { x.sin() / x };
    s / (1.0 + (w * 0.5 * d / c).powi(4)).sqrt()
}

/// Interaural coherence used for the tail of each band: [`diffuse_coherence`] averaged over
/// the band's power spectrum (the band mask), at `sample_rate_hz`.
pub fn band_coherence(sample_rate_hz: u32) -> [f32; NUM_BANDS] {
    let nyq = sample_rate_hz as f32 / 2.0;
    let mut out = [0.0; NUM_BANDS];
    for (b, o) in out.iter_mut().enumerate() {
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for i in 1..4000 {
            let f = nyq * i as f32 / 4000.0;
            let w = band_weight(b, f) as f64;
            num += w * diffuse_coherence(f) as f64;
            den += w;
        }
        *o = (num / den.max(1e-30)) as f32;
    }
    out
}

/// Band-limited noises of power `share_b`, stored twice in a row so that any circular window of up to
/// [`NOISE_BANK_LEN`] samples is a contiguous slice.
pub(crate) struct NoiseBank {
    /// `left[b]`, `right[b]`: length `2 · NOISE_BANK_LEN`.
    pub left: Vec<Vec<f32>>,
    pub right: Vec<Vec<f32>>,
}

impl NoiseBank {
    /// The bank for `sample_rate_hz` (generated on first use, ≈ 10 ms, then shared).
    pub fn get(sample_rate_hz: u32) -> Arc<NoiseBank> {
        type Banks = Mutex<Vec<(u32, Arc<NoiseBank>)>>;
        static BANKS: OnceLock<Banks> = OnceLock::new();
        let banks = BANKS.get_or_init(Default::default);
        let mut guard = banks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, b)) = guard.iter().find(|(fs, _)| *fs == sample_rate_hz) {
            return b.clone();
        }
        let bank = Arc::new(NoiseBank::generate(sample_rate_hz));
        guard.push((sample_rate_hz, bank.clone()));
        bank
    }

    fn generate(sample_rate_hz: u32) -> NoiseBank {
        let n = NOISE_BANK_LEN;
        let bins = n / 2 + 1;
        let df = sample_rate_hz as f32 / n as f32;
        let mut fft = FftCache::new();
        let plans = fft.plans(n);
        let mut scratch = vec![Complex::default(); plans.inverse.get_scratch_len()];
        let rho = band_coherence(sample_rate_hz);
        let shares = band_power_shares(sample_rate_hz);
        // A fixed seed: the bank is a constant of the program; per-render randomness is the offset.
        let root = Seed(0x7A11_5EED_0000_0001);
        let mut noise = |band: usize, stream: u64| -> Vec<f32> {
            let mut rng = root
                .derive("tail-noise-bank", band as u64 * 2 + stream)
                .rng();
            let mut spec = vec![Complex::<f32>::default(); bins];
            for (k, s) in spec.iter_mut().enumerate() {
                let m = band_weight(band, k as f32 * df).sqrt();
                if m > 0.0 {
                    let (g0, g1) = gaussian_pair(&mut rng);
                    *s = Complex::new(g0 * m, g1 * m);
                }
            }
            spec[0].im = 0.0;
            spec[bins - 1].im = 0.0;
            let mut x = vec![0.0f32; n];
            plans
                .inverse
                .process_with_scratch(&mut spec, &mut x, &mut scratch)
                .expect("buffer lengths match the plan");
            normalise(&mut x);
            x
        };
        let mut left = Vec::with_capacity(NUM_BANDS);
        let mut right = Vec::with_capacity(NUM_BANDS);
        for (b, &r) in rho.iter().enumerate() {
            let a = noise(b, 0);
            let bn = noise(b, 1);
            let q = (1.0 - r * r).max(0.0).sqrt();
            let mut rr: Vec<f32> = a.iter().zip(&bn).map(|(x, y)| r * x + q * y).collect();
            normalise(&mut rr);
            let g = shares[b].sqrt();
            left.push(doubled(a.into_iter().map(|v| v * g).collect()));
            right.push(doubled(rr.into_iter().map(|v| v * g).collect()));
        }
        NoiseBank { left, right }
    }

    /// The circular offset of band `band` for `seed`.
    pub fn offset(seed: Seed, band: usize) -> usize {
        (seed.derive("tail-noise-offset", band as u64).0 % NOISE_BANK_LEN as u64) as usize
    }
}

fn doubled(x: Vec<f32>) -> Vec<f32> {
    let mut d = Vec::with_capacity(2 * x.len());
    d.extend_from_slice(&x);
    d.extend_from_slice(&x);
    d
}

fn normalise(x: &mut [f32]) {
    let p = x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64;
    let g = if p > 0.0 {
        (1.0 / p.sqrt()) as f32
    } else {
        0.0
    };
    for v in x {
        *v *= g;
    }
}

/// Two independent standard normal numbers (Box–Muller).
fn gaussian_pair(rng: &mut impl Rng) -> (f32, f32) {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let t = 2.0 * std::f64::consts::PI * u2;
    ((r * t.cos()) as f32, (r * t.sin()) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coherence_is_high_at_low_bands_and_low_at_high_bands() {
        let rho = band_coherence(16_000);
        assert!(rho[0] > 0.7, "{rho:?}");
        assert!(
            rho[3].abs() < 0.2 && rho[4].abs() < 0.1 && rho[5].abs() < 0.1,
            "{rho:?}"
        );
    }

    #[test]
    fn bank_noises_have_their_band_share_and_the_target_coherence() {
        let bank = NoiseBank::get(16_000);
        let rho = band_coherence(16_000);
        let shares = band_power_shares(16_000);
        // The shares sum to 1 and grow with the bands' width (band 5 reaches to Nyquist).
        assert!(
            (shares.iter().sum::<f32>() - 1.0).abs() < 1e-4,
            "{shares:?}"
        );
        assert!((shares[5] - 0.642).abs() < 0.005 && (shares[2] - 0.045).abs() < 0.003);
        let n = NOISE_BANK_LEN;
        for (b, &rho_b) in rho.iter().enumerate() {
            let (l, r) = (&bank.left[b][..n], &bank.right[b][..n]);
            let pl: f64 = l.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / n as f64;
            let pr: f64 = r.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / n as f64;
            let share = f64::from(shares[b]);
            let c: f64 = l
                .iter()
                .zip(r)
                .map(|(x, y)| (*x as f64) * (*y as f64))
                .sum::<f64>()
                / n as f64
                / share;
            assert!((pl / share - 1.0).abs() < 1e-3 && (pr / share - 1.0).abs() < 1e-3);
            // Few independent samples in the narrow low bands: allow sampling error.
            assert!(
                (c as f32 - rho_b).abs() < 0.08,
                "band {b}: coherence {c} vs {}",
                rho_b
            );
            assert_eq!(bank.left[b][..n], bank.left[b][n..]);
        }
    }
}
