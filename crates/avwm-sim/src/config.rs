//! Simulator configuration.

use avwm_audio::binaural::RenderConfig;
use avwm_audio::propagation::AcousticsConfig;
use avwm_nav::NavConfig;
use avwm_render::CameraConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which head-related transfer function renders the binaural audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HrtfChoice {
    /// The vendored MIT KEMAR (normal pinna) measurements.
    #[default]
    Kemar,
    /// Any SOFA `SimpleFreeFieldHRIR` file; falls back to the spherical head if it cannot be read.
    Sofa {
        /// Path of the SOFA file.
        path: PathBuf,
    },
    /// The Brown–Duda spherical-head model (no data file).
    SphericalHead,
}

/// The looping sound that the source plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceChoice {
    /// The synthesized telephone ring.
    #[default]
    Ringtone,
    /// A WAV file (mixed to mono, resampled to 16 kHz), looped.
    Wav {
        /// Path of the WAV file.
        path: PathBuf,
    },
}

/// The default source level (dBFS): see [`SimConfig::source_level_dbfs`].
pub const DEFAULT_SOURCE_LEVEL_DBFS: f32 = -40.0;

/// Everything the simulator needs besides the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Seed of the scene's acoustic precomputation (late-tail ray tracing); responses are a
    /// pure function of (scene, this seed, listener position).
    pub acoustic_seed: u64,
    /// Camera.
    pub camera: CameraConfig,
    /// Navigation grid.
    pub nav: NavConfig,
    /// Sound propagation.
    pub acoustics: AcousticsConfig,
    /// Binaural RIR synthesis.
    pub binaural: RenderConfig,
    /// HRTF.
    pub hrtf: HrtfChoice,
    /// Source signal.
    pub source: SourceChoice,
    /// Level convention: the source signal (ringtone or WAV) is scaled so that the RMS of one
    /// loop period is this many dB relative to full scale. Since a path's pressure falls as
    /// `1/r` with `r` in metres, this is the RMS of the free-field direct sound 1 m from the
    /// source. One gain for every scene and position: relative levels are physical, and the
    /// default (−40 dBFS, [`DEFAULT_SOURCE_LEVEL_DBFS`]) leaves headroom so that the loudest
    /// frames, next to the source in reverberant rooms, stay below full scale.
    pub source_level_dbfs: f32,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            acoustic_seed: 0,
            camera: CameraConfig::default(),
            nav: NavConfig::default(),
            acoustics: AcousticsConfig::default(),
            binaural: RenderConfig::default(),
            hrtf: HrtfChoice::default(),
            source: SourceChoice::default(),
            source_level_dbfs: DEFAULT_SOURCE_LEVEL_DBFS,
        }
    }
}

impl SimConfig {
    /// A fast configuration for tests and smoke runs: 32×32 images, a lighter acoustic
    /// precomputation and shorter RIRs. Physics and the step contract are unchanged.
    pub fn tiny() -> SimConfig {
        let mut cfg = SimConfig::default();
        cfg.camera.width = 32;
        cfg.camera.height = 32;
        cfg.acoustics.field_rays = 2000;
        cfg.acoustics.receiver_rays = 500;
        cfg.acoustics.max_rir_s = 1.0;
        cfg
    }

    /// The named preset: `tiny` or `default`.
    pub fn preset(name: &str) -> Option<SimConfig> {
        match name {
            "tiny" => Some(SimConfig::tiny()),
            "default" => Some(SimConfig::default()),
            _ => None,
        }
    }
}
