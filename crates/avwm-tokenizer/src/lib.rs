//! avwm's frozen tokenizers: the visual autoencoder ([`vae`], SD-VAE style, 8× downsampling) and
//! the audio autoencoder ([`codec`], SoundStream style), their training ([`train`]), evaluation
//! ([`eval`]) and the latent cache of a whole dataset ([`cache`]).
//!
//! A trained tokenizer is two files: `<name>.safetensors` (EMA weights) and `<name>.json`
//! ([`TokenizerMeta`]: modality, architecture, latent scale factor, provenance).
#![warn(missing_docs)]

pub mod cache;
pub mod codec;
pub mod data;
pub mod eval;
pub mod mdct;
mod tokenizer;
pub mod train;
pub mod vae;

pub use tokenizer::{Arch, Modality, Tokenizer, TokenizerMeta};

/// Errors of the tokenizers.
#[derive(Debug, thiserror::Error)]
pub enum TokError {
    /// Foundation error (checkpoint, libtorch, I/O, NaN loss).
    #[error(transparent)]
    Nn(#[from] avwm_nn::NnError),
    /// Dataset error.
    #[error(transparent)]
    Dataset(#[from] avwm_data::DataError),
    /// Metric error.
    #[error(transparent)]
    Metric(#[from] avwm_metrics::MetricsError),
    /// A dataset split holds no frames.
    #[error("{}: split `{split}` has no frames", dir.display())]
    EmptySplit {
        /// The dataset folder.
        dir: std::path::PathBuf,
        /// The split.
        split: &'static str,
    },
    /// A frame's image or audio size differs from the split's first frame.
    #[error(
        "{}: episode {episode} step {step} is {found}, the split's first frame {expected}",
        dir.display()
    )]
    FrameSize {
        /// The dataset folder.
        dir: std::path::PathBuf,
        /// Episode of the frame.
        episode: u64,
        /// Step of the frame.
        step: usize,
        /// The first frame's size (`W×H px, T samples`).
        expected: String,
        /// This frame's size.
        found: String,
    },
    /// Training was given no training frames.
    #[error("the training split has no frames")]
    NoTrainingFrames,
    /// Bad configuration or run folder.
    #[error("{0}")]
    Config(String),
}

impl From<avwm_core::IoError> for TokError {
    fn from(e: avwm_core::IoError) -> Self {
        TokError::Nn(e.into())
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, TokError>;
