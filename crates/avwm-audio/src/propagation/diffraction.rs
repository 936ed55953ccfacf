//! Edge diffraction around the scene's explicit edges (door jambs, lintels).
//!
//! Loss model: the Kurze–Anderson fit (Kurze & Anderson, *Sound attenuation by barriers*,
//! Applied Acoustics 4, 1971) of Maekawa's thin-screen chart (Maekawa, Applied Acoustics 1, 1968),
//! with the Fresnel number per band `N = 2δ/λ = 2δf/c` and the path-length detour
//! `δ = |SX| + |XL| − |SL|` over the diffraction point `X`:
//!
//! * shadow zone (`N ≥ 0`): `IL = 5 + 20·log10(√(2πN) / tanh √(2πN))` dB (5 dB at the shadow
//!   boundary, about +3 dB per doubling of N further in);
//! * lit zone close to the edge (`−0.2 < N < 0`): `IL = 5 + 20·log10(√(2π|N|) / tan √(2π|N|))`,
//!   clamped at ≥ 0, which falls to 0 dB at N ≈ −0.19. This is applied to the direct path so
//!   that the level is continuous across the shadow boundary.
//!
//! Higher bands have larger N for the same geometry and therefore lose more. The loss is capped
//! at [`MAX_IL_DB`] per edge. The wedge angle of the edges is not used by this thin-screen model.
//! Second order (edge → edge, two doors in series) sums the losses of both edges, each with its
//! own detour. Edges are grouped into openings (edges whose ends touch: jambs, lintel, both wall
//! faces) and only the shortest valid path per opening (or pair of openings) is kept; a path counts only if it bends around an obstacle at each edge (the corner-cutting
//! chord is blocked, see `bends_around_obstacle`), first-order points clamped to an edge's end (corners, covered by the adjoining
//! edge) are skipped, and the lit-zone correction takes the largest loss of any edge, not the product.

use super::config::AcousticsConfig;
use super::geometry::AcousticMesh;
use crate::paths::{PathKind, PropagationPath};
use avwm_core::{BAND_CENTERS_HZ, Bands, NUM_BANDS, SPEED_OF_SOUND_M_S};
use avwm_geom::{Bvh, Ray};
use avwm_scene::DiffractionEdge;
use glam::Vec3;

/// At most this many second-order paths are returned (the shortest valid ones).
const MAX_ORDER2_PATHS: usize = 4;
/// At most this many second-order candidates (shortest first) are tested for visibility.
const MAX_ORDER2_CHECKS: usize = 64;

/// Largest insertion loss of one edge (dB).
pub const MAX_IL_DB: f32 = 40.0;

/// Kurze–Anderson insertion loss (dB) for Fresnel number `n` (negative in the lit zone).
pub fn kurze_anderson_il_db(n: f32) -> f32 {
    if n >= 0.0 {
        let x = (std::f32::consts::TAU * n).sqrt();
        let ratio = if x < 1e-4 { 1.0 } else { x / x.tanh() };
        (5.0 + 20.0 * ratio.log10()).min(MAX_IL_DB)
    } else if n > -0.2 {
        let x = (std::f32::consts::TAU * -n).sqrt();
        let ratio = if x < 1e-4 { 1.0 } else { x / x.tan() };
        (5.0 + 20.0 * ratio.log10()).max(0.0)
    } else {
        0.0
    }
}

/// Amplitude factor per band for a detour `delta_m` (m), shadow (`shadow = true`) or lit side.
pub fn edge_amplitude(delta_m: f32, shadow: bool) -> Bands {
    std::array::from_fn(|b| {
        let n = 2.0 * delta_m * BAND_CENTERS_HZ[b] / SPEED_OF_SOUND_M_S;
        let n = if shadow { n } else { -n };
        10f32.powf(-kurze_anderson_il_db(n) / 20.0)
    })
}

/// The point on the edge segment minimising `|s−x| + |x−l|` (exact: unfold `l` about the edge
/// line into the half-plane opposite `s`).
pub fn shortest_point_on_edge(edge: &DiffractionEdge, s: Vec3, l: Vec3) -> Vec3 {
    shortest_point_interior(edge, s, l).0
}

/// [`shortest_point_on_edge`] and whether the unconstrained optimum lies strictly inside the
/// edge (`false`: it was clamped to an end point, a corner that the adjoining edge covers).
fn shortest_point_interior(edge: &DiffractionEdge, s: Vec3, l: Vec3) -> (Vec3, bool) {
    let ab = edge.b - edge.a;
    let len = ab.length();
    if len < 1e-6 {
        return (edge.a, false);
    }
    let u = ab / len;
    let sp = (s - edge.a).dot(u);
    let lp = (l - edge.a).dot(u);
    let sr = (s - edge.a - sp * u).length();
    let lr = (l - edge.a - lp * u).length();
    let x = if sr + lr < 1e-9 {
        0.5 * (sp + lp)
    } else {
        sp + (lp - sp) * sr / (sr + lr)
    };
    (edge.a + x.clamp(0.0, len) * u, x > 0.0 && x < len)
}

/// True if the segment `a → b` is free, ignoring `clear_a` metres at `a` and `clear_b` at `b`.
fn leg_free(bvh: &Bvh, a: Vec3, b: Vec3, clear_a: f32, clear_b: f32) -> bool {
    let d = b - a;
    let len = d.length();
    if len <= clear_a + clear_b {
        return true;
    }
    !bvh.occluded(&Ray::bounded(a, d / len, clear_a, len - clear_b))
}

fn path(
    points_len: f32,
    amp: Bands,
    from: Vec3,
    listener: Vec3,
    order: u8,
    air: &Bands,
) -> PropagationPath {
    let gain = std::array::from_fn(|b| amp[b] * (-0.5 * air[b] * points_len).exp() / points_len);
    PropagationPath {
        kind: PathKind::Diffracted { order },
        delay_s: points_len / SPEED_OF_SOUND_M_S,
        direction: (from - listener).normalize_or_zero(),
        gain,
    }
}

/// True if the path `prev → x → next` really bends *around an obstacle* at `x`: the chord that
/// cuts the corner (from 0.5 m before `x` on the incoming leg to 0.5 m after it on the outgoing
/// leg, at most half of each leg) is blocked. Around the far jamb of a door, seen through the
/// opening, the chord is free: the listener is in that edge's lit zone, not its shadow.
fn bends_around_obstacle(bvh: &Bvh, prev: Vec3, x: Vec3, next: Vec3) -> bool {
    let (din, dout) = (x - prev, next - x);
    let (lin, lout) = (din.length(), dout.length());
    if lin < 1e-4 || lout < 1e-4 {
        return false;
    }
    let a = x - din / lin * (0.5f32).min(0.5 * lin);
    let b = x + dout / lout * (0.5f32).min(0.5 * lout);
    !bvh.visible(a, b, 1e-5)
}

/// Two edges belong to the same opening when an end of one lies within this distance (m) of
/// the other (jambs meeting the lintel; the twin edges on both faces of a wall).
const SAME_OPENING_M: f32 = 0.3;

/// The scene's diffraction edges, grouped into openings.
#[derive(Debug, Clone, Default)]
pub(crate) struct EdgeSet {
    /// The edges.
    pub edges: Vec<DiffractionEdge>,
    /// Per edge: the id of its opening (connected group of edges).
    pub opening: Vec<u32>,
}

fn point_segment_distance(p: Vec3, a: Vec3, b: Vec3) -> f32 {
    let ab = b - a;
    let t = if ab.length_squared() > 0.0 {
        ((p - a).dot(ab) / ab.length_squared()).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (a + t * ab - p).length()
}

impl EdgeSet {
    /// Groups `edges` into openings (union–find over "an end of one is near the other").
    pub fn new(edges: &[DiffractionEdge]) -> EdgeSet {
        let n = edges.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for i in 0..n {
            for j in i + 1..n {
                let (e, f) = (&edges[i], &edges[j]);
                let near = [
                    point_segment_distance(e.a, f.a, f.b),
                    point_segment_distance(e.b, f.a, f.b),
                    point_segment_distance(f.a, e.a, e.b),
                    point_segment_distance(f.b, e.a, e.b),
                ]
                .into_iter()
                .any(|d| d < SAME_OPENING_M);
                if near {
                    let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
        let opening = (0..n).map(|i| root(&mut parent, i) as u32).collect();
        EdgeSet {
            edges: edges.to_vec(),
            opening,
        }
    }
}

/// Diffracted paths for an occluded source–listener pair: the shortest valid first-order path
/// through each opening, or, if there is none and `cfg.diffraction_order2`, the shortest valid
/// second-order path through each pair of openings (at most [`MAX_ORDER2_PATHS`]).
///
/// One path per opening is Maekawa's single-barrier view: the edges of one door (both jambs,
/// the lintel, on both wall faces) are not independent sources of diffracted sound, and the
/// edge with the smallest detour dominates.
pub(crate) fn diffracted_paths(
    mesh: &AcousticMesh,
    set: &EdgeSet,
    source: Vec3,
    listener: Vec3,
    cfg: &AcousticsConfig,
) -> Vec<PropagationPath> {
    const EPS: f32 = 1e-3;
    let air = cfg.air_per_m();
    let clear = cfg.edge_clearance_m;
    let bvh = &*mesh.bvh;
    let direct = (listener - source).length();
    let mut out = Vec::new();
    let mut first: Vec<(f32, Vec3, u32)> = set
        .edges
        .iter()
        .zip(&set.opening)
        .filter_map(|(e, &o)| {
            let (x, interior) = shortest_point_interior(e, source, listener);
            interior.then(|| ((x - source).length() + (listener - x).length(), x, o))
        })
        .collect();
    first.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.2.cmp(&q.2)));
    let mut done: Vec<u32> = Vec::new();
    for (len, x, opening) in first {
        let (a, b) = ((x - source).length(), (listener - x).length());
        if a < 1e-4 || b < 1e-4 || done.contains(&opening) {
            continue;
        }
        if leg_free(bvh, source, x, EPS, clear)
            && leg_free(bvh, x, listener, clear, EPS)
            && bends_around_obstacle(bvh, source, x, listener)
        {
            let amp = edge_amplitude(len - direct, true);
            out.push(path(len, amp, x, listener, 1, &air));
            done.push(opening);
        }
    }
    if !out.is_empty() || !cfg.diffraction_order2 {
        return out;
    }
    // Second order: first edge seen from the source, second from the listener.
    let near = |p: Vec3| -> Vec<usize> {
        (0..set.edges.len())
            .filter(|&i| {
                let x = shortest_point_on_edge(&set.edges[i], p, p);
                leg_free(bvh, p, x, EPS, clear)
            })
            .collect()
    };
    let from_src = near(source);
    if from_src.is_empty() {
        return out;
    }
    let from_lis = near(listener);
    // Optimise every pair (cheap arithmetic), then test visibility from the shortest up.
    let mut pairs: Vec<(f32, Vec3, Vec3, (u32, u32))> = Vec::new();
    for &i in &from_src {
        for &j in &from_lis {
            let key = (set.opening[i], set.opening[j]);
            if key.0 == key.1 {
                continue;
            }
            let (e1, e2) = (&set.edges[i], &set.edges[j]);
            let mut x1 = 0.5 * (e1.a + e1.b);
            let mut x2 = 0.5 * (e2.a + e2.b);
            for _ in 0..8 {
                x1 = shortest_point_on_edge(e1, source, x2);
                x2 = shortest_point_on_edge(e2, x1, listener);
            }
            let (a, m, b) = (
                (x1 - source).length(),
                (x2 - x1).length(),
                (listener - x2).length(),
            );
            if a >= 1e-4 && m >= 1e-4 && b >= 1e-4 {
                pairs.push((a + m + b, x1, x2, key));
            }
        }
    }
    pairs.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.3.cmp(&q.3)));
    let mut done: Vec<(u32, u32)> = Vec::new();
    for (checked, &(len, x1, x2, key)) in pairs.iter().enumerate() {
        if out.len() >= MAX_ORDER2_PATHS || checked >= MAX_ORDER2_CHECKS {
            break;
        }
        if done.contains(&key) {
            continue;
        }
        if leg_free(bvh, source, x1, EPS, clear)
            && leg_free(bvh, x1, x2, clear, clear)
            && leg_free(bvh, x2, listener, clear, EPS)
            && bends_around_obstacle(bvh, source, x1, x2)
            && bends_around_obstacle(bvh, x1, x2, listener)
        {
            let m = (x2 - x1).length();
            let d1 = (x1 - source).length() + m - (x2 - source).length();
            let d2 = m + (listener - x2).length() - (listener - x1).length();
            let (g1, g2) = (edge_amplitude(d1, true), edge_amplitude(d2, true));
            let amp: Bands = std::array::from_fn(|k| g1[k] * g2[k]);
            out.push(path(len, amp, x2, listener, 2, &air));
            done.push(key);
        }
    }
    out
}

/// Lit-zone amplitude correction of an unobstructed direct path passing close to edges.
pub(crate) fn lit_zone_factor(edges: &[DiffractionEdge], source: Vec3, listener: Vec3) -> Bands {
    let mut f = [1.0f32; NUM_BANDS];
    let direct = (listener - source).length();
    for e in edges {
        let (x, interior) = shortest_point_interior(e, source, listener);
        if !interior {
            continue;
        }
        let delta = (x - source).length() + (listener - x).length() - direct;
        // Beyond N = 0.2 at the lowest band the factor is exactly 1.
        if delta * 2.0 * BAND_CENTERS_HZ[0] / SPEED_OF_SOUND_M_S >= 0.2 {
            continue;
        }
        // The strongest loss of any edge (not the product: the edges of one opening are redundant).
        let g = edge_amplitude(delta, false);
        for (f, g) in f.iter_mut().zip(g) {
            *f = f.min(g);
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kurze_anderson_matches_maekawa_reference_points() {
        // Maekawa's chart: ≈5 dB at the shadow boundary, ≈13 dB at N = 1, ≈23 dB at N = 10.
        assert!((kurze_anderson_il_db(0.0) - 5.0).abs() < 1e-3);
        assert!(
            (kurze_anderson_il_db(1.0) - 13.0).abs() < 0.3,
            "{}",
            kurze_anderson_il_db(1.0)
        );
        assert!(
            (kurze_anderson_il_db(10.0) - 23.0).abs() < 0.3,
            "{}",
            kurze_anderson_il_db(10.0)
        );
        assert_eq!(kurze_anderson_il_db(-0.5), 0.0);
        // Continuous at the shadow boundary from the lit side.
        assert!((kurze_anderson_il_db(-1e-6) - 5.0).abs() < 0.01);
        let mut prev = 0.0;
        for i in 0..200 {
            let il = kurze_anderson_il_db(-0.25 + i as f32 * 0.01);
            assert!(il >= prev - 1e-4, "not monotonic at {i}");
            prev = il;
        }
    }

    #[test]
    fn edges_of_one_door_form_one_opening_and_two_doors_two() {
        let pi = std::f32::consts::PI;
        let mut edges = Vec::new();
        for y0 in [0.0f32, 3.0] {
            for x in [0.0f32, 0.15] {
                for y in [y0, y0 + 0.9] {
                    edges.push(DiffractionEdge {
                        a: Vec3::new(x, y, 0.0),
                        b: Vec3::new(x, y, 2.1),
                        wedge_rad: pi,
                    });
                }
                edges.push(DiffractionEdge {
                    a: Vec3::new(x, y0, 2.1),
                    b: Vec3::new(x, y0 + 0.9, 2.1),
                    wedge_rad: pi,
                });
            }
        }
        let set = EdgeSet::new(&edges);
        assert!(set.opening[..6].iter().all(|&o| o == set.opening[0]));
        assert!(set.opening[6..].iter().all(|&o| o == set.opening[6]));
        assert_ne!(set.opening[0], set.opening[6]);
    }

    #[test]
    fn shortest_point_on_edge_minimises_the_detour() {
        let e = DiffractionEdge {
            a: Vec3::new(0.0, 0.0, 0.0),
            b: Vec3::new(0.0, 0.0, 3.0),
            wedge_rad: std::f32::consts::PI,
        };
        let s = Vec3::new(-2.0, 1.0, 0.5);
        let l = Vec3::new(3.0, 2.0, 2.5);
        let x = shortest_point_on_edge(&e, s, l);
        let f = |p: Vec3| (p - s).length() + (l - p).length();
        for i in 0..=300 {
            let p = e.a + (e.b - e.a) * (i as f32 / 300.0);
            assert!(f(x) <= f(p) + 1e-4);
        }
    }
}
