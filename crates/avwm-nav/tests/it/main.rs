//! Integration tests of avwm-nav on hand-built box scenes.

#[path = "../common/scenes.rs"]
mod scenes;

mod build;
mod follow;
mod geodesic;
mod map;
mod motion;
mod procedural;

use avwm_nav::{NavConfig, NavGrid};
use avwm_scene::Scene;

/// Builds with the default config; the test scenes are valid by construction.
pub fn grid(scene: &Scene) -> NavGrid {
    NavGrid::build(scene, &NavConfig::default()).expect("test scene builds")
}
