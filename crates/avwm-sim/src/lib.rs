//! The audio-visual simulator: it ties a [`avwm_scene::Scene`] to navigation, the camera and
//! room acoustics, and implements [`avwm_core::Env`].
//!
//! * [`Simulator`]: reset/step/snapshot/restore, SoundSpaces reward, per-stage [`StepTimings`];
//! * [`policy`]: simple agents for recording (shortest path, random, scripted);
//! * [`record`]: writes an episode to a folder (PNG frames, stitched WAV, JSONL log, map);
//! * [`mod@bench`]: the `avwm bench sim` measurements.
//!
//! It does not learn anything and never depends on the model crates.
#![warn(missing_docs)]

pub mod bench;
mod config;
pub mod policy;
pub mod record;
mod sim;

pub use config::{
    DEFAULT_SOURCE_LEVEL_DBFS, HrtfChoice, MAX_SOURCE_LEVEL_DBFS, MIN_SOURCE_LEVEL_DBFS, SimConfig,
    SourceChoice,
};
pub use sim::{EpisodeState, SimError, Simulator, StepTimings};
