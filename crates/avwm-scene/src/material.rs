//! Materials: a visual look and acoustic coefficients per octave band.

use avwm_core::{Bands, NUM_BANDS};
use serde::{Deserialize, Serialize};

/// A surface material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Name, unique in a scene (e.g. `plaster`, `carpet`).
    pub name: String,
    /// How it looks.
    pub visual: VisualMaterial,
    /// How it sounds.
    pub acoustic: AcousticMaterial,
}

/// Procedural texture pattern, evaluated in world coordinates (no UVs needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Uniform colour.
    Solid,
    /// Checkerboard of `color` and `color2` with squares of `scale_m`.
    Checker,
    /// Parallel stripes of width `scale_m`.
    Stripes,
    /// Wooden planks: long boards of width `scale_m` with grain noise.
    Planks,
    /// Tiles of `scale_m` separated by thin grout lines of `color2`.
    Tiles,
    /// Smooth value noise blending `color` and `color2` at feature size `scale_m`.
    Noise,
}

/// Visual appearance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisualMaterial {
    /// Base albedo, linear RGB in [0, 1].
    pub color: [f32; 3],
    /// Second colour used by the pattern, linear RGB in [0, 1].
    pub color2: [f32; 3],
    /// Texture pattern.
    pub pattern: Pattern,
    /// Pattern feature size (m).
    pub scale_m: f32,
    /// Emissive (light sources such as lamps, screens): added unlit, linear RGB.
    #[serde(default)]
    pub emission: [f32; 3],
}

/// Acoustic properties per octave band (see [`avwm_core::BAND_CENTERS_HZ`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcousticMaterial {
    /// Energy absorption coefficient α in [0, 1] per band (Vorländer-style tables).
    pub absorption: Bands,
    /// Scattering coefficient s in [0, 1] per band: share of reflected energy that is diffuse.
    pub scattering: Bands,
    /// Energy transmission coefficient τ in [0, 1] per band through one surface (a wall is two
    /// surfaces, so the sound through a wall is attenuated by τ² in energy).
    pub transmission: Bands,
}

impl AcousticMaterial {
    /// Energy reflection coefficient `1 - α` per band.
    pub fn reflection(&self) -> Bands {
        let mut r = [0.0; NUM_BANDS];
        for (r, a) in r.iter_mut().zip(self.absorption) {
            *r = 1.0 - a;
        }
        r
    }

    /// Checks that every coefficient is finite and in [0, 1].
    pub fn is_valid(&self) -> bool {
        [self.absorption, self.scattering, self.transmission]
            .iter()
            .flatten()
            .all(|v| v.is_finite() && (0.0..=1.0).contains(v))
    }
}

// One row of the library table: positional arguments keep the table readable.
#[allow(clippy::too_many_arguments)]
fn mat(
    name: &str,
    color: [f32; 3],
    color2: [f32; 3],
    pattern: Pattern,
    scale_m: f32,
    absorption: Bands,
    scattering: f32,
    transmission: f32,
) -> Material {
    Material {
        name: name.to_string(),
        visual: VisualMaterial {
            color,
            color2,
            pattern,
            scale_m,
            emission: [0.0; 3],
        },
        acoustic: AcousticMaterial {
            absorption,
            scattering: [scattering; NUM_BANDS],
            // Mass law: transmission falls by ~6 dB per octave; the value given is at 125 Hz.
            transmission: std::array::from_fn(|b| transmission * 0.25f32.powi(b as i32)),
        },
    }
}

/// The built-in acoustic material library, with absorption coefficients at
/// 125/250/500/1k/2k/4k Hz from standard tables (Vorländer, *Auralization*, 2008, Annex; the same
/// values pyroomacoustics ships). Names are what scene files refer to.
#[rustfmt::skip]
pub fn material_library() -> Vec<Material> {
    use Pattern::*;
    vec![
        mat("plaster", [0.80, 0.78, 0.72], [0.74, 0.72, 0.66], Noise, 0.4, [0.013, 0.015, 0.02, 0.03, 0.04, 0.05], 0.10, 1e-3),
        mat("plasterboard", [0.86, 0.86, 0.84], [0.80, 0.80, 0.78], Noise, 0.5, [0.15, 0.10, 0.06, 0.04, 0.04, 0.05], 0.10, 1e-2),
        mat("brick", [0.62, 0.30, 0.22], [0.75, 0.72, 0.68], Tiles, 0.25, [0.03, 0.03, 0.03, 0.04, 0.05, 0.07], 0.20, 1e-4),
        mat("concrete", [0.55, 0.55, 0.55], [0.48, 0.48, 0.48], Noise, 0.3, [0.01, 0.02, 0.04, 0.06, 0.08, 0.10], 0.10, 1e-5),
        mat("wood_floor", [0.55, 0.36, 0.20], [0.42, 0.26, 0.14], Planks, 0.15, [0.15, 0.11, 0.10, 0.07, 0.06, 0.07], 0.10, 1e-3),
        mat("carpet", [0.35, 0.38, 0.48], [0.30, 0.32, 0.42], Noise, 0.05, [0.08, 0.24, 0.57, 0.69, 0.71, 0.73], 0.20, 1e-3),
        mat("tile", [0.85, 0.85, 0.88], [0.55, 0.55, 0.58], Tiles, 0.3, [0.01, 0.01, 0.01, 0.01, 0.02, 0.02], 0.05, 1e-4),
        mat("ceiling_tile", [0.93, 0.93, 0.90], [0.85, 0.85, 0.82], Checker, 0.6, [0.50, 0.70, 0.60, 0.70, 0.70, 0.50], 0.30, 1e-2),
        mat("wood", [0.50, 0.33, 0.18], [0.40, 0.25, 0.12], Stripes, 0.04, [0.19, 0.14, 0.09, 0.06, 0.06, 0.05], 0.30, 1e-2),
        mat("fabric", [0.55, 0.20, 0.18], [0.45, 0.15, 0.13], Noise, 0.08, [0.07, 0.31, 0.49, 0.75, 0.70, 0.60], 0.50, 5e-2),
        mat("glass", [0.70, 0.82, 0.90], [0.60, 0.72, 0.82], Solid, 1.0, [0.35, 0.25, 0.18, 0.12, 0.07, 0.04], 0.05, 1e-2),
        mat("metal", [0.70, 0.70, 0.72], [0.60, 0.60, 0.62], Stripes, 0.02, [0.01, 0.01, 0.01, 0.02, 0.02, 0.02], 0.10, 1e-4),
        mat("plastic", [0.15, 0.15, 0.16], [0.30, 0.30, 0.32], Solid, 1.0, [0.02, 0.02, 0.03, 0.03, 0.04, 0.05], 0.10, 1e-3),
        mat("door_wood", [0.60, 0.45, 0.30], [0.50, 0.36, 0.22], Stripes, 0.1, [0.14, 0.10, 0.06, 0.08, 0.10, 0.10], 0.10, 1e-2),
        mat("default", [0.70, 0.70, 0.70], [0.60, 0.60, 0.60], Noise, 0.5, [0.10; NUM_BANDS], 0.50, 1e-3),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_coefficients_are_valid_and_names_unique() {
        let lib = material_library();
        let mut names: Vec<_> = lib.iter().map(|m| m.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), lib.len());
        for m in &lib {
            assert!(m.acoustic.is_valid(), "{}", m.name);
        }
    }
}
