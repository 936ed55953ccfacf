//! Signal processing shared by the binaural renderer and the step audio: octave-band masks,
//! FFT plan caching, fractional delays, resampling, reverberation time from a decay, and [`StepAudio`] (the looping source
//! convolved with consecutive RIRs and crossfaded between them).

pub mod bands;
pub mod decay;
pub mod fft;
pub(crate) mod resample;
pub mod step;

pub use fft::{FftCache, coarse_fft_len, fast_fft_len};
pub use step::{CROSSFADE_SAMPLES, StepAudio};

/// Half-width (samples) of the windowed-sinc fractional-delay kernel; the kernel has
/// `2 · FRAC_DELAY_HALF` taps.
pub const FRAC_DELAY_HALF: usize = 8;

/// A fractional-delay kernel for a delay of `frac` ∈ [0, 1) samples: `2 · FRAC_DELAY_HALF`
/// taps, tap `j` sits at offset `j − (FRAC_DELAY_HALF − 1)` from the integer delay.
///
/// Hann-windowed sinc, normalised to unit DC gain. For `frac == 0` it is an exact unit impulse
/// at tap `FRAC_DELAY_HALF − 1`.
pub fn frac_delay_kernel(frac: f32) -> [f32; 2 * FRAC_DELAY_HALF] {
    let mut k = [0.0f32; 2 * FRAC_DELAY_HALF];
    if frac.abs() < 1e-6 {
        k[FRAC_DELAY_HALF - 1] = 1.0;
        return k;
    }
    let half = FRAC_DELAY_HALF as f32;
    let mut sum = 0.0;
    for (j, v) in k.iter_mut().enumerate() {
        let x = j as f32 - (half - 1.0) - frac;
        let w = 0.5 * (1.0 + (std::f32::consts::PI * x / half).cos());
        *v = sinc(x) * w;
        sum += *v;
    }
    for v in &mut k {
        *v /= sum;
    }
    k
}

/// Normalised sinc, `sin(πx)/(πx)`.
pub fn sinc(x: f32) -> f32 {
    if x.abs() < 1e-6 {
        1.0
    } else {
        let px = std::f32::consts::PI * x;
        px.sin() / px
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frac_delay_kernel_has_unit_dc_gain_and_centroid_at_delay() {
        for &f in &[0.0f32, 0.25, 0.5, 0.9] {
            let k = frac_delay_kernel(f);
            let sum: f32 = k.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5);
            // Centroid of a symmetric-about-the-delay kernel is the delay.
            let c: f32 = k.iter().enumerate().map(|(j, v)| j as f32 * v).sum::<f32>() / sum;
            assert!(
                (c - (FRAC_DELAY_HALF as f32 - 1.0 + f)).abs() < 0.05,
                "frac {f}: centroid {c}"
            );
        }
    }
}
