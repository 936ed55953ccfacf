//! Step audio: the looping source convolved with the RIR of each step, crossfaded between
//! consecutive RIRs (SoundSpaces 2.0 continuous mode, `reference/soundspaces.md` §4.2).
//!
//! For step `t` with loop index `i_t`, RIR `h_t` (length `M`) and source `s` of period `L`:
//!
//! ```text
//! y_t[k]  = Σ_{m=0}^{M−1} h_t[m] · s[(i_t + k − m) mod L]          k = 0 .. N−1 (N = 2400)
//! out[k]  = y_prev[k]·(1 − k/W) + y_t[k]·(k/W)                      k < W (W = 800, 50 ms)
//! out[k]  = y_t[k]                                                  k ≥ W
//! ```
//!
//! where `y_prev` is the same sum at the same index `i_t` with the previous RIR `h_{t−1}`.
//!
//! **Difference from SoundSpaces 2.0:** the convolution is *fully circular* in the loop: the
//! history before loop index 0 is the end of the previous loop, always. SS2 treats source
//! indices below 0 as silence whenever `i_t < M` (the sound "starts" at index 0), so after each
//! wrap of the index its output drops the reverberant tail of the previous loop for one step.
//! We never do; the output is the steady state of a source that has always been looping.
//!
//! Implementation: each render computes `y_t` over `N + W` samples with one FFT of the source
//! history and one per ear of the RIR (overlap-save in a single block). The `W` extra samples
//! are exactly `y_prev` of the next step if it advances (`i_{t+1} = i_t + N`); if it does not
//! (STOP), `y_prev` is the first `W` samples. So the previous RIR never has to be convolved
//! again: per step the cost is 3 forward and 2 inverse real FFTs of size ≥ `M − 1 + N + W`
//! (rounded up to 2^k or 3·2^k so that only a few FFT plans are ever cached).

use avwm_core::{BinauralAudio, STEP_SAMPLES};
use realfft::num_complex::Complex;

use super::fft::{FftCache, coarse_fft_len};
use crate::binaural::BinauralRir;
use crate::source::SourceSignal;

/// Crossfade length `W` (samples): 50 ms at 16 kHz, as SoundSpaces 2.0 (`int(0.05 · sr)`).
pub const CROSSFADE_SAMPLES: usize = 800;

/// Samples computed per render: the step plus the next step's crossfade.
const EXT: usize = STEP_SAMPLES + CROSSFADE_SAMPLES;

/// The audio state of an episode: the looping source, the loop index `i_t`, and the (un-faded)
/// output of the previous RIR needed for the crossfade. `Clone` gives an independent snapshot.
///
/// # Example
///
/// ```
/// use avwm_audio::{BinauralRir, SourceSignal, StepAudio};
///
/// let source = SourceSignal::ringtone(16_000);
/// let mut audio = StepAudio::new(source.clone(), 1000);
/// let identity = BinauralRir::unit_impulse(16_000);
/// let reset = audio.render(&identity, false); // the reset observation: i_0 = 1000
/// let step = audio.render(&identity, true); // a move: i_1 = 3400
/// assert_eq!(step.left.len(), 2400);
/// assert!((step.left[0] - source.samples()[3400]).abs() < 1e-5);
/// assert!((reset.right[10] - source.samples()[1010]).abs() < 1e-5);
/// ```
#[derive(Clone, Debug)]
pub struct StepAudio {
    source: SourceSignal,
    index: usize,
    /// `y` of the previous render over `[i_{t−1}, i_{t−1} + N + W)`, per ear.
    prev: Option<[Vec<f32>; 2]>,
    scratch: Scratch,
}

/// FFT plans and reusable buffers (not part of the observable state).
#[derive(Debug, Default)]
struct Scratch {
    fft: FftCache,
    x: Vec<f32>,
    h: Vec<f32>,
    xs: Vec<Complex<f32>>,
    hs: Vec<Complex<f32>>,
    fft_scratch: Vec<Complex<f32>>,
}

impl StepAudio {
    /// A fresh state at loop index `start_index` (taken modulo the source length). The first
    /// [`StepAudio::render`] has no crossfade.
    pub fn new(source: SourceSignal, start_index: usize) -> StepAudio {
        let index = start_index % source.len();
        StepAudio {
            source,
            index,
            prev: None,
            scratch: Scratch::default(),
        }
    }

    /// A start index drawn uniformly from `[0, N)` (SoundSpaces' `i_0`), from `seed`.
    pub fn random_start_index(seed: avwm_core::Seed) -> usize {
        use rand::Rng;
        seed.rng().random_range(0..STEP_SAMPLES)
    }

    /// The current loop index `i_t` (samples into the source).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The looping source.
    pub fn source(&self) -> &SourceSignal {
        &self.source
    }

    /// Renders one step of 2 × [`STEP_SAMPLES`] samples.
    ///
    /// If `advance` (every action but STOP), the loop index first moves on by `N = 2400`
    /// samples; pass `false` for the reset observation and for STOP. The output is the source
    /// convolved with `rir` at the loop index, crossfaded from the previous RIR's output over
    /// [`CROSSFADE_SAMPLES`] (no crossfade on the first render after [`StepAudio::new`]).
    ///
    /// # Panics
    ///
    /// If `rir.sample_rate_hz` differs from the source's sample rate.
    pub fn render(&mut self, rir: &BinauralRir, advance: bool) -> BinauralAudio {
        assert_eq!(
            rir.sample_rate_hz,
            self.source.sample_rate_hz(),
            "StepAudio::render: RIR and source sample rates differ"
        );
        if advance {
            self.index = (self.index + STEP_SAMPLES) % self.source.len();
        }
        let ys = convolve_looped(
            &mut self.scratch,
            [&rir.left, &rir.right],
            self.source.samples(),
            self.index,
        );
        let mut out = [
            ys[0][..STEP_SAMPLES].to_vec(),
            ys[1][..STEP_SAMPLES].to_vec(),
        ];
        if let Some(prev) = &self.prev {
            let off = if advance { STEP_SAMPLES } else { 0 };
            for (o, p) in out.iter_mut().zip(prev) {
                for k in 0..CROSSFADE_SAMPLES {
                    let w = k as f32 / CROSSFADE_SAMPLES as f32;
                    o[k] = p[off + k] * (1.0 - w) + o[k] * w;
                }
            }
        }
        self.prev = Some(ys);
        let [left, right] = out;
        BinauralAudio {
            sample_rate_hz: self.source.sample_rate_hz(),
            left,
            right,
        }
    }
}

impl Clone for Scratch {
    /// Shares the plans but not the buffers: a snapshot copies only the observable state.
    fn clone(&self) -> Self {
        Scratch {
            fft: self.fft.clone(),
            ..Scratch::default()
        }
    }
}

/// `y[c][k] = Σ_m h[c][m] · s[(index + k − m) mod L]` for `k ∈ 0..N+W`, both channels.
fn convolve_looped(sc: &mut Scratch, h: [&[f32]; 2], s: &[f32], index: usize) -> [Vec<f32>; 2] {
    let m = h[0].len().max(h[1].len());
    if m == 0 {
        return [vec![0.0; EXT], vec![0.0; EXT]];
    }
    let hist = m - 1 + EXT; // source samples needed
    let n = coarse_fft_len(hist);
    let plans = sc.fft.plans(n);
    let bins = n / 2 + 1;
    let l = s.len();

    // Source history x[j] = s[(index − (M−1) + j) mod L], copied in contiguous runs.
    sc.x.clear();
    sc.x.resize(n, 0.0);
    let mut pos = (index as i64 - (m as i64 - 1)).rem_euclid(l as i64) as usize;
    let mut j = 0;
    while j < hist {
        let run = (l - pos).min(hist - j);
        sc.x[j..j + run].copy_from_slice(&s[pos..pos + run]);
        j += run;
        pos = (pos + run) % l;
    }
    sc.xs.resize(bins, Complex::default());
    sc.hs.resize(bins, Complex::default());
    let scratch_len = plans
        .forward
        .get_scratch_len()
        .max(plans.inverse.get_scratch_len());
    sc.fft_scratch.resize(scratch_len, Complex::default());
    plans
        .forward
        .process_with_scratch(&mut sc.x, &mut sc.xs, &mut sc.fft_scratch)
        .expect("buffer lengths match the plan");

    let scale = 1.0 / n as f32;
    let mut out = [Vec::new(), Vec::new()];
    for (c, hc) in h.iter().enumerate() {
        sc.h.clear();
        sc.h.extend_from_slice(hc);
        sc.h.resize(n, 0.0);
        plans
            .forward
            .process_with_scratch(&mut sc.h, &mut sc.hs, &mut sc.fft_scratch)
            .expect("buffer lengths match the plan");
        for (a, b) in sc.hs.iter_mut().zip(&sc.xs) {
            *a = *a * *b * scale;
        }
        sc.hs[0].im = 0.0;
        sc.hs[bins - 1].im = 0.0;
        // sc.h is free again: reuse it as the time-domain output.
        plans
            .inverse
            .process_with_scratch(&mut sc.hs, &mut sc.h, &mut sc.fft_scratch)
            .expect("buffer lengths match the plan");
        out[c] = sc.h[m - 1..m - 1 + EXT].to_vec();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(h: &[f32], s: &[f32], index: usize, k_len: usize) -> Vec<f32> {
        let l = s.len() as i64;
        (0..k_len)
            .map(|k| {
                h.iter()
                    .enumerate()
                    .map(|(m, hm)| hm * s[((index + k) as i64 - m as i64).rem_euclid(l) as usize])
                    .sum()
            })
            .collect()
    }

    #[test]
    fn fft_convolution_equals_brute_force_circular_sum() {
        let s: Vec<f32> = (0..3001)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let h0: Vec<f32> = (0..5000)
            .map(|i| (-(i as f32) / 700.0).exp() * ((i * 31) % 7) as f32)
            .collect();
        let h1: Vec<f32> = vec![0.0, 0.5, -0.25];
        let mut sc = Scratch::default();
        for &index in &[0usize, 17, 2999] {
            let ys = convolve_looped(&mut sc, [&h0, &h1], &s, index);
            for (y, h) in ys.iter().zip([&h0, &h1]) {
                let want = brute(h, &s, index, EXT);
                let peak = want.iter().fold(0.0f32, |a, v| a.max(v.abs()));
                let err = y
                    .iter()
                    .zip(&want)
                    .fold(0.0f32, |a, (p, q)| a.max((p - q).abs()));
                assert!(
                    err <= 1e-4 * peak.max(1.0),
                    "index {index}: err {err}, peak {peak}"
                );
            }
        }
    }
}
