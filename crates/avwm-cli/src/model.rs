//! `avwm model info`, `avwm train` and `avwm predict` (the model benchmarks live in
//! `avwm_model::bench`).

use crate::common::{progress, write_json};
use anyhow::{Context as _, Result, bail};
use avwm_data::Split;
use avwm_model::config::{ModelConfig, Variant};
use avwm_model::info::ModelInfo;
use avwm_model::predict::{RolloutContext, Sampler, Tokenizers};
use avwm_model::run::{
    PredictQuery, PredictRequest, TrainEvent, TrainRequest, predict_to_folder, train_run,
};
use avwm_model::train::StepLog;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use tch::Device;

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
    /// avwm design with a reward head that predicts the reward itself instead of the reward
    /// per metre of displacement (ablation; the form changes no parameter, so it trains on the
    /// same joint stage).
    #[arg(long)]
    pub direct_reward_head: bool,
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
        let ablations = self.no_memory
            || self.no_residual
            || self.no_reward_head
            || self.direct_reward_head
            || self.all_audio_channels;
        match self.design {
            Design::Paper if ablations => {
                bail!(
                    "--no-memory, --no-residual, --no-reward-head, --direct-reward-head and --all-audio-channels ablate the avwm design (--design avwm)"
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
                if self.direct_reward_head {
                    cfg.reward_form = avwm_model::config::RewardForm::Direct;
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

pub fn run_train(a: TrainArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let req = TrainRequest {
        config: a.arch.config()?,
        preset: a.arch.preset.clone(),
        stage: a.stage,
        no_stagewise: a.no_stagewise,
        all_audio_channels: a.arch.all_audio_channels,
        data: a.data,
        run: a.run,
        steps: a.steps,
        contexts: a.contexts,
        seed: a.seed,
        share_stage1: a.share_stage1,
    };
    let mut pb: Option<indicatif::ProgressBar> = None;
    let mut on_event = |e: TrainEvent<'_>| match e {
        TrainEvent::Loading(p) => eprintln!("loading latent cache {} …", p.display()),
        TrainEvent::SharedStageOne(p) => eprintln!("stage1: shared from {}", p.display()),
        TrainEvent::ContinuesStageOne(p) => {
            eprintln!("joint: continues stage 1 of {}", p.display())
        }
        TrainEvent::StageStarted { stage, steps } => pb = Some(progress(steps, stage.dir_name())),
        TrainEvent::Logged { stage, log } => {
            if let Some(pb) = &pb {
                pb.set_position(log.step);
                pb.set_message(format!(
                    "{} {:.4}{}",
                    stage.dir_name(),
                    log.loss,
                    val_message(log)
                ));
            }
        }
        TrainEvent::StageFinished { summary, model } => {
            if let Some(pb) = pb.take() {
                pb.finish();
            }
            eprintln!(
                "{}: {} steps in {:.0} s, final loss {:.4}; model: {}",
                summary.stage.dir_name(),
                summary.steps,
                summary.train_seconds,
                summary.final_loss,
                model.display()
            );
        }
    };
    train_run(&req, avwm_nn::default_device(), &mut on_event)?;
    Ok(())
}

/// The validation part of a progress message: the one-step prediction's latent MSE over
/// copying's (below 1: better) and the reward head's sign agreement.
fn val_message(l: &StepLog) -> String {
    let Some(v) = &l.val else {
        return String::new();
    };
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
        Ok(RolloutContext::parse(&self.rollout_context)?)
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
    /// Fixed-step mode: predict t+dt (dt ≥ 1) with the recorded aggregated action (default
    /// mode, dt 1).
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

pub fn run_predict(a: PredictArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let req = PredictRequest {
        model: a.model,
        visual_tokenizer: a.tokenizers.visual_tokenizer,
        audio_tokenizer: a.tokenizers.audio_tokenizer,
        data: a.data,
        split: Split::parse(&a.split).with_context(|| format!("unknown split `{}`", a.split))?,
        episode: a.episode,
        step: a.step,
        query: PredictQuery::parse(a.dt, a.actions.as_deref())?,
        sampler: a.sampling.sampler()?,
        rollout_context: a.sampling.rollout_context()?,
        seed: a.seed,
        out: a.out,
    };
    let report = predict_to_folder(&req, avwm_nn::default_device())?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
