//! Evaluation metrics of the audio-visual world model, on plain buffers.
//!
//! No tensors, no torch: frames are `&[u8]` in row-major HWC order (128x128 RGB in the
//! dataset, any size here) and audio is one `&[f32]` per ear (2400 samples at 16 kHz in the
//! dataset, any length here). Every metric validates its inputs (lengths, empty buffers,
//! images smaller than the SSIM window, NaN/infinite samples) and returns a typed
//! [`MetricsError`] instead of panicking.
//!
//! - [`image`]: [`image::psnr`] and [`image::ssim`] (Gaussian 11x11, σ = 1.5, the
//!   scikit-image `structural_similarity` convention).
//! - [`audio`]: STFT power spectrogram, log-spectral distance, spectrogram SSIM, octave-band
//!   ILD, GCC-PHAT ITD, Woodworth lateral angle and a one-call [`audio::binaural_metrics`]
//!   report. [`audio::AudioAnalyzer`] keeps FFT plans and buffers between calls; the free
//!   functions are thin wrappers that build one per call.
//! - [`stats`]: [`stats::MeanStd`] to aggregate per-sample values.
#![warn(missing_docs)]

pub mod audio;
mod error;
pub mod image;
mod ssim_core;
pub mod stats;

pub use error::{MetricsError, Result};

/// Index of the first non-finite value of `x`, as an error naming `what`.
pub(crate) fn check_finite_f32(x: &[f32], what: &'static str) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricsError::NonFinite { what, index }),
        None => Ok(()),
    }
}
