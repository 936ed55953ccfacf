//! `avwm model info`, `avwm train` and `avwm predict` (the model benchmarks live in
//! `avwm_model::bench`).

use crate::common::{progress, write_json};
use anyhow::{Context as _, Result, bail};
use avwm_core::{BinauralAudio, RgbImage, Seed};
use avwm_data::Split;
use avwm_data::media::{AudioEncoding, encode_png, encode_wav};
use avwm_model::WorldModel;
use avwm_model::config::{ModelConfig, Variant};
use avwm_model::data::Transitions;
use avwm_model::info::ModelInfo;
use avwm_model::predict::{Context, Decoded, RolloutContext, Sampler, Tokenizers};
use avwm_model::train::{Stage, StepLog, TrainConfig, train_stage};
use avwm_tokenizer::cache::{CACHE_FILE, CacheMeta};
use avwm_tokenizer::data::{tensor_to_audio, tensor_to_images};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Tensor};

/// Architecture selection shared by `model info`, `train` and the benchmarks.
#[derive(Debug, Clone, Args)]
pub struct ArchArgs {
    /// Size preset: tiny (tests), small (CPU default), base (the paper's CDiT-B size, GPUs).
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// full (AV-CDiT), vision-only (the NWM-style CDiT baseline) or audio-only (the
    /// action-conditioned audio LDM baseline).
    #[arg(long, default_value = "full")]
    pub variant: Variant,
    /// One shared feed-forward network instead of modality experts (ablation).
    #[arg(long)]
    pub no_experts: bool,
    /// Override the preset's depth (blocks).
    #[arg(long)]
    pub depth: Option<usize>,
    /// Override the preset's width.
    #[arg(long)]
    pub width: Option<i64>,
    /// Override the preset's attention heads.
    #[arg(long)]
    pub heads: Option<i64>,
    /// Override the audio latent channels per frame (training takes them from the cache; 65
    /// for the SoundStream-style codec, 360 for the spectral tokenizer).
    #[arg(long)]
    pub audio_dim: Option<i64>,
    /// paper (AV-CDiT as published: 4 frames of context, ε-prediction, the reward token, three
    /// stages) or avwm (residual v-prediction against the last frame and the period-aligned
    /// audio frame, 16 frames of audio memory, the deterministic reward head; a joint stage,
    /// then the head stage).
    #[arg(long, default_value = "paper")]
    pub design: Design,
    /// avwm design without the audio memory (4 frames of audio, as the paper; ablation).
    #[arg(long)]
    pub no_memory: bool,
    /// avwm design with the paper's ε-prediction of the targets themselves (no residual
    /// against the bases; ablation).
    #[arg(long)]
    pub no_residual: bool,
    /// avwm design without the deterministic reward head (ablation).
    #[arg(long)]
    pub no_reward_head: bool,
    /// avwm design modelling every channel of the spectral tokenizer's latent (ablation; by
    /// default it models the band levels and carries the band shapes from the audio base).
    #[arg(long)]
    pub all_audio_channels: bool,
}

/// Which model design `--design` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Design {
    /// AV-CDiT as the paper describes it.
    Paper,
    /// avwm's model (see `ModelConfig::avwm`).
    Avwm,
}

impl ArchArgs {
    /// The model configuration these arguments select.
    pub fn config(&self) -> Result<ModelConfig> {
        let mut cfg = ModelConfig::preset(&self.preset)?;
        cfg.variant = self.variant;
        cfg.experts = !self.no_experts;
        if let Some(d) = self.depth {
            cfg.depth = d;
        }
        if let Some(w) = self.width {
            cfg.width = w;
        }
        if let Some(h) = self.heads {
            cfg.heads = h;
        }
        if let Some(a) = self.audio_dim {
            cfg.audio_dim = a;
        }
        let ablations =
            self.no_memory || self.no_residual || self.no_reward_head || self.all_audio_channels;
        match self.design {
            Design::Paper if ablations => {
                bail!(
                    "--no-memory, --no-residual, --no-reward-head and --all-audio-channels ablate the avwm design (--design avwm)"
                )
            }
            Design::Paper => {}
            Design::Avwm => {
                cfg = cfg.avwm();
                if self.no_memory {
                    cfg.audio_memory = 0;
                    cfg.audio_period = 0;
                }
                if self.no_residual {
                    cfg.prediction = avwm_model::config::Prediction::Epsilon;
                }
                if self.no_reward_head {
                    cfg.reward_head = false;
                }
            }
        }
        Ok(cfg)
    }
}

#[derive(Debug, Subcommand)]
pub enum ModelCmd {
    /// Parameter counts and FLOPs per forward pass of an architecture.
    Info {
        #[command(flatten)]
        arch: ArchArgs,
        /// Also write the report (JSON) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run_model(cmd: ModelCmd) -> Result<()> {
    match cmd {
        ModelCmd::Info { arch, out } => {
            let info = ModelInfo::of(&arch.config()?)?;
            println!("{}", serde_json::to_string_pretty(&info)?);
            if let Some(out) = out {
                write_json(&out, &info)?;
            }
            Ok(())
        }
    }
}

/// `avwm train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Stage: 1 (vision), 2 (audio + reward, the rest frozen), 3 (joint fine-tuning), all
    /// (1 → 2 → 3; avwm design: joint → head), joint (everything from initialisation) or head
    /// (avwm design: the reward head alone, from the joint stage).
    #[arg(long, default_value = "all")]
    stage: String,
    #[command(flatten)]
    arch: ArchArgs,
    /// Joint training from the start instead of the three stages (ablation); same as
    /// `--stage joint`.
    #[arg(long)]
    no_stagewise: bool,
    /// Latent cache folder (`avwm tokenizer encode`).
    #[arg(long)]
    data: PathBuf,
    /// Run folder (one sub-folder per stage).
    #[arg(long)]
    run: PathBuf,
    /// Steps of every stage trained by this call (overrides the preset; may be raised on resume).
    #[arg(long)]
    steps: Option<u64>,
    /// Contexts per batch (each with 4 target offsets).
    #[arg(long)]
    contexts: Option<usize>,
    /// Run seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// libtorch threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Take stage 1 from this run of the full model instead of training it. With `--no-experts`
    /// it becomes this run's stage 1 (stage 1 sees visual tokens only, so the visual expert is
    /// exactly the shared FFN); with `--variant vision-only` the audio side is dropped and the
    /// joint stage resumes where that stage 1 ended.
    #[arg(long, value_name = "RUN")]
    share_stage1: Option<PathBuf>,
}

/// Reads `cache.json` of a latent cache.
fn cache_meta(dir: &Path) -> Result<CacheMeta> {
    let p = dir.join(CACHE_FILE);
    let meta: CacheMeta = avwm_nn::ckpt::read_json(&p).with_context(|| {
        format!(
            "{} is not a latent cache (run `avwm tokenizer encode`)",
            dir.display()
        )
    })?;
    Ok(meta)
}

pub fn run_train(a: TrainArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let device = avwm_nn::default_device();
    let mut cfg = a.arch.config()?;
    let meta = cache_meta(&a.data)?;
    cfg.visual_scale = meta.visual_scale;
    cfg.audio_scale = meta.audio_scale;
    let stages = Stage::plan(&a.stage, &cfg, a.no_stagewise)?;
    eprintln!("loading latent cache {} …", a.data.display());
    let train = Transitions::open(&a.data, Split::Train)?;
    let val = Transitions::open(&a.data, Split::Validation)?;
    // The model adapts to the cache's latent shapes (the tokenizers decide them).
    let (vshape, ashape) = train.latent_shapes();
    if vshape.len() != 3 || vshape[1] != vshape[2] || ashape.len() != 2 {
        bail!(
            "{}: visual latents {vshape:?} are not square [C, S, S] or audio latents {ashape:?} are not [A, T]",
            a.data.display()
        );
    }
    cfg.visual_channels = vshape[0];
    cfg.visual_size = vshape[1];
    cfg.audio_dim = ashape[0];
    cfg.audio_frames = ashape[1];
    // avwm models the spectral tokenizer's band levels and carries its band shapes.
    if let (avwm_tokenizer::Arch::AudioMdct(m), true, false) = (
        &meta.audio.meta.arch,
        cfg.prediction == avwm_model::config::Prediction::ResidualV,
        a.arch.all_audio_channels,
    ) {
        cfg.audio_latent_dim = ashape[0];
        cfg.audio_dim = m.channels * m.bands();
    }
    cfg.validate().with_context(|| {
        format!(
            "the latents of {} do not fit the architecture",
            a.data.display()
        )
    })?;
    std::fs::create_dir_all(&a.run).with_context(|| format!("creating {}", a.run.display()))?;
    let vision_only = cfg.variant == Variant::VisionOnly;
    if a.share_stage1.is_some() {
        let no_experts_ablation = cfg.variant == Variant::Full && !cfg.experts;
        let vision_baseline = vision_only && cfg.experts;
        if a.no_stagewise || !(no_experts_ablation || vision_baseline) {
            bail!(
                "--share-stage1 is for the stagewise --no-experts ablation of the full model and for the vision-only baseline (with its visual expert)"
            );
        }
    }
    if let (Some(from), false) = (&a.share_stage1, vision_only) {
        avwm_model::train::share_stage_one(from, &a.run).with_context(|| {
            format!(
                "sharing stage 1 of {} with {}",
                from.display(),
                a.run.display()
            )
        })?;
        eprintln!("stage1: shared from {}", from.display());
    }
    let mut summaries = Vec::new();
    for stage in stages {
        let mut tc = TrainConfig::preset(&a.arch.preset, stage, cfg.clone())?;
        tc.seed = a.seed;
        if let Some(s) = a.steps {
            tc.steps = s;
        }
        if let Some(c) = a.contexts {
            tc.contexts = c;
        }
        if let (Some(from), true) = (&a.share_stage1, vision_only) {
            avwm_model::train::continue_stage_one_as_vision_only(from, &a.run, &tc).with_context(
                || {
                    format!(
                        "continuing stage 1 of {} as the vision-only model {}",
                        from.display(),
                        a.run.display()
                    )
                },
            )?;
            eprintln!("joint: continues stage 1 of {}", from.display());
        }
        let pb = progress(tc.steps, stage.dir_name());
        let mut on_log = |l: &StepLog| {
            pb.set_position(l.step);
            let v = l
                .val
                .as_ref()
                .map(|v| {
                    // The one-step prediction's latent MSE over copying's (below 1: better).
                    let ratio = |s: &str, p: Option<(f64, f64)>| {
                        p.map(|(m, c)| format!(" {s}/copy {:.3}", m / c))
                            .unwrap_or_default()
                    };
                    let ac = v.against_copy.clone().unwrap_or_default();
                    let sign = v
                        .terms
                        .head_sign_agreement
                        .map(|a| format!(" sign {a:.2}"))
                        .unwrap_or_default();
                    format!(
                        " val {:.4}{}{}{sign}",
                        v.loss,
                        ratio("vis", ac.visual),
                        ratio("aud", ac.audio)
                    )
                })
                .unwrap_or_default();
            pb.set_message(format!("{} {:.4}{v}", stage.dir_name(), l.loss));
        };
        let summary = train_stage(&tc, &a.run, &train, &val, device, &mut on_log)
            .with_context(|| format!("training {} in {}", stage.dir_name(), a.run.display()))?;
        pb.finish();
        eprintln!(
            "{}: {} steps in {:.0} s, final loss {:.4}; model: {}",
            stage.dir_name(),
            summary.steps,
            summary.train_seconds,
            summary.final_loss,
            a.run
                .join(stage.dir_name())
                .join("model.safetensors")
                .display()
        );
        summaries.push(summary);
    }
    write_json(&a.run.join("train-summary.json"), &summaries)?;
    Ok(())
}

/// Sampler and rollout arguments shared by `avwm predict` and `avwm eval`.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Sampler: ddim (fast) or ddpm (ancestral; the paper's protocol with 250 steps).
    #[arg(long, default_value = "ddim")]
    sampler: String,
    /// Sampler steps.
    #[arg(long, default_value_t = 10)]
    sampler_steps: usize,
    /// Rollout context: pixels (decode and re-encode each frame, as NWM) or latent.
    #[arg(long, default_value = "pixels")]
    rollout_context: String,
}

impl SamplingArgs {
    /// The sampler.
    pub fn sampler(&self) -> Result<Sampler> {
        Ok(Sampler::parse(&self.sampler, self.sampler_steps)?)
    }

    /// How a rollout feeds its predictions back.
    pub fn rollout_context(&self) -> Result<RolloutContext> {
        Ok(match self.rollout_context.as_str() {
            "pixels" => RolloutContext::Pixels,
            "latent" => RolloutContext::Latent,
            o => bail!("--rollout-context {o}: expected pixels or latent"),
        })
    }
}

/// Tokenizer arguments shared by `avwm predict` and `avwm eval`.
#[derive(Debug, Args)]
pub struct TokenizerArgs {
    /// Visual tokenizer.
    #[arg(long, default_value = "models/tokenizer-visual")]
    visual_tokenizer: PathBuf,
    /// Audio tokenizer (`models/tokenizer-audio` for the paper's AV-CDiT, `models/avcdit-small`).
    #[arg(long, default_value = "models/tokenizer-audio-mdct")]
    audio_tokenizer: PathBuf,
}

impl TokenizerArgs {
    /// Loads both tokenizers.
    pub fn load(&self, device: Device) -> Result<Tokenizers> {
        Ok(Tokenizers::load(
            &self.visual_tokenizer,
            &self.audio_tokenizer,
            device,
        )?)
    }
}

/// `avwm predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model (`x`, `x.safetensors`, or a stage folder holding `model.*`).
    #[arg(long, default_value = "models/avwm-small")]
    model: PathBuf,
    /// Latent cache the context comes from.
    #[arg(long)]
    data: PathBuf,
    /// Split of the cache.
    #[arg(long, default_value = "test")]
    split: String,
    /// Episode id of the context (default: the split's first episode).
    #[arg(long)]
    episode: Option<i64>,
    /// Current step t (the last context frame; at least 3).
    #[arg(long, default_value_t = 3)]
    step: i64,
    /// Fixed-step mode: predict t+dt with the recorded aggregated action (default mode, dt 1).
    #[arg(long)]
    dt: Option<i64>,
    /// Rollout mode: comma-separated actions (forward, left, right, stop), one frame each.
    #[arg(long)]
    actions: Option<String>,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    tokenizers: TokenizerArgs,
    /// Output folder (PNG, WAV, prediction.json).
    #[arg(long)]
    out: PathBuf,
    /// libtorch threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Debug, Serialize)]
struct PredictReport {
    model: String,
    mode: &'static str,
    sampler: Sampler,
    episode: i64,
    step: i64,
    frames: Vec<PredictedFrame>,
    /// Wall time of the prediction (sampling, and decoding of the predicted frames).
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct PredictedFrame {
    dt: i64,
    action: [f64; 3],
    image: Option<String>,
    audio: Option<String>,
    truth_image: Option<String>,
    predicted_reward_m: Option<f64>,
    true_reward_m: Option<f64>,
}

/// Nominal aggregated action of one discrete action, in the model's units (forward steps along
/// and across the heading, yaw change in radians): [`avwm_core::Action::nominal`] from the origin.
pub fn nominal_action(name: &str) -> Result<[f64; 3]> {
    use avwm_core::Action;
    let action = match name.trim() {
        "forward" | "f" => Action::Forward,
        "left" | "turn_left" | "l" => Action::TurnLeft,
        "right" | "turn_right" | "r" => Action::TurnRight,
        "stop" | "s" => Action::Stop,
        other => bail!("unknown action `{other}` (forward, left, right, stop)"),
    };
    let q = action.nominal(avwm_core::Pose::new(0.0, 0.0, 0.0));
    let unit = f64::from(avwm_core::FORWARD_STEP_M);
    Ok([
        f64::from(q.x) / unit,
        f64::from(q.y) / unit,
        f64::from(q.yaw),
    ])
}

fn write_image(path: &Path, img: &Tensor) -> Result<()> {
    let bytes = tensor_to_images(img);
    let s = img.size();
    let png = encode_png(&RgbImage {
        width: s[3] as u32,
        height: s[2] as u32,
        data: bytes.into_iter().next().context("one image")?,
    })?;
    avwm_core::write_atomic(path, &png)?;
    Ok(())
}

fn write_audio(path: &Path, wav: &Tensor) -> Result<()> {
    let (left, right) = tensor_to_audio(wav)
        .into_iter()
        .next()
        .context("one segment")?;
    let bytes = encode_wav(
        &BinauralAudio {
            sample_rate_hz: avwm_core::SAMPLE_RATE_HZ,
            left,
            right,
        },
        AudioEncoding::Float32,
    )?;
    avwm_core::write_atomic(path, &bytes)?;
    Ok(())
}

pub fn run_predict(a: PredictArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let device = avwm_nn::default_device();
    let wm = WorldModel::load(&a.model, device)
        .with_context(|| format!("loading model {}", a.model.display()))?;
    let tok = a.tokenizers.load(device)?;
    wm.check_tokenizers(&tok)?;
    let split = Split::parse(&a.split).with_context(|| format!("unknown split `{}`", a.split))?;
    let data = Transitions::open(&a.data, split)?;
    data.check_model(wm.config(), &a.model, &a.data)?;
    let episode = match a.episode {
        Some(e) => e,
        None => *data
            .episode
            .first()
            .with_context(|| format!("the {} split is empty", a.split))?,
    };
    let t = (0..data.len())
        .find(|&i| data.episode[i] == episode && data.step[i] == a.step)
        .with_context(|| {
            format!(
                "episode {episode} has no step {} in the {} split",
                a.step, a.split
            )
        })?;
    let cfg = wm.config().clone();
    let (s, e) = data.episode_bounds(t);
    if t - s + 1 < cfg.context as usize {
        bail!(
            "step {} has fewer than {} frames of context",
            a.step,
            cfg.context
        );
    }
    let sampler = a.sampling.sampler()?;
    let mode = a.sampling.rollout_context()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let streams = wm.streams();
    let ctx_batch = data.batch(&[(t, t)], streams, &cfg, device);
    let ctx = Context::of(&ctx_batch);
    let mut rng = Seed(a.seed).derive("predict", 0).rng();
    let t0 = Instant::now();
    // The rollout's frames, their offsets and actions, and in fixed-step mode the recorded
    // target's visual latent (when the model predicts images).
    let (preds, dts, actions, truth): (Vec<_>, Vec<i64>, Vec<[f64; 3]>, Option<Tensor>) =
        match (&a.actions, a.dt) {
            (Some(_), Some(_)) => bail!("give either --dt (fixed-step) or --actions (rollout)"),
            (Some(list), None) => {
                let acts: Vec<[f64; 3]> =
                    list.split(',').map(nominal_action).collect::<Result<_>>()?;
                let ts: Vec<Tensor> = acts
                    .iter()
                    .map(|v| {
                        Tensor::from_slice(&v.map(|x| x as f32))
                            .view([1, 3])
                            .to_device(device)
                    })
                    .collect();
                let steps = wm.rollout_decoded(&ctx, &ts, sampler, mode, &tok, &mut rng)?;
                (steps, (1..=acts.len() as i64).collect(), acts, None)
            }
            (None, dt) => {
                let dt = dt.unwrap_or(1);
                let g = t as i64 + dt;
                if g < s as i64 || g >= e as i64 {
                    bail!(
                        "t+dt = step {} is outside the episode (steps 0..{})",
                        a.step + dt,
                        e - s
                    );
                }
                let b = data.batch(&[(t, g as usize)], streams, &cfg, device);
                let act = data.action_between(t, g as usize, cfg.action_unit_m);
                let p = wm.predict(&ctx, &b.action, &b.dt, sampler, &mut rng);
                let (image, audio) = wm.decode(&tok, &p);
                let step = Decoded {
                    prediction: p,
                    image,
                    audio,
                };
                (vec![step], vec![dt], vec![act], b.visual)
            }
        };
    let seconds = t0.elapsed().as_secs_f64();
    let mut frames = Vec::new();
    let rollout = a.actions.is_some();
    for (i, step) in preds.iter().enumerate() {
        let dt = dts[i];
        let (p, img, wav) = (&step.prediction, &step.image, &step.audio);
        let name = format!("pred-{:02}", i + 1);
        let image = match &img {
            Some(img) => {
                write_image(&a.out.join(format!("{name}.png")), img)?;
                Some(format!("{name}.png"))
            }
            None => None,
        };
        let audio = match &wav {
            Some(w) => {
                write_audio(&a.out.join(format!("{name}.wav")), w)?;
                Some(format!("{name}.wav"))
            }
            None => None,
        };
        // The recorded future exists in fixed-step mode (rollout actions are the user's).
        let g = t as i64 + dt;
        let true_reward_m = (!rollout).then(|| data.reward_between(t, g as usize));
        let truth_image = match (&truth, rollout) {
            (Some(z), false) => {
                let img =
                    tch::no_grad(|| tok.visual.decode(&(z / cfg.visual_scale)).clamp(-1.0, 1.0));
                let f = format!("truth-{:02}.png", i + 1);
                write_image(&a.out.join(&f), &img)?;
                Some(f)
            }
            _ => None,
        };
        frames.push(PredictedFrame {
            dt,
            action: actions[i],
            image,
            audio,
            truth_image,
            predicted_reward_m: p.reward_m.as_ref().map(|r| r.double_value(&[0])),
            true_reward_m,
        });
    }
    let report = PredictReport {
        model: a.model.display().to_string(),
        mode: if rollout { "rollout" } else { "fixed-step" },
        sampler,
        episode,
        step: a.step,
        frames,
        seconds,
    };
    write_json(&a.out.join("prediction.json"), &report)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
