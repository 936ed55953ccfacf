//! Typed errors of the agent crate.

use std::path::PathBuf;

/// Everything that can go wrong training, loading or evaluating an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A configuration value out of range, or a run folder holding another configuration.
    #[error("invalid agent configuration: {0}")]
    Config(String),
    /// A checkpoint, agent or log file problem (from the network library).
    #[error(transparent)]
    Nn(#[from] avwm_nn::NnError),
    /// A figure could not be encoded.
    #[error(transparent)]
    Png(#[from] avwm_core::PngError),
    /// The simulator refused a reset or a step.
    #[error("simulator (scene {scene}): {source}")]
    Sim {
        /// Scene name.
        scene: String,
        /// What went wrong.
        source: avwm_sim::SimError,
    },
    /// A scene could not be generated or its simulator built.
    #[error("scene {scene}: {msg}")]
    Scene {
        /// Scene name or seed.
        scene: String,
        /// What went wrong.
        msg: String,
    },
    /// An episode file could not be read.
    #[error(transparent)]
    Episodes(#[from] avwm_datagen::GenError),
    /// An observation of the wrong size for the agent.
    #[error("observation {what}: expected {expected}, got {got}")]
    Shape {
        /// Which part of the observation.
        what: &'static str,
        /// Expected shape.
        expected: String,
        /// Observed shape.
        got: String,
    },
    /// A loss or a value became NaN or infinite.
    #[error("non-finite {what} at update {update}: {value} (the last checkpoint is kept)")]
    NonFinite {
        /// Which quantity.
        what: &'static str,
        /// Update index.
        update: u64,
        /// Its value.
        value: f64,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The world model used for planning failed.
    #[error("world model: {0}")]
    Model(String),
}

/// Result with [`AgentError`].
pub type Result<T> = std::result::Result<T, AgentError>;

impl AgentError {
    /// Wraps a simulator error with its scene's name.
    pub fn sim(scene: &str) -> impl FnOnce(avwm_sim::SimError) -> AgentError + '_ {
        move |source| AgentError::Sim {
            scene: scene.to_string(),
            source,
        }
    }
}

impl From<avwm_core::IoError> for AgentError {
    fn from(e: avwm_core::IoError) -> Self {
        AgentError::Io {
            path: e.path,
            source: e.source,
        }
    }
}
