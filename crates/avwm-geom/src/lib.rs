//! Geometry shared by light and sound: triangle meshes with per-triangle materials, rays, and a
//! bounding volume hierarchy for closest-hit and occlusion queries.
//!
//! The BVH is `obvhs`' compressed wide BVH (CWBVH, 8-wide, SIMD traversal) built with PLOC; this
//! crate wraps it behind [`Bvh`] so that callers never see its index indirections. A brute-force
//! caster ([`TriMesh::cast_ray_brute_force`]) is kept as the test oracle.
//!
//! It does not know about materials' meaning (see `avwm-scene`) nor about cameras or acoustics.
#![warn(missing_docs)]

mod bvh;
mod mesh;

pub use bvh::Bvh;
pub use mesh::{Hit, MeshError, Ray, TriMesh, intersect_triangle};

pub use glam::{Vec2, Vec3};
