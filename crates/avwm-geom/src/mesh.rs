//! Triangle meshes and rays.

use glam::Vec3;
use serde::{Deserialize, Serialize};

/// Errors raised when a mesh is constructed from untrusted data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeshError {
    /// A triangle refers to a vertex that does not exist.
    #[error("triangle {triangle} refers to vertex {index}, but the mesh has {count} vertices")]
    IndexOutOfRange {
        /// Triangle number.
        triangle: usize,
        /// The bad vertex index.
        index: u32,
        /// Number of vertices.
        count: usize,
    },
    /// A vertex coordinate is NaN or infinite.
    #[error("vertex {0} has a non-finite coordinate")]
    NonFinite(usize),
    /// Per-triangle arrays disagree in length.
    #[error("{what}: expected {expected} entries (one per triangle), found {found}")]
    Length {
        /// Which array.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// The mesh has no triangles.
    #[error("the mesh has no triangles")]
    Empty,
}

/// An indexed triangle mesh with one material id per triangle. World coordinates (m, z up).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriMesh {
    /// Vertex positions.
    pub positions: Vec<Vec3>,
    /// Vertex indices of each triangle, counter-clockwise seen from the front.
    pub triangles: Vec<[u32; 3]>,
    /// Material id of each triangle (an index into the scene's material table).
    pub material: Vec<u32>,
    /// Optional per-vertex linear RGB colour in [0, 1] (e.g. from a PLY or glTF), multiplied with the material colour.
    pub vertex_colors: Option<Vec<[f32; 3]>>,
}

impl TriMesh {
    /// Checks indices, finiteness and array lengths.
    ///
    /// # Errors
    /// The first problem found, as a [`MeshError`].
    pub fn validate(&self) -> Result<(), MeshError> {
        if self.triangles.is_empty() {
            return Err(MeshError::Empty);
        }
        if let Some(i) = self.positions.iter().position(|p| !p.is_finite()) {
            return Err(MeshError::NonFinite(i));
        }
        let n = self.positions.len();
        for (t, tri) in self.triangles.iter().enumerate() {
            for &index in tri {
                if index as usize >= n {
                    return Err(MeshError::IndexOutOfRange {
                        triangle: t,
                        index,
                        count: n,
                    });
                }
            }
        }
        if self.material.len() != self.triangles.len() {
            return Err(MeshError::Length {
                what: "material ids",
                expected: self.triangles.len(),
                found: self.material.len(),
            });
        }
        if let Some(c) = &self.vertex_colors
            && c.len() != n
        {
            return Err(MeshError::Length {
                what: "vertex colours",
                expected: n,
                found: c.len(),
            });
        }
        Ok(())
    }

    /// Number of triangles.
    pub fn len(&self) -> usize {
        self.triangles.len()
    }

    /// True if the mesh has no triangles.
    pub fn is_empty(&self) -> bool {
        self.triangles.is_empty()
    }

    /// The three corners of triangle `t`.
    pub fn corners(&self, t: usize) -> [Vec3; 3] {
        let [a, b, c] = self.triangles[t];
        [
            self.positions[a as usize],
            self.positions[b as usize],
            self.positions[c as usize],
        ]
    }

    /// Unit normal of triangle `t` (right-hand rule over its vertex order); zero if degenerate.
    pub fn normal(&self, t: usize) -> Vec3 {
        let [a, b, c] = self.corners(t);
        (b - a).cross(c - a).normalize_or_zero()
    }

    /// Area of triangle `t` (m²).
    pub fn area(&self, t: usize) -> f32 {
        let [a, b, c] = self.corners(t);
        0.5 * (b - a).cross(c - a).length()
    }

    /// Axis-aligned bounds `(min, max)`; `None` for an empty mesh.
    pub fn bounds(&self) -> Option<(Vec3, Vec3)> {
        let first = *self.positions.first()?;
        Some(
            self.positions
                .iter()
                .fold((first, first), |(lo, hi), p| (lo.min(*p), hi.max(*p))),
        )
    }

    /// Appends another mesh (indices are shifted; vertex colours are kept only if both have them).
    pub fn append(&mut self, other: &TriMesh) {
        let base = self.positions.len() as u32;
        let had_colors = self.vertex_colors.is_some() || self.positions.is_empty();
        self.positions.extend_from_slice(&other.positions);
        self.triangles.extend(
            other
                .triangles
                .iter()
                .map(|t| [t[0] + base, t[1] + base, t[2] + base]),
        );
        self.material.extend_from_slice(&other.material);
        self.vertex_colors = match (had_colors, self.vertex_colors.take(), &other.vertex_colors) {
            (true, Some(mut a), Some(b)) => {
                a.extend_from_slice(b);
                Some(a)
            }
            (true, None, Some(b)) if base == 0 => Some(b.clone()),
            _ => None,
        };
    }

    /// Appends the axis-aligned box `[min, max]` as 12 triangles. Faces come in the order
    /// −x, +x, −y, +y, −z, +z, two triangles each, with `face_materials[f]` as material. With
    /// `inward` the faces look into the box (a room shell), otherwise out of it (a solid).
    ///
    /// ```
    /// use avwm_geom::{TriMesh, Vec3};
    /// let mut m = TriMesh::default();
    /// m.push_box(Vec3::ZERO, Vec3::ONE, [0; 6], false);
    /// assert_eq!(m.len(), 12);
    /// assert_eq!(m.normal(0), -Vec3::X); // the −x face looks out of the box
    /// ```
    pub fn push_box(&mut self, min: Vec3, max: Vec3, face_materials: [u32; 6], inward: bool) {
        let base = self.positions.len() as u32;
        // Corner k has x from bit 0, y from bit 1, z from bit 2.
        self.positions.extend((0..8u32).map(|k| {
            Vec3::new(
                if k & 1 == 0 { min.x } else { max.x },
                if k & 2 == 0 { min.y } else { max.y },
                if k & 4 == 0 { min.z } else { max.z },
            )
        }));
        if let Some(c) = &mut self.vertex_colors {
            c.extend([[1.0; 3]; 8]);
        }
        // Counter-clockwise seen from outside.
        const QUADS: [[u32; 4]; 6] = [
            [0, 4, 6, 2],
            [1, 3, 7, 5],
            [0, 1, 5, 4],
            [2, 6, 7, 3],
            [0, 2, 3, 1],
            [4, 5, 7, 6],
        ];
        for (q, m) in QUADS.iter().zip(face_materials) {
            let [a, b, c, d] = q.map(|i| base + i);
            if inward {
                self.triangles.extend([[a, c, b], [a, d, c]]);
            } else {
                self.triangles.extend([[a, b, c], [a, c, d]]);
            }
            self.material.extend([m, m]);
        }
    }

    /// Closest hit by testing every triangle: the oracle the BVH is tested against. O(n).
    pub fn cast_ray_brute_force(&self, ray: &Ray) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        for t in 0..self.triangles.len() {
            let [a, b, c] = self.corners(t);
            let tmax = best.map_or(ray.t_max, |h| h.t);
            if let Some((d, u, v)) =
                intersect_triangle(ray.origin, ray.dir, a, b, c, ray.t_min, tmax)
            {
                best = Some(Hit {
                    t: d,
                    triangle: t as u32,
                    u,
                    v,
                });
            }
        }
        best
    }
}

/// A ray `origin + t·dir` for `t` in `[t_min, t_max]`. `dir` need not be unit length, but `t` is
/// then in units of `|dir|`; all of avwm uses unit directions so that `t` is in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    /// Origin (m).
    pub origin: Vec3,
    /// Direction (unit length by convention).
    pub dir: Vec3,
    /// Smallest accepted hit distance.
    pub t_min: f32,
    /// Largest accepted hit distance.
    pub t_max: f32,
}

impl Ray {
    /// An unbounded ray starting at `origin`.
    pub fn new(origin: Vec3, dir: Vec3) -> Ray {
        Ray {
            origin,
            dir,
            t_min: 0.0,
            t_max: f32::INFINITY,
        }
    }

    /// A ray limited to `[t_min, t_max]`.
    pub fn bounded(origin: Vec3, dir: Vec3, t_min: f32, t_max: f32) -> Ray {
        Ray {
            origin,
            dir,
            t_min,
            t_max,
        }
    }

    /// The point at distance `t`.
    ///
    /// ```
    /// use avwm_geom::{Ray, Vec3};
    /// let r = Ray::new(Vec3::ZERO, Vec3::X);
    /// assert_eq!(r.point_at(2.0), Vec3::new(2.0, 0.0, 0.0));
    /// ```
    pub fn point_at(&self, t: f32) -> Vec3 {
        self.origin + self.dir * t
    }
}

/// A ray–triangle intersection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Distance along the ray.
    pub t: f32,
    /// Triangle index in the mesh.
    pub triangle: u32,
    /// Barycentric coordinate of the hit with respect to the triangle's second vertex.
    pub u: f32,
    /// Barycentric coordinate of the hit with respect to the triangle's third vertex.
    pub v: f32,
}

/// Möller–Trumbore ray/triangle test (double-sided). Returns `(t, u, v)` for a hit with
/// `t_min <= t <= t_max`, where the hit point is `(1-u-v)·a + u·b + v·c`.
#[inline]
pub fn intersect_triangle(
    origin: Vec3,
    dir: Vec3,
    a: Vec3,
    b: Vec3,
    c: Vec3,
    t_min: f32,
    t_max: f32,
) -> Option<(f32, f32, f32)> {
    let e1 = b - a;
    let e2 = c - a;
    let p = dir.cross(e2);
    let det = e1.dot(p);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = origin - a;
    let u = s.dot(p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = s.cross(e1);
    let v = dir.dot(q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = e2.dot(q) * inv;
    (t >= t_min && t <= t_max).then_some((t, u, v))
}
