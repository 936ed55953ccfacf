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
        })
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
        Ok(())
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
        (v + a + r, self.context * (v + a))
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
