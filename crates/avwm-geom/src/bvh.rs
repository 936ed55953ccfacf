//! BVH over a [`TriMesh`], backed by `obvhs`' CWBVH.

use crate::mesh::{Hit, Ray, TriMesh, intersect_triangle};
use glam::{Vec3, Vec3A};
use obvhs::{BvhBuildParams, cwbvh::CwBvh, cwbvh::builder::build_cwbvh_from_tris, ray::RayHit};
use std::time::Duration;

/// A bounding volume hierarchy over the triangles of one mesh, for closest-hit and
/// any-hit (occlusion) queries. Immutable after construction; `Sync`, so rays may be cast from
/// many threads at once.
#[derive(Clone)]
pub struct Bvh {
    bvh: CwBvh,
    /// Triangle corners in BVH primitive order (avoids an indirection during traversal).
    tris: Vec<[Vec3; 3]>,
    /// Original triangle index of each BVH primitive.
    original: Vec<u32>,
}

impl std::fmt::Debug for Bvh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bvh")
            .field("triangles", &self.tris.len())
            .finish()
    }
}

impl Bvh {
    /// Builds the BVH (deterministic: the build runs single-threaded).
    ///
    /// ```
    /// use avwm_geom::{Bvh, Ray, TriMesh, Vec3};
    /// let mesh = TriMesh {
    ///     positions: vec![Vec3::new(1.0, -1.0, -1.0), Vec3::new(1.0, 1.0, -1.0), Vec3::new(1.0, 0.0, 1.0)],
    ///     triangles: vec![[0, 1, 2]],
    ///     material: vec![0],
    ///     vertex_colors: None,
    /// };
    /// let bvh = Bvh::build(&mesh);
    /// let hit = bvh.cast_ray(&Ray::new(Vec3::ZERO, Vec3::X)).unwrap();
    /// assert!((hit.t - 1.0).abs() < 1e-6);
    /// ```
    pub fn build(mesh: &TriMesh) -> Bvh {
        let tris: Vec<obvhs::triangle::Triangle> = (0..mesh.len())
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                obvhs::triangle::Triangle {
                    v0: a.into(),
                    v1: b.into(),
                    v2: c.into(),
                }
            })
            .collect();
        if tris.is_empty() {
            return Bvh {
                bvh: CwBvh::default(),
                tris: Vec::new(),
                original: Vec::new(),
            };
        }
        let bvh = build_cwbvh_from_tris(
            &tris,
            BvhBuildParams::medium_build(),
            &mut Duration::default(),
        );
        let original: Vec<u32> = bvh.primitive_indices.clone();
        let tris = original.iter().map(|&i| mesh.corners(i as usize)).collect();
        Bvh {
            bvh,
            tris,
            original,
        }
    }

    /// Number of triangles.
    pub fn len(&self) -> usize {
        self.tris.len()
    }

    /// True if there are no triangles.
    pub fn is_empty(&self) -> bool {
        self.tris.is_empty()
    }

    fn to_obvhs(ray: &Ray) -> obvhs::ray::Ray {
        // `+ 0.0` turns a `-0.0` direction component into `+0.0`: obvhs' slab test mis-handles
        // negative zeros (rays along a box face escaped closed rooms; see the regression test).
        let dir = Vec3A::from(ray.dir) + Vec3A::ZERO;
        obvhs::ray::Ray::new(Vec3A::from(ray.origin), dir, ray.t_min, ray.t_max)
    }

    /// Closest hit along the ray within `[t_min, t_max]`, or `None`.
    pub fn cast_ray(&self, ray: &Ray) -> Option<Hit> {
        if self.tris.is_empty() {
            return None;
        }
        let mut hit = RayHit::none();
        let mut best: Option<(f32, f32, f32, u32)> = None;
        let o = ray.origin;
        let d = ray.dir;
        self.bvh
            .ray_traverse(Self::to_obvhs(ray), &mut hit, |r, id| {
                let [a, b, c] = self.tris[id];
                match intersect_triangle(o, d, a, b, c, r.tmin, r.tmax) {
                    Some((t, u, v)) => {
                        best = Some((t, u, v, id as u32));
                        t
                    }
                    None => f32::INFINITY,
                }
            });
        // The traversal only calls back with a shrinking `tmax`, so the last accepted hit is the closest.
        best.map(|(t, u, v, id)| Hit {
            t,
            triangle: self.original[id as usize],
            u,
            v,
        })
    }

    /// True if any triangle intersects the ray within `[t_min, t_max]` (early exit).
    pub fn occluded(&self, ray: &Ray) -> bool {
        if self.tris.is_empty() {
            return false;
        }
        let o = ray.origin;
        let d = ray.dir;
        !self.bvh.ray_traverse_miss(Self::to_obvhs(ray), |r, id| {
            let [a, b, c] = self.tris[id];
            intersect_triangle(o, d, a, b, c, r.tmin, r.tmax).map_or(f32::INFINITY, |h| h.0)
        })
    }

    /// True if the open segment from `a` to `b` is free of geometry, ignoring `eps` metres at
    /// both ends (so that points lying on surfaces can see each other).
    pub fn visible(&self, a: Vec3, b: Vec3, eps: f32) -> bool {
        let delta = b - a;
        let len = delta.length();
        if len <= 2.0 * eps {
            return true;
        }
        !self.occluded(&Ray::bounded(a, delta / len, eps, len - eps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_mesh(rng: &mut ChaCha8Rng, n: usize) -> TriMesh {
        let mut m = TriMesh::default();
        for i in 0..n {
            let c = Vec3::new(
                rng.random_range(-5.0..5.0),
                rng.random_range(-5.0..5.0),
                rng.random_range(-5.0..5.0),
            );
            for _ in 0..3 {
                m.positions.push(
                    c + Vec3::new(
                        rng.random_range(-0.6..0.6),
                        rng.random_range(-0.6..0.6),
                        rng.random_range(-0.6..0.6),
                    ),
                );
            }
            m.triangles
                .push([3 * i as u32, 3 * i as u32 + 1, 3 * i as u32 + 2]);
            m.material.push(0);
        }
        m
    }

    /// A closed unit box made of 12 triangles.
    fn unit_box() -> TriMesh {
        let v: Vec<Vec3> = (0..8)
            .map(|i| Vec3::new((i & 1) as f32, ((i >> 1) & 1) as f32, ((i >> 2) & 1) as f32))
            .collect();
        let quads = [
            [0, 1, 3, 2],
            [4, 6, 7, 5],
            [0, 4, 5, 1],
            [2, 3, 7, 6],
            [0, 2, 6, 4],
            [1, 5, 7, 3],
        ];
        let mut m = TriMesh {
            positions: v,
            ..TriMesh::default()
        };
        for q in quads {
            m.triangles.push([q[0], q[1], q[2]]);
            m.triangles.push([q[0], q[2], q[3]]);
            m.material.extend([0, 0]);
        }
        m
    }

    #[test]
    fn rays_with_negative_zero_direction_components_do_not_escape_a_closed_box() {
        let mesh = unit_box();
        let bvh = Bvh::build(&mesh);
        let o = Vec3::new(0.3, 0.6, 0.45);
        for dir in [
            Vec3::new(-0.0, -1.0, 0.0),
            Vec3::new(1.0, -0.0, -0.0),
            Vec3::new(-0.0, -0.0, 1.0),
            Vec3::new(-1.0, 0.0, -0.0),
        ] {
            let ray = Ray::new(o, dir);
            let hit = bvh
                .cast_ray(&ray)
                .expect("a ray inside a closed box must hit it");
            assert_eq!(Some(hit.t), mesh.cast_ray_brute_force(&ray).map(|h| h.t));
            assert!(bvh.occluded(&ray));
        }
    }

    #[test]
    fn bvh_closest_hit_equals_brute_force_on_random_rays() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mesh = random_mesh(&mut rng, 2000);
        let bvh = Bvh::build(&mesh);
        let mut hits = 0;
        for _ in 0..5000 {
            let o = Vec3::new(
                rng.random_range(-6.0..6.0),
                rng.random_range(-6.0..6.0),
                rng.random_range(-6.0..6.0),
            );
            let d = Vec3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            )
            .normalize();
            let ray = Ray::bounded(o, d, 0.0, rng.random_range(0.5..20.0));
            let a = bvh.cast_ray(&ray);
            let b = mesh.cast_ray_brute_force(&ray);
            match (a, b) {
                (None, None) => {}
                (Some(a), Some(b)) => {
                    hits += 1;
                    assert!((a.t - b.t).abs() < 1e-5, "t {} vs {}", a.t, b.t);
                    // Ties between triangles at the same distance may pick either.
                    if a.triangle != b.triangle {
                        assert!((a.t - b.t).abs() < 1e-6);
                    }
                }
                (a, b) => panic!("bvh {a:?} vs brute force {b:?} for {ray:?}"),
            }
            assert_eq!(bvh.occluded(&ray), b.is_some());
        }
        assert!(hits > 500, "too few hits ({hits}) to be a meaningful test");
    }
}
