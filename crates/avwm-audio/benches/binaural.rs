//! Binaural rendering and step-audio throughput.
//!
//! `cargo bench -p avwm-audio --bench binaural`
//!
//! * `render_binaural_50_paths_1s_tail`: one RIR from 50 discrete paths (KEMAR) plus a 1 s
//!   late histogram (RT60 0.8–1.2 s, 4 ms bins); throughput in RIR samples.
//! * `step_audio_render_1s_rir`: one 0.15 s step (2 × 2400 samples, crossfaded) against a
//!   1 s binaural RIR; throughput in output samples.

use avwm_audio::binaural::{BinauralRir, Hrtf, RenderConfig, render_binaural};
use avwm_audio::dsp::StepAudio;
use avwm_audio::source::SourceSignal;
use avwm_audio::{AcousticResponse, EnergyHistogram, PathKind, PropagationPath};
use avwm_core::{NUM_BANDS, STEP_SAMPLES, Seed};
use divan::counter::ItemsCount;
use glam::Vec3;
use rand::Rng;

fn main() {
    divan::main();
}

fn response() -> AcousticResponse {
    let mut rng = Seed(1).rng();
    let paths = (0..50)
        .map(|i| {
            let dir = Vec3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-0.5..0.5),
            )
            .normalize();
            let delay_s = 0.005 + 0.08 * i as f32 / 50.0;
            let g = 0.3 / (1.0 + i as f32);
            let mut gain = [g; NUM_BANDS];
            for (b, v) in gain.iter_mut().enumerate() {
                *v *= 1.0 - 0.1 * b as f32;
            }
            PropagationPath {
                kind: PathKind::Reflection { order: 1 },
                delay_s,
                direction: dir,
                gain,
            }
        })
        .collect();
    let bin_s = 0.004;
    let rt60 = [1.2f32, 1.1, 1.0, 0.9, 0.8, 0.8];
    let bins = (0..250)
        .map(|i| {
            let t = i as f32 * bin_s;
            let mut e = [0.0; NUM_BANDS];
            if t > 0.01 {
                for b in 0..NUM_BANDS {
                    e[b] = 0.01 * 10f32.powf(-6.0 * t / rt60[b]);
                }
            }
            e
        })
        .collect();
    AcousticResponse {
        paths,
        late: EnergyHistogram { bin_s, bins },
    }
}

#[divan::bench]
fn render_binaural_50_paths_1s_tail(bencher: divan::Bencher) {
    let resp = response();
    let hrtf = Hrtf::kemar_default().expect("embedded KEMAR");
    let cfg = RenderConfig::default();
    let len = render_binaural(&resp, 0.3, &hrtf, &cfg, Seed(2)).len();
    bencher
        .counter(ItemsCount::new(len))
        .bench(|| render_binaural(divan::black_box(&resp), 0.3, &hrtf, &cfg, Seed(2)));
}

#[divan::bench]
fn step_audio_render_1s_rir(bencher: divan::Bencher) {
    let hrtf = Hrtf::kemar_default().expect("embedded KEMAR");
    let cfg = RenderConfig::default();
    let rir: BinauralRir = render_binaural(&response(), 0.3, &hrtf, &cfg, Seed(2));
    let mut audio = StepAudio::new(SourceSignal::ringtone(cfg.sample_rate_hz), 0);
    audio.render(&rir, false);
    bencher
        .counter(ItemsCount::new(2 * STEP_SAMPLES))
        .bench_local(|| audio.render(divan::black_box(&rir), true));
}

#[divan::bench]
fn render_binaural_50_paths_only(bencher: divan::Bencher) {
    let mut resp = response();
    resp.late.bins.clear();
    let hrtf = Hrtf::kemar_default().expect("embedded KEMAR");
    let cfg = RenderConfig::default();
    bencher.bench(|| render_binaural(divan::black_box(&resp), 0.3, &hrtf, &cfg, Seed(2)));
}

#[divan::bench]
fn render_binaural_1s_tail_only(bencher: divan::Bencher) {
    let mut resp = response();
    resp.paths.clear();
    let hrtf = Hrtf::kemar_default().expect("embedded KEMAR");
    let cfg = RenderConfig::default();
    bencher.bench(|| render_binaural(divan::black_box(&resp), 0.3, &hrtf, &cfg, Seed(2)));
}
