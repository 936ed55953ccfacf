//! What `avwm model info` reports about an architecture: parameters (in total and per group),
//! token counts and forward FLOPs, computed by building the network once on the CPU.

use crate::config::{ModelConfig, Streams};
use crate::train::build;
use avwm_core::Seed;
use serde::Serialize;
use std::collections::BTreeMap;

/// Size and cost of a world-model architecture.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// The architecture.
    pub config: ModelConfig,
    /// Parameters in total.
    pub parameters: i64,
    /// Parameters per group: the top-level module (`vis`, `aud`, `rhead`, …), and for the
    /// blocks each kind of sub-module summed over all blocks (`blocks.attn`, `blocks.mlp`, …).
    pub parameters_by_group: BTreeMap<String, i64>,
    /// Tokens the network predicts per sample.
    pub target_tokens: i64,
    /// Context tokens it attends to per sample.
    pub context_tokens: i64,
    /// Forward GFLOPs per sample with every stream of the variant.
    pub gflops_forward_per_sample: f64,
    /// Forward GFLOPs per sample with the visual stream alone (0 without one).
    pub gflops_forward_vision_only: f64,
    /// Forward GFLOPs per sample with the audio stream alone (0 without one).
    pub gflops_forward_audio_only: f64,
}

/// The group a parameter belongs to: its first name component, or `blocks.<sub-module>` (the
/// block index dropped) for a parameter of a block.
pub fn group_of(name: &str) -> String {
    let mut parts = name.split('.');
    match parts.next() {
        Some("blocks") => {
            parts.next();
            format!("blocks.{}", parts.next().unwrap_or(""))
        }
        Some(g) => g.to_string(),
        None => String::new(),
    }
}

impl ModelInfo {
    /// Builds the network of `cfg` (CPU, seed 0) and measures it.
    ///
    /// # Errors
    /// [`crate::ModelError::Config`] for an invalid architecture.
    pub fn of(cfg: &ModelConfig) -> crate::Result<ModelInfo> {
        cfg.validate()?;
        let (vs, _net) = build(cfg, Seed(0), tch::Device::Cpu);
        let mut by_group = BTreeMap::new();
        let mut total = 0;
        for (name, t) in avwm_nn::ckpt::named_variables(&vs) {
            let n = t.numel() as i64;
            total += n;
            *by_group.entry(group_of(&name)).or_insert(0) += n;
        }
        let (n, m) = cfg.token_counts(cfg.streams());
        let gflops = |s: Streams, present: bool| {
            if present {
                cfg.forward_flops(s) / 1e9
            } else {
                0.0
            }
        };
        Ok(ModelInfo {
            parameters: total,
            parameters_by_group: by_group,
            target_tokens: n,
            context_tokens: m,
            gflops_forward_per_sample: gflops(cfg.streams(), true),
            gflops_forward_vision_only: gflops(Streams::VISUAL, cfg.variant.has_visual()),
            gflops_forward_audio_only: gflops(Streams::AUDIO, cfg.variant.has_audio()),
            config: cfg.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_add_up_to_the_total_and_block_modules_are_summed() {
        let cfg = ModelConfig::preset("tiny").unwrap();
        let info = ModelInfo::of(&cfg).unwrap();
        assert_eq!(
            info.parameters_by_group.values().sum::<i64>(),
            info.parameters
        );
        assert!(
            info.parameters_by_group
                .keys()
                .any(|k| k.starts_with("blocks.")),
            "{:?}",
            info.parameters_by_group.keys()
        );
        assert!(
            !info
                .parameters_by_group
                .keys()
                .any(|k| k.starts_with("blocks.0")),
            "block indices are dropped"
        );
        assert_eq!(group_of("blocks.3.attn.qkv.weight"), "blocks.attn");
        assert_eq!(group_of("vis.embed.weight"), "vis");
        assert!(info.gflops_forward_per_sample >= info.gflops_forward_vision_only);
        assert!(info.target_tokens > 0 && info.context_tokens > 0);
    }
}
