use std::path::PathBuf;

/// Errors of the neural-network foundation.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A libtorch call failed.
    #[error("{context}: {source}")]
    Torch {
        /// What was being done.
        context: String,
        /// The libtorch error.
        #[source]
        source: tch::TchError,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A checkpoint does not match the model (missing tensor, wrong shape, bad value).
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A configuration describes a network larger than its weights file holds
    /// ([`crate::ckpt::load_tensors_for`]); nothing was built.
    #[error(
        "{}: its architecture has at least {needed} parameters, but the weights file {} holds {held}",
        config.display(),
        weights.display()
    )]
    TooFewParameters {
        /// The configuration (JSON) file.
        config: PathBuf,
        /// The weights file.
        weights: PathBuf,
        /// The configuration's lower bound on its parameter count (saturated at `u64::MAX`).
        needed: u64,
        /// Elements held by the weights file.
        held: u64,
    },
    /// A loss became NaN or infinite; the last good checkpoint is intact.
    #[error(
        "loss is not finite at step {step} ({name} = {value}); the last good checkpoint is kept"
    )]
    NonFinite {
        /// The optimisation step.
        step: u64,
        /// Which loss term.
        name: String,
        /// Its value.
        value: f64,
    },
    /// A configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, NnError>;

impl NnError {
    /// Wraps a libtorch error with context.
    pub fn torch(context: impl Into<String>) -> impl FnOnce(tch::TchError) -> NnError {
        let context = context.into();
        move |source| NnError::Torch { context, source }
    }

    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> NnError {
        let path = path.into();
        move |source| NnError::Io { path, source }
    }
}

impl From<avwm_core::IoError> for NnError {
    fn from(e: avwm_core::IoError) -> Self {
        NnError::Io {
            path: e.path,
            source: e.source,
        }
    }
}
