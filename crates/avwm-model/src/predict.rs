//! The trained world model: model files, fixed-step and rollout prediction, decoding to images,
//! binaural audio and reward.
//!
//! A model is two files: `<name>.safetensors` (EMA weights) and `<name>.json` ([`ModelMeta`]:
//! architecture with the latent scale factors, stage, steps, provenance).
//!
//! * **Fixed-step**: from 4 context frames, the aggregated action a_{t→t+Δt} and Δt, sample the
//!   target frame t+Δt (latents, then decoded) and the reward of that span.
//! * **Rollout**: from 4 context frames and a sequence of per-step actions, predict t+1, t+2, …
//!   autoregressively (Δt = 1 each), sliding each prediction into the context. With
//!   [`RolloutContext::Pixels`] (the default, as NWM) each predicted frame is decoded to an image
//!   and audio and re-encoded by the tokenizers (posterior mean) before it enters the context;
//!   with [`RolloutContext::Latent`] the sampled latents enter the context directly (faster, no
//!   tokenizer round trip).

use crate::config::Prediction as Pred;
use crate::config::{ModelConfig, Streams};
use crate::diffusion::Diffusion;
use crate::net::{AvCdit, Targets};
use crate::noise::NoiseSource;
use crate::train::Stage;
use crate::{ModelError, Result};
use avwm_nn::ckpt;
use avwm_tokenizer::{Modality, Tokenizer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor, nn::VarStore};

/// Format tag of `model.json`.
pub const MODEL_FORMAT: &str = "avwm-model";

/// `<name>.json` beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// Architecture.
    pub config: ModelConfig,
    /// The stage that produced the weights.
    pub stage: Stage,
    /// Steps of that stage.
    pub steps: u64,
    /// Run, seed, data.
    pub provenance: serde_json::Value,
}

impl ModelMeta {
    /// Metadata of a freshly trained model.
    pub fn new(
        config: ModelConfig,
        stage: Stage,
        steps: u64,
        provenance: serde_json::Value,
    ) -> ModelMeta {
        ModelMeta {
            format: MODEL_FORMAT.into(),
            version: 1,
            config,
            stage,
            steps,
            provenance,
        }
    }
}

/// `(weights, meta)` paths of a model named `stem` (a trailing `.safetensors`/`.json` is
/// dropped; a folder means `<folder>/model`).
pub fn model_files(stem: &Path) -> (PathBuf, PathBuf) {
    let stem = if stem.is_dir() {
        stem.join("model")
    } else {
        match stem.extension().and_then(|e| e.to_str()) {
            Some("safetensors") | Some("json") => stem.with_extension(""),
            _ => stem.to_path_buf(),
        }
    };
    (
        stem.with_extension("safetensors"),
        stem.with_extension("json"),
    )
}

/// Writes `vs` and `meta` as a model named `stem`, atomically.
///
/// # Errors
/// I/O.
pub fn save_model(vs: &VarStore, meta: &ModelMeta, stem: &Path) -> Result<()> {
    let (w, j) = model_files(stem);
    ckpt::save_var_store(vs, &w)?;
    ckpt::write_json(&j, meta)?;
    Ok(())
}

/// A sampler and its number of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "steps")]
pub enum Sampler {
    /// Ancestral DDPM on the respaced schedule (the paper's protocol: 250 steps).
    Ddpm(usize),
    /// DDIM, η = 0 (deterministic given the starting noise; few steps).
    Ddim(usize),
}

impl Sampler {
    /// Parses `ddpm` or `ddim` with a step count.
    ///
    /// # Errors
    /// An unknown name or zero steps.
    pub fn parse(name: &str, steps: usize) -> Result<Sampler> {
        if steps == 0 {
            return Err(ModelError::Config("sampler steps must be positive".into()));
        }
        match name {
            "ddpm" => Ok(Sampler::Ddpm(steps)),
            "ddim" => Ok(Sampler::Ddim(steps)),
            _ => Err(ModelError::Config(format!(
                "unknown sampler `{name}` (ddpm, ddim)"
            ))),
        }
    }
}

/// Context latents (scaled for diffusion).
#[derive(Debug)]
pub struct Context {
    /// Visual `[B, m, C, H, W]`.
    pub visual: Option<Tensor>,
    /// Audio `[B, M, A, T]`: the audio memory (`M` = [`ModelConfig::memory`] frames, oldest
    /// first; `m` for the paper's model).
    pub audio: Option<Tensor>,
    /// Pose of every audio-memory frame relative to the anchor `[B, M, 3]` (forward, left in
    /// action units; yaw in radians); read by the pooled memory and the reward head.
    pub pose: Option<Tensor>,
}

impl Context {
    /// The context of a batch of transitions (its context latents and memory poses).
    pub fn of(b: &crate::data::Batch) -> Context {
        Context {
            visual: b.ctx_visual.as_ref().map(Tensor::shallow_clone),
            audio: b.ctx_audio.as_ref().map(Tensor::shallow_clone),
            pose: b.ctx_pose.as_ref().map(Tensor::shallow_clone),
        }
    }

    /// The same tensors, shared (no copy).
    pub fn shallow_clone(&self) -> Context {
        Context {
            visual: self.visual.as_ref().map(Tensor::shallow_clone),
            audio: self.audio.as_ref().map(Tensor::shallow_clone),
            pose: self.pose.as_ref().map(Tensor::shallow_clone),
        }
    }
}

/// Re-expresses poses relative to an old anchor (`[B, M, 3]`) relative to a new anchor that
/// sits at `step` (`[B, 3]`, in the old anchor's frame), appending the new anchor itself
/// (pose 0) and dropping the oldest: the pose history after one more step.
pub fn advance_poses(pose: &Tensor, step: &Tensor) -> Tensor {
    let (b, m) = (pose.size()[0], pose.size()[1]);
    let s = step.unsqueeze(1);
    let (ax, ay, at) = (s.select(2, 0), s.select(2, 1), s.select(2, 2));
    let dx = pose.select(2, 0) - &ax;
    let dy = pose.select(2, 1) - &ay;
    let (c, sn) = (at.cos(), at.sin());
    let x = &dx * &c + &dy * &sn;
    let y = -&dx * &sn + &dy * &c;
    let d = pose.select(2, 2) - &at;
    let yaw = d.sin().atan2(&d.cos());
    let moved = Tensor::stack(&[x, y, yaw], 2);
    let zero = Tensor::zeros([b, 1, 3], (pose.kind(), pose.device()));
    Tensor::cat(&[moved.narrow(1, 1, m - 1), zero], 1)
}

/// A sampled prediction.
#[derive(Debug)]
pub struct Prediction {
    /// Visual latent (scaled) `[B, C, H, W]`.
    pub visual: Option<Tensor>,
    /// Audio latent (scaled) `[B, A, T]`.
    pub audio: Option<Tensor>,
    /// Reward in metres of geodesic-distance reduction `[B]`: the diffused reward token.
    pub reward_m: Option<Tensor>,
    /// Expected reward (m) from the deterministic reward head `[B]`, if the model has one.
    pub expected_reward_m: Option<Tensor>,
    /// Probability that the target is within the success radius (STOP there succeeds) `[B]`,
    /// from the reward head.
    pub p_success: Option<Tensor>,
}

/// A prediction with its decoded outputs ([`WorldModel::rollout_decoded`]).
#[derive(Debug)]
pub struct Decoded {
    /// The prediction (latents and reward).
    pub prediction: Prediction,
    /// Images in [-1, 1] `[B, 3, H, W]`, when the model predicts them.
    pub image: Option<Tensor>,
    /// Binaural waveforms `[B, 2, samples]`, when the model predicts audio.
    pub audio: Option<Tensor>,
}

/// How a rollout feeds its predictions back into the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutContext {
    /// Decode to pixels and audio, re-encode with the tokenizers (NWM's protocol; default).
    Pixels,
    /// Keep the sampled latents.
    Latent,
}

impl RolloutContext {
    /// Parses `pixels` or `latent`.
    ///
    /// # Errors
    /// Any other name.
    pub fn parse(name: &str) -> Result<RolloutContext> {
        match name {
            "pixels" => Ok(RolloutContext::Pixels),
            "latent" => Ok(RolloutContext::Latent),
            _ => Err(ModelError::Config(format!(
                "unknown rollout context `{name}` (pixels, latent)"
            ))),
        }
    }
}

/// The frozen tokenizers a world model decodes (and, in pixel rollouts, re-encodes) with.
pub struct Tokenizers {
    /// Visual autoencoder.
    pub visual: Tokenizer,
    /// Audio codec.
    pub audio: Tokenizer,
}

impl Tokenizers {
    /// Loads both tokenizers.
    ///
    /// # Errors
    /// Missing or broken files, or swapped modalities.
    pub fn load(visual: &Path, audio: &Path, device: Device) -> Result<Tokenizers> {
        let v = Tokenizer::load(visual, device)?;
        let a = Tokenizer::load(audio, device)?;
        if v.modality() != Modality::Visual || a.modality() != Modality::Audio {
            return Err(ModelError::Config(format!(
                "{} must be a visual and {} an audio tokenizer",
                visual.display(),
                audio.display()
            )));
        }
        Ok(Tokenizers {
            visual: v,
            audio: a,
        })
    }
}

/// A trained AV-CDiT ready to predict.
pub struct WorldModel {
    /// Weights.
    pub vs: VarStore,
    /// Network.
    pub net: AvCdit,
    /// Metadata.
    pub meta: ModelMeta,
}

impl WorldModel {
    /// Loads a model (`stem`, `stem.safetensors` or a folder holding `model.*`).
    ///
    /// # Errors
    /// Missing, foreign or broken files (named).
    pub fn load(stem: &Path, device: Device) -> Result<WorldModel> {
        let (w, j) = model_files(stem);
        let meta: ModelMeta = ckpt::read_json(&j)?;
        if meta.format != MODEL_FORMAT {
            return Err(ModelError::Config(format!(
                "{}: not an {MODEL_FORMAT} file",
                j.display()
            )));
        }
        meta.config
            .validate()
            .map_err(|e| ModelError::Config(format!("{}: {e}", j.display())))?;
        // Read the weights before building the network (a config far larger than its weights
        // is refused before libtorch allocates it).
        let tensors = ckpt::load_tensors_for(&w, &j, meta.config.min_parameters())?;
        let mut vs = VarStore::new(device);
        let net = AvCdit::new(&vs.root(), &meta.config);
        ckpt::fill_var_store(&mut vs, tensors, &w, false)?;
        vs.freeze();
        Ok(WorldModel { vs, net, meta })
    }

    /// Wraps a network built elsewhere (tests, benchmarks).
    pub fn from_parts(vs: VarStore, net: AvCdit, meta: ModelMeta) -> WorldModel {
        WorldModel { vs, net, meta }
    }

    /// Architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.meta.config
    }

    /// The streams the model predicts: those its last training stage learned (after stage 1 only
    /// vision, after stage 2 only audio and reward, as the paper's Tables 4–5 mark with ∅).
    pub fn streams(&self) -> Streams {
        match self.meta.stage {
            // The head stage trains the reward head of a joint model: it predicts what the
            // joint stage did, though it trained on the audio streams alone.
            Stage::Head => self.meta.config.streams(),
            s => s.streams(self.meta.config.variant),
        }
    }

    /// Checks that `tok` are the tokenizers the model's latents came from (same scale factors).
    ///
    /// # Errors
    /// [`ModelError::Config`] if a scale factor differs.
    pub fn check_tokenizers(&self, tok: &Tokenizers) -> Result<()> {
        let c = &self.meta.config;
        for (name, want, got) in [
            (
                "visual",
                c.visual_scale,
                tok.visual.meta.arch.scaling_factor(),
            ),
            ("audio", c.audio_scale, tok.audio.meta.arch.scaling_factor()),
        ] {
            if (want - got).abs() > 1e-9 * want.abs().max(1.0) {
                return Err(ModelError::Config(format!(
                    "the model was trained on {name} latents with scale {want}, the tokenizer has {got}"
                )));
            }
        }
        Ok(())
    }

    /// Fixed-step prediction of a batch: `ctx` (its streams decide what is predicted), aggregated
    /// actions `[B, 3]` and offsets `dt` `[B]` (frames). Noise from `rng`.
    pub fn predict(
        &self,
        ctx: &Context,
        action: &Tensor,
        dt: &Tensor,
        sampler: Sampler,
        rng: &mut impl NoiseSource,
    ) -> Prediction {
        let cfg = &self.meta.config;
        let dev = action.device();
        let b = action.size()[0];
        let embedded = tch::no_grad(|| {
            self.net
                .embed_context(ctx.visual.as_ref(), ctx.audio.as_ref(), ctx.pose.as_ref())
        });
        let (base_v, base_a) = self.net.bases(ctx.visual.as_ref(), ctx.audio.as_ref(), dt);
        let mut shapes: Vec<Vec<i64>> = Vec::new();
        if ctx.visual.is_some() {
            shapes.push(vec![
                b,
                cfg.visual_channels,
                cfg.visual_size,
                cfg.visual_size,
            ]);
        }
        if ctx.audio.is_some() {
            shapes.push(vec![b, cfg.audio_dim, cfg.audio_frames]);
            shapes.push(vec![b, cfg.reward_dim]);
        }
        let has_v = ctx.visual.is_some();
        let xs: Vec<Tensor> = shapes.iter().map(|s| rng.randn(s, dev)).collect();
        let mut model = |xs: &[Tensor], t: &Tensor| -> Vec<Tensor> {
            let c = self.net.cond(t, dt, action);
            let (v, a, r) = if has_v {
                (xs.first(), xs.get(1), xs.get(2))
            } else {
                (None, xs.first(), xs.get(1))
            };
            let o = self.net.forward(
                &Targets {
                    visual: v,
                    audio: a,
                    reward: r,
                    base_visual: base_v.as_ref(),
                    base_audio: base_a.as_ref(),
                },
                &embedded,
                &c,
            );
            [o.visual, o.audio, o.reward]
                .into_iter()
                .flatten()
                .collect()
        };
        let base = Diffusion::for_prediction(cfg.prediction);
        let out = match (sampler, cfg.prediction) {
            (Sampler::Ddpm(n), Pred::Epsilon) => base.respaced(n).sample_ddpm(&mut model, xs, rng),
            (Sampler::Ddim(n), Pred::Epsilon) => base.respaced(n).sample_ddim(&mut model, xs),
            (Sampler::Ddpm(n), Pred::ResidualV) => {
                base.respaced_trailing(n).sample_ddpm_v(&mut model, xs, rng)
            }
            (Sampler::Ddim(n), Pred::ResidualV) => {
                base.respaced_trailing(n).sample_ddim_v(&mut model, xs)
            }
        };
        let mut it = out.into_iter();
        let plus = |x: Option<Tensor>, b: &Option<Tensor>| match (x, b) {
            (Some(x), Some(b)) => Some(x + b),
            (x, _) => x,
        };
        let visual = plus(if has_v { it.next() } else { None }, &base_v);
        let audio = match (it.next(), &base_a) {
            (Some(x), Some(b)) => Some(cfg.with_carried_audio(x + cfg.modelled_audio(b, 1), b, 1)),
            (x, _) => x,
        };
        let reward_m = it
            .next()
            .map(|r| r.mean_dim(1, false, Kind::Float) * cfg.reward_scale_m);
        let head = match (self.net.reward_head(), &ctx.audio, &ctx.pose) {
            (Some(h), Some(a), Some(p)) => Some(tch::no_grad(|| h.forward(a, p, action, dt))),
            _ => None,
        };
        Prediction {
            visual,
            audio,
            reward_m,
            expected_reward_m: head.as_ref().map(|e| &e.mean * cfg.reward_scale_m),
            p_success: head.map(|e| e.success_logit.sigmoid()),
        }
    }

    /// Decodes a prediction: images `[B, 3, H, W]` in [−1, 1] and binaural audio `[B, 2, S]`.
    pub fn decode(&self, tok: &Tokenizers, p: &Prediction) -> (Option<Tensor>, Option<Tensor>) {
        let c = &self.meta.config;
        tch::no_grad(|| {
            let img = p
                .visual
                .as_ref()
                .map(|z| tok.visual.decode(&(z / c.visual_scale)).clamp(-1.0, 1.0));
            let wav = p
                .audio
                .as_ref()
                .map(|z| tok.audio.decode(&(z / c.audio_scale)));
            (img, wav)
        })
    }

    /// Autoregressive rollout: one prediction per row of `actions` (`[S]` actions of shape
    /// `[B, 3]`, each relative to the previous frame), Δt = 1 each.
    ///
    /// # Errors
    /// A pixel rollout without tokenizers.
    pub fn rollout(
        &self,
        ctx: &Context,
        actions: &[Tensor],
        sampler: Sampler,
        mode: RolloutContext,
        tok: Option<&Tokenizers>,
        rng: &mut impl NoiseSource,
    ) -> Result<Vec<Prediction>> {
        let steps = self.rollout_steps(ctx, actions, sampler, mode, tok, false, rng)?;
        Ok(steps.into_iter().map(|s| s.prediction).collect())
    }

    /// [`WorldModel::rollout`] with every prediction decoded (as [`WorldModel::decode`]). A
    /// pixel rollout decodes each frame anyway to feed it back, so this costs no extra decoding.
    ///
    /// # Errors
    /// As [`WorldModel::rollout`].
    pub fn rollout_decoded(
        &self,
        ctx: &Context,
        actions: &[Tensor],
        sampler: Sampler,
        mode: RolloutContext,
        tok: &Tokenizers,
        rng: &mut impl NoiseSource,
    ) -> Result<Vec<Decoded>> {
        self.rollout_steps(ctx, actions, sampler, mode, Some(tok), true, rng)
    }

    /// One step of a rollout for the whole batch (Δt = 1): the prediction, decoded when
    /// `decode` is set (a pixel rollout decodes anyway), and the context after it, with the
    /// prediction appended as [`RolloutContext`] says and the poses advanced by `action`. The
    /// rows of a batch are independent branches (a planner's candidates); a
    /// [`crate::noise::SharedNoise`] gives them the same diffusion noise.
    ///
    /// # Errors
    /// A pixel rollout or a decoded step without tokenizers.
    #[allow(clippy::too_many_arguments)]
    pub fn step_decoded(
        &self,
        ctx: &Context,
        action: &Tensor,
        sampler: Sampler,
        mode: RolloutContext,
        tok: Option<&Tokenizers>,
        decode: bool,
        rng: &mut impl NoiseSource,
    ) -> Result<(Decoded, Context)> {
        let pixels = mode == RolloutContext::Pixels;
        if (pixels || decode) && tok.is_none() {
            return Err(ModelError::Config(
                "a pixel rollout or a decoded rollout needs the tokenizers".into(),
            ));
        }
        let c = &self.meta.config;
        let a = action;
        let dt = Tensor::ones([a.size()[0]], (Kind::Float, a.device()));
        let p = self.predict(ctx, a, &dt, sampler, rng);
        let (image, audio) = match tok {
            Some(tok) if pixels || decode => self.decode(tok, &p),
            _ => (None, None),
        };
        let (v_next, a_next) = match tok {
            Some(tok) if pixels => tch::no_grad(|| {
                (
                    image
                        .as_ref()
                        .map(|x| tok.visual.encode(x).0 * c.visual_scale),
                    audio
                        .as_ref()
                        .map(|x| tok.audio.encode(x).0 * c.audio_scale),
                )
            }),
            _ => (
                p.visual.as_ref().map(Tensor::shallow_clone),
                p.audio.as_ref().map(Tensor::shallow_clone),
            ),
        };
        let slide = |old: &Option<Tensor>, new: Option<Tensor>| -> Option<Tensor> {
            old.as_ref().zip(new).map(|(o, n)| {
                let m = o.size()[1];
                Tensor::cat(&[o.narrow(1, 1, m - 1), n.unsqueeze(1)], 1)
            })
        };
        let next = Context {
            visual: slide(&ctx.visual, v_next),
            audio: slide(&ctx.audio, a_next),
            pose: ctx.pose.as_ref().map(|p| advance_poses(p, a)),
        };
        Ok((
            Decoded {
                prediction: p,
                image,
                audio,
            },
            next,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn rollout_steps(
        &self,
        ctx: &Context,
        actions: &[Tensor],
        sampler: Sampler,
        mode: RolloutContext,
        tok: Option<&Tokenizers>,
        decode_all: bool,
        rng: &mut impl NoiseSource,
    ) -> Result<Vec<Decoded>> {
        let mut ctx = ctx.shallow_clone();
        let mut out = Vec::with_capacity(actions.len());
        for a in actions {
            let (d, next) = self.step_decoded(&ctx, a, sampler, mode, tok, decode_all, rng)?;
            ctx = next;
            out.push(d);
        }
        Ok(out)
    }
}
