//! Configuration of the propagation engine.

use crate::error::AudioError;
use avwm_core::{Bands, NUM_BANDS};
use serde::{Deserialize, Serialize};

/// Air absorption at 20 °C and 30–50 % relative humidity: energy attenuation coefficient per
/// metre for the octave bands 125 Hz…4 kHz. Values from the pyroomacoustics 0.10.1 table
/// (`reference/acoustics.md` §1.1); a path of length `d` m is scaled in amplitude by
/// `exp(-0.5·a·d)`, i.e. in energy by `exp(-a·d)`.
pub const AIR_ABSORPTION_20C_PER_M: Bands = [0.1e-3, 0.3e-3, 0.6e-3, 1.0e-3, 1.9e-3, 5.8e-3];

/// Settings of [`crate::propagation::AcousticScene`] and [`crate::propagation::shoebox::ShoeboxRoom`].
///
/// Every field has a default (see [`AcousticsConfig::default`]); a TOML table may set only some.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcousticsConfig {
    /// Maximum image-source order for arbitrary meshes (default 2; 2 to 6).
    pub ism_order: usize,
    /// Image-source order of the analytic shoebox model (default 10, as the pyroomacoustics anchor).
    pub shoebox_ism_order: usize,
    /// Number of deterministic guide rays (Fibonacci sphere) cast from the source and from the
    /// listener to find candidate reflecting planes (default 96).
    pub guide_rays: usize,
    /// Rays traced once per scene from the scene's source into the volumetric receiver field
    /// (default 20 000).
    pub field_rays: usize,
    /// Rays traced for a single-receiver response ([`crate::propagation::AcousticScene::response_between`],
    /// shoebox tail) (default 2000; pyroomacoustics uses 1670 for a 90 m³ room).
    pub receiver_rays: usize,
    /// Maximum number of reflections of one late-tail ray (default 400).
    pub max_bounces: usize,
    /// A ray stops once its energy (all bands, air absorption included) has fallen this many dB
    /// below its initial energy (default 60 dB).
    pub energy_cutoff_db: f32,
    /// Width of a late-histogram bin (s) (default 0.004 s, as pyroomacoustics / Vorländer).
    pub bin_s: f32,
    /// Maximum length of the response (s): rays stop after travelling `c · max_rir_s` (default 2 s).
    pub max_rir_s: f32,
    /// Horizontal size of a cell of the volumetric receiver field (m) (default 0.5 m).
    pub field_cell_m: f32,
    /// The receiver field is one slab of cells spanning ear height ± this (m) (default 0.5 m).
    pub field_half_height_m: f32,
    /// Edge length of the cubic receiver used for single-receiver responses (m) (default 0.8 m,
    /// about the volume of pyroomacoustics' 0.5 m receiver sphere).
    pub receiver_size_m: f32,
    /// Apply air absorption (default true).
    pub air_absorption: bool,
    /// Air absorption energy coefficients per metre per band (default
    /// [`AIR_ABSORPTION_20C_PER_M`]).
    pub air_absorption_per_m: Bands,
    /// Diffraction around the scene's explicit edges when the direct path is occluded (default true).
    pub diffraction: bool,
    /// Also search edge→edge (second-order) diffraction paths when no first-order one exists (default true).
    pub diffraction_order2: bool,
    /// Within this distance (m) of a diffraction point the legs' visibility test is relaxed, so
    /// that edges lying on wall corners (or inside thin walls) still see both sides: it must exceed
    /// the wall thickness crossed obliquely at a door jamb (default 0.25 m).
    pub edge_clearance_m: f32,
    /// Transmission through walls when the direct path is occluded (default true).
    pub transmission: bool,
}

impl Default for AcousticsConfig {
    fn default() -> Self {
        AcousticsConfig {
            ism_order: 2,
            shoebox_ism_order: 10,
            guide_rays: 96,
            field_rays: 20_000,
            receiver_rays: 2000,
            max_bounces: 400,
            energy_cutoff_db: 60.0,
            bin_s: 0.004,
            max_rir_s: 2.0,
            field_cell_m: 0.5,
            field_half_height_m: 0.5,
            receiver_size_m: 0.8,
            air_absorption: true,
            air_absorption_per_m: AIR_ABSORPTION_20C_PER_M,
            diffraction: true,
            diffraction_order2: true,
            edge_clearance_m: 0.25,
            transmission: true,
        }
    }
}

impl AcousticsConfig {
    /// A cheap preset for tests and previews: fewer rays, shorter responses.
    pub fn fast() -> Self {
        AcousticsConfig {
            field_rays: 3000,
            receiver_rays: 1500,
            max_rir_s: 1.5,
            ..Self::default()
        }
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// [`AudioError::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<(), AudioError> {
        let bad = |m: &str| Err(AudioError::Config(m.to_string()));
        if self.ism_order < 2 || self.ism_order > super::ism::MAX_ISM_ORDER {
            return bad("ism_order must be in 2..=6");
        }
        if self.shoebox_ism_order > 30 {
            return bad("shoebox_ism_order must be at most 30");
        }
        if self.guide_rays == 0 || self.guide_rays > 100_000 {
            return bad("guide_rays must be in 1..=100000");
        }
        // The ray counts scale the precomputation's cost by design; the caps (50× and 500× the
        // defaults) only refuse values no run could finish.
        if self.field_rays == 0 || self.field_rays > 1_000_000 {
            return bad("field_rays must be in 1..=1000000");
        }
        if self.receiver_rays == 0 || self.receiver_rays > 1_000_000 {
            return bad("receiver_rays must be in 1..=1000000");
        }
        if self.max_bounces == 0 || self.max_bounces > 100_000 {
            return bad("max_bounces must be in 1..=100000");
        }
        if !(self.energy_cutoff_db.is_finite()
            && self.energy_cutoff_db > 0.0
            && self.energy_cutoff_db <= 200.0)
        {
            return bad("energy_cutoff_db must be in (0, 200]");
        }
        if !(self.bin_s.is_finite() && self.bin_s >= 1e-4 && self.bin_s <= 0.1) {
            return bad("bin_s must be in [0.0001, 0.1] s");
        }
        if !(self.max_rir_s.is_finite() && self.max_rir_s > 0.0 && self.max_rir_s <= 20.0) {
            return bad("max_rir_s must be in (0, 20] s");
        }
        for (v, name) in [
            (self.field_cell_m, "field_cell_m"),
            (self.field_half_height_m, "field_half_height_m"),
            (self.receiver_size_m, "receiver_size_m"),
        ] {
            if !(v.is_finite() && v > 0.01 && v <= 10.0) {
                return Err(AudioError::Config(format!(
                    "{name} must be in (0.01, 10] m"
                )));
            }
        }
        if !(self.edge_clearance_m.is_finite() && (0.0..=1.0).contains(&self.edge_clearance_m)) {
            return bad("edge_clearance_m must be in [0, 1] m");
        }
        if self
            .air_absorption_per_m
            .iter()
            .any(|a| !a.is_finite() || *a < 0.0 || *a > 1.0)
        {
            return bad("air_absorption_per_m must be in [0, 1] per metre");
        }
        Ok(())
    }

    /// Air-absorption energy coefficients per metre actually applied (zero when disabled).
    pub(crate) fn air_per_m(&self) -> Bands {
        if self.air_absorption {
            self.air_absorption_per_m
        } else {
            [0.0; NUM_BANDS]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_order_below_two_is_rejected() {
        assert!(AcousticsConfig::default().validate().is_ok());
        assert!(AcousticsConfig::fast().validate().is_ok());
        let cfg = AcousticsConfig {
            ism_order: 1,
            ..AcousticsConfig::default()
        };
        assert!(matches!(cfg.validate(), Err(AudioError::Config(_))));
    }
}
