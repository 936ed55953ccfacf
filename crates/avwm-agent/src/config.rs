//! Agent architecture and training settings. Defaults follow `reference/planning.md` §0: a
//! ≈ 1 M-parameter AV-Nav network on 64×64 images, PPO at 16 envs × 128 steps, 2 epochs × 2
//! minibatches, lr 2.5e-4, clip 0.2, γ 0.99, λ 0.95, gradient norm 0.5.

use crate::{AgentError, Result};
use serde::{Deserialize, Serialize};

/// Spectrogram window length (samples): 8 ms at 16 kHz, 65 frequency bins.
pub const SPEC_N_FFT: i64 = 128;
/// Spectrogram hop (samples): 24 frames per 2,400-sample step.
pub const SPEC_HOP: i64 = 96;
/// Channels of the agent's audio input: two magnitudes and the interaural phase (cos, sin).
pub const SPEC_CHANNELS: i64 = 4;
/// Frequency bins of the spectrogram.
pub const SPEC_BINS: i64 = SPEC_N_FFT / 2 + 1;
/// Time frames of the spectrogram of one step.
pub const SPEC_FRAMES: i64 = 1 + (avwm_core::STEP_SAMPLES as i64 - SPEC_N_FFT) / SPEC_HOP;
/// Outputs of the goal auxiliary head: cos and sin of the goal's bearing in the agent's frame and
/// ln(1 + straight-line distance in metres).
pub const AUX_OUTPUTS: i64 = 3;

/// The network's sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetConfig {
    /// Side of the square RGB input (px). 64: the 128² render area-downsampled, or rendered
    /// natively at 64².
    pub image_size: i64,
    /// Channels of the visual CNN's three layers (kernels 8/4/3, strides 4/2/1, as SoundSpaces).
    pub visual_channels: [i64; 3],
    /// Width of the visual embedding.
    pub visual_embed: i64,
    /// Channels of the audio CNN's three layers.
    pub audio_channels: [i64; 3],
    /// Width of the audio embedding.
    pub audio_embed: i64,
    /// GRU state width.
    pub hidden: i64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            image_size: 64,
            visual_channels: [32, 64, 64],
            visual_embed: 256,
            audio_channels: [16, 32, 32],
            audio_embed: 128,
            hidden: 256,
        }
    }
}

impl NetConfig {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`AgentError::Config`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.image_size < 36 {
            return Err(AgentError::Config(format!(
                "image_size {} is below 36 px, too small for the visual CNN",
                self.image_size
            )));
        }
        let all = self
            .visual_channels
            .iter()
            .chain(&self.audio_channels)
            .chain([&self.visual_embed, &self.audio_embed, &self.hidden]);
        if all.clone().any(|&c| c < 1) {
            return Err(AgentError::Config("every layer width must be ≥ 1".into()));
        }
        Ok(())
    }
}

/// What a trained agent is: the network and where its training ran (stored as `agent.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Network sizes.
    pub net: NetConfig,
    /// The simulator preset its observations come from (`default` for the 128² data).
    pub sim_preset: String,
    /// Dataset preset whose training scenes it learned in.
    pub data_preset: String,
}

/// PPO and DAgger settings of `avwm agent train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Run seed; every episode, action sample and minibatch derives from it.
    pub seed: u64,
    /// Dataset preset the agent is evaluated on (`small`, `avw4k`, `tiny`): its validation and
    /// test scenes are never trained in, and its simulator settings are the agent's.
    pub data_preset: String,
    /// Dataset preset whose training split gives the training scenes, less `data_preset`'s
    /// validation and test scenes (name `data_preset` itself for its own training split). The
    /// default, `avw4k`, trains in ≈ 50 scenes instead of `small`'s 8, so the policy cannot
    /// learn the layouts by heart.
    pub scene_preset: String,
    /// Episodes an environment runs in one scene before it moves on to another. Building a
    /// scene's simulator takes ≈ 2 s, and an untrained policy STOPs after ≈ 9 steps, so a
    /// few episodes per scene would spend most of the early updates building simulators.
    pub episodes_per_scene: u64,
    /// Parallel environments.
    pub envs: usize,
    /// Steps per environment per update.
    pub rollout: usize,
    /// Frames (environment steps) to train for, in total.
    pub frames: u64,
    /// Frames of the DAgger warm start at the beginning (0: pure PPO).
    pub dagger_frames: u64,
    /// Probability of executing the expert's action at the start of DAgger; it falls linearly to
    /// 0 over the first half of the warm start.
    pub dagger_beta: f64,
    /// Render the agent's view at `net.image_size` natively (faster) instead of downsampling the
    /// 128² render. The two are compared by `avwm bench agent`.
    pub native_render: bool,
    /// Adam learning rate of PPO.
    pub lr: f64,
    /// Adam learning rate of the DAgger warm start (supervised: larger steps are safe).
    pub dagger_lr: f64,
    /// Epochs per update during the DAgger warm start.
    pub dagger_epochs: usize,
    /// PPO clip range.
    pub clip: f64,
    /// Entropy bonus.
    pub entropy_coef: f64,
    /// Value-loss weight.
    pub value_coef: f64,
    /// Goal-direction auxiliary loss weight.
    pub aux_coef: f64,
    /// Behaviour-cloning (cross-entropy to the expert) weight during PPO (DAgger uses 1).
    pub bc_coef_ppo: f64,
    /// Discount.
    pub gamma: f64,
    /// GAE λ.
    pub lambda: f64,
    /// PPO epochs per update.
    pub epochs: usize,
    /// Minibatches per epoch (the environments are split between them; whole sequences).
    pub minibatches: usize,
    /// Gradient-norm clip.
    pub grad_clip: f64,
    /// Smallest start geodesic distance of a training episode (m, exclusive).
    pub min_geodesic_m: f32,
    /// Smallest geodesic / Euclidean ratio of a training episode (exclusive).
    pub min_ratio: f32,
    /// Updates between checkpoints.
    pub checkpoint_every: u64,
    /// Network sizes.
    pub net: NetConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0,
            data_preset: "small".into(),
            scene_preset: "avw4k".into(),
            episodes_per_scene: 25,
            envs: 16,
            rollout: 128,
            frames: 10_000_000,
            dagger_frames: 3_000_000,
            dagger_beta: 0.5,
            native_render: true,
            lr: 2.5e-4,
            dagger_lr: 1e-3,
            dagger_epochs: 4,
            clip: 0.2,
            entropy_coef: 0.02,
            value_coef: 0.5,
            aux_coef: 0.25,
            bc_coef_ppo: 0.0,
            gamma: 0.99,
            lambda: 0.95,
            epochs: 2,
            minibatches: 2,
            grad_clip: 0.5,
            min_geodesic_m: 4.0,
            min_ratio: 1.1,
            checkpoint_every: 20,
            net: NetConfig::default(),
        }
    }
}

impl TrainConfig {
    /// Frames per update.
    pub fn frames_per_update(&self) -> u64 {
        (self.envs * self.rollout) as u64
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// [`AgentError::Config`] naming the field.
    pub fn validate(&self) -> Result<()> {
        self.net.validate()?;
        let bad = |m: String| Err(AgentError::Config(m));
        if self.envs == 0 || self.rollout == 0 {
            return bad("envs and rollout must be ≥ 1".into());
        }
        if self.minibatches == 0 || !self.envs.is_multiple_of(self.minibatches) {
            return bad(format!(
                "minibatches ({}) must divide envs ({})",
                self.minibatches, self.envs
            ));
        }
        if self.episodes_per_scene == 0 {
            return bad("episodes_per_scene must be ≥ 1".into());
        }
        if self.epochs == 0 || self.dagger_epochs == 0 {
            return bad("epochs and dagger_epochs must be ≥ 1".into());
        }
        if !(0.0..=1.0).contains(&self.dagger_beta) {
            return bad(format!("dagger_beta {} is not in [0, 1]", self.dagger_beta));
        }
        for (name, v) in [
            ("lr", self.lr),
            ("dagger_lr", self.dagger_lr),
            ("clip", self.clip),
            ("grad_clip", self.grad_clip),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} {v} must be > 0"));
            }
        }
        for (name, v) in [("gamma", self.gamma), ("lambda", self.lambda)] {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("{name} {v} is not in [0, 1]"));
            }
        }
        for (name, v) in [
            ("entropy_coef", self.entropy_coef),
            ("value_coef", self.value_coef),
            ("aux_coef", self.aux_coef),
            ("bc_coef_ppo", self.bc_coef_ppo),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} {v} must be ≥ 0"));
            }
        }
        if self.checkpoint_every == 0 {
            return bad("checkpoint_every must be ≥ 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectrogram_shape_follows_the_step() {
        assert_eq!(SPEC_BINS, 65);
        assert_eq!(SPEC_FRAMES, 24);
    }

    #[test]
    fn defaults_validate_and_bad_values_are_named() {
        TrainConfig::default().validate().unwrap();
        let e = TrainConfig {
            minibatches: 3,
            ..TrainConfig::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("minibatches (3)"), "{e}");
        let e = TrainConfig {
            gamma: 1.5,
            ..TrainConfig::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("gamma"), "{e}");
    }
}
