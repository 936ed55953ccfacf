//! Helpers shared by the end-to-end tests of the `avwm` binary.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs `avwm ARGS`.
pub fn avwm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_avwm"))
        .args(args)
        .output()
        .expect("the avwm binary runs")
}

/// Runs `avwm ARGS` and asserts success, printing stderr otherwise.
pub fn ok(args: &[&str]) -> Output {
    let out = avwm(args);
    assert!(
        out.status.success(),
        "avwm {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON a command printed on stdout.
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("parse json")
}

/// A shrunken `tiny` dataset (`episodes` episodes of at most `frames` frames) in `dir/ds`, its
/// tokenizers trained for `steps` steps (`dir/tok-visual`, `dir/tok-audio`) and its latent cache
/// (`dir/cache`). Returns the paths `(cache, visual tokenizer, audio tokenizer)`.
pub fn tiny_cache(
    dir: &Path,
    episodes: usize,
    frames: usize,
    steps: usize,
) -> (String, String, String) {
    tiny_cache_with(dir, episodes, frames, steps, "tiny")
}

/// As [`tiny_cache`], with the audio tokenizer of preset `audio_preset` (`tiny`: the
/// SoundStream-style codec; `mdct-tiny`: the spectral tokenizer).
pub fn tiny_cache_with(
    dir: &Path,
    episodes: usize,
    frames: usize,
    steps: usize,
    audio_preset: &str,
) -> (String, String, String) {
    let p = |s: &str| dir.join(s).to_str().unwrap().to_string();
    std::fs::write(
        p("gen.toml"),
        format!("episodes = {episodes}\nmax_frames = {frames}\n"),
    )
    .unwrap();
    ok(&[
        "data",
        "generate",
        "--preset",
        "tiny",
        "--config",
        &p("gen.toml"),
        "--out",
        &p("ds"),
    ]);
    for (m, preset) in [("visual", "tiny"), ("audio", audio_preset)] {
        ok(&[
            "tokenizer",
            "train",
            "--modality",
            m,
            "--data",
            &p("ds"),
            "--run",
            &p(&format!("tok-{m}")),
            "--preset",
            preset,
            "--steps",
            &steps.to_string(),
        ]);
    }
    let (vt, at) = (p("tok-visual/tokenizer"), p("tok-audio/tokenizer"));
    ok(&[
        "tokenizer",
        "encode",
        "--data",
        &p("ds"),
        "--visual",
        &vt,
        "--audio",
        &at,
        "--out",
        &p("cache"),
    ]);
    (p("cache"), vt, at)
}

/// `avwm eval` of `model` on a tiny latent cache in `mode`, written to `out`: 2 runs, 3 anchors,
/// horizon 3, batch 4, one sheet, 2 sampler steps and the paper's 4 frames of history (episodes
/// of 12–14 frames; the default 16 is the avwm design's memory, which its own test covers).
pub fn tiny_eval_args(
    model: &str,
    cache: &str,
    visual_tokenizer: &str,
    audio_tokenizer: &str,
    mode: &str,
    out: &str,
) -> Vec<String> {
    [
        "eval",
        "--model",
        model,
        "--data",
        cache,
        "--mode",
        mode,
        "--runs",
        "2",
        "--anchors",
        "3",
        "--horizon",
        "3",
        "--batch",
        "4",
        "--sheets",
        "1",
        "--sampler-steps",
        "2",
        "--history",
        "4",
        "--visual-tokenizer",
        visual_tokenizer,
        "--audio-tokenizer",
        audio_tokenizer,
        "--out",
        out,
    ]
    .map(String::from)
    .to_vec()
}

/// The configuration of a tiny agent training run (`avwm agent train --config`): 2 environments
/// in the `tiny` scenes, rollouts of 8 steps, a small network.
pub fn agent_tiny_toml(dagger_frames: usize, checkpoint_every: usize) -> String {
    format!(
        r#"
data_preset = "tiny"
scene_preset = "tiny"
envs = 2
rollout = 8
dagger_frames = {dagger_frames}
checkpoint_every = {checkpoint_every}
min_geodesic_m = 1.0
min_ratio = 1.0

[net]
image_size = 64
visual_channels = [8, 8, 8]
visual_embed = 32
audio_channels = [4, 4, 4]
audio_embed = 16
hidden = 32
"#
    )
}
