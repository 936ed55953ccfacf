//! VGGish's log-mel front end, in Rust (on libtorch tensors), for FAD.
//!
//! The exported `vggish.pt` is only the network (log-mel examples → 128-d embeddings), because
//! torchvggish computes its front end in NumPy, which cannot be traced. This module reproduces that
//! front end (`vggish_input.waveform_to_examples` with `vggish_params`), in f64:
//!
//! 1. mono 16 kHz waveform (we never resample: other rates are an error);
//! 2. frames of 400 samples (25 ms) every 160 samples (10 ms), without padding, so a waveform of
//!    `L ≥ 400` samples gives `1 + ⌊(L − 400) / 160⌋` frames;
//! 3. periodic Hann window `0.5 − 0.5 cos(2π n / 400)`, magnitude of a 512-point real FFT (257 bins);
//! 4. 64 triangular mel bands between 125 and 7500 Hz on the HTK mel scale `1127 ln(1 + f / 700)`,
//!    band edges evenly spaced in mel, bin centres at `linspace(0, 8000, 257)`, the DC bin's weights
//!    set to 0, no area normalisation;
//! 5. `ln(mel + 0.01)`;
//! 6. non-overlapping examples of 96 frames (0.96 s); a trailing partial example is dropped.
//!
//! **Short clips.** One example needs 96 frames, i.e. 15,600 samples (0.975 s), and one avwm step
//! holds 2,400 samples (0.15 s). The evaluation therefore concatenates the consecutive segments of a
//! sequence (an episode's horizon) per channel into one clip ([`StereoClip::concat`]) before the
//! front end; a clip still shorter than 15,600 samples is zero-padded at its end to 15,600 samples
//! so that it gives exactly one example (VGGish itself would give none).

use tch::{Device, Kind, Tensor};

use crate::{EvalError, Result};

/// The sample rate VGGish expects (Hz).
pub const VGGISH_SAMPLE_RATE: u32 = 16_000;
/// STFT window length in samples (25 ms).
pub const STFT_WINDOW: usize = 400;
/// STFT hop in samples (10 ms).
pub const STFT_HOP: usize = 160;
/// FFT length (next power of two of the window).
pub const FFT_LENGTH: usize = 512;
/// Number of mel bands.
pub const MEL_BANDS: usize = 64;
/// Lowest mel band edge (Hz).
pub const MEL_MIN_HZ: f64 = 125.0;
/// Highest mel band edge (Hz).
pub const MEL_MAX_HZ: f64 = 7500.0;
/// Offset inside the logarithm.
pub const LOG_OFFSET: f64 = 0.01;
/// Frames per example (0.96 s).
pub const EXAMPLE_FRAMES: usize = 96;
/// Samples needed for one example: `400 + 95 · 160`.
pub const MIN_SAMPLES: usize = STFT_WINDOW + (EXAMPLE_FRAMES - 1) * STFT_HOP;

/// A binaural clip: consecutive step segments of one sequence, concatenated per channel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StereoClip {
    /// Sample rate (Hz); must be [`VGGISH_SAMPLE_RATE`].
    pub sample_rate_hz: u32,
    /// Left channel.
    pub left: Vec<f32>,
    /// Right channel.
    pub right: Vec<f32>,
}

impl StereoClip {
    /// Concatenates `(left, right)` segments in time order into one clip.
    pub fn concat<'a, I>(segments: I, sample_rate_hz: u32) -> Result<StereoClip>
    where
        I: IntoIterator<Item = (&'a [f32], &'a [f32])>,
    {
        let mut clip = StereoClip {
            sample_rate_hz,
            ..StereoClip::default()
        };
        for (l, r) in segments {
            if l.len() != r.len() {
                return Err(EvalError::Input(format!(
                    "segment channels of {} and {} samples",
                    l.len(),
                    r.len()
                )));
            }
            clip.left.extend_from_slice(l);
            clip.right.extend_from_slice(r);
        }
        Ok(clip)
    }
}

fn hertz_to_mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

/// The mel weight matrix `[257, 64]` (f64): rows are FFT bins, columns mel bands.
pub fn mel_matrix() -> Tensor {
    let bins = FFT_LENGTH / 2 + 1;
    let nyquist = f64::from(VGGISH_SAMPLE_RATE) / 2.0;
    let lo = hertz_to_mel(MEL_MIN_HZ);
    let hi = hertz_to_mel(MEL_MAX_HZ);
    let edges: Vec<f64> = (0..MEL_BANDS + 2)
        .map(|i| lo + (hi - lo) * i as f64 / (MEL_BANDS + 1) as f64)
        .collect();
    let mut w = vec![0.0f64; bins * MEL_BANDS];
    for k in 1..bins {
        // Bin 0 (DC) keeps zero weights.
        let mel = hertz_to_mel(nyquist * k as f64 / (bins - 1) as f64);
        for b in 0..MEL_BANDS {
            let (l, c, u) = (edges[b], edges[b + 1], edges[b + 2]);
            let lower = (mel - l) / (c - l);
            let upper = (u - mel) / (u - c);
            w[k * MEL_BANDS + b] = lower.min(upper).max(0.0);
        }
    }
    Tensor::from_slice(&w).view([bins as i64, MEL_BANDS as i64])
}

/// The log-mel spectrogram `[frames, 64]` (f64) of a 16 kHz mono waveform of at least 400 samples.
pub fn log_mel(wave: &[f32]) -> Result<Tensor> {
    if wave.len() < STFT_WINDOW {
        return Err(EvalError::Input(format!(
            "a waveform of {} samples is shorter than one STFT window",
            wave.len()
        )));
    }
    let x = Tensor::from_slice(wave).to_kind(Kind::Double);
    let frames = x.unfold(0, STFT_WINDOW as i64, STFT_HOP as i64);
    let n = Tensor::arange(STFT_WINDOW as i64, (Kind::Double, Device::Cpu));
    let window: Tensor = 0.5 - (n * (2.0 * std::f64::consts::PI / STFT_WINDOW as f64)).cos() * 0.5;
    let spec = (frames * window.unsqueeze(0))
        .fft_rfft(FFT_LENGTH as i64, -1, "backward")
        .abs();
    Ok((spec.matmul(&mel_matrix()) + LOG_OFFSET).log())
}

/// VGGish input examples `[K, 1, 96, 64]` (f32) of a mono waveform at `sample_rate_hz`
/// (must be 16 kHz); waveforms shorter than [`MIN_SAMPLES`] are zero-padded to it first.
pub fn log_mel_examples(wave: &[f32], sample_rate_hz: u32) -> Result<Tensor> {
    if sample_rate_hz != VGGISH_SAMPLE_RATE {
        return Err(EvalError::Input(format!(
            "VGGish needs {VGGISH_SAMPLE_RATE} Hz audio, got {sample_rate_hz} Hz (no resampling is done)"
        )));
    }
    if wave.is_empty() {
        return Err(EvalError::Input("empty waveform".into()));
    }
    if wave.iter().any(|v| !v.is_finite()) {
        return Err(EvalError::NonFinite("waveform".into()));
    }
    let mel = if wave.len() < MIN_SAMPLES {
        let mut padded = wave.to_vec();
        padded.resize(MIN_SAMPLES, 0.0);
        log_mel(&padded)?
    } else {
        log_mel(wave)?
    };
    let frames = mel.size()[0] as usize;
    let k = frames / EXAMPLE_FRAMES;
    Ok(mel
        .narrow(0, 0, (k * EXAMPLE_FRAMES) as i64)
        .view([k as i64, 1, EXAMPLE_FRAMES as i64, MEL_BANDS as i64])
        .to_kind(Kind::Float))
}
