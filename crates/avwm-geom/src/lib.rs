//! Geometry shared by light and sound: triangle meshes with per-triangle materials, rays, and a
//! bounding volume hierarchy for closest-hit and occlusion queries.
//!
//! The BVH is built by `obvhs` (PLOC with reinsertion and spatial pre-splits, binary) and collapsed
//! into a 4-wide BVH with SIMD child-box tests (`glam::Vec4`), traversed by [`Bvh`] itself
//! (ordered, stack on the machine stack, triangles with precomputed edges); callers never see its
//! index indirections. Rays with `-0.0` direction components need no special care. A brute-force
//! caster ([`TriMesh::cast_ray_brute_force`]) is kept as the test oracle.
//!
//! It does not know about materials' meaning (see `avwm-scene`) nor about cameras or acoustics.
#![warn(missing_docs)]

mod bvh;
mod mesh;

pub use bvh::Bvh;
pub use mesh::{Hit, MeshError, Ray, TriMesh, intersect_triangle};

pub use glam::{Vec2, Vec3};
