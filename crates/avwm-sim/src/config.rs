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

/// The lowest source level [`SimConfig::validate`] accepts (dBFS at 1 m): quieter than PCM16 can
/// represent at any distance.
pub const MIN_SOURCE_LEVEL_DBFS: f32 = -200.0;
/// The highest source level [`SimConfig::validate`] accepts (dBFS at 1 m): every frame would
/// clip, but the float pipeline stays finite.
pub const MAX_SOURCE_LEVEL_DBFS: f32 = 40.0;

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

    /// Checks every part (camera, navigation grid, acoustics, binaural rendering) and the source
    /// level, without building anything: what [`crate::Simulator::new`] does first, and what a
    /// configuration file must pass.
    ///
    /// # Errors
    /// The first part that is out of range, named by the part's own error.
    pub fn validate(&self) -> Result<(), crate::SimError> {
        self.camera.validate()?;
        self.nav.validate()?;
        self.acoustics.validate()?;
        self.binaural.validate()?;
        if !(self.source_level_dbfs.is_finite()
            && (MIN_SOURCE_LEVEL_DBFS..=MAX_SOURCE_LEVEL_DBFS).contains(&self.source_level_dbfs))
        {
            return Err(avwm_audio::AudioError::Config(format!(
                "source_level_dbfs must be in [{MIN_SOURCE_LEVEL_DBFS}, {MAX_SOURCE_LEVEL_DBFS}] dBFS, got {}",
                self.source_level_dbfs
            ))
            .into());
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_every_part_is_checked() {
        SimConfig::default().validate().unwrap();
        SimConfig::tiny().validate().unwrap();
        let refused = |f: fn(&mut SimConfig), what: &str| {
            let mut c = SimConfig::tiny();
            f(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(what), "expected `{what}` in: {e}");
        };
        refused(|c| c.source_level_dbfs = f32::NAN, "source_level_dbfs");
        refused(|c| c.source_level_dbfs = 300.0, "source_level_dbfs");
        refused(|c| c.acoustics.field_rays = 0, "field_rays");
        refused(|c| c.acoustics.field_rays = usize::MAX, "field_rays");
        refused(|c| c.acoustics.max_bounces = 1 << 40, "max_bounces");
        refused(|c| c.nav.cell_m = 0.0, "cell_m");
        refused(|c| c.camera.width = 0, "width");
        refused(|c| c.binaural.sample_rate_hz = 1, "sample_rate_hz");
        // The extremes allowed are allowed.
        let mut c = SimConfig::tiny();
        c.source_level_dbfs = MAX_SOURCE_LEVEL_DBFS;
        c.acoustics.field_rays = 1_000_000;
        c.validate().unwrap();
    }
}
