//! Building triangle meshes out of axis-aligned rectangles and boxes.
//!
//! Orientation convention (the one [`avwm_geom::TriMesh`] documents): every triangle is
//! counter-clockwise seen from the side its normal points to, and for solids the normal points out
//! of the solid, into free space.

use avwm_geom::{TriMesh, Vec3};

/// Face index of a box: `-x, +x, -y, +y, -z, +z` is `2 * axis + positive`; the
/// two used by name are [`NZ`] and [`PZ`].
pub(crate) const NZ: usize = 4;
pub(crate) const PZ: usize = 5;

/// Material per box face (`None` = face omitted), indexed by `2 * axis + positive`.
pub(crate) type FaceMats = [Option<u32>; 6];

/// All six faces with the same material.
pub(crate) fn all_faces(m: u32) -> FaceMats {
    [Some(m); 6]
}

/// Accumulates triangles with material ids.
#[derive(Debug, Default)]
pub(crate) struct MeshBuilder {
    pub(crate) mesh: TriMesh,
}

impl MeshBuilder {
    /// Appends the quad `a, b, c, d` (counter-clockwise seen from the front) as two triangles.
    pub(crate) fn quad(&mut self, a: Vec3, b: Vec3, c: Vec3, d: Vec3, material: u32) {
        let base = self.mesh.positions.len() as u32;
        self.mesh.positions.extend_from_slice(&[a, b, c, d]);
        self.mesh.triangles.push([base, base + 1, base + 2]);
        self.mesh.triangles.push([base, base + 2, base + 3]);
        self.mesh.material.extend_from_slice(&[material, material]);
    }

    /// An axis-aligned rectangle in the plane `coord[axis] = at`, covering `u` and `v` along the
    /// two other axes (in cyclic order `axis+1`, `axis+2`), facing `+axis` if `positive` else `-axis`.
    pub(crate) fn rect(
        &mut self,
        axis: usize,
        positive: bool,
        at: f32,
        u: (f32, f32),
        v: (f32, f32),
        material: u32,
    ) {
        let (i, j) = ((axis + 1) % 3, (axis + 2) % 3);
        let point = |a: f32, b: f32| {
            let mut p = Vec3::ZERO;
            p[axis] = at;
            p[i] = a;
            p[j] = b;
            p
        };
        // e_i × e_j = e_axis, so (u0,v0) → (u1,v0) → (u1,v1) → (u0,v1) is counter-clockwise seen from +axis.
        let (p0, p1, p2, p3) = (
            point(u.0, v.0),
            point(u.1, v.0),
            point(u.1, v.1),
            point(u.0, v.1),
        );
        if positive {
            self.quad(p0, p1, p2, p3, material);
        } else {
            self.quad(p0, p3, p2, p1, material);
        }
    }

    /// An axis-aligned box from `lo` to `hi` with outward-facing faces; faces whose material is
    /// `None` are left out (e.g. a face hidden inside another solid).
    pub(crate) fn cuboid(&mut self, lo: Vec3, hi: Vec3, faces: FaceMats) {
        for axis in 0..3 {
            let (i, j) = ((axis + 1) % 3, (axis + 2) % 3);
            let u = (lo[i], hi[i]);
            let v = (lo[j], hi[j]);
            if let Some(m) = faces[2 * axis] {
                self.rect(axis, false, lo[axis], u, v, m);
            }
            if let Some(m) = faces[2 * axis + 1] {
                self.rect(axis, true, hi[axis], u, v, m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuboid_normals_point_outward_and_rect_faces_the_requested_side() {
        let mut b = MeshBuilder::default();
        let lo = Vec3::new(1.0, 2.0, 3.0);
        let hi = Vec3::new(2.0, 4.0, 7.0);
        b.cuboid(lo, hi, all_faces(0));
        assert_eq!(b.mesh.len(), 12);
        let centre = 0.5 * (lo + hi);
        for t in 0..b.mesh.len() {
            let [a, p, q] = b.mesh.corners(t);
            let face_centre = (a + p + q) / 3.0;
            assert!(
                b.mesh.normal(t).dot(face_centre - centre) > 0.0,
                "triangle {t} faces inward"
            );
        }
        let total: f32 = (0..b.mesh.len()).map(|t| b.mesh.area(t)).sum();
        assert!((total - 2.0 * (1.0 * 2.0 + 2.0 * 4.0 + 1.0 * 4.0)).abs() < 1e-4);
        let mut r = MeshBuilder::default();
        r.rect(2, false, 1.0, (0.0, 1.0), (0.0, 1.0), 0);
        assert_eq!(r.mesh.normal(0), Vec3::NEG_Z);
        assert_eq!(r.mesh.normal(1), Vec3::NEG_Z);
    }
}
