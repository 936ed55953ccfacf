//! The learned world model (AV-CDiT or avwm's model with its frozen tokenizers) as the planner's
//! [`WorldModel`].
//!
//! The real episode feeds an [`Imaginer`] (every real observation encoded into the model's
//! history; the first one fills it). A search state is the model's context for one branch; a
//! depth of the search is **one batched model call** over all its branches, with the same
//! diffusion noise for every branch ([`SharedNoise`]), as `reference/planning.md` §3 asks. The
//! imagined frame is decoded to pixels and audio, which the agent perceives exactly as it
//! perceives the simulator (the same area downsampling and spectrogram), and re-encoded into the
//! branch's context (NWM's pixel rollout, as `avwm eval --mode rollout`), or, faster, its sampled
//! latents enter the context directly (`RolloutContext::Latent`).
//!
//! Rewards are SoundSpaces' (−0.01 per step, + the geodesic-distance reduction in m, + 10 for a
//! successful STOP). With a reward head (avwm's model): a move earns −0.01 + E\[reduction\], STOP
//! earns −0.01 + 10 · P(success). Without one (the paper's AV-CDiT): the diffused reward token
//! stands for the reduction, and STOP earns −0.01 + the token (the paper's reading: the token
//! carries the whole reward).

use crate::obs::agent_obs;
use crate::planner::{Imagined, WorldModel};
use crate::{AgentError, Result};
use avwm_core::{Action, Observation, SLACK_REWARD, SUCCESS_REWARD, Seed};
use avwm_model::noise::SharedNoise;
use avwm_model::predict::{Context, RolloutContext};
use avwm_sim::Simulator;
use avwm_view::imagine::{Imaginer, ImaginerConfig, decoded_observations};
use tch::{Device, Kind, Tensor};

/// One branch of the search: the model's context after the imagined steps.
pub struct Branch(Context);

impl Clone for Branch {
    fn clone(&self) -> Self {
        Branch(self.0.shallow_clone())
    }
}

/// A learned world model the planner can look ahead in.
#[derive(Debug)]
pub struct LearnedModel {
    imaginer: Imaginer,
    name: String,
    context: RolloutContext,
}

fn model_err(e: impl std::fmt::Display) -> AgentError {
    AgentError::Model(e.to_string())
}

impl LearnedModel {
    /// Loads the model and its tokenizers (checked to belong together). `context` says how an
    /// imagined frame enters its branch's context: re-encoded from the decoded pixels and sound
    /// (`Pixels`, the evaluation's protocol) or as the sampled latents (`Latent`, faster).
    ///
    /// # Errors
    /// Missing or broken files, or a model that does not predict both images and audio.
    pub fn load(
        cfg: &ImaginerConfig,
        context: RolloutContext,
        device: Device,
    ) -> Result<LearnedModel> {
        let imaginer = Imaginer::load(cfg, device)
            .map_err(|e| AgentError::Model(format!("{}: {e}", cfg.model.display())))?;
        let stem = cfg
            .model
            .file_stem()
            .map_or_else(|| "learned".into(), |s| s.to_string_lossy().into_owned());
        // The name goes into reports: a latent-context planner is another planner.
        let name = match context {
            RolloutContext::Pixels => stem,
            RolloutContext::Latent => format!("{stem}-latent"),
        };
        Ok(LearnedModel {
            imaginer,
            name,
            context,
        })
    }

    fn pose(sim: &Simulator) -> Result<avwm_core::Pose> {
        sim.state()
            .map(|s| s.pose)
            .ok_or_else(|| AgentError::Scene {
                scene: sim.scene().name.clone(),
                msg: "no episode is running".into(),
            })
    }
}

fn cat_rows(parts: Vec<Option<Tensor>>) -> Option<Tensor> {
    let parts: Option<Vec<Tensor>> = parts.into_iter().collect();
    parts.map(|p| Tensor::cat(&p, 0))
}

fn row(t: &Option<Tensor>, i: i64) -> Option<Tensor> {
    t.as_ref().map(|t| t.narrow(0, i, 1))
}

impl WorldModel for LearnedModel {
    type State = Branch;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn begin(&mut self, sim: &Simulator, obs: &Observation) -> Result<()> {
        self.imaginer.clear();
        self.imaginer
            .observe(obs, Self::pose(sim)?)
            .map_err(model_err)
    }

    fn observe(&mut self, sim: &Simulator, _action: Action, obs: &Observation) -> Result<()> {
        self.imaginer
            .observe(obs, Self::pose(sim)?)
            .map_err(model_err)
    }

    fn root(&mut self, _sim: &Simulator) -> Result<Branch> {
        Ok(Branch(self.imaginer.context().map_err(model_err)?))
    }

    fn step_batch(
        &mut self,
        _sim: &mut Simulator,
        states: &[Branch],
        actions: &[Action],
        noise: Seed,
        image_size: usize,
    ) -> Result<Vec<Imagined<Branch>>> {
        if states.len() != actions.len() {
            return Err(AgentError::Shape {
                what: "planner batch",
                expected: format!("{} actions", states.len()),
                got: actions.len().to_string(),
            });
        }
        if states.is_empty() {
            return Ok(vec![]);
        }
        let ctx = Context {
            visual: cat_rows(states.iter().map(|s| row(&s.0.visual, 0)).collect()),
            audio: cat_rows(states.iter().map(|s| row(&s.0.audio, 0)).collect()),
            pose: cat_rows(states.iter().map(|s| row(&s.0.pose, 0)).collect()),
        };
        let action = self.imaginer.action_tensor(actions);
        let mut rng = SharedNoise(noise.rng());
        let wm = self.imaginer.model();
        let (decoded, next) = tch::no_grad(|| {
            wm.step_decoded(
                &ctx,
                &action,
                self.imaginer.sampler(),
                self.context,
                Some(self.imaginer.tokenizers()),
                true,
                &mut rng,
            )
        })
        .map_err(model_err)?;
        let (img, wav) = decoded
            .image
            .as_ref()
            .zip(decoded.audio.as_ref())
            .ok_or_else(|| AgentError::Model("the model returned no image or no audio".into()))?;
        let observations = decoded_observations(img, wav);
        let p = &decoded.prediction;
        let column = |t: &Option<Tensor>| -> Result<Option<Vec<f32>>> {
            t.as_ref()
                .map(|t| {
                    Vec::<f32>::try_from(
                        t.to_kind(Kind::Float).to_device(Device::Cpu).flatten(0, -1),
                    )
                    .map_err(model_err)
                })
                .transpose()
        };
        let expected = column(&p.expected_reward_m)?;
        let p_success = column(&p.p_success)?;
        let token = column(&p.reward_m)?;
        let mut out = Vec::with_capacity(actions.len());
        for (i, (&a, o)) in actions.iter().zip(observations).enumerate() {
            let moved = match (&expected, &token) {
                (Some(e), _) => e[i],
                (None, Some(t)) => t[i],
                (None, None) => 0.0,
            };
            let stop = a == Action::Stop;
            let reward = SLACK_REWARD
                + match (stop, &p_success) {
                    (true, Some(ps)) => SUCCESS_REWARD * ps[i],
                    _ => moved,
                };
            let obs = if stop {
                None
            } else {
                Some(agent_obs(&o, image_size)?)
            };
            let i = i as i64;
            out.push(Imagined {
                state: Branch(Context {
                    visual: row(&next.visual, i),
                    audio: row(&next.audio, i),
                    pose: row(&next.pose, i),
                }),
                obs,
                reward,
                done: stop,
            });
        }
        Ok(out)
    }
}
