//! [`EvalError`]: the errors of this crate.

/// Errors of the feature-network metrics.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// libtorch failed (loading a TorchScript file, running it, a tensor operation).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Reading the feature-network directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A feature-network file is inconsistent (missing companion file, wrong output shape, bad weights).
    #[error("feature network {file}: {msg}")]
    Network {
        /// The file concerned.
        file: String,
        /// What is wrong.
        msg: String,
    },
    /// Inputs of the wrong shape, kind, length or sample rate.
    #[error("bad input: {0}")]
    Input(String),
    /// The world model or its data (loading, shapes, latent cache).
    #[error(transparent)]
    Model(#[from] avwm_model::ModelError),
    /// The dataset (opening, reading frames).
    #[error(transparent)]
    Data(#[from] avwm_data::DataError),
    /// A per-sample metric failed (length mismatch, non-finite samples).
    #[error(transparent)]
    Metrics(#[from] avwm_metrics::MetricsError),
    /// A checkpoint, JSON or output file.
    #[error(transparent)]
    Nn(#[from] avwm_nn::NnError),
    /// Re-simulation of the dataset (counterfactual branches) failed.
    #[error(transparent)]
    Resim(#[from] avwm_datagen::resim::ResimError),
    /// A non-finite value where a finite one is required.
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// A chart or sheet could not be drawn or encoded (file errors are [`EvalError::Io`]).
    #[error(transparent)]
    Plot(avwm_plot::PlotError),
}

/// Result with [`EvalError`].
pub type Result<T> = std::result::Result<T, EvalError>;

impl From<avwm_core::IoError> for EvalError {
    fn from(e: avwm_core::IoError) -> Self {
        EvalError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

impl From<avwm_plot::PlotError> for EvalError {
    fn from(e: avwm_plot::PlotError) -> Self {
        match e {
            avwm_plot::PlotError::Io(e) => e.into(),
            e => EvalError::Plot(e),
        }
    }
}
