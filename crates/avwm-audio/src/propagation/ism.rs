//! Image sources for arbitrary triangle meshes, with an exact visibility test per path.
//!
//! Candidate plane sequences are not enumerated over all `planes^order` (thousands of planes in
//! a furnished apartment). Instead deterministic *guide rays* (a Fibonacci sphere) are cast from
//! the source and from the listener and followed through specular bounces; the planes they hit
//! give the candidates:
//!
//! * order 1: every plane first-hit from the source or from the listener;
//! * order 2: (plane first-hit from the source, plane first-hit from the listener) pairs, plus the
//!   two-plane chains of guide rays from either end;
//! * order k ≥ 3: guide-ray chains of length k from either end, and chains of length k−1 from one
//!   end closed by a first-hit plane of the other end.
//!
//! A plane that no guide ray reaches (a small patch between guide directions) can be missed;
//! raise `guide_rays` for more completeness. Every candidate is then validated exactly: the
//! path is traced back from the listener through the mirrored images, and each leg must be free
//! and end on a triangle *of that plane* (BVH casts), so no invalid path is ever returned.

use super::geometry::{AcousticMesh, Plane, fibonacci_sphere};
use crate::paths::{PathKind, PropagationPath};
use avwm_core::{Bands, NUM_BANDS, SPEED_OF_SOUND_M_S};
use avwm_geom::Ray;
use glam::Vec3;

/// Offset (m) used when a ray starts on a surface.
const SURFACE_EPS_M: f32 = 1e-3;

/// Largest supported image-source order on meshes.
pub(crate) const MAX_ISM_ORDER: usize = 6;

/// A sequence of plane ids (source → listener order), stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Seq {
    len: u8,
    planes: [u32; MAX_ISM_ORDER],
}

impl Seq {
    fn new() -> Seq {
        Seq {
            len: 0,
            planes: [0; MAX_ISM_ORDER],
        }
    }

    fn one(p: u32) -> Seq {
        let mut s = Seq::new();
        s.push(p);
        s
    }

    fn push(&mut self, p: u32) {
        self.planes[self.len as usize] = p;
        self.len += 1;
    }

    /// The planes.
    pub fn as_slice(&self) -> &[u32] {
        &self.planes[..self.len as usize]
    }

    /// The first `len` planes, optionally reversed.
    fn prefix(&self, len: usize, reverse: bool) -> Seq {
        let mut s = Seq::new();
        if reverse {
            self.planes[..len].iter().rev().for_each(|&p| s.push(p));
        } else {
            self.planes[..len].iter().for_each(|&p| s.push(p));
        }
        s
    }
}

/// Planes reached by guide rays from one point.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuideSet {
    /// Planes hit first, sorted, unique.
    pub first: Vec<u32>,
    /// Sequences of planes hit by each guide ray (specular continuation), in hit order, deduplicated.
    pub chains: Vec<Seq>,
}

impl GuideSet {
    /// Casts `n` guide rays from `p`, each followed for `depth` (≤ [`MAX_ISM_ORDER`]) specular hits.
    pub fn new(mesh: &AcousticMesh, p: Vec3, n: usize, depth: usize) -> GuideSet {
        let depth = depth.min(MAX_ISM_ORDER);
        let mut first = Vec::new();
        let mut chains = Vec::new();
        for dir0 in fibonacci_sphere(n) {
            let mut o = p;
            let mut d = dir0;
            let mut t_min = 0.0;
            let mut chain = Seq::new();
            for _ in 0..depth {
                let Some(hit) = mesh.bvh.cast_ray(&Ray::bounded(o, d, t_min, f32::INFINITY)) else {
                    break;
                };
                let tri = hit.triangle as usize;
                let plane = mesh.plane_of[tri];
                if plane == u32::MAX {
                    break;
                }
                chain.push(plane);
                let nrm = mesh.normal[tri];
                o += d * hit.t;
                d = (d - 2.0 * d.dot(nrm) * nrm).normalize_or_zero();
                t_min = SURFACE_EPS_M;
            }
            if chain.len > 0 {
                first.push(chain.planes[0]);
                chains.push(chain);
            }
        }
        first.sort_unstable();
        first.dedup();
        chains.sort_unstable();
        chains.dedup();
        GuideSet { first, chains }
    }
}

/// All candidate plane sequences (source → listener order) of orders `1..=max_order`, unique,
/// with no plane repeated consecutively, in a deterministic order (by order, then plane ids).
pub(crate) fn candidates(src: &GuideSet, lis: &GuideSet, max_order: usize) -> Vec<Seq> {
    let max_order = max_order.min(MAX_ISM_ORDER);
    // Unique chain prefixes of each length, source → listener order.
    let prefixes = |g: &GuideSet, len: usize, reverse: bool| -> Vec<Seq> {
        let mut v: Vec<Seq> = g
            .chains
            .iter()
            .filter(|c| c.len as usize >= len)
            .map(|c| c.prefix(len, reverse))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut out: Vec<Seq> = Vec::new();
    out.extend(src.first.iter().map(|&p| Seq::one(p)));
    out.extend(lis.first.iter().map(|&p| Seq::one(p)));
    for k in 2..=max_order {
        out.extend(prefixes(src, k, false));
        out.extend(prefixes(lis, k, true));
        for s in prefixes(src, k - 1, false) {
            for &q in &lis.first {
                let mut c = s;
                c.push(q);
                out.push(c);
            }
        }
        for s in prefixes(lis, k - 1, true) {
            for &p in &src.first {
                let mut c = Seq::one(p);
                s.as_slice().iter().for_each(|&x| c.push(x));
                out.push(c);
            }
        }
    }
    out.retain(|s| s.as_slice().windows(2).all(|w| w[0] != w[1]));
    out.sort_unstable();
    out.dedup();
    out
}

/// Validates one plane sequence exactly; returns the path if it is physically valid.
pub(crate) fn validate(
    mesh: &AcousticMesh,
    seq: &[u32],
    source: Vec3,
    listener: Vec3,
    air_per_m: &Bands,
) -> Option<PropagationPath> {
    let k = seq.len();
    let mut images = [Vec3::ZERO; 8];
    if k == 0 || k >= images.len() {
        return None;
    }
    images[0] = source;
    for (j, &p) in seq.iter().enumerate() {
        images[j + 1] = mesh.planes[p as usize].mirror(images[j]);
    }
    let total = (images[k] - listener).length();
    if total < 1e-4 {
        return None;
    }
    // Cheap arithmetic pass first: all reflection points on the right side and in bounds.
    let mut points = [Vec3::ZERO; 8];
    let mut target = listener;
    for j in (0..k).rev() {
        let plane: &Plane = &mesh.planes[seq[j] as usize];
        let img = images[j + 1];
        let dt = plane.dist(target);
        let di = plane.dist(img);
        // Strictly opposite sides (a NaN product also fails).
        if dt * di >= 0.0 || (dt * di).is_nan() {
            return None;
        }
        let u = dt / (dt - di);
        let r = target + u * (img - target);
        if !plane.in_bounds(r) {
            return None;
        }
        points[j] = r;
        target = r;
    }
    // Exact pass: each leg ends on a triangle of the expected plane, nothing in between.
    let mut gain = [1.0f32; NUM_BANDS];
    let mut from = listener;
    let mut t_min = 0.0;
    for j in (0..k).rev() {
        let to = points[j];
        let delta = to - from;
        let dist = delta.length();
        if dist < 1e-4 {
            return None;
        }
        let dir = delta / dist;
        let tol = 2e-3 + 1e-4 * dist;
        let hit = mesh
            .bvh
            .cast_ray(&Ray::bounded(from, dir, t_min, dist + tol))?;
        let tri = hit.triangle as usize;
        if (hit.t - dist).abs() > tol || mesh.plane_of[tri] != seq[j] {
            return None;
        }
        let c = mesh.coeffs[mesh.material[tri] as usize].specular_amplitude();
        for (g, x) in gain.iter_mut().zip(c) {
            *g *= x;
        }
        from = to;
        t_min = SURFACE_EPS_M;
    }
    if !mesh.bvh.visible(points[0], source, SURFACE_EPS_M) {
        return None;
    }
    let spread = 1.0 / total;
    for b in 0..NUM_BANDS {
        gain[b] *= spread * (-0.5 * air_per_m[b] * total).exp();
    }
    let direction = (points[k - 1] - listener).normalize_or_zero();
    Some(PropagationPath {
        kind: PathKind::Reflection { order: k as u8 },
        delay_s: total / SPEED_OF_SOUND_M_S,
        direction,
        gain,
    })
}

/// Image-source paths between `source` and `listener` up to `max_order`.
pub(crate) fn image_sources(
    mesh: &AcousticMesh,
    src_guides: &GuideSet,
    lis_guides: &GuideSet,
    source: Vec3,
    listener: Vec3,
    max_order: usize,
    air_per_m: &Bands,
) -> Vec<PropagationPath> {
    candidates(src_guides, lis_guides, max_order)
        .iter()
        .filter_map(|seq| validate(mesh, seq.as_slice(), source, listener, air_per_m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(p: &[u32]) -> Seq {
        let mut s = Seq::new();
        p.iter().for_each(|&x| s.push(x));
        s
    }

    #[test]
    fn candidates_cover_first_hit_pairs_and_reversed_listener_chains_without_repeats() {
        let src = GuideSet {
            first: vec![1, 2],
            chains: vec![chain(&[1, 3]), chain(&[2, 1])],
        };
        let lis = GuideSet {
            first: vec![2, 4],
            chains: vec![chain(&[4, 5]), chain(&[2, 2])],
        };
        let c = candidates(&src, &lis, 2);
        let has = |p: &[u32]| c.iter().any(|s| s.as_slice() == p);
        // Order 1: the union of first hits.
        for p in [1, 2, 4] {
            assert!(has(&[p]));
        }
        // Order 2: (source first hit, listener first hit) pairs, source chains, reversed listener chains.
        for p in [[1, 2], [1, 4], [2, 4], [1, 3], [2, 1], [5, 4]] {
            assert!(has(&p), "missing {p:?}");
        }
        // Never the same plane twice in a row, never twice the same sequence.
        assert!(!has(&[2, 2]));
        let mut sorted = c.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), c.len());
        assert!(
            c.iter()
                .all(|s| s.as_slice().windows(2).all(|w| w[0] != w[1]))
        );
    }
}
