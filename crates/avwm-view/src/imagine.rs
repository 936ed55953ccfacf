//! The world model fed live from the simulator: every observation is encoded by the frozen
//! tokenizers into a sliding history, and any action sequence can be imagined from it.
//!
//! The history holds the model's [`ModelConfig::history`] frames (16 for avwm's design: the
//! audio memory; 4 for the paper's AV-CDiT). An episode's first observation fills the whole
//! history (the agent "stood there" before), as no earlier frame exists; a model therefore
//! imagines from a padded memory for its first `history − 1` steps.
//!
//! One step of imagination is one action with Δt = 1 and the action's nominal motion (the
//! commanded pose, no collision) as the aggregated action; k steps are a rollout that feeds the
//! decoded frames back (NWM's pixel protocol, as `avwm eval --mode rollout`).

use crate::{Result, ViewError};
use avwm_core::{Action, BinauralAudio, Observation, Pose, RgbImage, SAMPLE_RATE_HZ, Seed};
use avwm_eval::counterfactual::commanded_pose;
use avwm_model::data::action_units;
use avwm_model::predict::{Context, Decoded, RolloutContext, Sampler, Tokenizers};
use avwm_model::{ModelConfig, WorldModel};
use avwm_tokenizer::data::{images_to_tensor, tensor_to_audio, tensor_to_images};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

/// Where the model and its tokenizers are, and how to sample.
#[derive(Debug, Clone)]
pub struct ImaginerConfig {
    /// The world model (`stem`, `stem.safetensors` or a folder).
    pub model: PathBuf,
    /// The visual tokenizer its latents came from.
    pub visual_tokenizer: PathBuf,
    /// The audio tokenizer its latents came from.
    pub audio_tokenizer: PathBuf,
    /// Sampler and its steps.
    pub sampler: Sampler,
    /// Seed of the diffusion noise.
    pub seed: u64,
}

/// One imagined step, decoded.
#[derive(Debug, Clone)]
pub struct Imagined {
    /// The imagined image.
    pub rgb: RgbImage,
    /// The imagined binaural audio.
    pub audio: BinauralAudio,
    /// Reward (m of geodesic-distance reduction) from the diffused reward token.
    pub reward_token_m: Option<f32>,
    /// Expected reward (m) from the reward head, if the model has one.
    pub expected_reward_m: Option<f32>,
    /// P(within the success radius) from the reward head.
    pub p_success: Option<f32>,
}

/// One encoded frame of the history.
struct Frame {
    /// Visual latent `[C, H, W]`, scaled for diffusion.
    visual: Tensor,
    /// Audio latent `[A, T]`, scaled.
    audio: Tensor,
    pose: Pose,
}

/// A world model with a live history of encoded observations.
pub struct Imaginer {
    wm: WorldModel,
    tok: Tokenizers,
    frames: VecDeque<Frame>,
    sampler: Sampler,
    rng: ChaCha8Rng,
    device: Device,
}

impl std::fmt::Debug for Imaginer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imaginer")
            .field("history", &self.frames.len())
            .finish_non_exhaustive()
    }
}

impl Imaginer {
    /// Loads the model and its tokenizers and checks that they belong together and that the
    /// model predicts both images and audio.
    ///
    /// # Errors
    /// Missing or broken files; tokenizers of other scales; a vision-only or audio-only model.
    pub fn load(cfg: &ImaginerConfig, device: Device) -> Result<Imaginer> {
        let wm = WorldModel::load(&cfg.model, device)?;
        let tok = Tokenizers::load(&cfg.visual_tokenizer, &cfg.audio_tokenizer, device)?;
        wm.check_tokenizers(&tok).map_err(|e| {
            ViewError::Mismatch(format!(
                "{} with {} and {}: {e}",
                cfg.model.display(),
                cfg.visual_tokenizer.display(),
                cfg.audio_tokenizer.display()
            ))
        })?;
        let s = wm.streams();
        if !(s.visual && s.audio) {
            return Err(ViewError::Mismatch(format!(
                "{} does not predict both images and audio (stage {:?}); use a joint or stage-3 model",
                cfg.model.display(),
                wm.meta.stage
            )));
        }
        Ok(Imaginer {
            wm,
            tok,
            frames: VecDeque::new(),
            sampler: cfg.sampler,
            rng: Seed(cfg.seed).derive("imagine", 0).rng(),
            device,
        })
    }

    /// The model's architecture.
    pub fn config(&self) -> &ModelConfig {
        self.wm.config()
    }

    /// Frames of history the model reads.
    pub fn history(&self) -> usize {
        self.wm.config().history() as usize
    }

    /// Forgets the history (a new episode).
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// Encodes an observation taken at `pose` and appends it to the history (the first one of
    /// an episode fills it).
    ///
    /// # Errors
    /// An image or audio segment of another size than the model's latents expect.
    pub fn observe(&mut self, obs: &Observation, pose: Pose) -> Result<()> {
        let cfg = self.wm.config();
        let (h, w) = (i64::from(obs.rgb.height), i64::from(obs.rgb.width));
        let x = images_to_tensor(&obs.rgb.data, 1, h, w).to_device(self.device);
        let t = obs.audio.left.len() as i64;
        let a: Vec<f32> = obs
            .audio
            .left
            .iter()
            .chain(&obs.audio.right)
            .copied()
            .collect();
        let a = Tensor::from_slice(&a)
            .view([1, 2, t])
            .to_device(self.device);
        let (v, za) = tch::no_grad(|| {
            (
                self.tok.visual.encode(&x).0 * cfg.visual_scale,
                self.tok.audio.encode(&a).0 * cfg.audio_scale,
            )
        });
        let (vs, zs) = (v.size(), za.size());
        if vs[1..] != [cfg.visual_channels, cfg.visual_size, cfg.visual_size]
            || zs[1..] != [cfg.audio_latent(), cfg.audio_frames]
        {
            return Err(ViewError::Mismatch(format!(
                "a {w}×{h} image and {t} audio samples encode to latents {:?} and {:?}, the model expects [{}, {}, {}] and [{}, {}]",
                &vs[1..],
                &zs[1..],
                cfg.visual_channels,
                cfg.visual_size,
                cfg.visual_size,
                cfg.audio_latent(),
                cfg.audio_frames
            )));
        }
        let frame = Frame {
            visual: v.squeeze_dim(0),
            audio: za.squeeze_dim(0),
            pose,
        };
        let n = self.history();
        if self.frames.is_empty() {
            for _ in 1..n {
                self.frames.push_back(Frame {
                    visual: frame.visual.shallow_clone(),
                    audio: frame.audio.shallow_clone(),
                    pose,
                });
            }
        }
        self.frames.push_back(frame);
        while self.frames.len() > n {
            self.frames.pop_front();
        }
        Ok(())
    }

    /// The world model itself.
    pub fn model(&self) -> &WorldModel {
        &self.wm
    }

    /// Its frozen tokenizers.
    pub fn tokenizers(&self) -> &Tokenizers {
        &self.tok
    }

    /// The sampler it imagines with.
    pub fn sampler(&self) -> Sampler {
        self.sampler
    }

    /// The nominal motion of each action (the commanded pose, no collision) in the model's
    /// action units, `[B, 3]` on the model's device: the aggregated action of one step.
    pub fn action_tensor(&self, actions: &[Action]) -> Tensor {
        let unit = self.wm.config().action_unit_m;
        let origin = Pose::new(0.0, 0.0, 0.0);
        let v: Vec<f32> = actions
            .iter()
            .flat_map(|&a| f32s(action_units(origin, commanded_pose(origin, &[a]), unit)))
            .collect();
        Tensor::from_slice(&v)
            .view([actions.len() as i64, 3])
            .to_device(self.device)
    }

    /// The model's context from the history (batch 1): the last `context` visual latents, the
    /// last `memory` audio latents and their poses relative to the newest frame (action units).
    ///
    /// # Errors
    /// [`ViewError::NoObservation`] before the first [`Imaginer::observe`].
    pub fn context(&self) -> Result<Context> {
        let cfg = self.wm.config();
        let anchor = self.frames.back().ok_or(ViewError::NoObservation)?;
        let last = |n: i64| self.frames.iter().skip(self.frames.len() - n as usize);
        let visual: Vec<Tensor> = last(cfg.context)
            .map(|f| f.visual.shallow_clone())
            .collect();
        let audio: Vec<Tensor> = last(cfg.memory())
            .map(|f| f.audio.shallow_clone())
            .collect();
        let pose: Vec<f32> = last(cfg.memory())
            .flat_map(|f| f32s(action_units(anchor.pose, f.pose, cfg.action_unit_m)))
            .collect();
        Ok(Context {
            visual: Some(Tensor::stack(&visual, 0).unsqueeze(0)),
            audio: Some(Tensor::stack(&audio, 0).unsqueeze(0)),
            pose: Some(
                Tensor::from_slice(&pose)
                    .view([1, cfg.memory(), 3])
                    .to_device(self.device),
            ),
        })
    }

    /// Imagines `actions` one after the other from the newest observation (a rollout of
    /// `actions.len()` steps, Δt = 1 each).
    ///
    /// # Errors
    /// [`ViewError::NoObservation`] before the first [`Imaginer::observe`]; model failures.
    pub fn imagine(&mut self, actions: &[Action]) -> Result<Vec<Imagined>> {
        let ctx = self.context()?;
        let steps: Vec<Tensor> = actions.iter().map(|&a| self.action_tensor(&[a])).collect();
        let decoded = tch::no_grad(|| -> Result<Vec<Decoded>> {
            if let [a] = steps.as_slice() {
                // One step: predict and decode, without re-encoding the prediction as a rollout
                // does to feed it back.
                let dt = Tensor::ones([1], (Kind::Float, self.device));
                let p = self.wm.predict(&ctx, a, &dt, self.sampler, &mut self.rng);
                let (image, audio) = self.wm.decode(&self.tok, &p);
                return Ok(vec![Decoded {
                    prediction: p,
                    image,
                    audio,
                }]);
            }
            Ok(self.wm.rollout_decoded(
                &ctx,
                &steps,
                self.sampler,
                RolloutContext::Pixels,
                &self.tok,
                &mut self.rng,
            )?)
        })?;
        let scalar = |t: &Option<Tensor>| t.as_ref().map(|t| t.double_value(&[0]) as f32);
        decoded
            .into_iter()
            .map(|d| {
                let (img, wav) = d.image.as_ref().zip(d.audio.as_ref()).ok_or_else(|| {
                    ViewError::Mismatch("the model returned no image or no audio".into())
                })?;
                let Observation { rgb, audio } = decoded_observations(img, wav).swap_remove(0);
                Ok(Imagined {
                    rgb,
                    audio,
                    reward_token_m: scalar(&d.prediction.reward_m),
                    expected_reward_m: scalar(&d.prediction.expected_reward_m),
                    p_success: scalar(&d.prediction.p_success),
                })
            })
            .collect()
    }
}

/// Decoded images `[B, 3, H, W]` (in [−1, 1]) and binaural audio `[B, 2, S]` as one observation
/// per row.
pub fn decoded_observations(images: &Tensor, audio: &Tensor) -> Vec<Observation> {
    let size = images.size();
    tensor_to_images(images)
        .into_iter()
        .zip(tensor_to_audio(&audio.to_kind(Kind::Float)))
        .map(|(data, (left, right))| Observation {
            rgb: RgbImage {
                width: size[3] as u32,
                height: size[2] as u32,
                data,
            },
            audio: BinauralAudio {
                sample_rate_hz: SAMPLE_RATE_HZ,
                left,
                right,
            },
        })
        .collect()
}

/// Model inputs are f32.
fn f32s(a: [f64; 3]) -> [f32; 3] {
    a.map(|x| x as f32)
}
