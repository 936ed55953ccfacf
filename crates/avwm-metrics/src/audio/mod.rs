//! Audio metrics for binaural segments: spectral fidelity and interaural cues.
//!
//! A segment is one `&[f32]` per ear (2400 samples = 0.15 s at 16 kHz in the dataset; any
//! length works). All computations run in `f64`.
//!
//! Spectral fidelity, per ear and averaged over the two ears by the `binaural_*` functions:
//! - [`log_spectral_distance`] (LSD, in log10 power units; 0 is perfect),
//! - [`spectrogram_ssim`] (SSIM of 80 dB-range normalised log spectrograms; 1 is perfect).
//!
//! Interaural cues, per segment:
//! - [`octave_band_ild`] / [`ild_error`]: level differences in six octave bands,
//! - [`gcc_phat_itd`] / [`itd_error`]: time difference by GCC-PHAT,
//! - [`lateral_angle_from_itd`] / [`doa_error_deg`]: lateral direction via Woodworth's model.
//!
//! **Sign convention**: a positive ITD means the *left* ear lags, i.e. the sound reaches
//! the right ear first and the source is to the right; positive lateral angles are to the
//! right. A positive ILD means the left ear is louder.
//!
//! [`AudioAnalyzer`] holds the FFT planner, the STFT window and work buffers; create one and
//! reuse it when evaluating many segments. The free functions build a fresh analyzer per call.

mod direction;
mod stft;

use std::fmt;

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

pub use direction::{
    HEAD_RADIUS_M, MAX_WOODWORTH_ITD_S, SPEED_OF_SOUND_M_S, lateral_angle_from_itd, woodworth_itd,
};
pub use stft::{Spectrogram, StftConfig, Window};

use crate::error::{MetricsError, Result};
use crate::{check_finite_f32, ssim_core};

/// Sample rate assumed by the free functions that take none (Hz).
pub const SAMPLE_RATE_HZ: f64 = 16_000.0;
/// Floor added to STFT powers before `log10` in the LSD and the spectrogram SSIM.
pub const LSD_EPS: f64 = 1e-8;
/// Dynamic range (dB) below the reference's maximum kept by [`spectrogram_ssim`].
pub const SPEC_SSIM_DB_RANGE: f64 = 80.0;
/// Centre frequencies (Hz) of the six octave bands of the ILD; band edges are `fc/√2 .. fc·√2`.
pub const OCTAVE_BANDS_HZ: [f64; 6] = [125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0];
/// Floor added to both band energies in the ILD ratio.
pub const ILD_EPS: f64 = 1e-12;
/// Default search range of the GCC-PHAT peak: ±1 ms (±16 samples at 16 kHz), beyond the
/// largest physical ITD of a human head (≈ 0.66 ms).
pub const DEFAULT_MAX_LAG_S: f64 = 1e-3;
/// Cross-spectrum bins whose magnitude is below this fraction of the largest one are set to
/// zero instead of being normalised by PHAT (they hold only rounding noise).
pub const PHAT_RELATIVE_FLOOR: f64 = 1e-12;

/// Absolute ILD differences (dB) between a reference and an estimated segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IldError {
    /// `|ILD_ref − ILD_est|` in each band of [`OCTAVE_BANDS_HZ`].
    pub per_band: [f64; 6],
    /// Mean of `per_band`.
    pub mean: f64,
}

/// Absolute ITD difference between a reference and an estimated segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ItdError {
    /// `|ITD_ref − ITD_est|` in samples (fractional).
    pub samples: f64,
    /// The same difference in microseconds.
    pub micros: f64,
}

/// All audio metrics of one binaural segment pair (see [`binaural_metrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinauralReport {
    /// Mean over both ears of [`log_spectral_distance`].
    pub lsd: f64,
    /// Mean over both ears of [`spectrogram_ssim`].
    pub spec_ssim: f64,
    /// Octave-band ILD error.
    pub ild: IldError,
    /// GCC-PHAT ITD error.
    pub itd: ItdError,
    /// Difference of the Woodworth lateral angles (degrees), [`doa_error_deg`].
    pub doa_deg: f64,
}

/// Reusable audio metric engine: FFT plans, the STFT window and work buffers.
///
/// Methods take `&mut self` only to reuse buffers; results depend on the inputs and the
/// configuration alone.
pub struct AudioAnalyzer {
    cfg: StftConfig,
    sample_rate: f64,
    max_lag_s: f64,
    planner: RealFftPlanner<f64>,
    stft_window: Vec<f64>,
    segment_window: Vec<f64>,
    real: Vec<f64>,
    spec_a: Vec<Complex<f64>>,
    spec_b: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl fmt::Debug for AudioAnalyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioAnalyzer")
            .field("cfg", &self.cfg)
            .field("sample_rate", &self.sample_rate)
            .field("max_lag_s", &self.max_lag_s)
            .finish_non_exhaustive()
    }
}

impl Default for AudioAnalyzer {
    /// Default STFT, 16 kHz, ±1 ms ITD search.
    fn default() -> Self {
        let cfg = StftConfig::default();
        Self::build(cfg)
    }
}

fn check_signal(x: &[f32], what: &'static str) -> Result<()> {
    if x.is_empty() {
        return Err(MetricsError::Empty { what });
    }
    check_finite_f32(x, what)
}

fn check_pair(a: &[f32], b: &[f32], what: &'static str) -> Result<()> {
    if a.len() != b.len() {
        return Err(MetricsError::LengthMismatch {
            what,
            left: a.len(),
            right: b.len(),
        });
    }
    check_signal(a, what)?;
    check_signal(b, what)
}

fn check_four(ref_l: &[f32], ref_r: &[f32], est_l: &[f32], est_r: &[f32]) -> Result<()> {
    check_pair(ref_l, ref_r, "reference left/right")?;
    check_pair(est_l, est_r, "estimate left/right")?;
    check_pair(ref_l, est_l, "reference/estimate")
}

fn fft_err(e: realfft::FftError) -> MetricsError {
    MetricsError::Fft(e.to_string())
}

impl AudioAnalyzer {
    fn build(cfg: StftConfig) -> Self {
        Self {
            stft_window: cfg.window.coefficients(cfg.n_fft),
            cfg,
            sample_rate: SAMPLE_RATE_HZ,
            max_lag_s: DEFAULT_MAX_LAG_S,
            planner: RealFftPlanner::new(),
            segment_window: Vec::new(),
            real: Vec::new(),
            spec_a: Vec::new(),
            spec_b: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// An analyzer with STFT framing `cfg`, 16 kHz and a ±1 ms ITD search.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] if `cfg` is invalid ([`StftConfig::validate`]).
    pub fn new(cfg: StftConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self::build(cfg))
    }

    /// Sets the sample rate (Hz) used for octave bands and ITDs.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] unless finite and positive.
    pub fn with_sample_rate(mut self, sample_rate: f64) -> Result<Self> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(MetricsError::InvalidParameter {
                name: "sample_rate",
                reason: "must be finite and positive",
            });
        }
        self.sample_rate = sample_rate;
        Ok(self)
    }

    /// Sets the GCC-PHAT search range ±`max_lag_s` seconds.
    ///
    /// # Errors
    /// [`MetricsError::InvalidParameter`] unless finite and non-negative.
    pub fn with_max_lag(mut self, max_lag_s: f64) -> Result<Self> {
        if !(max_lag_s.is_finite() && max_lag_s >= 0.0) {
            return Err(MetricsError::InvalidParameter {
                name: "max_lag_s",
                reason: "must be finite and non-negative",
            });
        }
        self.max_lag_s = max_lag_s;
        Ok(self)
    }

    /// The STFT framing.
    pub fn config(&self) -> &StftConfig {
        &self.cfg
    }

    /// The sample rate in Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// The GCC-PHAT search range in seconds.
    pub fn max_lag_s(&self) -> f64 {
        self.max_lag_s
    }

    /// Forward real FFT of `self.real` (length `n`) into `self.spec_a`.
    fn forward_into_a(&mut self, n: usize) -> Result<()> {
        let fft = self.planner.plan_fft_forward(n);
        self.spec_a.resize(n / 2 + 1, Complex::default());
        if self.scratch.len() < fft.get_scratch_len() {
            self.scratch
                .resize(fft.get_scratch_len(), Complex::default());
        }
        let scratch_len = fft.get_scratch_len();
        fft.process_with_scratch(
            &mut self.real[..n],
            &mut self.spec_a,
            &mut self.scratch[..scratch_len],
        )
        .map_err(fft_err)
    }

    /// STFT power spectrogram `|X(t, f)|²` of `x` with this analyzer's framing
    /// (see [`StftConfig`] for framing and padding, [`Spectrogram`] for scaling).
    ///
    /// # Errors
    /// [`MetricsError::Empty`] for an empty signal or, without centring, one shorter than
    /// `n_fft`; [`MetricsError::NonFinite`] for NaN/±∞ samples.
    pub fn stft_power(&mut self, x: &[f32]) -> Result<Spectrogram> {
        check_signal(x, "stft signal")?;
        let cfg = self.cfg;
        let n_frames = cfg.n_frames(x.len()).ok_or(MetricsError::Empty {
            what: "stft signal shorter than n_fft",
        })?;
        let n_bins = cfg.n_bins();
        let pad = if cfg.center {
            (cfg.n_fft / 2) as isize
        } else {
            0
        };
        let mut power = Vec::with_capacity(n_frames * n_bins);
        self.real.resize(cfg.n_fft, 0.0);
        for t in 0..n_frames {
            let start = (t * cfg.hop) as isize - pad;
            for (i, (dst, &w)) in self.real.iter_mut().zip(&self.stft_window).enumerate() {
                let j = stft::reflect_index(start + i as isize, x.len());
                *dst = f64::from(x[j]) * w;
            }
            self.forward_into_a(cfg.n_fft)?;
            power.extend(self.spec_a.iter().map(|c| c.norm_sqr()));
        }
        Ok(Spectrogram {
            n_frames,
            n_bins,
            power,
        })
    }

    /// Log-spectral distance of one channel:
    /// `LSD = mean_t sqrt( mean_f ( log10(P_ref(t,f) + ε) − log10(P_est(t,f) + ε) )² )`,
    /// `P` the [`stft_power`](Self::stft_power) spectrograms, `ε` = [`LSD_EPS`], means over all
    /// frames and all `n_fft/2 + 1` bins (DC and Nyquist included). Units: log10 of power
    /// ("bels"); `LSD(x, g·x) = |log10(g²)|` when the powers dominate `ε`.
    ///
    /// # Errors
    /// Lengths differ, empty input, NaN/±∞ samples.
    pub fn log_spectral_distance(&mut self, reference: &[f32], estimate: &[f32]) -> Result<f64> {
        check_pair(reference, estimate, "lsd reference/estimate")?;
        let pr = self.stft_power(reference)?;
        let pe = self.stft_power(estimate)?;
        let mut total = 0.0;
        for t in 0..pr.n_frames {
            let mean_sq = pr
                .frame(t)
                .iter()
                .zip(pe.frame(t))
                .map(|(&a, &b)| {
                    let d = (a + LSD_EPS).log10() - (b + LSD_EPS).log10();
                    d * d
                })
                .sum::<f64>()
                / pr.n_bins as f64;
            total += mean_sq.sqrt();
        }
        Ok(total / pr.n_frames as f64)
    }

    /// Mean of the left-ear and right-ear [`log_spectral_distance`](Self::log_spectral_distance).
    ///
    /// # Errors
    /// Any of the four lengths differ, empty input, NaN/±∞ samples.
    pub fn binaural_lsd(
        &mut self,
        ref_l: &[f32],
        ref_r: &[f32],
        est_l: &[f32],
        est_r: &[f32],
    ) -> Result<f64> {
        check_four(ref_l, ref_r, est_l, est_r)?;
        let l = self.log_spectral_distance(ref_l, est_l)?;
        let r = self.log_spectral_distance(ref_r, est_r)?;
        Ok(0.5 * (l + r))
    }

    /// SSIM of log spectrograms of one channel.
    ///
    /// 1. `D = 10·log10(P + ε)` dB for both signals (`P` from
    ///    [`stft_power`](Self::stft_power), `ε` = [`LSD_EPS`]);
    /// 2. both clipped to `[m − 80, m]`, `m` the *reference's* maximum (dB),
    ///    [`SPEC_SSIM_DB_RANGE`] = 80;
    /// 3. scaled to `[0, 1]` by `(D − (m − 80)) / 80`;
    /// 4. Gaussian SSIM (σ = 1.5, `K1 = 0.01`, `K2 = 0.03`, `L = 1`, valid region, as in
    ///    [`crate::image::ssim`]) on the `frames x bins` image. The window is 11x11 when
    ///    both sides are at least 11; otherwise it is the largest odd size `w` that fits the
    ///    smaller side, with the same σ = 1.5 Gaussian truncated to `w` taps and renormalised
    ///    (a 1x1 window, for a single frame, reduces SSIM to its luminance term).
    ///
    /// # Errors
    /// Lengths differ, empty input, NaN/±∞ samples.
    pub fn spectrogram_ssim(&mut self, reference: &[f32], estimate: &[f32]) -> Result<f64> {
        check_pair(reference, estimate, "spectrogram ssim reference/estimate")?;
        let pr = self.stft_power(reference)?;
        let pe = self.stft_power(estimate)?;
        let to_db = |p: f64| 10.0 * (p + LSD_EPS).log10();
        let mut a: Vec<f64> = pr.power.iter().map(|&p| to_db(p)).collect();
        let mut b: Vec<f64> = pe.power.iter().map(|&p| to_db(p)).collect();
        let hi = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = hi - SPEC_SSIM_DB_RANGE;
        for v in a.iter_mut().chain(b.iter_mut()) {
            *v = (v.clamp(lo, hi) - lo) / SPEC_SSIM_DB_RANGE;
        }
        let (width, height) = (pr.n_bins, pr.n_frames);
        let win = spectrogram_ssim_window(width, height);
        let kernel = ssim_core::gaussian_kernel(win, ssim_core::SIGMA);
        Ok(ssim_core::ssim_plane_valid(
            &a, &b, width, height, &kernel, 1.0,
        ))
    }

    /// Mean of the left-ear and right-ear [`spectrogram_ssim`](Self::spectrogram_ssim).
    ///
    /// # Errors
    /// Any of the four lengths differ, empty input, NaN/±∞ samples.
    pub fn binaural_spectrogram_ssim(
        &mut self,
        ref_l: &[f32],
        ref_r: &[f32],
        est_l: &[f32],
        est_r: &[f32],
    ) -> Result<f64> {
        check_four(ref_l, ref_r, est_l, est_r)?;
        let l = self.spectrogram_ssim(ref_l, est_l)?;
        let r = self.spectrogram_ssim(ref_r, est_r)?;
        Ok(0.5 * (l + r))
    }

    /// Energies of `x` in the six octave bands of [`OCTAVE_BANDS_HZ`].
    ///
    /// The whole segment (length `N`) is multiplied by a periodic Hann window of length `N`
    /// and transformed by one real FFT of length `N` (no zero padding); band `b` sums
    /// `|X(k)|²` over the bins whose frequency `k·fs/N` lies in `[fc/√2, fc·√2)`. A band that
    /// holds no bin (very short segments) has energy 0.
    ///
    /// # Errors
    /// Empty input, NaN/±∞ samples.
    pub fn octave_band_energies(&mut self, x: &[f32]) -> Result<[f64; 6]> {
        check_signal(x, "octave band signal")?;
        let n = x.len();
        if self.segment_window.len() != n {
            self.segment_window = Window::HannPeriodic.coefficients(n);
        }
        self.real.resize(n, 0.0);
        for ((dst, &s), &w) in self.real.iter_mut().zip(x).zip(&self.segment_window) {
            *dst = f64::from(s) * w;
        }
        self.forward_into_a(n)?;
        let df = self.sample_rate / n as f64;
        let mut e = [0.0f64; 6];
        for (k, c) in self.spec_a.iter().enumerate() {
            let f = k as f64 * df;
            for (eb, &fc) in e.iter_mut().zip(&OCTAVE_BANDS_HZ) {
                if f >= fc / std::f64::consts::SQRT_2 && f < fc * std::f64::consts::SQRT_2 {
                    *eb += c.norm_sqr();
                }
            }
        }
        Ok(e)
    }

    /// Interaural level difference per octave band (dB):
    /// `ILD_b = 10·log10((E_L,b + ε) / (E_R,b + ε))`, energies from
    /// [`octave_band_energies`](Self::octave_band_energies), `ε` = [`ILD_EPS`].
    /// Positive when the left ear is louder; scaling one ear by 0.5 gives ±6.02 dB.
    ///
    /// # Errors
    /// Lengths differ, empty input, NaN/±∞ samples.
    pub fn octave_band_ild(&mut self, left: &[f32], right: &[f32]) -> Result<[f64; 6]> {
        check_pair(left, right, "ild left/right")?;
        let el = self.octave_band_energies(left)?;
        let er = self.octave_band_energies(right)?;
        Ok(std::array::from_fn(|b| {
            10.0 * ((el[b] + ILD_EPS) / (er[b] + ILD_EPS)).log10()
        }))
    }

    /// Absolute per-band differences of [`octave_band_ild`](Self::octave_band_ild) and their mean.
    ///
    /// # Errors
    /// Any of the four lengths differ, empty input, NaN/±∞ samples.
    pub fn ild_error(
        &mut self,
        ref_l: &[f32],
        ref_r: &[f32],
        est_l: &[f32],
        est_r: &[f32],
    ) -> Result<IldError> {
        check_four(ref_l, ref_r, est_l, est_r)?;
        let a = self.octave_band_ild(ref_l, ref_r)?;
        let b = self.octave_band_ild(est_l, est_r)?;
        let per_band: [f64; 6] = std::array::from_fn(|i| (a[i] - b[i]).abs());
        let mean = per_band.iter().sum::<f64>() / 6.0;
        Ok(IldError { per_band, mean })
    }

    /// GCC-PHAT lag in (fractional) samples, searched in `±max_lag` samples.
    fn gcc_phat_samples(&mut self, left: &[f32], right: &[f32], max_lag: f64) -> Result<f64> {
        check_pair(left, right, "itd left/right")?;
        let n = left.len();
        let nfft = 2 * n;
        // Spectrum of the zero-padded right channel into spec_b, left into spec_a.
        self.real.clear();
        self.real.extend(right.iter().map(|&v| f64::from(v)));
        self.real.resize(nfft, 0.0);
        self.forward_into_a(nfft)?;
        std::mem::swap(&mut self.spec_a, &mut self.spec_b);
        self.real.clear();
        self.real.extend(left.iter().map(|&v| f64::from(v)));
        self.real.resize(nfft, 0.0);
        self.forward_into_a(nfft)?;

        // PHAT-weighted cross-power spectrum G = X_L · conj(X_R) / |X_L · conj(X_R)|.
        let mut max_mag = 0.0f64;
        for (a, b) in self.spec_a.iter_mut().zip(&self.spec_b) {
            *a *= b.conj();
            max_mag = max_mag.max(a.norm());
        }
        let floor = max_mag * PHAT_RELATIVE_FLOOR;
        for a in self.spec_a.iter_mut() {
            let m = a.norm();
            *a = if m > floor && m > 0.0 {
                *a / m
            } else {
                Complex::default()
            };
        }
        // DC and Nyquist of a real signal's spectrum are real.
        self.spec_a[0].im = 0.0;
        if let Some(last) = self.spec_a.last_mut() {
            last.im = 0.0;
        }
        let ifft = self.planner.plan_fft_inverse(nfft);
        let scratch_len = ifft.get_scratch_len();
        if self.scratch.len() < scratch_len {
            self.scratch.resize(scratch_len, Complex::default());
        }
        ifft.process_with_scratch(
            &mut self.spec_a,
            &mut self.real[..nfft],
            &mut self.scratch[..scratch_len],
        )
        .map_err(fft_err)?;
        let cc = &self.real[..nfft];

        // cc[τ mod nfft] = Σ_n l(n + τ) r(n): peaks at τ = d when the left ear lags by d.
        let lag_limit = (max_lag.floor() as usize).min(n - 1) as isize;
        let at = |tau: isize| cc[tau.rem_euclid(nfft as isize) as usize];
        let mut best = 0isize;
        let mut best_val = at(0);
        // Visit 1, −1, 2, −2, …: on ties the smallest |lag| wins, so silence gives 0.
        for k in 1..=lag_limit {
            for tau in [k, -k] {
                let v = at(tau);
                if v > best_val {
                    best_val = v;
                    best = tau;
                }
            }
        }
        let (ym, y0, yp) = (at(best - 1), best_val, at(best + 1));
        let denom = ym - 2.0 * y0 + yp;
        let delta = if denom < 0.0 {
            (0.5 * (ym - yp) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        Ok((best as f64 + delta).clamp(-max_lag, max_lag))
    }

    /// Interaural time difference (seconds) by GCC-PHAT.
    ///
    /// Both channels are zero-padded to `2N` (so the correlation does not wrap), the
    /// cross-power spectrum `X_L·conj(X_R)` is divided by its magnitude (bins below
    /// [`PHAT_RELATIVE_FLOOR`] of the largest magnitude are zeroed), transformed back, and
    /// the largest value at integer lags within `±min(⌊max_lag·fs⌋, N − 1)` is refined by a
    /// parabola through it and its two neighbours (offset clamped to ±0.5 sample; the result
    /// is clamped to ±max_lag). Ties go to the smallest |lag|, so silence gives 0.
    /// Integer delays of a burst come out exact (to 1e-15 samples); for fractional delays the
    /// parabola fitted to the PHAT sinc peak is biased by up to ≈ 0.12 sample (0 at half
    /// samples), measured on a white-noise burst.
    ///
    /// **Sign**: positive means the left ear lags (the right ear hears the sound first, the
    /// source is on the right): `left[n] = right[n − d]` gives `+d / fs`.
    ///
    /// # Errors
    /// Lengths differ, empty input, NaN/±∞ samples.
    pub fn gcc_phat_itd(&mut self, left: &[f32], right: &[f32]) -> Result<f64> {
        let max_lag = self.max_lag_s * self.sample_rate;
        Ok(self.gcc_phat_samples(left, right, max_lag)? / self.sample_rate)
    }

    /// Absolute difference of the reference and estimated [`gcc_phat_itd`](Self::gcc_phat_itd).
    ///
    /// # Errors
    /// Any of the four lengths differ, empty input, NaN/±∞ samples.
    pub fn itd_error(
        &mut self,
        ref_l: &[f32],
        ref_r: &[f32],
        est_l: &[f32],
        est_r: &[f32],
    ) -> Result<ItdError> {
        check_four(ref_l, ref_r, est_l, est_r)?;
        let a = self.gcc_phat_itd(ref_l, ref_r)?;
        let b = self.gcc_phat_itd(est_l, est_r)?;
        Ok(self.itd_error_from(a, b))
    }

    fn itd_error_from(&self, itd_ref: f64, itd_est: f64) -> ItdError {
        let d = (itd_ref - itd_est).abs();
        ItdError {
            samples: d * self.sample_rate,
            micros: d * 1e6,
        }
    }

    /// `|θ_ref − θ_est|` in degrees, θ the [`lateral_angle_from_itd`] of each pair's
    /// [`gcc_phat_itd`](Self::gcc_phat_itd).
    ///
    /// # Errors
    /// Any of the four lengths differ, empty input, NaN/±∞ samples.
    pub fn doa_error_deg(
        &mut self,
        ref_l: &[f32],
        ref_r: &[f32],
        est_l: &[f32],
        est_r: &[f32],
    ) -> Result<f64> {
        check_four(ref_l, ref_r, est_l, est_r)?;
        let a = self.gcc_phat_itd(ref_l, ref_r)?;
        let b = self.gcc_phat_itd(est_l, est_r)?;
        Ok((lateral_angle_from_itd(a) - lateral_angle_from_itd(b)).abs())
    }

    /// Every audio metric of a binaural segment pair at once (the ITDs are computed once and
    /// shared by `itd` and `doa_deg`).
    ///
    /// # Errors
    /// Any of the four lengths differ, empty input, NaN/±∞ samples.
    pub fn binaural_metrics(
        &mut self,
        ref_l: &[f32],
        ref_r: &[f32],
        est_l: &[f32],
        est_r: &[f32],
    ) -> Result<BinauralReport> {
        check_four(ref_l, ref_r, est_l, est_r)?;
        let lsd = self.binaural_lsd(ref_l, ref_r, est_l, est_r)?;
        let spec_ssim = self.binaural_spectrogram_ssim(ref_l, ref_r, est_l, est_r)?;
        let ild = self.ild_error(ref_l, ref_r, est_l, est_r)?;
        let itd_ref = self.gcc_phat_itd(ref_l, ref_r)?;
        let itd_est = self.gcc_phat_itd(est_l, est_r)?;
        Ok(BinauralReport {
            lsd,
            spec_ssim,
            ild,
            itd: self.itd_error_from(itd_ref, itd_est),
            doa_deg: (lateral_angle_from_itd(itd_ref) - lateral_angle_from_itd(itd_est)).abs(),
        })
    }
}

/// Side of the SSIM window used by [`spectrogram_ssim`] for a `width x height` spectrogram:
/// 11, or the largest odd number not above `min(width, height)` when that is below 11.
pub fn spectrogram_ssim_window(width: usize, height: usize) -> usize {
    let side = width.min(height);
    if side >= ssim_core::WINDOW {
        ssim_core::WINDOW
    } else if side % 2 == 1 {
        side
    } else {
        side.saturating_sub(1).max(1)
    }
}

/// STFT power spectrogram of `x` with framing `cfg`; see [`AudioAnalyzer::stft_power`].
///
/// # Errors
/// Invalid `cfg`, empty input (or shorter than `n_fft` without centring), NaN/±∞ samples.
pub fn stft_power(x: &[f32], cfg: &StftConfig) -> Result<Spectrogram> {
    AudioAnalyzer::new(*cfg)?.stft_power(x)
}

/// Log-spectral distance of one channel; see [`AudioAnalyzer::log_spectral_distance`].
///
/// # Errors
/// Invalid `cfg`, lengths differ, empty input, NaN/±∞ samples.
pub fn log_spectral_distance(reference: &[f32], estimate: &[f32], cfg: &StftConfig) -> Result<f64> {
    AudioAnalyzer::new(*cfg)?.log_spectral_distance(reference, estimate)
}

/// Mean over both ears of the LSD with the default [`StftConfig`].
///
/// # Errors
/// Any of the four lengths differ, empty input, NaN/±∞ samples.
pub fn binaural_lsd(ref_l: &[f32], ref_r: &[f32], est_l: &[f32], est_r: &[f32]) -> Result<f64> {
    AudioAnalyzer::default().binaural_lsd(ref_l, ref_r, est_l, est_r)
}

/// Spectrogram SSIM of one channel; see [`AudioAnalyzer::spectrogram_ssim`].
///
/// # Errors
/// Invalid `cfg`, lengths differ, empty input, NaN/±∞ samples.
pub fn spectrogram_ssim(reference: &[f32], estimate: &[f32], cfg: &StftConfig) -> Result<f64> {
    AudioAnalyzer::new(*cfg)?.spectrogram_ssim(reference, estimate)
}

/// Mean over both ears of the spectrogram SSIM with the default [`StftConfig`].
///
/// # Errors
/// Any of the four lengths differ, empty input, NaN/±∞ samples.
pub fn binaural_spectrogram_ssim(
    ref_l: &[f32],
    ref_r: &[f32],
    est_l: &[f32],
    est_r: &[f32],
) -> Result<f64> {
    AudioAnalyzer::default().binaural_spectrogram_ssim(ref_l, ref_r, est_l, est_r)
}

/// Octave-band ILD (dB) at 16 kHz; see [`AudioAnalyzer::octave_band_ild`].
///
/// # Errors
/// Lengths differ, empty input, NaN/±∞ samples.
pub fn octave_band_ild(left: &[f32], right: &[f32]) -> Result<[f64; 6]> {
    AudioAnalyzer::default().octave_band_ild(left, right)
}

/// Octave-band ILD error at 16 kHz; see [`AudioAnalyzer::ild_error`].
///
/// # Errors
/// Any of the four lengths differ, empty input, NaN/±∞ samples.
pub fn ild_error(ref_l: &[f32], ref_r: &[f32], est_l: &[f32], est_r: &[f32]) -> Result<IldError> {
    AudioAnalyzer::default().ild_error(ref_l, ref_r, est_l, est_r)
}

/// GCC-PHAT ITD in seconds, peak searched within ±`max_lag_s`
/// ([`DEFAULT_MAX_LAG_S`] = 1 ms is the usual choice); see [`AudioAnalyzer::gcc_phat_itd`]
/// for the algorithm. Positive: the left ear lags (source on the right).
///
/// # Errors
/// Non-positive or non-finite `sample_rate`, negative or non-finite `max_lag_s`, lengths
/// differ, empty input, NaN/±∞ samples.
pub fn gcc_phat_itd(left: &[f32], right: &[f32], sample_rate: f64, max_lag_s: f64) -> Result<f64> {
    AudioAnalyzer::default()
        .with_sample_rate(sample_rate)?
        .with_max_lag(max_lag_s)?
        .gcc_phat_itd(left, right)
}

/// ITD error at 16 kHz with a ±1 ms search; see [`AudioAnalyzer::itd_error`].
///
/// # Errors
/// Any of the four lengths differ, empty input, NaN/±∞ samples.
pub fn itd_error(ref_l: &[f32], ref_r: &[f32], est_l: &[f32], est_r: &[f32]) -> Result<ItdError> {
    AudioAnalyzer::default().itd_error(ref_l, ref_r, est_l, est_r)
}

/// Lateral-angle error (degrees) at 16 kHz with a ±1 ms search; see
/// [`AudioAnalyzer::doa_error_deg`].
///
/// # Errors
/// Any of the four lengths differ, empty input, NaN/±∞ samples.
pub fn doa_error_deg(ref_l: &[f32], ref_r: &[f32], est_l: &[f32], est_r: &[f32]) -> Result<f64> {
    AudioAnalyzer::default().doa_error_deg(ref_l, ref_r, est_l, est_r)
}

/// All audio metrics with the defaults (512/128 periodic-Hann STFT, 16 kHz, ±1 ms); see
/// [`AudioAnalyzer::binaural_metrics`].
///
/// # Errors
/// Any of the four lengths differ, empty input, NaN/±∞ samples.
pub fn binaural_metrics(
    ref_l: &[f32],
    ref_r: &[f32],
    est_l: &[f32],
    est_r: &[f32],
) -> Result<BinauralReport> {
    AudioAnalyzer::default().binaural_metrics(ref_l, ref_r, est_l, est_r)
}
