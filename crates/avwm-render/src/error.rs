//! Errors of renderer construction.

/// Why a [`crate::Renderer`] could not be built. Rendering itself cannot fail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A configuration field is out of range.
    #[error("invalid render configuration: {field}: {message}")]
    Config {
        /// The offending field of [`crate::CameraConfig`].
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The BVH was not built from this scene's mesh.
    #[error(
        "the BVH holds {bvh} triangles but the scene mesh has {mesh}; build it with Bvh::build(&scene.mesh)"
    )]
    BvhMismatch {
        /// Triangles in the BVH.
        bvh: usize,
        /// Triangles in the scene mesh.
        mesh: usize,
    },
    /// The scene is malformed (material ids, vertex colours, lights).
    #[error("invalid scene: {0}")]
    Scene(String),
}
