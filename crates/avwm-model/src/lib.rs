//! AV-CDiT, the audio-visual conditional diffusion transformer of avwm (paper §4), with its
//! diffusion process, three-stage training and prediction.
//!
//! * [`config`]: architecture ([`ModelConfig`], presets `tiny`/`small`/`base`), variants
//!   (full, vision-only CDiT, audio-only LDM, without modality experts), parameter and FLOP counts;
//! * [`net`]: the network (CDiT blocks with shared self- and cross-attention, AdaLN-zero and
//!   modality-expert feed-forward layers);
//! * [`diffusion`]: DDPM with 1000 linear-β steps, learned variance, `L_simple + L_vb`,
//!   respacing, ancestral DDPM and DDIM samplers;
//! * [`data`]: training transitions read from the latent cache (4 context frames, target offsets,
//!   aggregated actions, reward);
//! * [`train`]: the three training stages (and joint training), resumable, with EMA and logs;
//! * [`predict`]: the [`WorldModel`]: fixed-step and rollout prediction, decoded to image, binaural
//!   audio and reward.
#![warn(missing_docs)]

pub mod bench;
pub mod config;
pub mod data;
pub mod diffusion;
mod error;
pub mod info;
pub mod net;
pub mod noise;
pub mod predict;
pub mod reward;
pub mod run;
pub mod train;

pub use config::{ModelConfig, Variant};
pub use error::{CacheProblem, ModelError, Result};
pub use predict::WorldModel;
