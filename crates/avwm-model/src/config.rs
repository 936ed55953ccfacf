//! Architecture of AV-CDiT: presets, variants, parameter and FLOP counts.
//!
//! Token layout of one sample (the `small` preset on avwm's latents):
//! * visual latent 4×16×16 (the visual tokenizer's 8× downsampling of 128² RGB), patch 2 →
//!   64 tokens of 16 values;
//! * audio latent 65×15 (the audio codec: 64 channels + 1 level channel, 15 frames per 0.15 s) →
//!   15 tokens, one per latent frame;
//! * reward: the scalar broadcast to `reward_dim` values → 1 token.
//!
//! Target sequence `[visual : audio : reward]` (80 tokens); context: 4 past frames of
//! `[visual : audio]` (316 tokens), read by cross-attention only, as in NWM's CDiT.

use crate::{ModelError, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Which modalities a model has (the full AV-CDiT or a modality-factorised baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// AV-CDiT: visual, audio and reward tokens.
    Full,
    /// A vision-only CDiT (the NWM analogue): visual tokens only, visual context.
    VisionOnly,
    /// An action-conditioned audio-only latent diffusion model: audio and reward tokens, audio
    /// context, the same action/Δt conditioning.
    AudioOnly,
}

impl Variant {
    /// Whether the model has visual tokens.
    pub fn has_visual(self) -> bool {
        matches!(self, Variant::Full | Variant::VisionOnly)
    }

    /// Whether the model has audio (and reward) tokens.
    pub fn has_audio(self) -> bool {
        matches!(self, Variant::Full | Variant::AudioOnly)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Full => "full",
            Variant::VisionOnly => "vision-only",
            Variant::AudioOnly => "audio-only",
        }
    }
}

impl std::str::FromStr for Variant {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Variant> {
        match s {
            "full" => Ok(Variant::Full),
            "vision-only" => Ok(Variant::VisionOnly),
            "audio-only" => Ok(Variant::AudioOnly),
            _ => Err(ModelError::Config(format!(
                "unknown variant `{s}` (full, vision-only, audio-only)"
            ))),
        }
    }
}

/// What the network predicts and how targets enter the diffusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// The paper's (DiT's) parameterisation: the targets themselves are diffused, the network
    /// predicts the noise ε and the interpolation `v` of the learned variance, trained with
    /// `L_simple + L_vb`.
    #[default]
    Epsilon,
    /// avwm's: each stream is diffused as its **residual** against a base taken from the
    /// context (visual: the last context frame; audio: the context frame one or two source
    /// periods before the target, see [`ModelConfig::audio_period`]; reward: 0), the bases
    /// enter the network beside the noisy residuals (as DIAMOND concatenates its previous
    /// frames), and the network's output `F` gives the clean residual as
    /// `√ᾱ·x_k + √(1−ᾱ)·F` (v-prediction, i.e. EDM's preconditioning with σ_data = 1). At
    /// initialisation `F = 0`, so a one-step sample from pure noise is the base: the model
    /// starts as "copy the last frame" and learns what changes. Trained with the mean squared
    /// error of `F` (fixed variance; DDIM sampling).
    ResidualV,
}

/// How the deterministic reward head turns its output into the expected reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardForm {
    /// The head's output is the expected reward itself (models trained before this choice).
    #[default]
    Direct,
    /// The head's output is the expected reward **per metre of displacement**, multiplied by the
    /// length of the action's displacement. The reward is the drop of the geodesic distance to
    /// the source, a function of the start and end positions only: a turn or STOP earns exactly
    /// 0, and a move earns about the displacement times the cosine between it and the direction
    /// in which the distance falls. The form makes the first exact and leaves the head to learn
    /// the second, a bounded number that the sound's direction decides.
    PerMetre,
}

/// Which streams take part in one forward pass (a training stage may use a subset of the
/// model's modalities: stage 1 is vision only, stage 2 audio only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streams {
    /// Visual target and context tokens.
    pub visual: bool,
    /// Audio target and context tokens, and the reward token.
    pub audio: bool,
}

impl Streams {
    /// Both modalities.
    pub const BOTH: Streams = Streams {
        visual: true,
        audio: true,
    };
    /// Vision only.
    pub const VISUAL: Streams = Streams {
        visual: true,
        audio: false,
    };
    /// Audio (and reward) only.
    pub const AUDIO: Streams = Streams {
        visual: false,
        audio: true,
    };
}

/// The architecture, saved beside every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Which modalities the model has.
    pub variant: Variant,
    /// Number of CDiT blocks.
    pub depth: usize,
    /// Model width D.
    pub width: i64,
    /// Attention heads (D must be divisible).
    pub heads: i64,
    /// Feed-forward hidden width as a multiple of D.
    pub mlp_ratio: i64,
    /// Modality-expert feed-forward layers (`false`: one shared feed-forward network, the
    /// `--no-experts` ablation).
    pub experts: bool,
    /// Visual patch size on the latent grid.
    pub patch: i64,
    /// Visual latent channels.
    pub visual_channels: i64,
    /// Visual latent side (square grid).
    pub visual_size: i64,
    /// Audio latent channels per frame.
    pub audio_dim: i64,
    /// Audio latent frames per segment.
    pub audio_frames: i64,
    /// Number of values the scalar reward is broadcast to (the reward token's input).
    pub reward_dim: i64,
    /// Context frames.
    pub context: i64,
    /// Multiply visual latents (as stored in the cache, unscaled) by this before diffusion.
    pub visual_scale: f64,
    /// Multiply audio latents by this before diffusion.
    pub audio_scale: f64,
    /// Reward unit: the diffused reward value is `reward_m / reward_scale_m`.
    pub reward_scale_m: f64,
    /// Action position unit (m): displacements are fed to the sinusoids in these units.
    pub action_unit_m: f64,
    /// Parameterisation of the diffusion ([`Prediction`]).
    #[serde(default)]
    pub prediction: Prediction,
    /// Audio memory: frames of audio history the model hears (≥ `context`; 0 means `context`).
    /// The last `context` frames enter as full token sequences; each older frame is pooled into
    /// one token (a gated MLP per latent frame, averaged), with an embedding of its pose
    /// relative to the anchor.
    #[serde(default)]
    pub audio_memory: i64,
    /// Period of the source signal in frames (the ringtone: 1.2 s = 8 frames), used by
    /// [`Prediction::ResidualV`] to take as the audio base the latest context frame a whole
    /// number of periods before the target; 0: the last context frame.
    #[serde(default)]
    pub audio_period: i64,
    /// A deterministic reward head beside the diffused reward token: from the audio memory,
    /// the poses of its frames and the action, it predicts the expected reward E\[r\] and the
    /// probability that the target frame is within the success radius (where STOP succeeds).
    #[serde(default)]
    pub reward_head: bool,
    /// How the reward head's output becomes the expected reward ([`RewardForm`]). The form
    /// changes no parameter, so a head of either form trains on the same joint stage.
    #[serde(default)]
    pub reward_form: RewardForm,
    /// Channels per frame of the audio tokenizer's latent when the model diffuses only its first
    /// `audio_dim` channels (0: the same as `audio_dim`). With the spectral tokenizer avwm models
    /// the band levels (its first `2·bands` channels) and carries the rest, the normalised band
    /// shapes (the fine structure, which is noise to a model), unchanged from the audio base
    /// frame ([`ModelConfig::audio_base`]); so it needs [`Prediction::ResidualV`]. Contexts,
    /// bases and predictions hold all `audio_latent_dim` channels; the network reads the
    /// modelled ones.
    #[serde(default)]
    pub audio_latent_dim: i64,
}

impl ModelConfig {
    /// A preset: `tiny` (tests, seconds), `small` (the CPU default), `base` (the paper's
    /// CDiT-B size: depth 12, width 768, 12 heads; for GPUs).
    ///
    /// # Errors
    /// [`ModelError::Config`] for an unknown preset.
    pub fn preset(name: &str) -> Result<ModelConfig> {
        let (depth, width, heads) = match name {
            "tiny" => (2, 32, 1),
            "small" => (3, 320, 5),
            "base" => (12, 768, 12),
            _ => {
                return Err(ModelError::Config(format!(
                    "unknown model preset `{name}` (tiny, small, base)"
                )));
            }
        };
        let tiny = name == "tiny";
        Ok(ModelConfig {
            variant: Variant::Full,
            depth,
            width,
            heads,
            mlp_ratio: 4,
            experts: true,
            patch: 2,
            visual_channels: 4,
            visual_size: if tiny { 4 } else { 16 },
            audio_dim: 65,
            audio_frames: 15,
            reward_dim: 8,
            context: 4,
            visual_scale: 1.0,
            audio_scale: 1.0,
            reward_scale_m: 1.0,
            // avwm_core::FORWARD_STEP_M, exactly (the f32 constant widened is 0.15000000596).
            action_unit_m: 0.15,
            prediction: Prediction::Epsilon,
            audio_memory: 0,
            audio_period: 0,
            reward_head: false,
            reward_form: RewardForm::Direct,
            audio_latent_dim: 0,
        })
    }

    /// avwm's model on top of a preset's size: residual v-prediction against the last frame
    /// and the period-aligned audio frame, 16 frames (2.4 s) of audio memory, the
    /// deterministic reward head predicting the reward per metre of displacement.
    pub fn avwm(mut self) -> ModelConfig {
        self.prediction = Prediction::ResidualV;
        self.audio_memory = 16;
        self.audio_period = 8;
        self.reward_head = true;
        self.reward_form = RewardForm::PerMetre;
        self
    }

    /// Whether `other` has the same network (every parameter's name and shape, and what the
    /// diffusion learns), differing at most in the reward head's [`RewardForm`]: a head stage
    /// of either form trains on the same joint stage.
    pub fn same_network(&self, other: &ModelConfig) -> bool {
        *self
            == ModelConfig {
                reward_form: self.reward_form,
                ..other.clone()
            }
    }

    /// The design this configuration follows: `paper` (none of avwm's changes), `avwm` (all of
    /// them: [`ModelConfig::avwm`], modelling a part of the audio latent's channels), `avwm-no-memory`,
    /// `avwm-no-residual`, `avwm-no-reward-head`, `avwm-direct-reward` or `avwm-all-audio` (one
    /// ablated; `avwm-direct-reward`'s head predicts the reward itself, [`RewardForm::Direct`];
    /// the last models every channel of the audio latent), `avwm-custom` (another mix).
    pub fn design_name(&self) -> &'static str {
        let parts = [
            self.audio_memory > self.context,
            self.prediction == Prediction::ResidualV,
            self.reward_head,
            self.carries_audio(),
        ];
        match parts {
            [false, false, false, false] => "paper",
            [true, true, true, true] if self.reward_form == RewardForm::Direct => {
                "avwm-direct-reward"
            }
            [true, true, true, true] => "avwm",
            [false, true, true, true] => "avwm-no-memory",
            [true, false, true, false] => "avwm-no-residual",
            [true, true, false, true] => "avwm-no-reward-head",
            [true, true, true, false] => "avwm-all-audio",
            _ => "avwm-custom",
        }
    }

    /// Channels per frame of the audio latent (the tokenizer's), of which the network models the
    /// first `audio_dim`.
    pub fn audio_latent(&self) -> i64 {
        self.audio_latent_dim.max(self.audio_dim)
    }

    /// Whether the network models only the first `audio_dim` of the latent's channels.
    pub fn carries_audio(&self) -> bool {
        self.audio_latent() > self.audio_dim
    }

    /// The modelled channels of audio latents whose channel axis is `axis`.
    pub fn modelled_audio(&self, a: &Tensor, axis: i64) -> Tensor {
        if a.size()[axis as usize] > self.audio_dim {
            a.narrow(axis, 0, self.audio_dim)
        } else {
            a.shallow_clone()
        }
    }

    /// A full audio latent from its modelled channels `modelled` and, for the rest, those of
    /// `base` (channel axis `axis`): the identity without carried channels.
    pub fn with_carried_audio(&self, modelled: Tensor, base: &Tensor, axis: i64) -> Tensor {
        let full = base.size()[axis as usize];
        if full > self.audio_dim {
            Tensor::cat(
                &[
                    modelled,
                    base.narrow(axis, self.audio_dim, full - self.audio_dim),
                ],
                axis,
            )
        } else {
            modelled
        }
    }

    /// Frames of audio history (`audio_memory`, at least `context`).
    pub fn memory(&self) -> i64 {
        self.audio_memory.max(self.context)
    }

    /// Frames of history an anchor needs (visual context and audio memory).
    pub fn history(&self) -> i64 {
        if self.variant.has_audio() {
            self.memory()
        } else {
            self.context
        }
    }

    /// Output values per input value of the heads: 2 (ε and the variance interpolation) for
    /// [`Prediction::Epsilon`], 1 for [`Prediction::ResidualV`].
    pub fn head_multiplier(&self) -> i64 {
        match self.prediction {
            Prediction::Epsilon => 2,
            Prediction::ResidualV => 1,
        }
    }

    /// The audio base frame for an anchor at `t` and a target at `g` (absolute frame indices):
    /// `g − k·audio_period` for the smallest `k ≥ 1` that reaches the context (`≤ t`), or `t`
    /// without a period. Never older than the memory allows (`≥ t − memory + 1`).
    pub fn audio_base(&self, t: i64, g: i64) -> i64 {
        let p = self.audio_period;
        let base = if p > 0 {
            let k = ((g - t) as f64 / p as f64).ceil().max(1.0) as i64;
            g - k * p
        } else {
            t
        };
        base.clamp(t - self.memory() + 1, t)
    }

    /// Checks the shapes fit together.
    ///
    /// # Errors
    /// [`ModelError::Config`] naming the inconsistency.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::Config(m));
        if self.depth == 0 || self.width <= 0 || self.heads <= 0 || self.mlp_ratio <= 0 {
            return bad("depth, width, heads and mlp_ratio must be positive".into());
        }
        // Sizes from a model JSON reach libtorch's infallible constructors and the token and
        // FLOP arithmetic: keep them far from overflow and from allocations that cannot succeed.
        let caps: [(&str, i64, i64); 14] = [
            ("depth", self.depth as i64, 256),
            ("width", self.width, 1 << 14),
            ("heads", self.heads, 1 << 10),
            ("mlp_ratio", self.mlp_ratio, 64),
            ("patch", self.patch, 64),
            ("visual_size", self.visual_size, 1 << 12),
            ("visual_channels", self.visual_channels, 1 << 12),
            ("audio_dim", self.audio_dim, 1 << 16),
            ("audio_latent_dim", self.audio_latent_dim, 1 << 16),
            ("audio_frames", self.audio_frames, 1 << 12),
            ("reward_dim", self.reward_dim, 1 << 12),
            ("context", self.context, 1 << 10),
            ("audio_memory", self.audio_memory, 1 << 12),
            ("audio_period", self.audio_period, 1 << 12),
        ];
        if let Some((name, v, max)) = caps.iter().find(|(_, v, max)| v > max) {
            return bad(format!("{name} {v} is above the largest allowed, {max}"));
        }
        if self.width % self.heads != 0 {
            return bad(format!(
                "width {} is not divisible by {} heads",
                self.width, self.heads
            ));
        }
        if self.width < 3 {
            return bad("width must be at least 3 (three action embedders)".into());
        }
        if self.patch <= 0 || self.visual_size % self.patch != 0 {
            return bad(format!(
                "visual latent side {} is not a multiple of patch {}",
                self.visual_size, self.patch
            ));
        }
        if self.visual_channels <= 0
            || self.audio_dim <= 0
            || self.audio_frames <= 0
            || self.reward_dim <= 0
            || self.context <= 0
        {
            return bad("latent sizes and context must be positive".into());
        }
        for (name, v) in [
            ("visual_scale", self.visual_scale),
            ("audio_scale", self.audio_scale),
            ("reward_scale_m", self.reward_scale_m),
            ("action_unit_m", self.action_unit_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} must be positive and finite, got {v}"));
            }
        }
        if self.audio_memory < 0 || self.audio_period < 0 {
            return bad("audio_memory and audio_period must not be negative".into());
        }
        if self.audio_period >= self.memory() && self.audio_period > 0 {
            return bad(format!(
                "audio_period {} must be shorter than the audio memory of {} frames",
                self.audio_period,
                self.memory()
            ));
        }
        if self.audio_latent_dim < 0 {
            return bad("audio_latent_dim must not be negative".into());
        }
        if self.carries_audio() && self.prediction != Prediction::ResidualV {
            return bad(format!(
                "modelling {} of {} audio channels needs the residual parameterisation, which carries the rest from the audio base",
                self.audio_dim,
                self.audio_latent()
            ));
        }
        if self.reward_head && !self.variant.has_audio() {
            return bad("the reward head reads the audio memory: it needs audio".into());
        }
        Ok(())
    }

    /// A lower bound on the number of parameters of the network this configuration builds,
    /// computed without building it: per block the self-attention (`qkv`, `proj`), the
    /// cross-attention (`q`, `kv`, `out`) and one MLP, `(8 + 2·mlp_ratio)·width²` weights
    /// (embedders, modulation, experts beyond one, biases and the reward head are left out).
    /// A loader compares it with the weights file before it allocates anything. Call on a valid
    /// configuration.
    pub fn min_parameters(&self) -> u128 {
        let w = self.width.max(0) as u128;
        self.depth as u128 * (8 + 2 * self.mlp_ratio.max(0) as u128) * w * w
    }

    /// Visual tokens per frame.
    pub fn visual_tokens(&self) -> i64 {
        let g = self.visual_size / self.patch;
        g * g
    }

    /// Values per visual token (patch² × channels).
    pub fn patch_dim(&self) -> i64 {
        self.patch * self.patch * self.visual_channels
    }

    /// The streams this model can use.
    pub fn streams(&self) -> Streams {
        Streams {
            visual: self.variant.has_visual(),
            audio: self.variant.has_audio(),
        }
    }

    /// Target and context token counts for `streams`.
    pub fn token_counts(&self, s: Streams) -> (i64, i64) {
        let v = if s.visual { self.visual_tokens() } else { 0 };
        let a = if s.audio { self.audio_frames } else { 0 };
        let r = if s.audio { 1 } else { 0 };
        let pooled = if s.audio {
            self.memory() - self.context
        } else {
            0
        };
        (v + a + r, self.context * (v + a) + pooled)
    }

    /// Matmul FLOPs (2 × multiply-adds) of one forward pass for one target sample, including
    /// attention scores; element-wise work is not counted (the usual MFU convention).
    pub fn forward_flops(&self, s: Streams) -> f64 {
        let d = self.width as f64;
        let (n, m) = self.token_counts(s);
        let (n, m) = (n as f64, m as f64);
        let h = self.mlp_ratio as f64 * d;
        let per_block = 2.0 * d * 11.0 * d          // AdaLN
            + 2.0 * n * d * 3.0 * d + 2.0 * n * n * d * 2.0 + 2.0 * n * d * d // self-attention
            + 2.0 * n * d * d + 2.0 * m * d * 2.0 * d + 2.0 * n * (m + 1.0) * d * 2.0 + 2.0 * n * d * d // cross
            + 2.0 * n * d * h * 2.0; // feed-forward
        let mut embed = 0.0;
        let frames = self.context as f64 + 1.0;
        if s.visual {
            let t = self.visual_tokens() as f64;
            let pd = self.patch_dim() as f64;
            embed += frames * 2.0 * t * pd * d + 2.0 * t * d * 2.0 * pd;
        }
        if s.audio {
            let t = self.audio_frames as f64;
            let ad = self.audio_dim as f64;
            let rd = self.reward_dim as f64;
            embed += frames * 2.0 * t * ad * d + 2.0 * t * d * 2.0 * ad;
            embed += 2.0 * rd * d + 2.0 * d * 2.0 * rd;
        }
        let residual = self.prediction == Prediction::ResidualV;
        if s.visual && residual {
            // The base frame's adaptor.
            embed += 2.0 * self.visual_tokens() as f64 * self.patch_dim() as f64 * d;
        }
        if s.audio {
            let (t, ad) = (self.audio_frames as f64, self.audio_dim as f64);
            if residual {
                embed += 2.0 * t * ad * d;
            }
            // The pooled memory: a gated MLP per latent frame of every older frame.
            let older = (self.memory() - self.context) as f64;
            embed += older * t * (2.0 * ad * d * 2.0 + 2.0 * d * d);
            if self.reward_head {
                let w = crate::reward::HEAD_WIDTH as f64;
                let n = self.memory() as f64 + 1.0;
                let pool = (n - 1.0) * t * (2.0 * ad * w * 2.0 + 2.0 * w * w);
                let layers =
                    2.0 * (n * 2.0 * w * 4.0 * w + 2.0 * n * n * w * 2.0 + n * 2.0 * w * 8.0 * w);
                embed += pool + layers;
            }
        }
        // Conditioning: five sinusoid MLPs (k, Δt, three action parts) of 256 → w → w, summing to
        // 3 full-width ones; final AdaLN.
        let cond = 3.0 * (2.0 * 256.0 * d + 2.0 * d * d) + 2.0 * d * 2.0 * d;
        self.depth as f64 * per_block + embed + cond
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_names() {
        let p = ModelConfig::preset("small").unwrap();
        assert_eq!(p.design_name(), "paper");
        let a = ModelConfig {
            audio_dim: 40,
            audio_latent_dim: 360,
            ..p.clone().avwm()
        };
        assert_eq!(a.design_name(), "avwm");
        a.validate().unwrap();
        assert_eq!(p.clone().avwm().design_name(), "avwm-all-audio");
        let carried_without_residual = ModelConfig {
            prediction: Prediction::Epsilon,
            ..a.clone()
        };
        assert!(carried_without_residual.validate().is_err());
        let no_memory = ModelConfig {
            audio_memory: 0,
            ..a.clone()
        };
        assert_eq!(no_memory.design_name(), "avwm-no-memory");
        let no_head = ModelConfig {
            reward_head: false,
            ..a
        };
        assert_eq!(no_head.design_name(), "avwm-no-reward-head");
        let direct = ModelConfig {
            reward_form: RewardForm::Direct,
            ..no_head.clone()
        };
        assert_eq!(direct.design_name(), "avwm-no-reward-head");
        let direct = ModelConfig {
            reward_head: true,
            ..direct
        };
        assert_eq!(direct.design_name(), "avwm-direct-reward");
        assert!(direct.same_network(&ModelConfig {
            reward_head: true,
            ..no_head.clone()
        }));
        assert!(!direct.same_network(&no_head));
    }

    #[test]
    fn configs_written_before_the_reward_form_read_as_direct() {
        let cfg = ModelConfig::preset("small").unwrap().avwm();
        assert_eq!(cfg.reward_form, RewardForm::PerMetre);
        let mut json = serde_json::to_value(&cfg).unwrap();
        json.as_object_mut().unwrap().remove("reward_form");
        let old: ModelConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.reward_form, RewardForm::Direct);
        assert!(old.same_network(&cfg) && old != cfg);
    }

    #[test]
    fn carried_audio_channels_round_trip() {
        let cfg = ModelConfig {
            audio_dim: 2,
            audio_latent_dim: 5,
            ..ModelConfig::preset("tiny").unwrap().avwm()
        };
        let full = Tensor::arange(2 * 5 * 3, (tch::Kind::Float, tch::Device::Cpu)).view([2, 5, 3]);
        let m = cfg.modelled_audio(&full, 1);
        assert_eq!(m.size(), [2, 2, 3]);
        // The modelled channels with the rest of the same tensor give it back exactly.
        let back = cfg.with_carried_audio(m.shallow_clone(), &full, 1);
        assert!(back.equal(&full));
        // The carried channels come from the base, the modelled ones from the prediction.
        let base = full.zeros_like();
        let mixed = cfg.with_carried_audio(m, &base, 1);
        assert!(mixed.narrow(1, 0, 2).equal(&full.narrow(1, 0, 2)));
        assert_eq!(
            mixed
                .narrow(1, 2, 3)
                .abs()
                .sum(tch::Kind::Float)
                .double_value(&[]),
            0.0
        );
    }

    #[test]
    fn presets_validate_and_count_tokens() {
        for p in ["tiny", "small", "base"] {
            ModelConfig::preset(p).unwrap().validate().unwrap();
        }
        let s = ModelConfig::preset("small").unwrap();
        assert_eq!(s.token_counts(Streams::BOTH), (64 + 15 + 1, 4 * (64 + 15)));
        assert_eq!(s.token_counts(Streams::VISUAL), (64, 256));
        assert_eq!(s.token_counts(Streams::AUDIO), (16, 60));
        assert!(ModelConfig::preset("huge").is_err());
        let mut bad = s.clone();
        bad.heads = 7;
        assert!(bad.validate().is_err());
    }
}
