//! The error type of every fallible metric.

use thiserror::Error;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, MetricsError>;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// An input buffer has no elements.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: &'static str,
    },
    /// Two inputs that must have the same length do not.
    #[error("length mismatch for {what}: {left} vs {right}")]
    LengthMismatch {
        /// Which pair of inputs.
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// An image buffer does not hold `width * height * channels` values.
    #[error("image buffer holds {len} values but {width}x{height}x{channels} needs {expected}")]
    ImageSize {
        /// Length of the buffer.
        len: usize,
        /// Declared width.
        width: usize,
        /// Declared height.
        height: usize,
        /// Declared channel count.
        channels: usize,
        /// `width * height * channels`.
        expected: usize,
    },
    /// The image is smaller than the SSIM window in one dimension.
    #[error("image of {width}x{height} is smaller than the {window}x{window} SSIM window")]
    TooSmall {
        /// Image width.
        width: usize,
        /// Image height.
        height: usize,
        /// Side of the square window.
        window: usize,
    },
    /// An input holds a NaN or an infinity.
    #[error("{what} holds a non-finite value at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Index of the first offending value.
        index: usize,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The FFT library rejected a call (an internal bug: buffer sizes are ours).
    #[error("FFT failed: {0}")]
    Fft(String),
}
