//! Octave-band masks in the frequency domain.
//!
//! The six bands of [`avwm_core::BAND_CENTERS_HZ`] are split by complementary raised-cosine
//! crossfades in log-frequency between adjacent centres: for `f` between the centres `f_b` and
//! `f_{b+1} = 2 f_b`, with `x = log2(f / f_b)`, band `b` has weight `cos²(πx/2)` and band `b+1`
//! `sin²(πx/2)`. Below 125 Hz everything belongs to band 0 and above 4 kHz to band 5 (up to
//! Nyquist). So the *amplitude* masks sum to exactly 1 at every frequency (a signal split into
//! bands and summed back is unchanged) and they are real and non-negative (zero phase).
//! Their square roots are *power*-complementary (the energies of independent band noises add
//! up to a flat spectrum); the tail synthesis uses those, each band at its share of the power
//! ([`band_power_shares`]).

use avwm_core::{BAND_CENTERS_HZ, NUM_BANDS};

/// Amplitude weight of band `band` at frequency `f_hz` (∈ [0, 1]; the six weights sum to 1).
pub fn band_weight(band: usize, f_hz: f32) -> f32 {
    let f = f_hz.max(1e-3);
    let lo = BAND_CENTERS_HZ[0];
    let hi = BAND_CENTERS_HZ[NUM_BANDS - 1];
    if f <= lo {
        return if band == 0 { 1.0 } else { 0.0 };
    }
    if f >= hi {
        return if band == NUM_BANDS - 1 { 1.0 } else { 0.0 };
    }
    let pos = (f / lo).log2(); // ∈ (0, NUM_BANDS − 1)
    let b0 = (pos.floor() as usize).min(NUM_BANDS - 2);
    let x = pos - b0 as f32;
    let c = (std::f32::consts::FRAC_PI_2 * x).cos();
    if band == b0 {
        c * c
    } else if band == b0 + 1 {
        1.0 - c * c
    } else {
        0.0
    }
}

/// Each band's share of the power of white noise from 0 to Nyquist at `sample_rate_hz`: the mean
/// of [`band_weight`] over frequency (the weights are the bands' power spectra in the tail
/// synthesis). The six shares sum to 1; at 16 kHz they are ≈ 0.022, 0.022, 0.045, 0.089, 0.179,
/// 0.642. A late-energy histogram holds per-band energies "as if the whole spectrum had that
/// band's gain", so band b of a tail carries `share_b · E_b`.
pub fn band_power_shares(sample_rate_hz: u32) -> [f32; NUM_BANDS] {
    // The midpoint rule on a fine grid: the weights are smooth except at the band edges.
    const STEPS: usize = 1 << 16;
    let nyq = sample_rate_hz as f64 / 2.0;
    let mut out = [0.0f64; NUM_BANDS];
    for i in 0..STEPS {
        let f = (nyq * (i as f64 + 0.5) / STEPS as f64) as f32;
        for (b, o) in out.iter_mut().enumerate() {
            *o += f64::from(band_weight(b, f));
        }
    }
    out.map(|v| (v / STEPS as f64) as f32)
}

/// Amplitude masks of all bands on the bins of a real FFT of length `fft_len` at
/// `sample_rate_hz`: `masks[b][k]` for bin `k ∈ 0..=fft_len/2`.
pub fn band_masks(fft_len: usize, sample_rate_hz: u32) -> Vec<Vec<f32>> {
    let bins = fft_len / 2 + 1;
    let df = sample_rate_hz as f32 / fft_len as f32;
    (0..NUM_BANDS)
        .map(|b| (0..bins).map(|k| band_weight(b, k as f32 * df)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amplitude_masks_sum_to_one_everywhere() {
        for i in 0..2000 {
            let f = i as f32 * 4.0;
            let s: f32 = (0..NUM_BANDS).map(|b| band_weight(b, f)).sum();
            assert!((s - 1.0).abs() < 1e-5, "f = {f}: sum {s}");
        }
    }

    #[test]
    fn band_is_fully_itself_at_its_centre() {
        for (b, &fc) in BAND_CENTERS_HZ.iter().enumerate() {
            assert!((band_weight(b, fc) - 1.0).abs() < 1e-5);
        }
    }
}
