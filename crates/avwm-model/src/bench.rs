//! Benchmarks of the world model on synthetic inputs: a training step (`avwm bench train`, with
//! its model FLOP utilisation against a large matrix product measured in the same run) and an
//! imagined audio-visual step (`avwm bench sample`).

use crate::Result;
use crate::WorldModel;
use crate::config::{ModelConfig, Streams, Variant};
use crate::data::Batch;
use crate::diffusion::Diffusion;
use crate::noise::randn;
use crate::predict::{Context, ModelMeta, Sampler, Tokenizers};
use crate::train::{Draw, Stage, TrainConfig, build, loss};
use avwm_core::Seed;
use avwm_nn::optim::{AdamW, AdamWConfig};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// A synthetic batch of the right shapes (benchmarks).
fn synthetic_batch(cfg: &ModelConfig, streams: Streams, b: i64, device: Device) -> Batch {
    let mut rng = Seed(1).rng();
    let (m, mm) = (cfg.context, cfg.memory());
    let (vc, vs) = (cfg.visual_channels, cfg.visual_size);
    let mut r = |s: &[i64]| randn(&mut rng, s, device);
    Batch {
        ctx_visual: streams.visual.then(|| r(&[b, m, vc, vs, vs])),
        ctx_audio: streams
            .audio
            .then(|| r(&[b, mm, cfg.audio_latent(), cfg.audio_frames])),
        ctx_pose: streams.audio.then(|| r(&[b, mm, 3])),
        visual: streams.visual.then(|| r(&[b, vc, vs, vs])),
        audio: streams
            .audio
            .then(|| r(&[b, cfg.audio_latent(), cfg.audio_frames])),
        reward: streams.audio.then(|| r(&[b, cfg.reward_dim])),
        reward_value: streams.audio.then(|| r(&[b])),
        success: streams.audio.then(|| r(&[b]).gt(0.0).to_kind(Kind::Float)),
        action: r(&[b, 3]),
        dt: Tensor::ones([b], (Kind::Float, device)),
        anchors: vec![],
        targets: vec![],
    }
}

/// Median of seconds.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// FLOP/s of an `n×n` f32 matrix product (median of `reps`) on the current threads.
pub fn matmul_flops_per_s(n: i64, reps: usize) -> f64 {
    let a = Tensor::randn([n, n], (Kind::Float, Device::Cpu));
    let b = Tensor::randn([n, n], (Kind::Float, Device::Cpu));
    let _ = a.matmul(&b);
    let times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            let c = a.matmul(&b);
            let _ = c.double_value(&[0, 0]);
            t.elapsed().as_secs_f64()
        })
        .collect();
    2.0 * (n as f64).powi(3) / median(times)
}

/// What `avwm bench train` measures: one training step of a preset on synthetic data.
#[derive(Debug, Clone, Serialize)]
pub struct TrainBench {
    /// Architecture preset.
    pub preset: String,
    /// libtorch threads.
    pub threads: i32,
    /// Targets per batch (contexts × goals).
    pub batch_targets: i64,
    /// The stage timed (all streams of the variant).
    pub stage: Stage,
    /// Model FLOPs of one step (3 × forward).
    pub gflops_per_step: f64,
    /// One whole step, median seconds.
    pub step_seconds_median: f64,
    /// Forward pass and loss.
    pub forward_seconds_median: f64,
    /// Backward pass (with zeroing the gradients).
    pub backward_seconds_median: f64,
    /// Gradient clipping and the AdamW update.
    pub optimizer_seconds_median: f64,
    /// Model FLOP/s.
    pub model_gflops_per_s: f64,
    /// Size of the reference matrix product.
    pub matmul_n: i64,
    /// FLOP/s of the reference matrix product, same threads, same run.
    pub matmul_gflops_per_s: f64,
    /// Model FLOP utilisation: model FLOP/s ÷ large-matmul FLOP/s, same threads, same run.
    pub mfu: f64,
    /// The target.
    pub target_mfu: f64,
}

/// `avwm bench train`: `steps` training steps (after 2 warm-up steps) of the model `cfg` of
/// architecture preset `preset` on a synthetic batch of `contexts` (default: the preset's)
/// contexts, on the CPU with the current libtorch threads; `tick` after every step.
///
/// # Errors
/// An invalid configuration.
pub fn bench_train(
    cfg: &ModelConfig,
    preset: &str,
    contexts: Option<usize>,
    steps: usize,
    tick: &mut dyn FnMut(),
) -> Result<TrainBench> {
    cfg.validate()?;
    let steps = steps.max(1);
    let stage = if cfg.variant == Variant::Full {
        Stage::Three
    } else {
        Stage::Joint
    };
    let tc = TrainConfig::preset(preset, stage, cfg.clone())?;
    let b = (contexts.unwrap_or(tc.contexts) * tc.goals) as i64;
    let device = Device::Cpu;
    let streams = stage.streams(cfg.variant);
    let (vs, net) = build(cfg, Seed(0), device);
    let mut opt = AdamW::new(&vs, AdamWConfig::default(), |_| true);
    let batch = synthetic_batch(cfg, streams, b, device);
    let diffusion = Diffusion::training();
    let (mut times, mut fwd, mut bwd, mut upd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..steps + 2 {
        let mut rng = Seed(2).derive("bench", i as u64).rng();
        let draw = Draw::new(&mut rng, &batch, device);
        let t = Instant::now();
        let (l, _) = loss(&net, &diffusion, &batch, &draw);
        let t_fwd = t.elapsed().as_secs_f64();
        opt.zero_grad();
        l.backward();
        let t_bwd = t.elapsed().as_secs_f64();
        opt.clip_grad_norm(10.0);
        opt.step(1e-4);
        let t_all = t.elapsed().as_secs_f64();
        if i >= 2 {
            times.push(t_all);
            fwd.push(t_fwd);
            bwd.push(t_bwd - t_fwd);
            upd.push(t_all - t_bwd);
        }
        tick();
    }
    let step = median(times);
    let flops = 3.0 * cfg.forward_flops(streams) * b as f64;
    let n = 2048;
    let mm = matmul_flops_per_s(n, 5);
    Ok(TrainBench {
        preset: preset.to_string(),
        threads: tch::get_num_threads(),
        batch_targets: b,
        stage,
        gflops_per_step: flops / 1e9,
        step_seconds_median: step,
        forward_seconds_median: median(fwd),
        backward_seconds_median: median(bwd),
        optimizer_seconds_median: median(upd),
        model_gflops_per_s: flops / step / 1e9,
        matmul_n: n,
        matmul_gflops_per_s: mm / 1e9,
        mfu: flops / step / mm,
        target_mfu: 0.5,
    })
}

/// What `avwm bench sample` measures: one imagined audio-visual step at batch 1.
#[derive(Debug, Clone, Serialize)]
pub struct SampleBench {
    /// The model timed (its path, or the initialised stand-in).
    pub model: String,
    /// The sampler.
    pub sampler: Sampler,
    /// libtorch threads.
    pub threads: i32,
    /// Timed repetitions (after one warm-up).
    pub reps: usize,
    /// Context embedding + sampling (latents of image, audio and reward), median ms.
    pub sample_ms: f64,
    /// Decoding the image and the binaural audio, median ms.
    pub decode_ms: f64,
    /// One audio-visual step end to end (sample + decode), median ms.
    pub step_ms: f64,
    /// The real time one step covers.
    pub step_covers_ms: f64,
    /// The target.
    pub target_ms: f64,
}

/// `avwm bench sample`: `reps` imagined steps (after one warm-up) of the model at `model` (or,
/// with no trained model there, an initialised `small` network of the same cost) with the
/// tokenizers `visual_tok` and `audio_tok`, on the CPU with the current libtorch threads;
/// `tick` after every repetition.
///
/// # Errors
/// Missing or broken model or tokenizer files (named).
pub fn bench_sample(
    model: &Path,
    visual_tok: &Path,
    audio_tok: &Path,
    sampler: Sampler,
    reps: usize,
    tick: &mut dyn FnMut(),
) -> Result<SampleBench> {
    let reps = reps.max(1);
    let device = Device::Cpu;
    let tok = Tokenizers::load(visual_tok, audio_tok, device)?;
    let (wm, name) = if crate::predict::model_files(model).1.is_file() {
        (
            WorldModel::load(model, device)?,
            model.display().to_string(),
        )
    } else {
        // No trained model yet: time an initialised `small` network (same cost).
        let mut cfg = ModelConfig::preset("small")?;
        cfg.visual_scale = tok.visual.meta.arch.scaling_factor();
        cfg.audio_scale = tok.audio.meta.arch.scaling_factor();
        let (vs, net) = build(&cfg, Seed(0), device);
        (
            WorldModel::from_parts(
                vs,
                net,
                ModelMeta::new(cfg, Stage::Three, 0, serde_json::Value::Null),
            ),
            "initialised small (no trained model found)".to_string(),
        )
    };
    let cfg = wm.config().clone();
    let batch = synthetic_batch(&cfg, wm.streams(), 1, device);
    let ctx = Context::of(&batch);
    let (mut st, mut dt_) = (Vec::new(), Vec::new());
    for i in 0..reps + 1 {
        let mut rng = Seed(3).derive("bench", i as u64).rng();
        let t = Instant::now();
        let p = wm.predict(&ctx, &batch.action, &batch.dt, sampler, &mut rng);
        let s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (img, wav) = wm.decode(&tok, &p);
        let _ = img.map(|x| x.double_value(&[0, 0, 0, 0]));
        let _ = wav.map(|x| x.double_value(&[0, 0, 0]));
        let _ = p.reward_m.map(|x| x.double_value(&[0]));
        let d = t.elapsed().as_secs_f64();
        if i > 0 {
            st.push(s);
            dt_.push(d);
        }
        tick();
    }
    let step: Vec<f64> = st.iter().zip(&dt_).map(|(a, b)| a + b).collect();
    Ok(SampleBench {
        model: name,
        sampler,
        threads: tch::get_num_threads(),
        reps,
        sample_ms: median(st) * 1e3,
        decode_ms: median(dt_) * 1e3,
        step_ms: median(step) * 1e3,
        step_covers_ms: 150.0,
        target_ms: 150.0,
    })
}
