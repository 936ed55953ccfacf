//! VGGish's log-mel front end: shapes, constants and an independent per-frame computation.

use avwm_eval::StereoClip;
use avwm_eval::audio::{
    EXAMPLE_FRAMES, FFT_LENGTH, LOG_OFFSET, MEL_BANDS, MIN_SAMPLES, STFT_HOP, STFT_WINDOW, log_mel,
    log_mel_examples, mel_matrix,
};
use tch::Tensor;

fn to_vec(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.flatten(0, -1)).unwrap()
}

fn tone(freq: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / 16_000.0).sin()) as f32)
        .collect()
}

#[test]
fn constants_match_vggish_params() {
    // 25 ms / 10 ms at 16 kHz, FFT 2^⌈log2 400⌉ = 512, 96 frames per example,
    // one example needs 400 + 95 · 160 = 15,600 samples.
    assert_eq!(
        (STFT_WINDOW, STFT_HOP, FFT_LENGTH, EXAMPLE_FRAMES, MEL_BANDS),
        (400, 160, 512, 96, 64)
    );
    assert_eq!(MIN_SAMPLES, 15_600);
}

#[test]
fn frame_and_example_counts() {
    // frames = 1 + ⌊(L − 400) / 160⌋, examples = ⌊frames / 96⌋ (at least 1 after padding).
    for (len, frames, examples) in [
        (400, 1, 1),
        (2400, 13, 1),
        (15_599, 95, 1),
        (15_600, 96, 1),
        (30_959, 191, 1),
        (30_960, 192, 2),
        (38_400, 238, 2),
    ] {
        let w = vec![0.1f32; len];
        assert_eq!(log_mel(&w).unwrap().size(), [frames, 64], "L = {len}");
        assert_eq!(
            log_mel_examples(&w, 16_000).unwrap().size()[0],
            examples,
            "L = {len}"
        );
    }
    assert!(log_mel(&[0.0; 399]).is_err());
    assert!(log_mel_examples(&[], 16_000).is_err());
    assert!(log_mel_examples(&[0.0; 20_000], 44_100).is_err());
    assert!(log_mel_examples(&[f32::NAN; 20_000], 16_000).is_err());
}

#[test]
fn silence_is_log_offset() {
    let v = to_vec(&log_mel_examples(&[0.0; 16_000], 16_000).unwrap());
    let expected = LOG_OFFSET.ln() as f32 as f64;
    assert!(
        v.iter().all(|x| (x - expected).abs() < 1e-6),
        "ln 0.01 everywhere"
    );
}

#[test]
fn mel_matrix_shape_and_support() {
    let m = mel_matrix();
    assert_eq!(m.size(), [257, 64]);
    let w = to_vec(&m);
    let at = |k: usize, b: usize| w[k * 64 + b];
    // DC row zeroed; bins at or below 125 Hz (bin 4 = 125 Hz) and at or above 7500 Hz (bin 240)
    // carry no weight.
    for b in 0..64 {
        for k in (0..=4).chain(240..257) {
            assert_eq!(at(k, b), 0.0, "bin {k} band {b}");
        }
    }
    // Triangles peak at ≤ 1, every band has weight, all weights in [0, 1].
    assert!(w.iter().all(|&x| (0.0..=1.0).contains(&x)));
    for b in 0..64 {
        let peak = (0..257).map(|k| at(k, b)).fold(0.0, f64::max);
        assert!(peak > 0.0 && peak <= 1.0, "band {b}: peak {peak}");
    }
}

#[test]
fn tone_lands_in_its_band() {
    // A 1 kHz tone: the loudest band is the one whose centre (HTK mel, edges evenly spaced between
    // mel(125) and mel(7500)) is nearest to 1 kHz.
    let mel = |hz: f64| 1127.0 * (1.0 + hz / 700.0).ln();
    let (lo, hi) = (mel(125.0), mel(7500.0));
    let centre = |b: usize| lo + (hi - lo) * (b + 1) as f64 / 65.0;
    let want = (0..64).min_by(|&a, &b| {
        (centre(a) - mel(1000.0))
            .abs()
            .total_cmp(&(centre(b) - mel(1000.0)).abs())
    });
    let lm = log_mel(&tone(1000.0, 16_000))
        .unwrap()
        .mean_dim(0, false, tch::Kind::Double);
    let got = lm.argmax(0, false).int64_value(&[]) as usize;
    assert_eq!(Some(got), want);
}

#[test]
fn first_frame_matches_a_direct_dft() {
    // Independent computation of frame 0: periodic Hann window, 512-point DFT by summation,
    // magnitude, mel weights, ln(· + 0.01).
    let x: Vec<f32> = (0..1000)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let lm = to_vec(&log_mel(&x).unwrap().narrow(0, 0, 1));
    let w = to_vec(&mel_matrix());
    let pi = std::f64::consts::PI;
    let mag: Vec<f64> = (0..257)
        .map(|k| {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, &xn) in x.iter().enumerate().take(400) {
                let v = f64::from(xn) * (0.5 - 0.5 * (2.0 * pi * n as f64 / 400.0).cos());
                let a = -2.0 * pi * (k * n) as f64 / 512.0;
                re += v * a.cos();
                im += v * a.sin();
            }
            (re * re + im * im).sqrt()
        })
        .collect();
    for b in 0..64 {
        let e: f64 = (0..257).map(|k| mag[k] * w[k * 64 + b]).sum();
        let want = (e + 0.01).ln();
        assert!((lm[b] - want).abs() < 1e-9, "band {b}: {} vs {want}", lm[b]);
    }
}

#[test]
fn clips_concatenate_segments_in_order() {
    let a = [1.0f32, 2.0];
    let b = [3.0f32, 4.0];
    let c = StereoClip::concat([(&a[..], &b[..]), (&b[..], &a[..])], 16_000).unwrap();
    assert_eq!(c.left, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(c.right, [3.0, 4.0, 1.0, 2.0]);
    assert!(StereoClip::concat([(&a[..], &b[..1])], 16_000).is_err());
}
