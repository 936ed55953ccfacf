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
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;
