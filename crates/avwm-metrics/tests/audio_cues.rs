//! Analytic properties of the audio metrics: exact delays, gains and degenerate inputs.

mod common;

use avwm_metrics::MetricsError;
use avwm_metrics::audio::{self, AudioAnalyzer, StftConfig, Window};
use common::*;

const N: usize = 2400;

/// `x` delayed by a fractional `d` samples with a Blackman-windowed sinc of ±64 taps.
fn frac_delay(x: &[f64], d: f64) -> Vec<f64> {
    let half = 64isize;
    let mut y = vec![0.0; x.len()];
    for (n, out) in y.iter_mut().enumerate() {
        let mut acc = 0.0;
        let centre = n as f64 - d;
        let k0 = centre.floor() as isize;
        for k in (k0 - half)..=(k0 + half) {
            if k < 0 || k as usize >= x.len() {
                continue;
            }
            let t = centre - k as f64;
            if t.abs() > half as f64 {
                continue;
            }
            let sinc = if t == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
            };
            let u = (t / half as f64 + 1.0) * 0.5; // 0..1 over the window
            let tau = std::f64::consts::TAU;
            let w = 0.42 - 0.5 * (tau * u).cos() + 0.08 * (2.0 * tau * u).cos();
            acc += x[k as usize] * sinc * w;
        }
        *out = acc;
    }
    y
}

fn white(n: usize, seed: u64, amp: f64) -> Vec<f64> {
    let mut r = Lcg(seed);
    (0..n).map(|_| amp * r.uniform()).collect()
}

#[test]
fn gcc_phat_recovers_integer_delays_exactly() {
    let src = burst(N, 600, 1200, 42);
    for k in 0..=12usize {
        let lagged = to_f32(&delayed(&src, k, 1.0));
        let lead = to_f32(&src);
        // Left lags by k: +k samples.
        let pos = audio::gcc_phat_itd(&lagged, &lead, FS, audio::DEFAULT_MAX_LAG_S).unwrap() * FS;
        // Right lags by k: −k samples.
        let neg = audio::gcc_phat_itd(&lead, &lagged, FS, audio::DEFAULT_MAX_LAG_S).unwrap() * FS;
        assert_close(pos, k as f64, 1e-6, &format!("+{k}"));
        assert_close(neg, -(k as f64), 1e-6, &format!("-{k}"));
    }
}

#[test]
fn gcc_phat_integer_delay_on_continuous_noise_and_different_gain() {
    // Not a burst: the delayed copy loses its last samples and has a different level.
    let src = white(N + 20, 9, 0.8);
    for k in [1usize, 4, 9] {
        let right: Vec<f64> = src[20..].to_vec();
        let left: Vec<f64> = src[20 - k..N + 20 - k].iter().map(|v| 0.3 * v).collect();
        let itd = audio::gcc_phat_itd(&to_f32(&left), &to_f32(&right), FS, 1e-3).unwrap() * FS;
        assert_close(itd, k as f64, 0.05, &format!("noise +{k}"));
    }
}

#[test]
fn gcc_phat_fractional_delays() {
    let src = burst(N, 600, 1200, 7);
    for d in [3.5f64, 0.5, 2.25, 7.8, 10.4] {
        let lagged = to_f32(&frac_delay(&src, d));
        let lead = to_f32(&src);
        let pos = audio::gcc_phat_itd(&lagged, &lead, FS, 1e-3).unwrap() * FS;
        let neg = audio::gcc_phat_itd(&lead, &lagged, FS, 1e-3).unwrap() * FS;
        assert_close(pos, d, 0.2, &format!("+{d}"));
        assert_close(neg, -d, 0.2, &format!("-{d}"));
    }
    // Half a sample is symmetric: the parabola lands on it almost exactly.
    let lagged = to_f32(&frac_delay(&src, 3.5));
    let pos = audio::gcc_phat_itd(&lagged, &to_f32(&src), FS, 1e-3).unwrap() * FS;
    assert_close(pos, 3.5, 0.02, "3.5 symmetric");
}

#[test]
fn gcc_phat_search_range_and_silence() {
    let src = burst(N, 600, 1200, 3);
    let lagged = to_f32(&delayed(&src, 30, 1.0));
    let lead = to_f32(&src);
    // 30 samples is outside ±1 ms (16 samples) but inside ±2.5 ms (40 samples).
    let wide = audio::gcc_phat_itd(&lagged, &lead, FS, 2.5e-3).unwrap() * FS;
    assert_close(wide, 30.0, 1e-6, "wide search");
    let narrow = audio::gcc_phat_itd(&lagged, &lead, FS, 1e-3).unwrap() * FS;
    assert!(narrow.abs() <= 16.0 + 1e-9, "{narrow}");
    // Another sample rate: 4 samples at 48 kHz.
    let lagged = to_f32(&delayed(&src, 4, 1.0));
    let itd = audio::gcc_phat_itd(&lagged, &lead, 48_000.0, 1e-3).unwrap();
    assert_close(itd, 4.0 / 48_000.0, 1e-10, "48 kHz");
    // Silence: no peak, ITD 0.
    let zeros = vec![0.0f32; N];
    assert_eq!(audio::gcc_phat_itd(&zeros, &zeros, FS, 1e-3).unwrap(), 0.0);
    // A single sample works (only lag 0 exists).
    assert_eq!(audio::gcc_phat_itd(&[0.5], &[0.25], FS, 1e-3).unwrap(), 0.0);
}

#[test]
fn itd_and_doa_errors_from_delayed_copies() {
    let src = burst(N, 600, 1200, 11);
    let lead = to_f32(&src);
    let left_lags_4 = to_f32(&delayed(&src, 4, 1.0));
    let right_lags_2 = to_f32(&delayed(&src, 2, 1.0));
    // Reference +4 samples (source right), estimate −2 samples (source left).
    let e = audio::itd_error(&left_lags_4, &lead, &lead, &right_lags_2).unwrap();
    assert_close(e.samples, 6.0, 1e-6, "itd error samples");
    assert_close(e.micros, 375.0, 1e-4, "itd error µs");
    let doa = audio::doa_error_deg(&left_lags_4, &lead, &lead, &right_lags_2).unwrap();
    let want = audio::lateral_angle_from_itd(4.0 / FS) + audio::lateral_angle_from_itd(2.0 / FS);
    assert_close(doa, want, 1e-6, "doa error");
    assert!(
        audio::lateral_angle_from_itd(4.0 / FS) > 0.0,
        "left lags → source on the right → positive"
    );
    // Same pair → zero errors.
    let e0 = audio::itd_error(&left_lags_4, &lead, &left_lags_4, &lead).unwrap();
    assert_eq!((e0.samples, e0.micros), (0.0, 0.0));
}

#[test]
fn ild_of_half_gain_is_6_02_db_in_every_band() {
    let x = white(N, 5, 0.9);
    let left = to_f32(&x);
    let right: Vec<f32> = left.iter().map(|v| 0.5 * v).collect();
    let want = 20.0 * 2f64.log10(); // 6.0206 dB
    for (b, v) in audio::octave_band_ild(&left, &right)
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_close(*v, want, 1e-9, &format!("band {b}"));
    }
    for v in audio::octave_band_ild(&right, &left).unwrap() {
        assert_close(v, -want, 1e-9, "mirrored");
    }
    let e = audio::ild_error(&left, &right, &right, &left).unwrap();
    for v in e.per_band {
        assert_close(v, 2.0 * want, 1e-9, "ild error band");
    }
    assert_close(e.mean, 2.0 * want, 1e-9, "ild error mean");
    // Silence in both ears: 0 dB; one silent ear: a large finite level difference.
    let zeros = vec![0.0f32; N];
    assert_eq!(audio::octave_band_ild(&zeros, &zeros).unwrap(), [0.0; 6]);
    let one_sided = audio::octave_band_ild(&left, &zeros).unwrap();
    assert!(
        one_sided.iter().all(|v| v.is_finite() && *v > 100.0),
        "{one_sided:?}"
    );
}

#[test]
fn ild_band_edges_select_the_right_band() {
    // A 1 kHz tone only in the left ear's 1 kHz band; the right ear has a 250 Hz tone.
    let n = 3200; // 5 Hz bins: both tones on bin centres
    let tone = |f: f64| -> Vec<f32> {
        (0..n)
            .map(|i| (std::f64::consts::TAU * f * i as f64 / FS).sin() as f32)
            .collect()
    };
    let ild = audio::octave_band_ild(&tone(1000.0), &tone(250.0)).unwrap();
    assert!(ild[3] > 100.0, "{ild:?}"); // 1 kHz: left only
    assert!(ild[1] < -100.0, "{ild:?}"); // 250 Hz: right only
    // A unit sine on bin k0 under a periodic Hann of length N: |X(k0)| = N/4 and
    // |X(k0 ± 1)| = N/8, so the band holds 3N²/32; the other bands only rounding noise.
    let mut an = AudioAnalyzer::default();
    let e = an.octave_band_energies(&tone(1000.0)).unwrap();
    let total = 3.0 * (n * n) as f64 / 32.0;
    assert_close(e[3] / total, 1.0, 1e-6, "1 kHz band energy");
    for b in [0, 1, 2, 4, 5] {
        assert!(e[b] < 1e-9 * total, "band {b}: {e:?}");
    }
    // Edge 1414.2 Hz: bins 1395..1405 Hz (the main lobe of a 1400 Hz tone) are in the 1 kHz
    // band, bins 1420..1430 Hz (a 1425 Hz tone) in the 2 kHz band; a 1410 Hz tone splits
    // 5:1 (its 1415 Hz side bin holds (N/8)² of the 3N²/32).
    let e = an.octave_band_energies(&tone(1400.0)).unwrap();
    assert_close(e[3] / total, 1.0, 1e-6, "1400 Hz");
    let e = an.octave_band_energies(&tone(1425.0)).unwrap();
    assert_close(e[4] / total, 1.0, 1e-6, "1425 Hz");
    let e = an.octave_band_energies(&tone(1410.0)).unwrap();
    assert_close(e[3] / total, 5.0 / 6.0, 1e-6, "1410 Hz low side");
    assert_close(e[4] / total, 1.0 / 6.0, 1e-6, "1410 Hz high side");
}

#[test]
fn lsd_identities() {
    let cfg = StftConfig::default();
    let x = to_f32(&white(N, 13, 0.5));
    let x2: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
    assert_eq!(audio::log_spectral_distance(&x, &x, &cfg).unwrap(), 0.0);
    let d = audio::log_spectral_distance(&x, &x2, &cfg).unwrap();
    assert_close(d, 4f64.log10(), 1e-6, "LSD(x, 2x)");
    assert_close(
        audio::log_spectral_distance(&x2, &x, &cfg).unwrap(),
        d,
        1e-12,
        "symmetric",
    );
    let zeros = vec![0.0f32; N];
    assert_eq!(
        audio::log_spectral_distance(&zeros, &zeros, &cfg).unwrap(),
        0.0
    );
    // Silence vs signal: bounded by the ε floor, large.
    assert!(audio::log_spectral_distance(&zeros, &x, &cfg).unwrap() > 8.0);
    assert_close(
        audio::binaural_lsd(&x, &x, &x2, &x2).unwrap(),
        d,
        1e-12,
        "binaural",
    );
}

#[test]
fn spectrogram_ssim_identities() {
    let cfg = StftConfig::default();
    let x = to_f32(&white(N, 17, 0.5));
    assert_close(
        audio::spectrogram_ssim(&x, &x, &cfg).unwrap(),
        1.0,
        1e-12,
        "identical",
    );
    let zeros = vec![0.0f32; N];
    assert_close(
        audio::spectrogram_ssim(&zeros, &zeros, &cfg).unwrap(),
        1.0,
        1e-12,
        "silent",
    );
    // A global gain shifts every dB value by 6 dB: high but not perfect similarity.
    let x2: Vec<f32> = x.iter().map(|v| 2.0 * v).collect();
    let s = audio::spectrogram_ssim(&x, &x2, &cfg).unwrap();
    assert!(s > 0.9 && s < 0.999, "{s}");
    // Unrelated noise is much less similar.
    let y = to_f32(&white(N, 18, 0.5));
    let u = audio::spectrogram_ssim(&x, &y, &cfg).unwrap();
    assert!(u < s - 0.3, "{u} vs {s}");
    // Window choice.
    assert_eq!(audio::spectrogram_ssim_window(257, 19), 11);
    assert_eq!(audio::spectrogram_ssim_window(257, 10), 9);
    assert_eq!(audio::spectrogram_ssim_window(257, 9), 9);
    assert_eq!(audio::spectrogram_ssim_window(257, 2), 1);
    assert_eq!(audio::spectrogram_ssim_window(257, 1), 1);
    // One frame (a 1x1 window) still works.
    let short = &x[..100];
    assert_close(
        audio::spectrogram_ssim(short, short, &cfg).unwrap(),
        1.0,
        1e-12,
        "one frame",
    );
}

#[test]
fn stft_power_of_a_bin_centred_cosine() {
    // cos(2π·32 n / 512): bin 32. Periodic Hann sums to 256, so interior frames hold
    // (256/2)² = 16384 at bin 32, (256/4)² = 4096 at bins 31 and 33, ~0 elsewhere.
    let x: Vec<f32> = (0..N)
        .map(|i| (std::f64::consts::TAU * 32.0 * i as f64 / 512.0).cos() as f32)
        .collect();
    let cfg = StftConfig::default();
    let s = audio::stft_power(&x, &cfg).unwrap();
    assert_eq!((s.n_frames(), s.n_bins()), (19, 257));
    for t in 2..17 {
        assert_close(s.get(t, 32), 16384.0, 1e-2, "bin 32");
        assert_close(s.get(t, 31), 4096.0, 1e-2, "bin 31");
        assert_close(s.get(t, 33), 4096.0, 1e-2, "bin 33");
        assert!(s.get(t, 40) < 1e-6);
    }
    assert_eq!(s.as_slice().len(), 19 * 257);
    assert_eq!(s.frame(3), &s.as_slice()[3 * 257..4 * 257]);
    // Without centring: 15 frames, same interior values.
    let nc = StftConfig {
        center: false,
        ..cfg
    };
    let s2 = audio::stft_power(&x, &nc).unwrap();
    assert_eq!(s2.n_frames(), 15);
    assert_close(s2.get(0, 32), 16384.0, 1e-2, "non-centred bin 32");
    // Rectangular window: Σw = 512, leakage-free.
    let rect = StftConfig {
        window: Window::Rectangular,
        ..nc
    };
    let s3 = audio::stft_power(&x, &rect).unwrap();
    assert_close(s3.get(0, 32), 65536.0, 1e-2, "rect bin 32");
    assert!(s3.get(0, 31) < 1e-6);
}

#[test]
fn analyzer_reuse_matches_fresh_calls() {
    let [rl, rr, el, er] = signals(N);
    let short = signals(700);
    let mut an = AudioAnalyzer::default();
    // Interleave lengths so every buffer is resized up and down.
    let a1 = an.gcc_phat_itd(&rl, &rr).unwrap();
    let b1 = an.octave_band_ild(&short[0], &short[1]).unwrap();
    let c1 = an.log_spectral_distance(&rl, &el).unwrap();
    let d1 = an.spectrogram_ssim(&short[0], &short[2]).unwrap();
    let e1 = an.binaural_metrics(&rl, &rr, &el, &er).unwrap();
    let cfg = StftConfig::default();
    assert_eq!(a1, audio::gcc_phat_itd(&rl, &rr, FS, 1e-3).unwrap());
    assert_eq!(b1, audio::octave_band_ild(&short[0], &short[1]).unwrap());
    assert_eq!(c1, audio::log_spectral_distance(&rl, &el, &cfg).unwrap());
    assert_eq!(
        d1,
        audio::spectrogram_ssim(&short[0], &short[2], &cfg).unwrap()
    );
    assert_eq!(e1, audio::binaural_metrics(&rl, &rr, &el, &er).unwrap());
    assert_eq!(an.itd_error(&rl, &rr, &el, &er).unwrap(), e1.itd);
    assert_eq!(an.ild_error(&rl, &rr, &el, &er).unwrap(), e1.ild);
    assert_eq!(an.doa_error_deg(&rl, &rr, &el, &er).unwrap(), e1.doa_deg);
}

#[test]
fn invalid_inputs_are_errors() {
    let x = vec![0.1f32; 100];
    let y = vec![0.1f32; 99];
    let mut nan = x.clone();
    nan[17] = f32::NAN;
    let mut inf = x.clone();
    inf[3] = f32::INFINITY;
    let cfg = StftConfig::default();
    let e: &[f32] = &[];

    assert!(matches!(
        audio::log_spectral_distance(&x, &y, &cfg),
        Err(MetricsError::LengthMismatch {
            left: 100,
            right: 99,
            ..
        })
    ));
    assert!(matches!(
        audio::log_spectral_distance(e, e, &cfg),
        Err(MetricsError::Empty { .. })
    ));
    assert!(matches!(
        audio::log_spectral_distance(&x, &nan, &cfg),
        Err(MetricsError::NonFinite { index: 17, .. })
    ));
    assert!(matches!(
        audio::spectrogram_ssim(&inf, &x, &cfg),
        Err(MetricsError::NonFinite { index: 3, .. })
    ));
    assert!(matches!(
        audio::stft_power(&nan, &cfg),
        Err(MetricsError::NonFinite { .. })
    ));
    assert!(matches!(
        audio::stft_power(e, &cfg),
        Err(MetricsError::Empty { .. })
    ));
    let nc = StftConfig {
        center: false,
        ..cfg
    };
    assert!(matches!(
        audio::stft_power(&x, &nc),
        Err(MetricsError::Empty { .. })
    ));
    let bad = StftConfig { hop: 0, ..cfg };
    assert!(matches!(
        audio::stft_power(&x, &bad),
        Err(MetricsError::InvalidParameter { .. })
    ));
    assert!(AudioAnalyzer::new(bad).is_err());

    assert!(matches!(
        audio::octave_band_ild(&x, &y),
        Err(MetricsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        audio::octave_band_ild(&x, &nan),
        Err(MetricsError::NonFinite { .. })
    ));
    assert!(audio::gcc_phat_itd(&x, &y, FS, 1e-3).is_err());
    assert!(audio::gcc_phat_itd(&nan, &x, FS, 1e-3).is_err());
    assert!(audio::gcc_phat_itd(e, e, FS, 1e-3).is_err());
    assert!(matches!(
        audio::gcc_phat_itd(&x, &x, 0.0, 1e-3),
        Err(MetricsError::InvalidParameter {
            name: "sample_rate",
            ..
        })
    ));
    assert!(audio::gcc_phat_itd(&x, &x, f64::NAN, 1e-3).is_err());
    assert!(matches!(
        audio::gcc_phat_itd(&x, &x, FS, -1.0),
        Err(MetricsError::InvalidParameter {
            name: "max_lag_s",
            ..
        })
    ));
    // Four-signal functions check every pairing.
    assert!(audio::binaural_lsd(&x, &x, &x, &y).is_err());
    assert!(audio::binaural_spectrogram_ssim(&x, &y, &x, &x).is_err());
    assert!(audio::ild_error(&x, &x, &nan, &x).is_err());
    assert!(audio::itd_error(&x, &x, &y, &y).is_err());
    assert!(audio::doa_error_deg(&x, &x, &x, &inf).is_err());
    assert!(audio::binaural_metrics(&x, &x, &x, &nan).is_err());
    assert!(audio::binaural_metrics(&x, &x, &x, &x).is_ok());
}
