//! Indoor scenes: the static world that light and sound share.
//!
//! A [`Scene`] is one triangle mesh with a material per triangle, a material table whose entries
//! carry both a visual look and acoustic properties, lights, the sound source, and optional
//! annotations the procedural generator knows for free (rooms, doors, diffracting edges).
//!
//! Scenes come from two places:
//! * [`procedural`]: multi-room apartments generated from a seed and a [`ProceduralConfig`];
//! * [`file`]: a TOML scene file naming a glTF/GLB, OBJ or PLY mesh plus a material mapping.
//!
//! This crate does not render, simulate sound or navigate; see `avwm-render`, `avwm-audio`, `avwm-nav`.
#![warn(missing_docs)]

mod build;
pub mod file;
mod material;
pub mod procedural;
mod scene;

pub use material::{AcousticMaterial, Material, Pattern, VisualMaterial, material_library};
pub use scene::{DiffractionEdge, Door, Light, Room, Scene, SceneError, SceneOrigin, SoundSource};
