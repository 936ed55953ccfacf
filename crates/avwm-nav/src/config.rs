//! Configuration of the navigation grid.

use crate::error::{NavError, Result};
use serde::{Deserialize, Serialize};

/// How the navigable space of a scene is rasterised and how the agent moves in it.
///
/// Every field has a universal default ([`NavConfig::default`]), so a TOML table may give only the
/// fields it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NavConfig {
    /// Edge length of a square grid cell (m). Default 0.05 m: a third of the 0.15 m forward step and
    /// half the agent radius, so doors and sliding are resolved well while a 400 m² floor stays at
    /// 160 k cells.
    pub cell_m: f32,
    /// Agent radius (m): free space is eroded by this disc. Default
    /// [`avwm_core::AGENT_RADIUS_M`] = 0.1 m (habitat's default agent).
    pub agent_radius_m: f32,
    /// Lower edge of the obstacle height band, above `floor_z` (m). Geometry below it (floor,
    /// rugs, door thresholds) does not block. Default 0.05 m. It is also the floor tolerance:
    /// a cell has floor if some surface lies within ± this height of `floor_z`.
    pub obstacle_min_h_m: f32,
    /// Upper edge of the obstacle height band, above `floor_z` (m). Geometry entirely above it
    /// (ceiling, lamps, the top of a door frame) does not block. Default 1.6 m, just above the
    /// 1.5 m body height of habitat's agent.
    pub obstacle_max_h_m: f32,
    /// Longest motion sub-step, in cells. Default 1/3: a forward step is checked every
    /// `cell_m / 3` so that no sub-step can jump over a blocked cell.
    pub substep_cells: f32,
    /// Smallest navigable region around the source that is accepted (m²). Default 1 m².
    /// Smaller regions (pockets between furniture) are skipped when the goal is snapped.
    pub min_goal_region_m2: f32,
    /// Largest grid (cells) that [`crate::NavGrid::build`] accepts. Default 16 M (a 200 m × 200 m
    /// floor at 5 cm), about 100 MB of grid data.
    pub max_cells: usize,
}

impl Default for NavConfig {
    fn default() -> Self {
        NavConfig {
            cell_m: 0.05,
            agent_radius_m: avwm_core::AGENT_RADIUS_M,
            obstacle_min_h_m: 0.05,
            obstacle_max_h_m: 1.6,
            substep_cells: 1.0 / 3.0,
            min_goal_region_m2: 1.0,
            max_cells: 16 << 20,
        }
    }
}

impl NavConfig {
    /// Checks that every value is finite and in range.
    ///
    /// # Errors
    /// [`NavError::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(NavError::Config(m.to_string()));
        if !(self.cell_m.is_finite() && self.cell_m > 1e-3) {
            return bad("cell_m must be finite and > 0.001 m");
        }
        if !(self.agent_radius_m.is_finite() && self.agent_radius_m >= 0.0) {
            return bad("agent_radius_m must be finite and >= 0");
        }
        if !(self.obstacle_min_h_m.is_finite() && self.obstacle_min_h_m > 0.0) {
            return bad("obstacle_min_h_m must be finite and > 0");
        }
        if !(self.obstacle_max_h_m.is_finite() && self.obstacle_max_h_m > self.obstacle_min_h_m) {
            return bad("obstacle_max_h_m must be finite and > obstacle_min_h_m");
        }
        if !(self.substep_cells.is_finite()
            && self.substep_cells > 0.0
            && self.substep_cells <= 1.0 / 3.0 + 1e-6)
        {
            return bad("substep_cells must be in (0, 1/3]");
        }
        if !(self.min_goal_region_m2.is_finite() && self.min_goal_region_m2 >= 0.0) {
            return bad("min_goal_region_m2 must be finite and >= 0");
        }
        if self.max_cells == 0 {
            return bad("max_cells must be > 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_uses_the_core_agent_radius() {
        let c = NavConfig::default();
        c.validate().expect("defaults are valid");
        assert_eq!(c.agent_radius_m, avwm_core::AGENT_RADIUS_M);
    }

    #[test]
    fn bad_values_are_rejected() {
        for c in [
            NavConfig {
                cell_m: 0.0,
                ..NavConfig::default()
            },
            NavConfig {
                cell_m: f32::NAN,
                ..NavConfig::default()
            },
            NavConfig {
                obstacle_max_h_m: 0.01,
                ..NavConfig::default()
            },
            NavConfig {
                substep_cells: 0.5,
                ..NavConfig::default()
            },
            NavConfig {
                agent_radius_m: -1.0,
                ..NavConfig::default()
            },
        ] {
            assert!(matches!(c.validate(), Err(NavError::Config(_))), "{c:?}");
        }
    }
}
