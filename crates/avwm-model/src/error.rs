/// Errors of the world model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Foundation error (checkpoint, libtorch, I/O, NaN loss).
    #[error(transparent)]
    Nn(#[from] avwm_nn::NnError),
    /// Tokenizer or latent-cache error.
    #[error(transparent)]
    Tokenizer(#[from] avwm_tokenizer::TokError),
    /// Bad or inconsistent data (latent cache, context, actions).
    #[error("{0}")]
    Data(String),
    /// Bad configuration, run folder or model file.
    #[error("{0}")]
    Config(String),
    /// A model and a latent cache that do not fit together: the model was trained on latents
    /// of another shape or scale than the cache holds.
    #[error(
        "{model} expects {what} {expected}, but the latent cache {cache} holds {found} (was it encoded from another dataset preset or with other tokenizers?)"
    )]
    Mismatch {
        /// The model file.
        model: std::path::PathBuf,
        /// The latent cache.
        cache: std::path::PathBuf,
        /// What differs.
        what: &'static str,
        /// What the model expects.
        expected: String,
        /// What the cache holds.
        found: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

impl From<avwm_core::IoError> for ModelError {
    fn from(e: avwm_core::IoError) -> Self {
        ModelError::Nn(e.into())
    }
}
