//! Reverberation time from an energy decay: Schroeder backward integration (ISO 3382-1), a
//! least-squares line through the decay between −5 dB and −5 − `range_db` dB, extrapolated to
//! −60 dB (T20 with a range of 20 dB, T30 with 30).

/// Reverberation time (s) of the energy envelope `energy` sampled every `dt_s` seconds (squared
/// samples of an impulse response, or the bins of an energy histogram). `None` when the energy is
/// zero, the decay never falls by 5 + `range_db` dB, or the fitted line does not fall.
pub fn energy_decay_rt(energy: &[f64], dt_s: f64, range_db: f64) -> Option<f64> {
    let mut edc = energy.to_vec();
    for i in (0..edc.len().saturating_sub(1)).rev() {
        edc[i] += edc[i + 1];
    }
    let total = *edc.first()?;
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let db: Vec<f64> = edc
        .iter()
        .map(|e| 10.0 * (e / total).max(1e-30).log10())
        .collect();
    let hi = db.iter().position(|d| *d <= -5.0)?;
    let lo = db.iter().position(|d| *d <= -5.0 - range_db)?;
    // Least-squares slope of dB against time over [hi, lo].
    let n = (lo - hi + 1) as f64;
    let (mut st, mut sd, mut stt, mut std_) = (0.0, 0.0, 0.0, 0.0);
    for (i, d) in db.iter().enumerate().take(lo + 1).skip(hi) {
        let t = i as f64 * dt_s;
        st += t;
        sd += d;
        stt += t * t;
        std_ += t * d;
    }
    let slope = (n * std_ - st * sd) / (n * stt - st * st);
    (slope < 0.0).then(|| -60.0 / slope)
}

/// Reverberation time (s) of the impulse response `h` sampled at `fs` Hz:
/// [`energy_decay_rt`] of `h²`.
pub fn schroeder_rt(h: &[f32], fs: f32, range_db: f32) -> Option<f32> {
    let energy: Vec<f64> = h.iter().map(|x| f64::from(*x) * f64::from(*x)).collect();
    energy_decay_rt(&energy, 1.0 / f64::from(fs), f64::from(range_db)).map(|t| t as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rt_of_an_exponential_decay_is_its_rt60() {
        // h(t) = exp(-6.9078 t / T) has energy decaying 60 dB in T seconds.
        let fs = 16000.0;
        let t60 = 0.5f32;
        let h: Vec<f32> = (0..32000)
            .map(|i| (-6.9078 * i as f32 / fs / t60).exp())
            .collect();
        for range in [20.0, 30.0] {
            let t = schroeder_rt(&h, fs, range).unwrap();
            assert!((t - t60).abs() / t60 < 0.02, "T{range} {t} vs {t60}");
        }
        // A histogram of the same decay in 4 ms bins gives the same time.
        let bins: Vec<f64> = (0..500)
            .map(|i| (-2.0 * 6.9078 * (i as f64 * 0.004) / f64::from(t60)).exp())
            .collect();
        let t = energy_decay_rt(&bins, 0.004, 20.0).unwrap();
        assert!((t - f64::from(t60)).abs() / f64::from(t60) < 0.02, "{t}");
    }

    #[test]
    fn silence_and_decays_too_short_to_fit_have_no_rt() {
        assert_eq!(schroeder_rt(&[], 16000.0, 20.0), None);
        assert_eq!(schroeder_rt(&[0.0; 100], 16000.0, 20.0), None);
        // A single impulse falls to nothing at once: no sample between −5 and −25 dB but the last.
        assert_eq!(schroeder_rt(&[1.0], 16000.0, 20.0), None);
        assert_eq!(energy_decay_rt(&[f64::NAN, 1.0], 0.01, 20.0), None);
    }
}
