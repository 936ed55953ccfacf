//! Per-scene geometry precomputation: acoustic coefficients per triangle, coplanar triangle
//! groups ("planes") for the image-source method, and the ray-casting interface shared by the
//! mesh (BVH) and the analytic shoebox.

use avwm_core::{Bands, NUM_BANDS};
use avwm_geom::{Bvh, Ray, TriMesh};
use avwm_scene::Scene;
use glam::Vec3;
use std::sync::Arc;

/// Two triangles are coplanar when their unit normals differ by less than this (dot > 1 − tol)…
const PLANE_NORMAL_TOL: f32 = 1e-4;
/// …and their plane offsets differ by less than this (m).
const PLANE_OFFSET_TOL_M: f32 = 2e-3;

/// Acoustic coefficients of one surface material.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SurfaceCoeffs {
    /// Energy absorption α per band.
    pub absorption: Bands,
    /// Scattering s per band.
    pub scattering: Bands,
    /// Energy transmission τ per band through the surface.
    pub transmission: Bands,
}

impl SurfaceCoeffs {
    /// Specular pressure reflection factor `√((1−α)(1−s))` per band (what the image-source
    /// method uses; the scattered share is left to the ray tracer).
    pub fn specular_amplitude(&self) -> Bands {
        std::array::from_fn(|b| {
            ((1.0 - self.absorption[b]) * (1.0 - self.scattering[b]))
                .max(0.0)
                .sqrt()
        })
    }
}

/// An infinite plane `n·x = d` holding a group of coplanar triangles, with their bounding box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Plane {
    /// Unit normal (canonical sign: the planes are unoriented).
    pub n: Vec3,
    /// Offset (m).
    pub d: f32,
    /// Bounding box of the plane's triangles (m), slightly padded.
    pub lo: Vec3,
    /// Upper corner of the bounding box (m).
    pub hi: Vec3,
}

impl Plane {
    /// Signed distance of `p` (m).
    #[inline]
    pub fn dist(&self, p: Vec3) -> f32 {
        self.n.dot(p) - self.d
    }

    /// Mirror image of `p`.
    #[inline]
    pub fn mirror(&self, p: Vec3) -> Vec3 {
        p - 2.0 * self.dist(p) * self.n
    }

    /// True if `p` lies in the (padded) bounding box of the plane's triangles.
    #[inline]
    pub fn in_bounds(&self, p: Vec3) -> bool {
        p.cmpge(self.lo).all() && p.cmple(self.hi).all()
    }
}

/// A surface hit as the ray tracer needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SurfaceHit {
    /// Distance along the (unit) ray (m).
    pub t: f32,
    /// Unit surface normal (either side).
    pub normal: Vec3,
    /// Index into the surface coefficient table.
    pub surface: u32,
}

/// What the late-tail tracer needs from a geometry: closest hits and surface coefficients.
pub(crate) trait TraceGeometry: Sync {
    /// Closest hit on the ray `origin + t·dir`, `t` in `[t_min, t_max]`.
    fn closest_hit(&self, origin: Vec3, dir: Vec3, t_min: f32, t_max: f32) -> Option<SurfaceHit>;
    /// Coefficients of surface `id` (as returned in [`SurfaceHit::surface`]).
    fn coeffs(&self, id: u32) -> &SurfaceCoeffs;
    /// Number of surfaces: ids are `0..surface_count()`.
    fn surface_count(&self) -> usize;
}

/// A scene's mesh prepared for acoustics.
#[derive(Debug, Clone)]
pub(crate) struct AcousticMesh {
    pub bvh: Arc<Bvh>,
    /// Per triangle: unit normal.
    pub normal: Vec<Vec3>,
    /// Per triangle: index into `coeffs` (the scene's material id).
    pub material: Vec<u32>,
    /// Per triangle: index into `planes` (`u32::MAX` for degenerate triangles).
    pub plane_of: Vec<u32>,
    /// Coplanar groups.
    pub planes: Vec<Plane>,
    /// Per material: coefficients.
    pub coeffs: Vec<SurfaceCoeffs>,
    /// Bounds of the mesh, if any.
    pub bounds: Option<(Vec3, Vec3)>,
}

impl AcousticMesh {
    /// Prepares `scene` (which must be valid: material ids in range).
    pub fn new(scene: &Scene, bvh: Arc<Bvh>) -> AcousticMesh {
        let mesh = &scene.mesh;
        let coeffs = scene
            .materials
            .iter()
            .map(|m| SurfaceCoeffs {
                absorption: m.acoustic.absorption,
                scattering: m.acoustic.scattering,
                transmission: m.acoustic.transmission,
            })
            .collect();
        let normal: Vec<Vec3> = (0..mesh.len()).map(|t| mesh.normal(t)).collect();
        let (plane_of, planes) = group_planes(mesh, &normal);
        AcousticMesh {
            bvh,
            normal,
            material: mesh.material.clone(),
            plane_of,
            planes,
            coeffs,
            bounds: mesh.bounds(),
        }
    }

    /// Energy transmission factor per band along the segment `a → b` (product of τ of every
    /// surface crossed, at most `max_crossings`; zero beyond).
    pub fn transmission(&self, a: Vec3, b: Vec3, max_crossings: usize) -> Bands {
        let mut tau = [1.0f32; NUM_BANDS];
        let delta = b - a;
        let len = delta.length();
        if len <= 1e-6 {
            return tau;
        }
        let dir = delta / len;
        let mut t_min = 0.0;
        for _ in 0..max_crossings {
            let Some(hit) = self.bvh.cast_ray(&Ray::bounded(a, dir, t_min, len)) else {
                return tau;
            };
            let c = &self.coeffs[self.material[hit.triangle as usize] as usize];
            for (t, x) in tau.iter_mut().zip(c.transmission) {
                *t *= x;
            }
            t_min = hit.t + 1e-4;
        }
        [0.0; NUM_BANDS]
    }
}

impl TraceGeometry for AcousticMesh {
    #[inline]
    fn closest_hit(&self, origin: Vec3, dir: Vec3, t_min: f32, t_max: f32) -> Option<SurfaceHit> {
        let hit = self
            .bvh
            .cast_ray(&Ray::bounded(origin, dir, t_min, t_max))?;
        let t = hit.triangle as usize;
        Some(SurfaceHit {
            t: hit.t,
            normal: self.normal[t],
            surface: self.material[t],
        })
    }

    #[inline]
    fn coeffs(&self, id: u32) -> &SurfaceCoeffs {
        &self.coeffs[id as usize]
    }

    fn surface_count(&self) -> usize {
        self.coeffs.len()
    }
}

/// Groups coplanar triangles (unoriented planes: a triangle and its flipped twin share a plane).
fn group_planes(mesh: &TriMesh, normal: &[Vec3]) -> (Vec<u32>, Vec<Plane>) {
    let mut plane_of = vec![u32::MAX; mesh.len()];
    let mut planes: Vec<Plane> = Vec::new();
    // Bucket by the dominant normal axis and sign to keep the search short.
    for t in 0..mesh.len() {
        let mut n = normal[t];
        if n == Vec3::ZERO {
            continue;
        }
        // Canonical sign: the component of largest magnitude is positive.
        let abs = n.abs();
        let major = if abs.x >= abs.y && abs.x >= abs.z {
            n.x
        } else if abs.y >= abs.z {
            n.y
        } else {
            n.z
        };
        if major < 0.0 {
            n = -n;
        }
        let [a, b, c] = mesh.corners(t);
        let d = n.dot((a + b + c) / 3.0);
        let found = planes.iter().position(|p| {
            p.n.dot(n) > 1.0 - PLANE_NORMAL_TOL && (p.d - d).abs() < PLANE_OFFSET_TOL_M
        });
        let pad = Vec3::splat(1e-2);
        let lo = a.min(b).min(c) - pad;
        let hi = a.max(b).max(c) + pad;
        let id = match found {
            Some(i) => {
                let p = &mut planes[i];
                p.lo = p.lo.min(lo);
                p.hi = p.hi.max(hi);
                i
            }
            None => {
                planes.push(Plane { n, d, lo, hi });
                planes.len() - 1
            }
        };
        plane_of[t] = id as u32;
    }
    (plane_of, planes)
}

/// `n` unit directions spread evenly over the sphere (Fibonacci lattice), deterministic.
pub(crate) fn fibonacci_sphere(n: usize) -> Vec<Vec3> {
    let golden = std::f32::consts::PI * (3.0 - 5f32.sqrt());
    (0..n)
        .map(|i| {
            let z = 1.0 - 2.0 * (i as f32 + 0.5) / n as f32;
            let r = (1.0 - z * z).max(0.0).sqrt();
            let phi = golden * i as f32;
            Vec3::new(r * phi.cos(), r * phi.sin(), z)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rays_with_negative_zero_components_still_hit_the_walls_of_a_closed_box() {
        use crate::propagation::shoebox::ShoeboxRoom;
        let scene =
            ShoeboxRoom::uniform(Vec3::new(3.0, 0.15, 2.5), 0.1, 0.1).to_scene(Vec3::splat(0.05));
        let bvh = Bvh::build(&scene.mesh);
        let p = Vec3::new(2.0, 0.001, 0.8);
        for dir in [
            Vec3::new(0.176_776_7, 0.984_250_96, -0.0),
            Vec3::new(-0.0, 1.0, -0.0),
            Vec3::new(-0.0, -0.0, -1.0),
            Vec3::new(0.6, -0.0, 0.8),
        ] {
            assert!(
                bvh.cast_ray(&Ray::bounded(p, dir, 0.0, f32::INFINITY))
                    .is_some(),
                "escaped along {dir}"
            );
        }
    }

    #[test]
    fn fibonacci_directions_are_unit_and_balanced() {
        let d = fibonacci_sphere(500);
        assert!(d.iter().all(|v| (v.length() - 1.0).abs() < 1e-5));
        let mean: Vec3 = d.iter().copied().sum::<Vec3>() / 500.0;
        assert!(mean.length() < 0.01, "mean {mean}");
    }

    #[test]
    fn plane_mirror_is_an_involution_and_preserves_distance_to_plane_points() {
        let p = Plane {
            n: Vec3::new(0.6, 0.8, 0.0),
            d: 1.5,
            lo: Vec3::splat(-9.0),
            hi: Vec3::splat(9.0),
        };
        let x = Vec3::new(0.3, -2.0, 4.0);
        let m = p.mirror(x);
        assert!((p.mirror(m) - x).length() < 1e-5);
        assert!((p.dist(m) + p.dist(x)).abs() < 1e-5);
        let on = Vec3::new(1.5 / 0.6, 0.0, 7.0);
        assert!(((on - x).length() - (on - m).length()).abs() < 1e-4);
    }
}
