//! Room acoustics and binaural rendering.
//!
//! * [`paths`]: the contract between propagation and rendering: discrete propagation paths
//!   (direct, diffracted, transmitted, specular reflections) with per-band gains and arrival
//!   directions, plus a per-band energy histogram of the late (stochastic) part.
//! * propagation (image sources, diffraction, ray-traced late tail) produces an [`AcousticResponse`];
//! * binaural rendering (KEMAR HRTF or a spherical head) turns it into a two-channel RIR;
//! * step audio convolves a looping source with consecutive RIRs, crossfading between them.
#![warn(missing_docs)]

pub mod bench;
pub mod binaural;
pub mod dsp;
pub mod error;
pub mod paths;
pub mod propagation;
pub mod source;

pub use binaural::{BinauralRir, Hrtf, RenderConfig, render_binaural, render_omni};
pub use dsp::StepAudio;
pub use error::AudioError;
pub use paths::{AcousticResponse, EnergyHistogram, PathKind, PropagationPath};
pub use propagation::{AcousticScene, AcousticsConfig};
pub use source::{SourceSignal, write_wav};
