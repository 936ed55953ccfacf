//! Navigation on a scene floor: navigable free space, geodesic distance to the sound source,
//! shortest paths, agent motion with sliding, and top-down maps.
//!
//! [`NavGrid::build`] rasterises a [`avwm_scene::Scene`] onto a square grid (default 5 cm cells):
//! geometry in the obstacle height band blocks, the floor must be present, the free space is eroded
//! by the agent radius, and only the region connected to the goal (the source snapped onto the
//! navigable space, as SoundSpaces snaps goals to the navmesh) is kept. A Dijkstra field on the
//! 16-connected grid then gives the geodesic distance to the source in O(1) per query
//! ([`NavGrid::geodesic_to_source`]), which is what the reward and the SPL metrics need
//! (`reference/soundspaces.md` §2–3). [`NavGrid::apply_action`] implements the paper's action
//! space (forward 0.15 m with sliding, turn ±10°, stop) on the same grid, so the agent can never
//! stand where the geodesic is undefined.
//!
//! One floor per scene (stairs and multi-level meshes are out of scope). This crate neither
//! renders (`avwm-render`) nor computes rewards or episodes (`avwm-sim`); it does own the PNG
//! helper ([`encode_png`]) that the other crates reuse.
#![warn(missing_docs)]

mod config;
mod error;
mod follow;
mod grid;
mod map;
mod motion;
mod path;
mod raster;

pub use config::NavConfig;
pub use error::{NavError, Result};
pub use grid::{CellKind, NavGrid};
pub use map::{encode_png, try_encode_png};
pub use motion::Motion;
pub use path::NavPath;
