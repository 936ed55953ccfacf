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
//! # Example
//!
//! ```
//! use avwm_core::{Action, Pose};
//! use avwm_geom::{TriMesh, Vec2, Vec3};
//! use avwm_nav::{NavConfig, NavGrid};
//! use avwm_scene::{Scene, SceneOrigin, SoundSource, material_library};
//!
//! // A bare 4 m × 3 m floor (no walls: the agent keeps its radius from the edges).
//! let mesh = TriMesh {
//!     positions: vec![Vec3::ZERO, Vec3::new(4.0, 0.0, 0.0), Vec3::new(4.0, 3.0, 0.0), Vec3::new(0.0, 3.0, 0.0)],
//!     triangles: vec![[0, 1, 2], [0, 2, 3]],
//!     material: vec![0, 0],
//!     vertex_colors: None,
//! };
//! let scene = Scene {
//!     name: "floor".into(),
//!     origin: SceneOrigin::Procedural { seed: 0 },
//!     mesh,
//!     materials: material_library(),
//!     floor_z: 0.0,
//!     ceiling_h: 2.5,
//!     source: SoundSource { position: Vec3::new(3.0, 1.5, 1.5) },
//!     lights: vec![],
//!     rooms: vec![],
//!     doors: vec![],
//!     edges: vec![],
//! };
//! let grid = NavGrid::build(&scene, &NavConfig::default())?;
//! // Open space along a grid axis: the straight line, plus at most half a cell diagonal at
//! // each end (the start and the source are joined to their cell centres).
//! let d = grid.geodesic_to_source(Vec2::new(1.0, 1.5));
//! assert!((2.0..=2.08).contains(&d));
//! assert!(!grid.is_navigable(Vec2::new(0.05, 1.5)), "within the agent radius of the edge");
//! let m = grid.apply_action(Pose::new(1.0, 1.5, 0.0), Action::Forward);
//! assert!(!m.collided && (m.pose.x - 1.15).abs() < 1e-5);
//! # Ok::<(), avwm_nav::NavError>(())
//! ```
//!
//! One floor per scene (stairs and multi-level meshes are out of scope). This crate neither
//! renders (`avwm-render`) nor computes rewards or episodes (`avwm-sim`); its maps are encoded
//! by the one PNG encoder, `avwm_core::encode_png`.
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
pub use motion::Motion;
pub use path::NavPath;
