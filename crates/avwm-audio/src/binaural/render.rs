//! RIR synthesis from an [`AcousticResponse`].
//!
//! * **Discrete paths.** Each path is placed at its delay with a 16-tap windowed-sinc
//!   fractional delay, convolved with the HRIR of its arrival direction (rotated into the head
//!   frame), and added with its per-band gain into one buffer *per band and ear*. Each buffer is
//!   then band-filtered once, in the frequency domain, with the zero-phase octave masks of
//!   [`crate::dsp::bands`] (they sum to exactly 1, so equal gains in all bands reproduce the
//!   unfiltered HRIR), and the bands are summed. The cost per path is independent of the FFT.
//! * **Late tail.** Per band, band-limited noise of the band's share of white noise's power
//!   (`share_b`, see `tail.rs`) times the amplitude envelope `√(E_b[i] / samples per bin)`,
//!   interpolated linearly between bin centres, so that the expected energy in bin `i` of band
//!   `b` is `share_b · E_b[i]`, as a discrete path of band gains `E_b` would carry. No HRTF on the tail: the two ears
//!   get noises with the diffuse-field interaural coherence.
//! * **Length.** The RIR ends where the late energy per bin has fallen `truncate_db` below its
//!   peak (or after the last path), capped at `max_rir_len_s`.
//!
//! Time 0 of the RIR is the emission time: a path of delay `d` peaks at sample `d·fs` (plus
//! the HRIR's own onset delay for the binaural render). The zero-phase band filters ring for a
//! few ms before each path; the part before time 0 is dropped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use avwm_core::{NUM_BANDS, Seed};
use glam::Vec3;
use realfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use super::hrtf::Hrtf;
use super::tail::{NOISE_BANK_LEN, NoiseBank};
use crate::dsp::bands::band_masks;
use crate::dsp::fft::{FftCache, coarse_fft_len};
use crate::dsp::{FRAC_DELAY_HALF, frac_delay_kernel};
use crate::error::AudioError;
use crate::paths::AcousticResponse;

/// Samples of room left in the early FFT buffer on each side for the ringing of the band
/// filters (32 ms at 16 kHz; the 125 Hz band's kernel has decayed by > 40 dB there).
const GUARD_S: f32 = 0.032;

/// Settings of the RIR synthesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderConfig {
    /// Sample rate of the RIR (Hz). Default 16 000 (the paper's).
    pub sample_rate_hz: u32,
    /// Maximum RIR length (s). Default 1.0 s: the step convolution costs grow with it; rooms
    /// with RT60 > 1 s lose the last part of their tail. At most ≈ 4 s
    /// ([`NOISE_BANK_LEN`](super::NOISE_BANK_LEN) samples).
    pub max_rir_len_s: f32,
    /// The tail is cut where its energy per bin has fallen this far below its peak (dB).
    /// Default 60 dB (the RT60 definition).
    pub truncate_db: f32,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            sample_rate_hz: avwm_core::SAMPLE_RATE_HZ,
            max_rir_len_s: 1.0,
            truncate_db: 60.0,
        }
    }
}

impl RenderConfig {
    /// Checks the values.
    ///
    /// # Errors
    ///
    /// [`AudioError::Config`] naming the offending field.
    pub fn validate(&self) -> Result<(), AudioError> {
        if !(1000..=192_000).contains(&self.sample_rate_hz) {
            return Err(AudioError::Config(format!(
                "sample_rate_hz {} out of 1000..=192000",
                self.sample_rate_hz
            )));
        }
        let max_s = NOISE_BANK_LEN as f32 / self.sample_rate_hz as f32;
        if !(self.max_rir_len_s > 0.0 && self.max_rir_len_s <= max_s) {
            return Err(AudioError::Config(format!(
                "max_rir_len_s {} out of (0, {max_s}]",
                self.max_rir_len_s
            )));
        }
        if !(self.truncate_db > 0.0 && self.truncate_db.is_finite()) {
            return Err(AudioError::Config(format!(
                "truncate_db {} must be > 0",
                self.truncate_db
            )));
        }
        Ok(())
    }

    fn max_len(&self) -> usize {
        ((self.max_rir_len_s * self.sample_rate_hz as f32).round() as usize)
            .clamp(1, NOISE_BANK_LEN)
    }
}

/// A two-channel room impulse response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinauralRir {
    /// Left ear (pressure per unit source pressure at 1 m; see [`crate::paths`]).
    pub left: Vec<f32>,
    /// Right ear; same length as `left`.
    pub right: Vec<f32>,
    /// Sample rate (Hz).
    pub sample_rate_hz: u32,
}

impl BinauralRir {
    /// A unit impulse at time 0 in both ears (the identity RIR).
    pub fn unit_impulse(sample_rate_hz: u32) -> BinauralRir {
        BinauralRir {
            left: vec![1.0],
            right: vec![1.0],
            sample_rate_hz,
        }
    }

    /// Length (samples).
    pub fn len(&self) -> usize {
        self.left.len().max(self.right.len())
    }

    /// `true` if the RIR has no samples (silence).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Rotates a world-frame direction into the head frame of a listener with heading `yaw_rad`
/// (CCW from +x): head x = heading, head y = left, z up.
pub fn world_to_head(dir_world: Vec3, yaw_rad: f32) -> Vec3 {
    let (s, c) = yaw_rad.sin_cos();
    Vec3::new(
        dir_world.x * c + dir_world.y * s,
        -dir_world.x * s + dir_world.y * c,
        dir_world.z,
    )
}

/// Renders the binaural RIR of `resp` for a listener whose head has yaw `head_yaw_rad`
/// (world frame, CCW from +x). `seed` picks the tail noise; a pure function of its inputs.
///
/// # Panics
///
/// If `hrtf.sample_rate_hz() != cfg.sample_rate_hz` (load the HRTF at the render rate).
pub fn render_binaural(
    resp: &AcousticResponse,
    head_yaw_rad: f32,
    hrtf: &Hrtf,
    cfg: &RenderConfig,
    seed: Seed,
) -> BinauralRir {
    assert_eq!(
        hrtf.sample_rate_hz(),
        cfg.sample_rate_hz,
        "render_binaural: HRTF and RenderConfig sample rates differ"
    );
    let [left, right] = render(
        resp,
        Ears::Binaural {
            hrtf,
            yaw: head_yaw_rad,
        },
        cfg,
        seed,
    );
    BinauralRir {
        left,
        right,
        sample_rate_hz: cfg.sample_rate_hz,
    }
}

/// Renders the omnidirectional (single-microphone, no head) RIR of `resp`: each path is its
/// band-filtered, fractionally delayed impulse, the tail is the left ear's noise.
///
/// # Example
///
/// ```
/// use avwm_audio::{AcousticResponse, EnergyHistogram, PathKind, PropagationPath};
/// use avwm_audio::binaural::{RenderConfig, render_omni};
/// use avwm_core::{Seed, glam::Vec3};
///
/// // A direct path 3.43 m away: 10 ms, pressure 1/3.43.
/// let direct = PropagationPath {
///     kind: PathKind::Direct,
///     delay_s: 0.01,
///     direction: Vec3::X,
///     gain: [1.0 / 3.43; 6],
/// };
/// let resp = AcousticResponse { paths: vec![direct], late: EnergyHistogram::empty(0.004) };
/// let rir = render_omni(&resp, &RenderConfig::default(), Seed(0));
/// let peak = (0..rir.len()).max_by(|&a, &b| rir[a].abs().total_cmp(&rir[b].abs())).unwrap();
/// assert_eq!(peak, 160); // 10 ms at 16 kHz
/// ```
pub fn render_omni(resp: &AcousticResponse, cfg: &RenderConfig, seed: Seed) -> Vec<f32> {
    let [mono, _] = render(resp, Ears::Omni, cfg, seed);
    mono
}

#[derive(Clone, Copy)]
enum Ears<'a> {
    Binaural { hrtf: &'a Hrtf, yaw: f32 },
    Omni,
}

/// Band masks by (FFT length, sample rate).
type MaskCache = HashMap<(usize, u32), Arc<Vec<Vec<f32>>>>;

thread_local! {
    static FFT: RefCell<FftCache> = RefCell::new(FftCache::new());
    static MASKS: RefCell<MaskCache> = RefCell::new(HashMap::new());
}

fn masks_for(n: usize, fs: u32) -> Arc<Vec<Vec<f32>>> {
    MASKS.with(|m| {
        m.borrow_mut()
            .entry((n, fs))
            .or_insert_with(|| Arc::new(band_masks(n, fs)))
            .clone()
    })
}

struct PlacedPath {
    n0: i64,
    frac: f32,
    gain: [f32; NUM_BANDS],
    dir_head: Vec3,
}

fn render(
    resp: &AcousticResponse,
    ears: Ears<'_>,
    cfg: &RenderConfig,
    seed: Seed,
) -> [Vec<f32>; 2] {
    let fs = cfg.sample_rate_hz;
    let fsf = fs as f32;
    let max_len = cfg.max_len();
    let n_ch = match ears {
        Ears::Binaural { .. } => 2,
        Ears::Omni => 1,
    };
    let hrir_len = match ears {
        Ears::Binaural { hrtf, .. } => hrtf.len(),
        Ears::Omni => 1,
    };

    // Discrete paths.
    let guard = (GUARD_S * fsf).ceil() as usize;
    let mut placed = Vec::with_capacity(resp.paths.len());
    let mut early_end = 0usize;
    for p in &resp.paths {
        let d = p.delay_s * fsf;
        if !(d.is_finite() && d >= 0.0)
            || p.gain.iter().any(|g| !g.is_finite())
            || p.gain.iter().all(|g| *g == 0.0)
        {
            continue;
        }
        let n0 = d.floor();
        if n0 as usize >= max_len {
            continue;
        }
        let dir_head = match ears {
            Ears::Binaural { yaw, .. } => world_to_head(p.direction, yaw),
            Ears::Omni => Vec3::X,
        };
        // The band filters ring for up to `guard` samples after the path.
        early_end = early_end.max(n0 as usize + FRAC_DELAY_HALF + 1 + hrir_len + guard);
        placed.push(PlacedPath {
            n0: n0 as i64,
            frac: d - n0,
            gain: p.gain,
            dir_head,
        });
    }

    // Late histogram: where does it end?
    let late = &resp.late;
    let bin_samples = late.bin_s * fsf;
    let mut late_end = 0usize;
    if bin_samples.is_finite() && bin_samples > 0.0 && !late.bins.is_empty() {
        let tot: Vec<f32> = late
            .bins
            .iter()
            .map(|b| b.iter().filter(|v| v.is_finite()).map(|v| v.max(0.0)).sum())
            .collect();
        let peak = tot.iter().fold(0.0f32, |a, v| a.max(*v));
        if peak > 0.0 {
            let thr = peak * 10f32.powf(-cfg.truncate_db / 10.0);
            if let Some(last) = tot.iter().rposition(|v| *v >= thr) {
                late_end = ((last + 1) as f32 * bin_samples).ceil() as usize;
            }
        }
    }
    let m = early_end.max(late_end).min(max_len);
    let mut out = [
        vec![0.0f32; m],
        if n_ch == 2 {
            vec![0.0f32; m]
        } else {
            Vec::new()
        },
    ];
    if m == 0 {
        return out;
    }

    if !placed.is_empty() {
        render_early(&placed, ears, n_ch, hrir_len, early_end, fs, &mut out);
    }
    if late_end > 0 {
        render_tail(resp, n_ch, m, bin_samples, fs, seed, &mut out);
    }
    out
}

fn render_early(
    placed: &[PlacedPath],
    ears: Ears<'_>,
    n_ch: usize,
    hrir_len: usize,
    early_end: usize,
    fs: u32,
    out: &mut [Vec<f32>; 2],
) {
    let guard = (GUARD_S * fs as f32).ceil() as usize;
    // `early_end` already includes the post-ringing guard; one more guard for the pre-ringing.
    let n = coarse_fft_len(early_end + guard);
    // bufs[(ch * NUM_BANDS + b) * n ..]
    let mut bufs = vec![0.0f32; n_ch * NUM_BANDS * n];
    let tap_len = hrir_len + 2 * FRAC_DELAY_HALF - 1;
    let mut tmp = vec![0.0f32; tap_len];
    let one = [1.0f32];
    for p in placed {
        let kern = frac_delay_kernel(p.frac);
        let (hl, hr): (&[f32], &[f32]) = match ears {
            Ears::Binaural { hrtf, .. } => hrtf.hrir(p.dir_head),
            Ears::Omni => (&one, &one),
        };
        let start = p.n0 - (FRAC_DELAY_HALF as i64 - 1);
        for (ch, h) in [hl, hr].into_iter().enumerate().take(n_ch) {
            tmp.iter_mut().for_each(|v| *v = 0.0);
            for (j, kv) in kern.iter().enumerate() {
                for (t, hv) in tmp[j..j + h.len()].iter_mut().zip(h) {
                    *t += kv * hv;
                }
            }
            for (b, &g) in p.gain.iter().enumerate() {
                if g == 0.0 {
                    continue;
                }
                let buf = &mut bufs[(ch * NUM_BANDS + b) * n..(ch * NUM_BANDS + b + 1) * n];
                if start >= 0 {
                    let s = start as usize;
                    for (d, t) in buf[s..s + tap_len].iter_mut().zip(&tmp) {
                        *d += g * t;
                    }
                } else {
                    for (i, t) in tmp.iter().enumerate() {
                        buf[(start + i as i64).rem_euclid(n as i64) as usize] += g * t;
                    }
                }
            }
        }
    }
    // Band-filter each buffer and sum the bands, in the frequency domain.
    let masks = masks_for(n, fs);
    FFT.with(|f| {
        let plans = f.borrow_mut().plans(n);
        let bins = n / 2 + 1;
        let mut scratch = vec![
            Complex::default();
            plans
                .forward
                .get_scratch_len()
                .max(plans.inverse.get_scratch_len())
        ];
        let mut spec = vec![Complex::<f32>::default(); bins];
        let mut acc = vec![Complex::<f32>::default(); bins];
        let mut time = vec![0.0f32; n];
        let keep = (n - guard).min(out[0].len());
        for ch in 0..n_ch {
            acc.iter_mut().for_each(|v| *v = Complex::default());
            for (b, mask) in masks.iter().enumerate() {
                let buf = &mut bufs[(ch * NUM_BANDS + b) * n..(ch * NUM_BANDS + b + 1) * n];
                if buf.iter().all(|v| *v == 0.0) {
                    continue;
                }
                plans
                    .forward
                    .process_with_scratch(buf, &mut spec, &mut scratch)
                    .expect("buffer lengths match the plan");
                for ((a, s), w) in acc.iter_mut().zip(&spec).zip(mask) {
                    *a += *s * *w;
                }
            }
            acc[0].im = 0.0;
            acc[bins - 1].im = 0.0;
            plans
                .inverse
                .process_with_scratch(&mut acc, &mut time, &mut scratch)
                .expect("buffer lengths match the plan");
            let scale = 1.0 / n as f32;
            for (o, t) in out[ch][..keep].iter_mut().zip(&time) {
                *o += t * scale;
            }
        }
    });
}

fn render_tail(
    resp: &AcousticResponse,
    n_ch: usize,
    m: usize,
    bin_samples: f32,
    fs: u32,
    seed: Seed,
    out: &mut [Vec<f32>; 2],
) {
    let bank = NoiseBank::get(fs);
    let bins = &resp.late.bins;
    let nb = bins.len();
    let mut env = vec![0.0f32; m];
    let amp = |i: usize, b: usize| -> f32 {
        if i >= nb {
            return 0.0;
        }
        let e = bins[i][b];
        if e.is_finite() && e > 0.0 {
            (e / bin_samples).sqrt()
        } else {
            0.0
        }
    };
    for b in 0..NUM_BANDS {
        // Amplitude at bin centres `c_i = (i + ½)·bin_samples`, linear in between; constant
        // before the first centre, falling to 0 one bin after the last centre.
        if (0..nb).all(|i| amp(i, b) == 0.0) {
            continue;
        }
        let centre = |i: usize| ((i as f32 + 0.5) * bin_samples - 0.5).max(0.0);
        let first = (centre(0).ceil() as usize).min(m);
        env[..first].fill(amp(0, b));
        let mut n = first;
        let mut i = 0;
        while n < m && i <= nb {
            // Segment [centre(i), centre(i+1)): from amp(i) to amp(i+1).
            let c0 = centre(i);
            let end = (centre(i + 1).ceil() as usize).min(m);
            let (a0, a1) = (amp(i, b), amp(i + 1, b));
            let slope = (a1 - a0) / bin_samples;
            for (k, e) in env[n..end.max(n)].iter_mut().enumerate() {
                *e = a0 + slope * ((n + k) as f32 - c0);
            }
            n = end.max(n);
            i += 1;
        }
        env[n..].fill(0.0);
        let o = NoiseBank::offset(seed, b);
        let noises = [&bank.left[b][o..o + m], &bank.right[b][o..o + m]];
        for ch in 0..n_ch {
            for ((y, e), x) in out[ch].iter_mut().zip(&env).zip(noises[ch]) {
                *y += e * x;
            }
        }
    }
}
