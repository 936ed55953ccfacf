//! Egocentric RGB camera by CPU ray casting through the scene BVH.
//!
//! A [`Renderer`] is built once per scene from the [`avwm_scene::Scene`], the
//! [`avwm_geom::Bvh`] shared with the acoustics engine and a [`CameraConfig`]; then
//! [`Renderer::render`] turns an agent [`avwm_core::Pose`] into an sRGB
//! [`avwm_core::RgbImage`] (128 × 128 by default, 90° horizontal field of view, camera
//! 1.25 m above the floor, looking along the pose heading in the horizontal plane, +z up on screen).
//!
//! Shading, per primary ray: the material's procedural pattern evaluated in world coordinates on
//! the plane most parallel to the hit triangle and box-filtered over the pixel footprint (so fine
//! patterns do not alias), times the mesh's vertex colours if any, times the irradiance —
//! Lambert from the scene's point lights with 1/d² falloff and shadow rays, plus an ambient term
//! darkened by ambient occlusion — plus the material's emission, then a mild exponential distance
//! fog, exposure, a soft highlight shoulder ([`Tonemap`]) and the sRGB transfer curve.
//!
//! **Speed.** Irradiance depends only on the surface point, not on the camera, so by default
//! ([`LightingMode::Baked`]) it is computed once per scene at [`Renderer::new`] into lightmaps on
//! both sides of every triangle (5 cm grid of 16-bit fixed-point samples, bilinear lookup), and a
//! frame costs one BVH ray per sample plus ~40 ns of shading. The bake samples ambient occlusion
//! and light visibility on a 15 cm grid and traces shadow rays at 5 cm only where the visibility
//! of a light changes (shadow edges); sides that the fixed-height camera can never see (floor
//! undersides, ceiling tops, the insides of wall boxes and closed furniture) get one sample.
//! [`LightingMode::Direct`] evaluates the same lighting per pixel instead: the reference the
//! bake is tested against, 6–15× slower.
//!
//! Measured on the 2-core development VM while it was shared with other jobs (so upper bounds),
//! one thread, 128², baked: 2.0–2.6 ms per frame for a furnished room and procedural apartments
//! (divan `fastest`), of which the BVH primary rays (`avwm_geom::Bvh::cast_ray`, ~110 ns per
//! ray) are about two thirds; the bake takes 8 ms for a room and 0.4–0.8 s (two threads) for
//! 4–10-room procedural apartments, with 9–10 MB of lightmaps.
//!
//! Everything is deterministic: no random sampling — ambient-occlusion directions are a fixed
//! set rotated by a hash of the sample's identity — and the multithreaded [`Renderer::render`]
//! returns the same bytes as [`Renderer::render_single_thread`]; the bake's result does not
//! depend on the number of threads either.
//!
//! This crate does not move the agent or load scenes (`avwm-sim`, `avwm-scene`); it does not do
//! global illumination, reflections or transparency (glass is opaque).
#![warn(missing_docs)]

mod camera;
mod config;
mod error;
mod lighting;
mod pattern;
mod renderer;
mod srgb;

pub use config::{CameraConfig, LightingMode, Supersampling, Tonemap};
pub use error::RenderError;
pub use renderer::{LightmapStats, Renderer};
