//! Binaural rendering, DSP and source tests: physical facts (ITD/ILD sign and size, band
//! energies, delays), equivalence with brute-force sums, determinism and error handling.

use std::f32::consts::FRAC_PI_2;
use std::path::PathBuf;

use avwm_audio::binaural::{
    BinauralRir, Hrtf, HrtfSource, RenderConfig, render_binaural, render_omni,
};
use avwm_audio::dsp::bands::{band_power_shares, band_weight};
use avwm_audio::dsp::{CROSSFADE_SAMPLES, StepAudio};
use avwm_audio::source::{SourceSignal, encode_wav, read_wav, write_wav};
use avwm_audio::{AcousticResponse, AudioError, EnergyHistogram, PathKind, PropagationPath};
use avwm_core::{BAND_CENTERS_HZ, NUM_BANDS, STEP_SAMPLES, Seed};
use glam::Vec3;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

const FS: u32 = 16_000;

fn kemar() -> Hrtf {
    Hrtf::kemar_default().expect("the embedded KEMAR file parses")
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("avwm-audio-binaural-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn energy(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum()
}

fn db(x: f32) -> f32 {
    10.0 * x.log10()
}

/// Lag (samples, sub-sample by parabolic interpolation) maximising Σ l[n]·r[n + lag]:
/// positive when the right channel arrives later.
fn xcorr_lag(l: &[f32], r: &[f32], max_lag: i64) -> f32 {
    let c = |lag: i64| -> f32 {
        (0..l.len() as i64)
            .filter(|n| (0..r.len() as i64).contains(&(n + lag)))
            .map(|n| l[n as usize] * r[(n + lag) as usize])
            .sum()
    };
    let (best, _) = (-max_lag..=max_lag)
        .map(|k| (k, c(k)))
        .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
    let (y0, y1, y2) = (c(best - 1), c(best), c(best + 1));
    let den = y0 - 2.0 * y1 + y2;
    let d = if den.abs() > 1e-12 {
        0.5 * (y0 - y2) / den
    } else {
        0.0
    };
    best as f32 + d.clamp(-0.5, 0.5)
}

fn path(delay_s: f32, direction: Vec3, gain: f32) -> PropagationPath {
    PropagationPath {
        kind: PathKind::Direct,
        delay_s,
        direction,
        gain: [gain; NUM_BANDS],
    }
}

fn response(paths: Vec<PropagationPath>) -> AcousticResponse {
    AcousticResponse {
        paths,
        late: EnergyHistogram::empty(0.004),
    }
}

// ---------------------------------------------------------------- HRTF

#[test]
fn embedded_kemar_loads_at_16k() {
    let h = kemar();
    assert_eq!(h.sample_rate_hz(), FS);
    assert_eq!(h.source(), &HrtfSource::KemarEmbedded);
    // acoustics.md §3.2: sofar resamples MIT KEMAR to 186 taps at 16 kHz; we drop the common
    // bulk delay and keep 8 ms (128 taps).
    assert_eq!(h.len(), 128);
    // The ipsilateral ear at 90° starts within half a millisecond of time 0.
    let (l, _) = h.hrir(Vec3::Y);
    let peak = l.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let onset = l
        .iter()
        .position(|v| v.abs() > 0.1 * peak)
        .expect("non-zero");
    assert!(onset <= 8, "onset {onset}");
}

#[test]
fn source_on_the_left_is_earlier_and_louder_in_the_left_ear() {
    for h in [kemar(), Hrtf::spherical_head(FS)] {
        let (l, r) = h.hrir(Vec3::Y);
        let ild = db(energy(l) / energy(r));
        let lag = xcorr_lag(l, r, 20);
        assert!(ild > 5.0, "{:?}: ILD {ild} dB", h.source());
        assert!(lag > 5.0, "{:?}: right ear lag {lag} samples", h.source());
        // Mirror image: source on the right.
        let (l, r) = h.hrir(-Vec3::Y);
        assert!(db(energy(l) / energy(r)) < -5.0);
        assert!(xcorr_lag(l, r, 20) < -5.0);
    }
}

#[test]
fn spherical_head_itd_at_90_degrees_matches_kemar_within_100_us() {
    // acoustics.md §3.2: KEMAR's ITD at 90° is 11 samples at 16 kHz (688 µs).
    let itd_us = |h: &Hrtf| {
        let (l, r) = h.hrir(Vec3::Y);
        xcorr_lag(l, r, 20) / FS as f32 * 1e6
    };
    let k = itd_us(&kemar());
    let s = itd_us(&Hrtf::spherical_head(FS));
    assert!((600.0..=780.0).contains(&k), "KEMAR ITD {k} µs");
    // Woodworth: (a/c)(1 + π/2) = 0.0875/343 · 2.571 = 656 µs.
    assert!((s - 656.0).abs() < 40.0, "spherical ITD {s} µs");
    assert!((s - k).abs() < 100.0, "spherical {s} µs vs KEMAR {k} µs");
}

#[test]
fn frontal_hrir_pair_has_unit_energy_per_ear() {
    for h in [kemar(), Hrtf::spherical_head(FS)] {
        let (l, r) = h.hrir(Vec3::X);
        let e = (energy(l) + energy(r)) / 2.0;
        assert!((e - 1.0).abs() < 1e-3, "{:?}: {e}", h.source());
        // Front is (nearly) symmetric: acoustics.md §3.2 gives +0.4 dB for KEMAR.
        assert!(db(energy(l) / energy(r)).abs() < 1.5);
    }
}

// ---------------------------------------------------------------- rendering

#[test]
fn rendered_path_from_the_left_gives_left_ear_the_lead_for_both_heads() {
    let cfg = RenderConfig::default();
    // Listener faces +x (yaw 0); the sound arrives from world +y = the listener's left.
    let resp = response(vec![path(0.01, Vec3::Y, 0.5)]);
    for h in [kemar(), Hrtf::spherical_head(FS)] {
        let rir = render_binaural(&resp, 0.0, &h, &cfg, Seed(1));
        assert!(db(energy(&rir.left) / energy(&rir.right)) > 5.0);
        assert!(xcorr_lag(&rir.left, &rir.right, 30) > 5.0);
    }
}

#[test]
fn turning_the_head_left_by_90_degrees_moves_a_frontal_source_to_the_right_ear() {
    let cfg = RenderConfig::default();
    let resp = response(vec![path(0.01, Vec3::X, 0.5)]);
    for h in [kemar(), Hrtf::spherical_head(FS)] {
        let front = render_binaural(&resp, 0.0, &h, &cfg, Seed(1));
        assert!(db(energy(&front.left) / energy(&front.right)).abs() < 1.5);
        let turned = render_binaural(&resp, FRAC_PI_2, &h, &cfg, Seed(1));
        assert!(
            db(energy(&turned.left) / energy(&turned.right)) < -5.0,
            "{:?}",
            h.source()
        );
        assert!(xcorr_lag(&turned.left, &turned.right, 30) < -5.0);
    }
}

#[test]
fn omni_direct_path_peaks_at_its_delay_with_energy_g_squared() {
    let cfg = RenderConfig::default();
    for &(g, d) in &[(0.5f32, 0.0123f32), (1.0, 0.002), (0.1, 0.0301), (0.3, 0.1)] {
        let rir = render_omni(&response(vec![path(d, Vec3::X, g)]), &cfg, Seed(0));
        let peak = rir
            .iter()
            .enumerate()
            .fold(
                (0, 0.0f32),
                |a, (i, v)| if v.abs() > a.1 { (i, v.abs()) } else { a },
            )
            .0;
        let want = (d * FS as f32).round() as i64;
        assert!(
            (peak as i64 - want).abs() <= 1,
            "d {d}: peak at {peak}, want {want}"
        );
        let e = energy(&rir);
        assert!(db(e / (g * g)).abs() < 1.0, "g {g}: energy {e}");
    }
}

/// |H(f)| of a signal by a direct DFT at one frequency.
fn magnitude_at(x: &[f32], f_hz: f32) -> f32 {
    let w = 2.0 * std::f64::consts::PI * f_hz as f64 / FS as f64;
    let (mut re, mut im) = (0.0f64, 0.0f64);
    for (n, v) in x.iter().enumerate() {
        re += *v as f64 * (w * n as f64).cos();
        im -= *v as f64 * (w * n as f64).sin();
    }
    (re * re + im * im).sqrt() as f32
}

#[test]
fn omni_path_realises_its_band_gains_at_the_band_centres() {
    let gains = [1.0f32, 0.5, 0.25, 0.8, 0.1, 0.6];
    let resp = response(vec![PropagationPath {
        kind: PathKind::Reflection { order: 1 },
        delay_s: 0.02,
        direction: Vec3::X,
        gain: gains,
    }]);
    let rir = render_omni(&resp, &RenderConfig::default(), Seed(0));
    for (b, &fc) in BAND_CENTERS_HZ.iter().enumerate() {
        let m = magnitude_at(&rir, fc);
        assert!(
            (20.0 * (m / gains[b]).log10()).abs() < 1.0,
            "band {b}: |H| {m} vs {}",
            gains[b]
        );
    }
    // Flat gains sum to a flat response (bands are complementary).
    let flat = render_omni(
        &response(vec![path(0.02, Vec3::X, 0.7)]),
        &RenderConfig::default(),
        Seed(0),
    );
    for f in [60.0, 180.0, 700.0, 1500.0, 3000.0, 6000.0] {
        let m = magnitude_at(&flat, f);
        assert!((20.0 * (m / 0.7).log10()).abs() < 1.0, "{f} Hz: {m}");
    }
}

/// A late histogram with per-band exponential decays (RT60 from 1.2 s at 125 Hz to 0.4 s at 4 kHz).
fn decaying_histogram(bin_s: f32, len_s: f32) -> EnergyHistogram {
    let rt60 = [1.2f32, 1.0, 0.8, 0.7, 0.5, 0.4];
    let e0 = [0.02f32, 0.03, 0.04, 0.03, 0.02, 0.01];
    let onset = 0.02;
    let bins = (0..(len_s / bin_s) as usize)
        .map(|i| {
            let t = i as f32 * bin_s;
            let mut e = [0.0; NUM_BANDS];
            if t >= onset {
                for b in 0..NUM_BANDS {
                    e[b] = e0[b] * 10f32.powf(-6.0 * (t - onset) / rt60[b]);
                }
            }
            e
        })
        .collect();
    EnergyHistogram { bin_s, bins }
}

#[test]
fn rendered_tail_has_the_histogram_energy_per_bin_and_band() {
    // One realisation of narrow-band noise has few degrees of freedom (≈ ±0.5 dB over 0.5 s in
    // the 125 Hz band), so the expectations are checked on the average over 8 seeds.
    let bin_s = 0.004;
    let hist = decaying_histogram(bin_s, 0.5);
    let resp = AcousticResponse {
        paths: vec![],
        late: hist.clone(),
    };
    let cfg = RenderConfig::default();
    let bin = (bin_s * FS as f32) as usize;
    let seeds = 8;
    let (mut got, mut want, mut abs_db, mut count) = (0.0f32, 0.0f32, 0.0f32, 0usize);
    let mut band_got = [0.0f32; NUM_BANDS];
    let mut band_want = [0.0f32; NUM_BANDS];
    let mut planner = RealFftPlanner::<f32>::new();
    let shares = band_power_shares(FS);
    for seed in 0..seeds {
        let y = render_omni(&resp, &cfg, Seed(seed));
        let nbins = (y.len() / bin).min(hist.bins.len());
        assert!(nbins > 100);
        // Total energy per bin: independent band noises add up, each at its band's share of
        // the spectrum, so E[Σ_b] = Σ_b share_b · E_b.
        for i in 5..nbins - 1 {
            let g = energy(&y[i * bin..(i + 1) * bin]);
            let w: f32 = hist.bins[i].iter().zip(&shares).map(|(e, s)| e * s).sum();
            got += g;
            want += w;
            abs_db += db(g / w).abs();
            count += 1;
        }
        // Per band: analyse with the power-complementary masks √w_b. In expectation the
        // analysis of band b sees Σ_b' K[b][b'] · E_b' with K[b][b'] = Σ_f w_b w_b' / N
        // (noise b' has the power spectrum w_b', N bins).
        let n = y.len().next_power_of_two() * 2;
        let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
        let mut x = y.clone();
        x.resize(n, 0.0);
        let mut spec = fwd.make_output_vec();
        fwd.process(&mut x, &mut spec).expect("fft");
        let df = FS as f32 / n as f32;
        let w: Vec<Vec<f32>> = (0..NUM_BANDS)
            .map(|b| {
                (0..spec.len())
                    .map(|k| band_weight(b, k as f32 * df))
                    .collect()
            })
            .collect();
        for b in 0..NUM_BANDS {
            let mut s: Vec<Complex<f32>> = spec
                .iter()
                .zip(&w[b])
                .map(|(v, m)| *v * m.sqrt() / n as f32)
                .collect();
            let last = s.len() - 1;
            s[0].im = 0.0;
            s[last].im = 0.0;
            let mut yb = vec![0.0f32; n];
            inv.process(&mut s, &mut yb).expect("ifft");
            let k: Vec<f32> = (0..NUM_BANDS)
                .map(|c| {
                    let num: f32 = w[b].iter().zip(&w[c]).map(|(p, q)| p * q).sum();
                    num / w[c].len() as f32
                })
                .collect();
            for i in 5..nbins - 1 {
                band_got[b] += energy(&yb[i * bin..(i + 1) * bin]);
                band_want[b] += (0..NUM_BANDS).map(|c| k[c] * hist.bins[i][c]).sum::<f32>();
            }
        }
    }
    assert!(db(got / want).abs() < 0.3, "total {got} vs {want}");
    // Single bins of a single realisation scatter by a few dB (64 samples of narrow-band noise).
    assert!(
        abs_db / (count as f32) < 2.5,
        "mean |dB| per bin {}",
        abs_db / count as f32
    );
    for b in 0..NUM_BANDS {
        assert!(
            db(band_got[b] / band_want[b]).abs() < 0.5,
            "band {b}: {} vs {}",
            band_got[b],
            band_want[b]
        );
    }
}

#[test]
fn rir_is_truncated_where_the_tail_has_decayed_60_db() {
    // Single band-independent decay: RT60 0.5 s starting at 0.02 s.
    let bin_s = 0.004;
    let bins = (0..500)
        .map(|i| {
            let t = i as f32 * bin_s;
            [if t >= 0.02 {
                10f32.powf(-6.0 * (t - 0.02) / 0.5)
            } else {
                0.0
            }; NUM_BANDS]
        })
        .collect();
    let resp = AcousticResponse {
        paths: vec![],
        late: EnergyHistogram { bin_s, bins },
    };
    let y = render_omni(&resp, &RenderConfig::default(), Seed(3));
    let want = ((0.02 + 0.5) * FS as f32) as i64;
    assert!(
        (y.len() as i64 - want).abs() <= 2 * 64,
        "length {} vs {want}",
        y.len()
    );
    // The cap applies.
    let short = RenderConfig {
        max_rir_len_s: 0.25,
        ..RenderConfig::default()
    };
    assert_eq!(render_omni(&resp, &short, Seed(3)).len(), 4000);
}

#[test]
fn binaural_tail_is_decorrelated_at_high_and_coherent_at_low_frequencies() {
    let hist = decaying_histogram(0.004, 0.6);
    let resp = AcousticResponse {
        paths: vec![],
        late: hist,
    };
    let rir = render_binaural(
        &resp,
        0.0,
        &Hrtf::spherical_head(FS),
        &RenderConfig::default(),
        Seed(9),
    );
    let el = energy(&rir.left);
    let er = energy(&rir.right);
    assert!(
        db(el / er).abs() < 0.5,
        "diffuse tail should be balanced: {el} vs {er}"
    );
    let c: f32 = rir
        .left
        .iter()
        .zip(&rir.right)
        .map(|(a, b)| a * b)
        .sum::<f32>()
        / (el * er).sqrt();
    // Broadband coherence is dominated by the decorrelated upper bands.
    assert!(c.abs() < 0.5, "broadband coherence {c}");
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_another_tail() {
    let mut resp = AcousticResponse {
        paths: vec![],
        late: decaying_histogram(0.004, 0.3),
    };
    resp.paths
        .push(path(0.01, Vec3::new(0.3, 0.8, 0.1).normalize(), 0.4));
    resp.paths.push(PropagationPath {
        kind: PathKind::Reflection { order: 2 },
        delay_s: 0.0231,
        direction: -Vec3::X,
        gain: [0.1, 0.12, 0.08, 0.05, 0.04, 0.02],
    });
    let cfg = RenderConfig::default();
    let h = kemar();
    let a = render_binaural(&resp, 0.3, &h, &cfg, Seed(5));
    let b = render_binaural(&resp, 0.3, &h, &cfg, Seed(5));
    let bytes = |r: &BinauralRir| {
        r.left
            .iter()
            .chain(&r.right)
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    assert_eq!(bytes(&a), bytes(&b));
    let c = render_binaural(&resp, 0.3, &h, &cfg, Seed(6));
    assert_ne!(bytes(&a), bytes(&c));
    // The early part (before the tail's onset at 20 ms) does not depend on the seed.
    assert_eq!(a.left[..150], c.left[..150]);
    // Rendering on another thread gives the same bytes (no hidden per-thread state leaks in).
    let (resp2, h2, cfg2) = (resp.clone(), h.clone(), cfg.clone());
    let d = std::thread::spawn(move || render_binaural(&resp2, 0.3, &h2, &cfg2, Seed(5)))
        .join()
        .expect("thread");
    assert_eq!(bytes(&a), bytes(&d));
}

#[test]
fn render_config_validation_rejects_bad_values() {
    assert!(RenderConfig::default().validate().is_ok());
    let bad = [
        RenderConfig {
            max_rir_len_s: 0.0,
            ..RenderConfig::default()
        },
        RenderConfig {
            max_rir_len_s: 10.0,
            ..RenderConfig::default()
        },
        RenderConfig {
            truncate_db: -1.0,
            ..RenderConfig::default()
        },
        RenderConfig {
            sample_rate_hz: 0,
            ..RenderConfig::default()
        },
    ];
    for c in bad {
        assert!(matches!(c.validate(), Err(AudioError::Config(_))), "{c:?}");
    }
}

// ---------------------------------------------------------------- step audio

/// Brute force `Σ_m h[m] s[(i + k − m) mod L]` for k in 0..len.
fn brute(h: &[f32], s: &[f32], i: usize, len: usize) -> Vec<f32> {
    let l = s.len() as i64;
    (0..len)
        .map(|k| {
            h.iter()
                .enumerate()
                .map(|(m, hm)| hm * s[((i + k) as i64 - m as i64).rem_euclid(l) as usize])
                .sum()
        })
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn unit_impulse_rir_returns_the_looped_source_and_steps_join_seamlessly() {
    let src = SourceSignal::ringtone(FS);
    let s = src.samples().to_vec();
    let l = s.len();
    let start = 17_000; // close to the end: the third step wraps around the loop
    let mut audio = StepAudio::new(src, start);
    let id = BinauralRir::unit_impulse(FS);
    let mut stream = Vec::new();
    for t in 0..4 {
        let out = audio.render(&id, t > 0);
        assert_eq!(out.left.len(), STEP_SAMPLES);
        assert!(max_abs_diff(&out.left, &out.right) < 1e-6);
        stream.extend_from_slice(&out.left);
    }
    let want: Vec<f32> = (0..4 * STEP_SAMPLES).map(|k| s[(start + k) % l]).collect();
    assert!(
        max_abs_diff(&stream, &want) < 1e-5,
        "{}",
        max_abs_diff(&stream, &want)
    );
    assert_eq!(audio.index(), (start + 3 * STEP_SAMPLES) % l);
}

#[test]
fn stop_keeps_the_index_and_repeats_the_window() {
    let src = SourceSignal::ringtone(FS);
    let mut audio = StepAudio::new(src, 100);
    let id = BinauralRir::unit_impulse(FS);
    let a = audio.render(&id, false);
    let b = audio.render(&id, false);
    assert_eq!(audio.index(), 100);
    assert!(max_abs_diff(&a.left, &b.left) < 1e-6);
}

fn test_rir(seed: u64, len: usize) -> BinauralRir {
    let mut rng = Seed(seed).rng();
    use rand::Rng;
    let mut ch = || {
        (0..len)
            .map(|m| rng.random_range(-1.0f32..1.0) * (-(m as f32) / 300.0).exp())
            .collect::<Vec<_>>()
    };
    BinauralRir {
        left: ch(),
        right: ch(),
        sample_rate_hz: FS,
    }
}

#[test]
fn crossfade_follows_the_soundspaces_formula() {
    let src = SourceSignal::ringtone(FS);
    let s = src.samples().to_vec();
    let (ha, hb, hc) = (test_rir(1, 1500), test_rir(2, 4000), test_rir(3, 10));
    let mut audio = StepAudio::new(src, 5000);
    let first = audio.render(&ha, false);
    // First render: no crossfade.
    let ya = brute(&ha.left, &s, 5000, STEP_SAMPLES);
    assert!(max_abs_diff(&first.left, &ya) < 1e-4);
    for (prev, cur, advance) in [(&ha, &hb, true), (&hb, &hc, false), (&hc, &ha, true)] {
        let out = audio.render(cur, advance);
        let i = audio.index();
        for (ear, got) in [(0, &out.left), (1, &out.right)] {
            let pick = |r: &BinauralRir| {
                if ear == 0 {
                    r.left.clone()
                } else {
                    r.right.clone()
                }
            };
            let yp = brute(&pick(prev), &s, i, STEP_SAMPLES);
            let yc = brute(&pick(cur), &s, i, STEP_SAMPLES);
            let want: Vec<f32> = (0..STEP_SAMPLES)
                .map(|k| {
                    if k < CROSSFADE_SAMPLES {
                        let w = k as f32 / CROSSFADE_SAMPLES as f32;
                        yp[k] * (1.0 - w) + yc[k] * w
                    } else {
                        yc[k]
                    }
                })
                .collect();
            let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            assert!(
                max_abs_diff(got, &want) < 1e-4 * scale,
                "advance {advance}, ear {ear}"
            );
        }
    }
}

#[test]
fn snapshots_of_step_audio_evolve_identically() {
    let mut a = StepAudio::new(
        SourceSignal::ringtone(FS),
        StepAudio::random_start_index(Seed(4)),
    );
    let rir = test_rir(7, 3000);
    a.render(&rir, false);
    let mut b = a.clone();
    let rir2 = test_rir(8, 2000);
    let (x, y) = (a.render(&rir2, true), b.render(&rir2, true));
    assert_eq!(x, y);
}

// ---------------------------------------------------------------- files

#[test]
fn broken_sofa_files_are_errors_naming_the_file() {
    let missing = temp_path("does-not-exist.sofa");
    let random = temp_path("random.sofa");
    let mut rng = Seed(11).rng();
    use rand::Rng;
    std::fs::write(
        &random,
        (0..4096).map(|_| rng.random::<u8>()).collect::<Vec<u8>>(),
    )
    .expect("write");
    let truncated = temp_path("truncated.sofa");
    let good = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/hrtf/MIT_KEMAR_normal_pinna.sofa"
    ))
    .expect("asset");
    std::fs::write(&truncated, &good[..good.len() / 3]).expect("write");
    let empty = temp_path("empty.sofa");
    std::fs::write(&empty, b"").expect("write");
    // A valid superblock followed by garbage metadata reaches the parser itself.
    let scrambled = temp_path("scrambled.sofa");
    let mut bytes = good.clone();
    for b in &mut bytes[96..8192] {
        *b = rng.random();
    }
    std::fs::write(&scrambled, &bytes).expect("write");
    for p in [&missing, &random, &truncated, &empty, &scrambled] {
        let err = Hrtf::from_sofa(p, FS).expect_err("must fail");
        let msg = err.to_string();
        assert!(
            msg.contains(&*p.to_string_lossy()),
            "message {msg:?} lacks the path"
        );
        // The fallback is the spherical head.
        assert_eq!(
            Hrtf::load_or_fallback(Some(p)).source(),
            &HrtfSource::SphericalHead
        );
    }
    assert!(matches!(
        Hrtf::from_sofa(&missing, FS),
        Err(AudioError::Io { .. })
    ));
    // avwm-fuzz's slow input: 3 bytes of a SOFAsonix file changed so that it declares
    // 87,387-sample responses (it took 1.5 s to be refused as silent); now the length is refused.
    let long = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../avwm-fuzz/findings/sofa/0515f386acd12363.bin"
    ));
    let msg = Hrtf::from_sofa(&long, FS)
        .expect_err("must fail")
        .to_string();
    assert!(msg.contains("87387 samples"), "{msg}");
}

#[test]
fn a_sofa_file_on_disk_loads_like_the_embedded_one() {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/hrtf/MIT_KEMAR_normal_pinna.sofa"
    ));
    let h = Hrtf::from_sofa(&p, FS).expect("loads");
    let k = kemar();
    let d = Vec3::new(0.2, -0.7, 0.3);
    assert_eq!(h.hrir(d), k.hrir(d));
}

#[test]
fn broken_wav_files_are_errors_naming_the_file() {
    let missing = temp_path("missing.wav");
    let random = temp_path("random.wav");
    std::fs::write(&random, b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").expect("write");
    let truncated = temp_path("truncated.wav");
    let bytes = encode_wav(&[&[0.5f32; 1000]], FS).expect("encode");
    std::fs::write(&truncated, &bytes[..30]).expect("write");
    for p in [&missing, &random, &truncated] {
        let err = SourceSignal::from_wav(p).expect_err("must fail");
        assert!(err.to_string().contains(&*p.to_string_lossy()), "{err}");
    }
}

#[test]
fn wav_round_trip_is_exact_and_sources_are_mixed_down_and_resampled() {
    let p = temp_path("roundtrip.wav");
    let l: Vec<f32> = (0..2400).map(|i| (i as f32 * 0.01).sin() * 0.8).collect();
    let r: Vec<f32> = (0..2400).map(|i| (i as f32 * 0.02).cos() * -0.3).collect();
    write_wav(&p, &[&l, &r], FS).expect("write");
    let (ch, fs) = read_wav(&p).expect("read");
    assert_eq!(fs, FS);
    assert_eq!(ch, vec![l.clone(), r.clone()]);
    // Mixed down to mono.
    let src = SourceSignal::from_wav(&p).expect("source");
    assert_eq!(src.len(), 2400);
    assert!((src.samples()[100] - (l[100] + r[100]) / 2.0).abs() < 1e-6);
    // 16-bit 44.1 kHz stereo → 16 kHz mono.
    let p2 = temp_path("pcm16.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&p2, spec).expect("create");
    for n in 0..44_100 {
        let v =
            ((2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 44_100.0).sin() * 16_000.0) as i16;
        w.write_sample(v).expect("write");
        w.write_sample(v).expect("write");
    }
    w.finalize().expect("finalize");
    let src = SourceSignal::from_wav(&p2).expect("source");
    assert_eq!((src.len(), src.sample_rate_hz()), (16_000, 16_000));
    let amp = src.samples().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((amp - 16_000.0 / 32_768.0).abs() < 0.01, "amplitude {amp}");
    // Bad layouts are rejected.
    assert!(matches!(
        write_wav(&p, &[&l, &r[..10]], FS),
        Err(AudioError::Config(_))
    ));
    assert!(matches!(write_wav(&p, &[], FS), Err(AudioError::Config(_))));
}

#[test]
fn public_state_types_are_send_and_sync() {
    // The simulator keeps these in environments that rayon may move between threads.
    fn check<T: Send + Sync>() {}
    check::<StepAudio>();
    check::<Hrtf>();
    check::<BinauralRir>();
    check::<SourceSignal>();
    check::<AudioError>();
}

#[test]
#[ignore = "timing probe, prints one-off load costs"]
fn print_one_off_costs() {
    let t = std::time::Instant::now();
    let _ = Hrtf::from_sofa(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/hrtf/MIT_KEMAR_normal_pinna.sofa"
        ),
        16_000,
    );
    println!("KEMAR load: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _ = Hrtf::spherical_head(16_000);
    println!("spherical head: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _ = render_omni(
        &AcousticResponse {
            paths: vec![],
            late: decaying_histogram(0.004, 0.1),
        },
        &RenderConfig::default(),
        Seed(0),
    );
    println!("first tail render (noise bank): {:?}", t.elapsed());
}

#[test]
fn kemar_ild_and_itd_match_the_reference_measurements() {
    // acoustics.md §3.2 (sofar 0.4 on the same file at 16 kHz, broadband energy ratio and
    // cross-correlation lag): front +0.4 dB / 0; 30° left +8.2 dB / 4 samples; 90° left
    // +8.7 dB / 11 samples; 90° right −8.7 dB / −11 samples.
    let h = kemar();
    for (az, ild_ref, itd_ref) in [
        (0.0f32, 0.4f32, 0.0f32),
        (30.0, 8.2, 4.0),
        (90.0, 8.7, 11.0),
        (-90.0, -8.7, -11.0),
    ] {
        let d = Vec3::new(az.to_radians().cos(), az.to_radians().sin(), 0.0);
        let (l, r) = h.hrir(d);
        let ild = db(energy(l) / energy(r));
        let itd = xcorr_lag(l, r, 20);
        assert!(
            (ild - ild_ref).abs() < 1.0,
            "az {az}: ILD {ild} dB vs {ild_ref}"
        );
        assert!(
            (itd - itd_ref).abs() < 1.0,
            "az {az}: ITD {itd} samples vs {itd_ref}"
        );
    }
    // With no path given, the fallback loader returns the embedded KEMAR set.
    assert_eq!(
        Hrtf::load_or_fallback(None).source(),
        &HrtfSource::KemarEmbedded
    );
}

#[test]
fn a_flat_gain_path_renders_as_its_hrir_at_its_delay_after_rotation_into_the_head_frame() {
    // World direction 45° (north-east), head yaw −45° (facing south-east): in the head frame
    // the sound comes from azimuth +90°, the left. With equal gains in all bands the band
    // filters sum to identity, and an integer delay is an exact shift: the RIR must be the
    // HRIR pair, scaled by g, starting at sample d·fs.
    let h = kemar();
    let g = 0.25;
    let n0 = 200;
    let dir = Vec3::new(1.0, 1.0, 0.0).normalize();
    let resp = response(vec![path(n0 as f32 / FS as f32, dir, g)]);
    let rir = render_binaural(
        &resp,
        -std::f32::consts::FRAC_PI_4,
        &h,
        &RenderConfig::default(),
        Seed(0),
    );
    let (hl, hr) = h.hrir(Vec3::Y);
    for (got, want) in [(&rir.left, hl), (&rir.right, hr)] {
        let mut expect = vec![0.0f32; got.len()];
        for (i, v) in want.iter().enumerate() {
            expect[n0 + i] = g * v;
        }
        let peak = expect.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            max_abs_diff(got, &expect) < 1e-4 * peak,
            "{}",
            max_abs_diff(got, &expect)
        );
    }
}
