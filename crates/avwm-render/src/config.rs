//! Camera and shading configuration.

use crate::RenderError;
use serde::{Deserialize, Serialize};

/// Number of primary rays per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Supersampling {
    /// One ray through the pixel centre (the default: 128² rays per frame).
    #[default]
    None,
    /// Four rays per pixel on a fixed rotated 2×2 grid, averaged in linear light before encoding
    /// (4× the cost; smoother edges and fine patterns).
    Grid2x2,
}

impl Supersampling {
    /// Sub-pixel sample offsets in pixel units, relative to the pixel's top-left corner.
    pub(crate) fn offsets(self) -> &'static [(f32, f32)] {
        match self {
            Supersampling::None => &[(0.5, 0.5)],
            // Rotated grid (RGSS): every sample has a distinct x and a distinct y, which resolves
            // near-vertical and near-horizontal edges better than an aligned 2×2 grid.
            Supersampling::Grid2x2 => &[
                (0.375, 0.125),
                (0.875, 0.375),
                (0.125, 0.625),
                (0.625, 0.875),
            ],
        }
    }
}

/// How linear colour above 1 (surfaces close to a lamp) is brought into the displayable range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tonemap {
    /// Values above 1 are clipped (flat white patches near lights).
    Clamp,
    /// Identity up to 0.6, then a smooth exponential shoulder that approaches 1 (slope 1 at the
    /// knee, so mid-tones are untouched): walls next to a lamp keep their gradient. The default.
    #[default]
    Shoulder,
}

impl Tonemap {
    /// Maps one linear channel value to [0, 1].
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        const KNEE: f32 = 0.6;
        match self {
            Tonemap::Clamp => x.clamp(0.0, 1.0),
            Tonemap::Shoulder if x > KNEE => {
                KNEE + (1.0 - KNEE) * (1.0 - (-(x - KNEE) / (1.0 - KNEE)).exp())
            }
            Tonemap::Shoulder => x.max(0.0),
        }
    }
}

/// How surface lighting (point lights with shadows, ambient occlusion) is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LightingMode {
    /// Lighting is computed once per scene at [`crate::Renderer::new`] into per-triangle lightmaps
    /// (a grid of [`CameraConfig::lightmap_texel_m`] spacing on both sides of every triangle) and
    /// looked up bilinearly per pixel, so a frame costs about one primary ray per sample. The
    /// default: it is what makes ~2 ms per 128² frame on one core possible.
    #[default]
    Baked,
    /// Lighting is evaluated per pixel (one shadow ray per contributing light plus the ambient
    /// occlusion rays). Exact but several times slower; the reference the baked mode is tested against.
    Direct,
}

/// Egocentric pinhole camera and shading settings. All fields have defaults (see
/// [`CameraConfig::default`]), so a TOML `[render]` table may give only the fields it changes;
/// unknown fields are rejected.
///
/// ```
/// let cfg: avwm_render::CameraConfig = toml::from_str("width = 64\nheight = 48").unwrap();
/// assert_eq!((cfg.width, cfg.height, cfg.hfov_deg), (64, 48, 90.0));
/// assert!(toml::from_str::<avwm_render::CameraConfig>("widht = 64").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// Image width (px). Default 128 (the paper's observation size).
    pub width: u32,
    /// Image height (px). Default 128. Pixels are square, so the vertical field of view follows
    /// from the horizontal one and the aspect ratio.
    pub height: u32,
    /// Horizontal field of view (degrees), in (0, 180). Default 90° (SoundSpaces' RGB sensor).
    pub hfov_deg: f32,
    /// Camera height above `scene.floor_z` (m). Default [`avwm_core::CAMERA_HEIGHT_M`] = 1.25 m.
    pub camera_height_m: f32,
    /// Primary rays per pixel. Default [`Supersampling::None`] (one ray per pixel).
    pub supersampling: Supersampling,
    /// Cast shadows from the scene's point lights. Default on.
    pub shadows: bool,
    /// Darken the ambient term by ambient occlusion. Default on.
    pub ambient_occlusion: bool,
    /// Encode output bytes with the sRGB transfer curve (IEC 61966-2-1); off writes linear values.
    /// Default on: the bytes are then standard sRGB, as PNG viewers and image models expect.
    pub srgb_encode: bool,
    /// Per-scene baked lighting or per-pixel direct lighting. Default [`LightingMode::Baked`].
    pub lighting: LightingMode,
    /// Lightmap grid spacing (m) for [`LightingMode::Baked`]. Default 0.05 m: about one pixel
    /// footprint at 3 m with 128 px over 90°, so shadow edges stay as sharp as the image resolves.
    pub lightmap_texel_m: f32,
    /// Upper bound on the number of lightmap samples of a scene (both sides of every triangle).
    /// If the spacing above would exceed it, the spacing is enlarged uniformly. Default 4 M
    /// samples (24 MB), which keeps baking of large imported meshes bounded.
    pub lightmap_max_texels: usize,
    /// Ambient irradiance (linear RGB, same units as a light's intensity at 1 m): stands in for
    /// all interreflected light. Default 0.30 grey, so unlit corners are dim but readable.
    pub ambient: [f32; 3],
    /// Number of ambient-occlusion rays per lighting sample. Default 16 (fixed cosine-weighted set,
    /// rotated per sample by a hash: deterministic, no random sampling).
    pub ao_rays: u32,
    /// Ambient-occlusion radius (m): occluders farther than this do not darken. Default 0.6 m,
    /// enough to darken room corners and the floor under furniture.
    pub ao_radius_m: f32,
    /// Strength of ambient occlusion in [0, 1]: ambient × (1 − strength × occluded fraction).
    /// Default 0.8 (fully occluded points keep 20 % of the ambient so nothing is pitch black).
    pub ao_strength: f32,
    /// Shadow rays stop this far (m) before reaching a light, so that the geometry of a lamp
    /// around the light does not shadow everything. Default 0.1 m.
    pub light_clearance_m: f32,
    /// Exposure multiplier applied to the lit linear colour before encoding. Default 1.
    pub exposure: f32,
    /// Highlight handling after exposure. Default [`Tonemap::Shoulder`].
    pub tonemap: Tonemap,
    /// Distance fog extinction (1/m): colour = lit·e^(−σd) + fog·(1 − e^(−σd)). Default 0.04 /m
    /// (4 % at 1 m, 33 % at 10 m): mild, but it makes depth legible in flat-lit corridors.
    pub fog_per_m: f32,
    /// Fog colour, also the colour of rays that hit nothing (linear RGB). Default dark grey-blue.
    pub fog_color: [f32; 3],
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            width: 128,
            height: 128,
            hfov_deg: 90.0,
            camera_height_m: avwm_core::CAMERA_HEIGHT_M,
            supersampling: Supersampling::None,
            shadows: true,
            ambient_occlusion: true,
            srgb_encode: true,
            lighting: LightingMode::Baked,
            lightmap_texel_m: 0.05,
            lightmap_max_texels: 4_000_000,
            ambient: [0.30, 0.30, 0.30],
            ao_rays: 16,
            ao_radius_m: 0.6,
            ao_strength: 0.8,
            light_clearance_m: 0.1,
            exposure: 1.0,
            tonemap: Tonemap::Shoulder,
            fog_per_m: 0.04,
            fog_color: [0.06, 0.065, 0.08],
        }
    }
}

impl CameraConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`RenderError::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<(), RenderError> {
        let bad = |field: &'static str, why: String| {
            Err(RenderError::Config {
                field,
                message: why,
            })
        };
        if self.width == 0 || self.height == 0 || self.width > 16_384 || self.height > 16_384 {
            return bad(
                "width/height",
                format!("{}×{} must be within 1..=16384", self.width, self.height),
            );
        }
        if !(self.hfov_deg > 0.0 && self.hfov_deg < 180.0) {
            return bad("hfov_deg", format!("{} must be in (0, 180)", self.hfov_deg));
        }
        let vfov = 2.0
            * ((self.hfov_deg.to_radians() * 0.5).tan() * self.height as f32 / self.width as f32)
                .atan()
                .to_degrees();
        if vfov >= 179.0 {
            return bad(
                "hfov_deg",
                format!("the implied vertical field of view {vfov:.1}° is too wide"),
            );
        }
        if !self.camera_height_m.is_finite() {
            return bad(
                "camera_height_m",
                format!("{} is not finite", self.camera_height_m),
            );
        }
        if !(self.lightmap_texel_m.is_finite() && self.lightmap_texel_m > 0.0) {
            return bad(
                "lightmap_texel_m",
                format!("{} must be > 0", self.lightmap_texel_m),
            );
        }
        if self.lightmap_max_texels < 1024 {
            return bad(
                "lightmap_max_texels",
                format!("{} must be at least 1024", self.lightmap_max_texels),
            );
        }
        for (field, c) in [("ambient", self.ambient), ("fog_color", self.fog_color)] {
            if c.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                return bad(field, format!("{c:?} must be finite and non-negative"));
            }
        }
        if self.ao_rays > 256 {
            return bad("ao_rays", format!("{} must be at most 256", self.ao_rays));
        }
        let nonneg = [
            ("ao_radius_m", self.ao_radius_m),
            ("light_clearance_m", self.light_clearance_m),
            ("exposure", self.exposure),
            ("fog_per_m", self.fog_per_m),
        ];
        for (field, v) in nonneg {
            if !(v.is_finite() && v >= 0.0) {
                return bad(field, format!("{v} must be finite and non-negative"));
            }
        }
        if !(0.0..=1.0).contains(&self.ao_strength) {
            return bad(
                "ao_strength",
                format!("{} must be in [0, 1]", self.ao_strength),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shoulder_is_identity_below_the_knee_monotone_continuous_and_below_one() {
        let t = Tonemap::Shoulder;
        assert_eq!(t.apply(0.3), 0.3);
        assert_eq!(t.apply(-1.0), 0.0);
        let mut prev = 0.0;
        for k in 1..100_000 {
            let x = k as f32 * 1e-4;
            let y = t.apply(x);
            assert!(y >= prev && y <= 1.0, "{x}: {y}");
            assert!(y - prev < 2e-4, "jump at {x}");
            prev = y;
        }
        // Slope 1 at the knee, saturating: 1 − 0.4·e^(−6) at 3.0.
        assert!((t.apply(0.6001) - 0.6001).abs() < 1e-6);
        assert!((t.apply(3.0) - (1.0 - 0.4 * (-6.0f32).exp())).abs() < 1e-6);
        assert_eq!(Tonemap::Clamp.apply(3.0), 1.0);
    }

    #[test]
    fn default_config_is_valid_and_round_trips_through_toml() {
        let cfg = CameraConfig::default();
        cfg.validate().unwrap();
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<CameraConfig>(&text).unwrap(), cfg);
        let cfg: CameraConfig = toml::from_str(
            "supersampling = \"grid2x2\"\nlighting = \"direct\"\ntonemap = \"clamp\"",
        )
        .unwrap();
        assert_eq!(
            (cfg.supersampling, cfg.lighting, cfg.tonemap),
            (Supersampling::Grid2x2, LightingMode::Direct, Tonemap::Clamp)
        );
    }
}
