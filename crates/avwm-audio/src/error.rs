//! The error type of `avwm-audio`.
//!
//! One enum for the whole crate (propagation and rendering). Every variant that concerns a file
//! carries its path, so that the message alone says which file is broken.

use std::path::PathBuf;

/// Everything that can go wrong in `avwm-audio`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A SOFA (HRTF) file could not be parsed or does not hold usable HRIRs.
    #[error("bad SOFA file {path}: {reason}")]
    BadSofa {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A WAV file could not be parsed or has an unsupported layout.
    #[error("bad WAV file {path}: {reason}")]
    BadWav {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A thread pool could not be started (benchmarks).
    #[error("could not start a thread pool: {0}")]
    Threads(String),
    /// An invalid configuration value.
    #[error("invalid audio configuration: {0}")]
    Config(String),
}

/// `Result` with [`AudioError`] as the default error.
pub type Result<T, E = AudioError> = std::result::Result<T, E>;
