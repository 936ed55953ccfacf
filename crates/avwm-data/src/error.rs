//! Errors of the dataset crate.

use std::path::PathBuf;

/// Everything that can go wrong while writing or reading a dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The Parquet library rejected a file (truncated, corrupt or not Parquet at all).
    #[error("{path}: not a readable Parquet file: {source}")]
    Parquet {
        /// The shard.
        path: PathBuf,
        /// The underlying error.
        source: parquet::errors::ParquetError,
    },
    /// An Arrow operation failed (schema mismatch while building or reading a batch).
    #[error("{path}: arrow: {source}")]
    Arrow {
        /// The shard.
        path: PathBuf,
        /// The underlying error.
        source: arrow_schema::ArrowError,
    },
    /// The dataset folder has no `info.json`.
    #[error(
        "{dir}: no info.json here; is this an avwm dataset folder (made by `avwm data generate`)?"
    )]
    MissingInfo {
        /// The folder.
        dir: PathBuf,
    },
    /// `info.json` is not valid JSON or does not have the expected fields.
    #[error("{path}: invalid info.json: {source}")]
    BadInfo {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The dataset (or shard) was made by another format version of this crate.
    #[error(
        "{path}: dataset format version {found}, this build reads version {expected}; regenerate it with this version of `avwm data generate`"
    )]
    Version {
        /// The file that carries the version.
        path: PathBuf,
        /// Version found in the file.
        found: String,
        /// Version this build reads.
        expected: u32,
    },
    /// A Parquet file that is valid but was not written by avwm (missing metadata or columns).
    #[error("{path}: not an avwm dataset shard: {reason}")]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What is missing or different.
        reason: String,
    },
    /// The content of a shard is inconsistent with `info.json` or with itself.
    #[error("{path}: corrupt dataset: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An embedded PNG or WAV could not be encoded or decoded.
    #[error("media: {0}")]
    Media(String),
    /// Audio above full scale cannot be written as 16-bit PCM without clipping; the encoder
    /// refuses rather than clip silently.
    #[error(
        "16-bit PCM would clip {samples} samples above full scale (peak {peak_dbfs:+.1} dBFS): lower the source level ([sim] source_level_dbfs) or write float32 audio"
    )]
    Clipping {
        /// Samples with |x| > 1.
        samples: usize,
        /// The largest |x| in dBFS.
        peak_dbfs: f64,
    },
    /// There is no episode with this id (after filtering).
    #[error("no episode with id {0} in this dataset")]
    NoSuchEpisode(u64),
    /// The episode has no frame with this step index.
    #[error("episode {episode} has {frames} frames, no step {step}")]
    NoSuchFrame {
        /// Episode id.
        episode: u64,
        /// Requested step.
        step: usize,
        /// Number of frames in the episode.
        frames: usize,
    },
    /// A bad argument (window sizes, filters, values out of range).
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A chart could not be drawn or encoded (file errors are [`DataError::Io`]).
    #[error(transparent)]
    Plot(avwm_plot::PlotError),
}

/// Result alias of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Attaches a path to an I/O error.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DataError {
    let path = path.into();
    move |source| DataError::Io { path, source }
}

impl From<avwm_core::IoError> for DataError {
    fn from(e: avwm_core::IoError) -> Self {
        DataError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

impl From<avwm_plot::PlotError> for DataError {
    fn from(e: avwm_plot::PlotError) -> Self {
        match e {
            avwm_plot::PlotError::Io(e) => e.into(),
            e => DataError::Plot(e),
        }
    }
}
