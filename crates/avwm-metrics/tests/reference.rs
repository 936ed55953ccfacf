//! Agreement with independent Python implementations.
//!
//! Every value below was printed by `tests/reference/gen_reference.py` run with Python 3.11.7,
//! numpy 2.4.6, scipy 1.17.1 and scikit-image 0.26.0 (installed with pip into a venv), on the
//! inputs of `tests/common/mod.rs` (the script builds the same inputs with the same formulas
//! and LCG):
//! - SSIM: `skimage.metrics.structural_similarity(a, b, channel_axis=2, data_range=255,
//!   gaussian_weights=True, sigma=1.5, use_sample_covariance=False)` on `(h, w, c)` uint8
//!   arrays (`channel_axis=2` also for the one-channel image, shaped `(h, w, 1)`).
//! - PSNR: `skimage.metrics.peak_signal_noise_ratio(a, b, data_range=255)`.
//! - LSD / ILD: numpy straight from the definitions (`np.pad(x, 256, mode="reflect")`,
//!   periodic Hann = `scipy.signal.get_window("hann", 512)`, `np.fft.rfft`, `|X|²`).
//! - Spectrogram SSIM: the numpy dB/clip/scale image, then `structural_similarity(a, b,
//!   data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`; for
//!   the 3-frame case (3x3 window, which skimage cannot do with Gaussian weights) a
//!   `scipy.ndimage.gaussian_filter(sigma=1.5, truncate=1/1.5)` SSIM cropped by 1, a routine
//!   that the script checks against skimage at window 11 (identical to all printed digits).

mod common;

use avwm_metrics::audio::{self, AudioAnalyzer, StftConfig};
use avwm_metrics::image;
use common::*;

#[test]
fn image_ssim_and_psnr_match_scikit_image() {
    // (w, h, c, ssim formula, psnr formula, ssim noise, psnr noise)
    let cases = [
        (
            128,
            128,
            3,
            0.9855038926990566,
            34.412202606219324,
            0.852887658551927,
            23.500306524294984,
        ),
        (
            40,
            30,
            3,
            0.9855892972581431,
            34.46740430833684,
            0.8567731259239082,
            23.62725600766079,
        ),
        (
            23,
            17,
            1,
            0.9830144288255308,
            34.519807815964725,
            0.8167392596582161,
            23.247244259923356,
        ),
    ];
    for (w, h, c, ssim_f, psnr_f, ssim_n, psnr_n) in cases {
        let a = pattern(w, h, c);
        let bf = perturb_formula(&a, w, h, c);
        let bn = perturb_noise(&a, 7);
        let what = format!("{w}x{h}x{c}");
        assert_close(image::ssim(&a, &bf, w, h, c).unwrap(), ssim_f, 1e-12, &what);
        assert_close(image::ssim(&a, &bn, w, h, c).unwrap(), ssim_n, 1e-12, &what);
        assert_close(image::psnr(&a, &bf).unwrap(), psnr_f, 1e-10, &what);
        assert_close(image::psnr(&a, &bn).unwrap(), psnr_n, 1e-10, &what);
    }
}

#[test]
fn lsd_matches_numpy() {
    let [rl, rr, el, er] = signals(2400);
    let cfg = StftConfig::default();
    assert_close(
        audio::log_spectral_distance(&rl, &el, &cfg).unwrap(),
        0.9723813755439858,
        1e-10,
        "lsd left",
    );
    assert_close(
        audio::log_spectral_distance(&rr, &er, &cfg).unwrap(),
        0.9182341142234064,
        1e-10,
        "lsd right",
    );
    assert_close(
        audio::binaural_lsd(&rl, &rr, &el, &er).unwrap(),
        0.9453077448836962,
        1e-10,
        "binaural lsd",
    );
    // A short segment: 300 samples, reflect padding longer than the frame content.
    let [rl, _, el, _] = signals(300);
    assert_close(
        audio::log_spectral_distance(&rl, &el, &cfg).unwrap(),
        1.0640301967667474,
        1e-10,
        "lsd 300",
    );
}

#[test]
fn spectrogram_ssim_matches_scikit_image() {
    let [rl, rr, el, er] = signals(2400);
    let cfg = StftConfig::default();
    assert_close(
        audio::spectrogram_ssim(&rl, &el, &cfg).unwrap(),
        0.16020236055014295,
        1e-10,
        "spec ssim left",
    );
    assert_close(
        audio::spectrogram_ssim(&rr, &er, &cfg).unwrap(),
        0.16367914648069154,
        1e-10,
        "spec ssim right",
    );
    assert_close(
        audio::binaural_spectrogram_ssim(&rl, &rr, &el, &er).unwrap(),
        0.5 * (0.16020236055014295 + 0.16367914648069154),
        1e-10,
        "binaural spec ssim",
    );
    // 300 samples: 3 frames x 257 bins, so a 3x3 window.
    assert_eq!(audio::spectrogram_ssim_window(257, 3), 3);
    let [rl, _, el, _] = signals(300);
    assert_close(
        audio::spectrogram_ssim(&rl, &el, &cfg).unwrap(),
        0.21766901962928148,
        1e-10,
        "spec ssim 300",
    );
}

#[test]
fn ild_matches_numpy() {
    let [rl, rr, el, er] = signals(2400);
    let ild_ref = [
        3.0923377418313436,
        3.103315356578382,
        3.0974540138302737,
        3.095456369761034,
        3.097749042365534,
        3.096050089305283,
    ];
    let ild_est = [
        6.0191406815389135,
        6.013688165153594,
        6.020580759368972,
        6.024315679988451,
        6.020772360136585,
        6.020828891575663,
    ];
    let got_ref = audio::octave_band_ild(&rl, &rr).unwrap();
    let got_est = audio::octave_band_ild(&el, &er).unwrap();
    for b in 0..6 {
        assert_close(got_ref[b], ild_ref[b], 1e-9, "ild ref");
        assert_close(got_est[b], ild_est[b], 1e-9, "ild est");
    }
    let err = audio::ild_error(&rl, &rr, &el, &er).unwrap();
    assert_close(err.mean, 2.9228273206817215, 1e-9, "ild error mean");
    for b in 0..6 {
        assert_close(
            err.per_band[b],
            (ild_ref[b] - ild_est[b]).abs(),
            1e-9,
            "ild error band",
        );
    }
}

#[test]
fn binaural_report_on_reference_signals() {
    let [rl, rr, el, er] = signals(2400);
    let mut an = AudioAnalyzer::default();
    let rep = an.binaural_metrics(&rl, &rr, &el, &er).unwrap();
    assert_close(rep.lsd, 0.9453077448836962, 1e-10, "report lsd");
    assert_close(
        rep.spec_ssim,
        0.5 * (0.16020236055014295 + 0.16367914648069154),
        1e-10,
        "report spec ssim",
    );
    assert_close(rep.ild.mean, 2.9228273206817215, 1e-9, "report ild");
    // The right ears lag by 5 and 3 samples: ITDs −5 and −3 samples (right ear lags → negative).
    let itd_ref = an.gcc_phat_itd(&rl, &rr).unwrap() * FS;
    let itd_est = an.gcc_phat_itd(&el, &er).unwrap() * FS;
    assert_close(itd_ref, -5.0, 0.05, "itd ref");
    assert_close(itd_est, -3.0, 0.05, "itd est");
    assert_close(rep.itd.samples, 2.0, 0.1, "itd error samples");
    assert_close(
        rep.itd.micros,
        rep.itd.samples / FS * 1e6,
        1e-9,
        "itd error µs",
    );
    let want_doa = (audio::lateral_angle_from_itd(itd_ref / FS)
        - audio::lateral_angle_from_itd(itd_est / FS))
    .abs();
    assert_close(rep.doa_deg, want_doa, 1e-9, "doa");
    // Woodworth: 5 and 3 samples (312.5 µs, 187.5 µs) are 36.2819898815516° and
    // 21.299811322429797° (scipy.optimize.brentq on (a/c)(θ + sin θ) − ITD, scipy 1.17.1).
    assert_close(
        audio::lateral_angle_from_itd(-5.0 / FS),
        -36.2819898815516,
        1e-9,
        "angle 5",
    );
    assert_close(
        audio::lateral_angle_from_itd(-3.0 / FS),
        -21.299811322429797,
        1e-9,
        "angle 3",
    );
    assert_close(rep.doa_deg, 14.982178559121806, 0.3, "doa vs exact ITDs");
    let json = serde_json::to_value(rep).unwrap();
    for key in ["lsd", "spec_ssim", "ild", "itd", "doa_deg"] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
    assert_eq!(json["ild"]["per_band"].as_array().unwrap().len(), 6);
}
