//! Whole runs, as `avwm train` and `avwm predict` drive them: [`train_run`] trains the stages of a
//! recipe on a latent cache (the architecture adapts to the cache's latent shapes; stage 1 may be
//! shared with another run), and [`predict_to_folder`] makes one prediction from a cache and
//! writes its frames, sounds and report. The CLI only parses arguments and shows progress.

use crate::config::{ModelConfig, Prediction, Variant};
use crate::data::Transitions;
use crate::predict::{Context, Decoded, RolloutContext, Sampler, Tokenizers, WorldModel};
use crate::train::{Stage, StageSummary, StepLog, TrainConfig, train_stage};
use crate::{CacheProblem, ModelError, Result};
use avwm_core::{Action, BinauralAudio, RgbImage, Seed};
use avwm_data::Split;
use avwm_data::media::{AudioEncoding, encode_png, encode_wav};
use avwm_tokenizer::cache::CacheMeta;
use avwm_tokenizer::data::{tensor_to_audio, tensor_to_images};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Tensor};

/// What `avwm train` asks for.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// The architecture; its latent sizes and scales are replaced by the cache's.
    pub config: ModelConfig,
    /// Training preset (steps, batch, learning rates): `tiny`, `small` or `base`.
    pub preset: String,
    /// The stage asked for ([`Stage::plan`]).
    pub stage: String,
    /// Joint training from the start instead of the three stages (ablation).
    pub no_stagewise: bool,
    /// avwm design: model every channel of the spectral tokenizer's latent instead of its band
    /// levels (ablation).
    pub all_audio_channels: bool,
    /// Latent cache folder.
    pub data: PathBuf,
    /// Run folder (one sub-folder per stage).
    pub run: PathBuf,
    /// Steps of every stage (overrides the preset).
    pub steps: Option<u64>,
    /// Contexts per batch (overrides the preset).
    pub contexts: Option<usize>,
    /// Run seed.
    pub seed: u64,
    /// Take stage 1 from this run of the full model (see [`crate::train::share_stage_one`] and
    /// [`crate::train::continue_stage_one_as_vision_only`]).
    pub share_stage1: Option<PathBuf>,
}

/// What [`train_run`] reports while it works.
#[derive(Debug)]
pub enum TrainEvent<'a> {
    /// The latent cache is being loaded.
    Loading(&'a Path),
    /// Stage 1 was taken from another run.
    SharedStageOne(&'a Path),
    /// The vision-only joint stage continues another run's stage 1.
    ContinuesStageOne(&'a Path),
    /// A stage starts (or resumes); it ends at `steps`.
    StageStarted {
        /// The stage.
        stage: Stage,
        /// Its last step.
        steps: u64,
    },
    /// A training log line (every few steps, with validation now and then).
    Logged {
        /// The stage.
        stage: Stage,
        /// The log line.
        log: &'a StepLog,
    },
    /// A stage is finished.
    StageFinished {
        /// Its summary.
        summary: &'a StageSummary,
        /// The model it wrote.
        model: PathBuf,
    },
}

/// The architecture `cfg` adapted to a latent cache: latent channels, sizes and scales come from
/// the cache (the tokenizers decide them). With the avwm design and the spectral tokenizer, the
/// model predicts the band levels and carries the band shapes, unless `all_audio_channels`.
///
/// # Errors
/// The cache's latents are not `[C, S, S]` and `[A, T]`, or do not fit the architecture.
pub fn fit_to_cache(
    mut cfg: ModelConfig,
    meta: &CacheMeta,
    data: &Transitions,
    cache: &Path,
    all_audio_channels: bool,
) -> Result<ModelConfig> {
    cfg.visual_scale = meta.visual_scale;
    cfg.audio_scale = meta.audio_scale;
    let (vshape, ashape) = data.latent_shapes();
    if vshape.len() != 3 || vshape[1] != vshape[2] || ashape.len() != 2 {
        return Err(ModelError::Cache {
            path: cache.to_path_buf(),
            problem: CacheProblem::LatentShapes {
                visual: vshape,
                audio: ashape,
            },
        });
    }
    cfg.visual_channels = vshape[0];
    cfg.visual_size = vshape[1];
    cfg.audio_dim = ashape[0];
    cfg.audio_frames = ashape[1];
    if let (avwm_tokenizer::Arch::AudioMdct(m), Prediction::ResidualV, false) =
        (&meta.audio.meta.arch, cfg.prediction, all_audio_channels)
    {
        cfg.audio_latent_dim = ashape[0];
        cfg.audio_dim = m.channels * m.bands();
    }
    cfg.validate().map_err(|e| ModelError::Unfit {
        cache: cache.to_path_buf(),
        problem: Box::new(e),
    })?;
    Ok(cfg)
}

/// Trains the stages `req` asks for, in order, each resuming where it stopped, and writes
/// `train-summary.json` into the run folder.
///
/// # Errors
/// A broken or unfit cache, a stage outside the recipe, `--share-stage1` with a model it does not
/// serve, and every error of [`train_stage`] (named with the stage and run).
pub fn train_run(
    req: &TrainRequest,
    device: Device,
    on_event: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<Vec<StageSummary>> {
    let meta = avwm_tokenizer::cache::read_meta(&req.data)?;
    let stages = Stage::plan(&req.stage, &req.config, req.no_stagewise)?;
    on_event(TrainEvent::Loading(&req.data));
    let train = Transitions::open(&req.data, Split::Train)?;
    let val = Transitions::open(&req.data, Split::Validation)?;
    let cfg = fit_to_cache(
        req.config.clone(),
        &meta,
        &train,
        &req.data,
        req.all_audio_channels,
    )?;
    let vision_only = cfg.variant == Variant::VisionOnly;
    if req.share_stage1.is_some() {
        let no_experts_ablation = cfg.variant == Variant::Full && !cfg.experts;
        let vision_baseline = vision_only && cfg.experts;
        if req.no_stagewise || !(no_experts_ablation || vision_baseline) {
            return Err(ModelError::Config(
                "--share-stage1 is for the stagewise --no-experts ablation of the full model and for the vision-only baseline (with its visual expert)".into(),
            ));
        }
    }
    std::fs::create_dir_all(&req.run).map_err(avwm_nn::NnError::io(&req.run))?;
    if let (Some(from), false) = (&req.share_stage1, vision_only) {
        crate::train::share_stage_one(from, &req.run)?;
        on_event(TrainEvent::SharedStageOne(from));
    }
    let mut summaries = Vec::new();
    for stage in stages {
        let mut tc = TrainConfig::preset(&req.preset, stage, cfg.clone())?;
        tc.seed = req.seed;
        if let Some(s) = req.steps {
            tc.steps = s;
        }
        if let Some(c) = req.contexts {
            tc.contexts = c;
        }
        if let (Some(from), true) = (&req.share_stage1, vision_only) {
            crate::train::continue_stage_one_as_vision_only(from, &req.run, &tc)?;
            on_event(TrainEvent::ContinuesStageOne(from));
        }
        on_event(TrainEvent::StageStarted {
            stage,
            steps: tc.steps,
        });
        let mut on_log = |log: &StepLog| on_event(TrainEvent::Logged { stage, log });
        let summary =
            train_stage(&tc, &req.run, &train, &val, device, &mut on_log).map_err(|e| {
                ModelError::Training {
                    stage: stage.dir_name(),
                    run: req.run.clone(),
                    problem: Box::new(e),
                }
            })?;
        on_event(TrainEvent::StageFinished {
            summary: &summary,
            model: req.run.join(stage.dir_name()).join("model.safetensors"),
        });
        summaries.push(summary);
    }
    avwm_nn::ckpt::write_json(&req.run.join("train-summary.json"), &summaries)?;
    Ok(summaries)
}

/// What `avwm predict` predicts from the recorded context.
#[derive(Debug, Clone, PartialEq)]
pub enum PredictQuery {
    /// The recorded frame `dt` steps ahead, with the recorded aggregated action.
    Fixed {
        /// Steps ahead (≥ 1).
        dt: i64,
    },
    /// A rollout of these actions, one frame each.
    Rollout {
        /// The actions.
        actions: Vec<Action>,
    },
}

impl PredictQuery {
    /// A fixed-step query (`dt`, default 1) or a rollout of comma-separated action names
    /// ([`Action::parse`]); not both.
    ///
    /// # Errors
    /// Both given, or an unknown action name.
    pub fn parse(dt: Option<i64>, actions: Option<&str>) -> Result<PredictQuery> {
        match (dt, actions) {
            (Some(_), Some(_)) => Err(ModelError::Config(
                "give either --dt (fixed-step) or --actions (rollout)".into(),
            )),
            (_, Some(list)) => list
                .split(',')
                .map(|n| {
                    Action::parse(n).ok_or_else(|| {
                        ModelError::Config(format!(
                            "unknown action `{}` (forward, left, right, stop)",
                            n.trim()
                        ))
                    })
                })
                .collect::<Result<_>>()
                .map(|actions| PredictQuery::Rollout { actions }),
            (dt, None) => Ok(PredictQuery::Fixed {
                dt: dt.unwrap_or(1),
            }),
        }
    }
}

/// What `avwm predict` asks for.
#[derive(Debug, Clone)]
pub struct PredictRequest {
    /// The model (`x`, `x.safetensors`, or a stage folder).
    pub model: PathBuf,
    /// The visual tokenizer.
    pub visual_tokenizer: PathBuf,
    /// The audio tokenizer.
    pub audio_tokenizer: PathBuf,
    /// The latent cache the context comes from.
    pub data: PathBuf,
    /// Its split.
    pub split: Split,
    /// Episode id of the context (default: the split's first episode).
    pub episode: Option<i64>,
    /// The current step t (the last context frame).
    pub step: i64,
    /// What to predict.
    pub query: PredictQuery,
    /// The sampler.
    pub sampler: Sampler,
    /// How a rollout feeds its predictions back.
    pub rollout_context: RolloutContext,
    /// Sampling seed.
    pub seed: u64,
    /// Output folder (created when missing).
    pub out: PathBuf,
}

/// `prediction.json`: what [`predict_to_folder`] wrote.
#[derive(Debug, Serialize)]
pub struct PredictReport {
    /// The model file as given.
    pub model: String,
    /// `fixed-step` or `rollout`.
    pub mode: &'static str,
    /// The sampler.
    pub sampler: Sampler,
    /// Episode of the context.
    pub episode: i64,
    /// Its current step t.
    pub step: i64,
    /// The predicted frames, in order.
    pub frames: Vec<PredictedFrame>,
    /// Wall time of the prediction (sampling, and decoding of the predicted frames).
    pub seconds: f64,
}

/// One predicted frame of a [`PredictReport`].
#[derive(Debug, Serialize)]
pub struct PredictedFrame {
    /// Steps after t.
    pub dt: i64,
    /// The aggregated action from t (forward and lateral steps, yaw in radians).
    pub action: [f64; 3],
    /// The predicted image (`pred-NN.png`), when the model predicts vision.
    pub image: Option<String>,
    /// The predicted sound (`pred-NN.wav`), when the model predicts audio.
    pub audio: Option<String>,
    /// The recorded frame decoded by the tokenizer (`truth-NN.png`; fixed-step mode).
    pub truth_image: Option<String>,
    /// The predicted reward (m of geodesic progress).
    pub predicted_reward_m: Option<f64>,
    /// The recorded reward (fixed-step mode).
    pub true_reward_m: Option<f64>,
}

/// Nominal aggregated action of one discrete action, in the model's units (forward steps along
/// and across the heading, yaw change in radians): [`Action::nominal`] from the origin.
pub fn nominal_action(action: Action) -> [f64; 3] {
    let q = action.nominal(avwm_core::Pose::new(0.0, 0.0, 0.0));
    let unit = f64::from(avwm_core::FORWARD_STEP_M);
    [
        f64::from(q.x) / unit,
        f64::from(q.y) / unit,
        f64::from(q.yaw),
    ]
}

/// Writes one decoded image `[1, 3, H, W]` as PNG.
fn write_image(path: &Path, img: &Tensor) -> Result<()> {
    let s = img.size();
    let data = tensor_to_images(img).into_iter().next().unwrap_or_default();
    let png = encode_png(&RgbImage {
        width: s[3] as u32,
        height: s[2] as u32,
        data,
    })
    .map_err(|e| ModelError::Encode {
        path: path.to_path_buf(),
        problem: e,
    })?;
    avwm_core::write_atomic(path, &png)?;
    Ok(())
}

/// Writes one decoded binaural segment `[1, 2, samples]` as float WAV.
fn write_audio(path: &Path, wav: &Tensor) -> Result<()> {
    let (left, right) = tensor_to_audio(wav).into_iter().next().unwrap_or_default();
    let bytes = encode_wav(
        &BinauralAudio {
            sample_rate_hz: avwm_core::SAMPLE_RATE_HZ,
            left,
            right,
        },
        AudioEncoding::Float32,
    )
    .map_err(|e| ModelError::Encode {
        path: path.to_path_buf(),
        problem: e,
    })?;
    avwm_core::write_atomic(path, &bytes)?;
    Ok(())
}

/// Predicts from the recorded context at (`episode`, `step`) of the cache and writes
/// `pred-NN.png`/`.wav` (and `truth-NN.png` in fixed-step mode) and `prediction.json` into the
/// output folder.
///
/// # Errors
/// Unloadable model or tokenizers, a model that does not fit them or the cache, a step that is
/// not in the split or has too little context, a target outside the episode, I/O.
pub fn predict_to_folder(req: &PredictRequest, device: Device) -> Result<PredictReport> {
    let wm = WorldModel::load(&req.model, device)?;
    let tok = Tokenizers::load(&req.visual_tokenizer, &req.audio_tokenizer, device)?;
    wm.check_tokenizers(&tok)?;
    let data = Transitions::open(&req.data, req.split)?;
    data.check_model(wm.config(), &req.model, &req.data)?;
    let cfg = wm.config().clone();
    let no_frame = |problem: String| ModelError::NoSuchFrame {
        cache: req.data.clone(),
        split: req.split.name(),
        episode: req.episode,
        step: req.step,
        problem,
    };
    let episode = match req.episode {
        Some(e) => e,
        None => *data
            .episode
            .first()
            .ok_or_else(|| no_frame("the split is empty".into()))?,
    };
    let t = (0..data.len())
        .find(|&i| data.episode[i] == episode && data.step[i] == req.step)
        .ok_or_else(|| no_frame(format!("episode {episode} has no step {}", req.step)))?;
    let (s, e) = data.episode_bounds(t);
    if t - s + 1 < cfg.context as usize {
        return Err(no_frame(format!(
            "step {} has fewer than {} frames of context",
            req.step, cfg.context
        )));
    }
    std::fs::create_dir_all(&req.out).map_err(avwm_nn::NnError::io(&req.out))?;
    let streams = wm.streams();
    let ctx = Context::of(&data.batch(&[(t, t)], streams, &cfg, device));
    let mut rng = Seed(req.seed).derive("predict", 0).rng();
    let t0 = Instant::now();
    // The predicted frames, their offsets and actions, and in fixed-step mode the recorded
    // target's visual latent (when the model predicts images).
    let (preds, dts, actions, truth): (Vec<Decoded>, Vec<i64>, Vec<[f64; 3]>, Option<Tensor>) =
        match &req.query {
            PredictQuery::Rollout { actions } => {
                let acts: Vec<[f64; 3]> = actions.iter().map(|&a| nominal_action(a)).collect();
                let ts: Vec<Tensor> = acts
                    .iter()
                    .map(|v| {
                        Tensor::from_slice(&v.map(|x| x as f32))
                            .view([1, 3])
                            .to_device(device)
                    })
                    .collect();
                let steps = wm.rollout_decoded(
                    &ctx,
                    &ts,
                    req.sampler,
                    req.rollout_context,
                    &tok,
                    &mut rng,
                )?;
                (steps, (1..=acts.len() as i64).collect(), acts, None)
            }
            &PredictQuery::Fixed { dt } => {
                let g = t as i64 + dt;
                if dt < 1 || g >= e as i64 {
                    return Err(no_frame(format!(
                        "t+dt = step {} is not a recorded step of the episode (steps 0..{}; dt ≥ 1)",
                        req.step + dt,
                        e - s
                    )));
                }
                let b = data.batch(&[(t, g as usize)], streams, &cfg, device);
                let act = data.action_between(t, g as usize, cfg.action_unit_m);
                let prediction = wm.predict(&ctx, &b.action, &b.dt, req.sampler, &mut rng);
                let (image, audio) = wm.decode(&tok, &prediction);
                let step = Decoded {
                    prediction,
                    image,
                    audio,
                };
                (vec![step], vec![dt], vec![act], b.visual)
            }
        };
    let seconds = t0.elapsed().as_secs_f64();
    let rollout = matches!(req.query, PredictQuery::Rollout { .. });
    let mut frames = Vec::new();
    for (i, step) in preds.iter().enumerate() {
        let name = format!("pred-{:02}", i + 1);
        let image = match &step.image {
            Some(img) => {
                write_image(&req.out.join(format!("{name}.png")), img)?;
                Some(format!("{name}.png"))
            }
            None => None,
        };
        let audio = match &step.audio {
            Some(w) => {
                write_audio(&req.out.join(format!("{name}.wav")), w)?;
                Some(format!("{name}.wav"))
            }
            None => None,
        };
        // The recorded future exists in fixed-step mode (rollout actions are the user's).
        let g = t as i64 + dts[i];
        let true_reward_m = (!rollout).then(|| data.reward_between(t, g as usize));
        let truth_image = match (&truth, rollout) {
            (Some(z), false) => {
                let img =
                    tch::no_grad(|| tok.visual.decode(&(z / cfg.visual_scale)).clamp(-1.0, 1.0));
                let f = format!("truth-{:02}.png", i + 1);
                write_image(&req.out.join(&f), &img)?;
                Some(f)
            }
            _ => None,
        };
        frames.push(PredictedFrame {
            dt: dts[i],
            action: actions[i],
            image,
            audio,
            truth_image,
            predicted_reward_m: step
                .prediction
                .reward_m
                .as_ref()
                .map(|r| r.double_value(&[0])),
            true_reward_m,
        });
    }
    let report = PredictReport {
        model: req.model.display().to_string(),
        mode: if rollout { "rollout" } else { "fixed-step" },
        sampler: req.sampler,
        episode,
        step: req.step,
        frames,
        seconds,
    };
    avwm_nn::ckpt::write_json(&req.out.join("prediction.json"), &report)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_fixed_step_by_default_and_a_rollout_of_named_actions_otherwise() {
        assert_eq!(
            PredictQuery::parse(None, None).unwrap(),
            PredictQuery::Fixed { dt: 1 }
        );
        assert_eq!(
            PredictQuery::parse(Some(4), None).unwrap(),
            PredictQuery::Fixed { dt: 4 }
        );
        assert_eq!(
            PredictQuery::parse(None, Some("forward, l,right,stop")).unwrap(),
            PredictQuery::Rollout {
                actions: vec![
                    Action::Forward,
                    Action::TurnLeft,
                    Action::TurnRight,
                    Action::Stop
                ]
            }
        );
        let both = PredictQuery::parse(Some(1), Some("forward")).unwrap_err();
        assert!(both.to_string().contains("either --dt"), "{both}");
        let bad = PredictQuery::parse(None, Some("forward,jump")).unwrap_err();
        assert!(bad.to_string().contains("`jump`"), "{bad}");
    }

    #[test]
    fn nominal_actions_are_one_forward_step_or_a_ten_degree_turn() {
        let f = nominal_action(Action::Forward);
        assert!((f[0] - 1.0).abs() < 1e-6 && f[1].abs() < 1e-6 && f[2].abs() < 1e-9);
        let l = nominal_action(Action::TurnLeft);
        assert!(l[0].abs() < 1e-9 && (l[2] - 10f64.to_radians()).abs() < 1e-6);
        let r = nominal_action(Action::TurnRight);
        assert!((r[2] + 10f64.to_radians()).abs() < 1e-6);
        assert_eq!(nominal_action(Action::Stop), [0.0, 0.0, 0.0]);
    }
}
