//! The crate's error type.

/// Errors of navigation-grid construction and map encoding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NavError {
    /// A [`crate::NavConfig`] value is out of range.
    #[error("invalid navigation config: {0}")]
    Config(String),
    /// The scene has no triangles (nothing to stand on).
    #[error("the scene mesh is empty")]
    EmptyScene,
    /// The scene's horizontal extent needs more cells than allowed.
    #[error(
        "the scene needs a {nx}×{ny} grid, more than the limit of {max_cells} cells (raise `cell_m`)"
    )]
    GridTooLarge {
        /// Cells along x.
        nx: usize,
        /// Cells along y.
        ny: usize,
        /// The configured limit.
        max_cells: usize,
    },
    /// No cell has floor under it and enough clearance for the agent.
    #[error(
        "no navigable cell: no floor within the tolerance of floor_z = {floor_z} m, or no free space wide enough for the agent"
    )]
    NoNavigableCell {
        /// The scene's floor height (m).
        floor_z: f32,
    },
    /// The navigable region around the source is too small to hold an episode.
    #[error(
        "the largest navigable region near the source has {cells} cells ({area_m2:.2} m²), less than the minimum {min_area_m2} m²"
    )]
    GoalComponentTooSmall {
        /// Cells of the largest navigable component.
        cells: usize,
        /// Its area (m²).
        area_m2: f32,
        /// The configured minimum (m²).
        min_area_m2: f32,
    },
}

/// `Result` with [`NavError`] as the default error.
pub type Result<T, E = NavError> = std::result::Result<T, E>;
