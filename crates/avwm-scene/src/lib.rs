//! Indoor scenes: the static world that light and sound share.
//!
//! A [`Scene`] is one triangle mesh with a material per triangle, a material table whose entries
//! carry both a visual look and acoustic properties, lights, the sound source, and optional
//! annotations the procedural generator knows for free (rooms, doors, diffracting edges).
//!
//! Scenes come from two places:
//! * [`procedural`]: multi-room apartments generated from a seed and a
//!   [`ProceduralConfig`](procedural::ProceduralConfig) ([`procedural::generate`], ≈0.1 ms and
//!   ≈4k triangles for a default scene);
//! * [`file`](mod@file): a TOML scene file naming either a procedural seed or a glTF/GLB, OBJ or PLY mesh
//!   plus a material mapping ([`file::load_scene_file`]).
//!
//! [`file::write_scene_dir`] saves a scene as `scene.toml` (reloadable), `scene.json`
//! (annotations, materials) and `mesh.ply` (for mesh viewers).
//!
//! Frame: metres, right-handed, z up, the floor at `scene.floor_z` (0 for procedural scenes).
//! Triangles are counter-clockwise seen from the free space they face, so `TriMesh::normal`
//! points into the room.
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
