//! A simple band-limited resampler for looping signals (one-off use when loading a WAV source).

use super::sinc;

/// Zero crossings of the sinc on each side (at the lower of the two rates).
const ZERO_CROSSINGS: f32 = 16.0;

/// Resamples a *looping* signal from `from_hz` to `to_hz` with a Hann-windowed sinc
/// (cut-off at the lower Nyquist frequency). The input is treated as periodic, so the output
/// loops without a seam (up to the rounding of its length, `round(len · to/from)`).
pub(crate) fn resample_looping(x: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    if from_hz == to_hz || x.is_empty() {
        return x.to_vec();
    }
    let ratio = to_hz as f64 / from_hz as f64;
    let n_out = ((x.len() as f64 * ratio).round() as usize).max(1);
    // Cut-off relative to the input Nyquist frequency.
    let fc = ratio.min(1.0) as f32;
    let half = (ZERO_CROSSINGS / fc).ceil() as i64;
    let len = x.len() as i64;
    let step = x.len() as f64 / n_out as f64;
    (0..n_out)
        .map(|j| {
            let t = j as f64 * step;
            let t0 = t.floor() as i64;
            let frac = (t - t0 as f64) as f32;
            let mut acc = 0.0f32;
            for k in (-half + 1)..=half {
                let d = k as f32 - frac; // input index − t
                let w = 0.5 * (1.0 + (std::f32::consts::PI * d / half as f32).cos());
                acc += x[(t0 + k).rem_euclid(len) as usize] * fc * sinc(fc * d) * w;
            }
            acc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_a_periodic_sine_keeps_frequency_and_amplitude() {
        // 441 Hz at 44.1 kHz, exactly 441 periods in one second → 16 kHz.
        let x: Vec<f32> = (0..44100)
            .map(|n| (2.0 * std::f32::consts::PI * 441.0 * n as f32 / 44100.0).sin())
            .collect();
        let y = resample_looping(&x, 44100, 16000);
        assert_eq!(y.len(), 16000);
        let mut err = 0.0f32;
        for (n, v) in y.iter().enumerate() {
            let want = (2.0 * std::f32::consts::PI * 441.0 * n as f32 / 16000.0).sin();
            err = err.max((v - want).abs());
        }
        assert!(err < 0.01, "max error {err}");
    }
}
