//! Seeing and hearing the world model beside the simulator.
//!
//! * [`imagine`]: the [`Imaginer`], a world model fed live from the simulator's observations
//!   (encoded by the frozen tokenizers into a sliding history) that imagines any action sequence;
//! * [`session`]: a driving session, the simulator and the imaginer stepping together, with the
//!   truth and the imagination of every step;
//! * [`demo`]: `avwm demo`, a short drive written as one self-contained HTML page (frames,
//!   spectrograms, audio players, reward curves);
//! * [`bench`](mod@bench): `avwm bench view`, the time one viewer step takes to answer;
//! * [`server`]: `avwm view`, a local web page on 127.0.0.1 that drives the agent with the keys.
#![warn(missing_docs)]

pub mod bench;
pub mod demo;
pub mod imagine;
pub mod media;
pub mod server;
pub mod session;

pub use imagine::{Imagined, Imaginer, ImaginerConfig};
pub use session::{Session, SessionConfig, StepRecord};

use std::path::PathBuf;

/// Errors of the viewer and the demo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ViewError {
    /// Loading or running the world model.
    #[error("world model: {0}")]
    Model(#[from] avwm_model::ModelError),
    /// The simulator.
    #[error("simulator: {0}")]
    Sim(#[from] avwm_sim::SimError),
    /// Building a scene.
    #[error("scene: {0}")]
    Scene(#[from] avwm_scene::SceneError),
    /// Model, tokenizers and observations that do not fit together.
    #[error("{0}")]
    Mismatch(String),
    /// Imagining before any observation.
    #[error("no observation yet: reset the session first")]
    NoObservation,
    /// A bad request or option.
    #[error("{0}")]
    Invalid(String),
    /// Encoding a picture or a sound.
    #[error("encoding: {0}")]
    Encode(String),
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The HTTP server.
    #[error("server: {0}")]
    Server(String),
}

impl From<avwm_core::IoError> for ViewError {
    fn from(e: avwm_core::IoError) -> Self {
        ViewError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// Result with [`ViewError`].
pub type Result<T> = std::result::Result<T, ViewError>;
