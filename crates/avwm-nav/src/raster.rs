//! Low-level rasterisation helpers: slab clipping, conservative polygon coverage and segment
//! supercover, all in grid index space (one unit = one cell, cell `(i, j)` covers
//! `[i, i + 1) × [j, j + 1)`).

use glam::{DVec2, Vec3};

/// Clips a triangle to the slab `z_lo <= z <= z_hi` (Sutherland–Hodgman against two planes) and
/// returns the horizontal footprint of what remains (a convex polygon, possibly degenerate to a
/// segment for vertical triangles, or empty).
pub(crate) fn clip_to_slab(tri: [Vec3; 3], z_lo: f32, z_hi: f32) -> Vec<Vec3> {
    let mut poly: Vec<Vec3> = tri.to_vec();
    for (plane, keep_above) in [(z_lo, true), (z_hi, false)] {
        if poly.is_empty() {
            break;
        }
        let inside = |p: &Vec3| {
            if keep_above {
                p.z >= plane
            } else {
                p.z <= plane
            }
        };
        let mut out = Vec::with_capacity(poly.len() + 2);
        for k in 0..poly.len() {
            let a = poly[k];
            let b = poly[(k + 1) % poly.len()];
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                out.push(a);
            }
            if ia != ib {
                let t = (plane - a.z) / (b.z - a.z);
                let mut p = a + (b - a) * t;
                p.z = plane;
                out.push(p);
            }
        }
        poly = out;
    }
    poly
}

/// Calls `mark(i, j)` for every cell of an `nx × ny` grid that the closed convex polygon `poly`
/// (index space) touches, boundary contact included (separating-axis test per cell of its
/// bounding box). Degenerate polygons (segments, points) are handled.
pub(crate) fn cover_convex_polygon(
    poly: &[DVec2],
    nx: usize,
    ny: usize,
    mut mark: impl FnMut(usize, usize),
) {
    if poly.is_empty() {
        return;
    }
    // Vertices arrive in f32 world coordinates (relative error ~1e-7 of up to ~100 m, i.e.
    // ~1e-4 cells at 5 cm): a face lying on a cell boundary must touch both neighbours.
    const EPS: f64 = 2e-4;
    let (mut lo, mut hi) = (poly[0], poly[0]);
    for p in poly {
        lo = lo.min(*p);
        hi = hi.max(*p);
    }
    let i0 = ((lo.x - EPS).floor().max(0.0)) as usize;
    let j0 = ((lo.y - EPS).floor().max(0.0)) as usize;
    let i1 = (hi.x + EPS).floor();
    let j1 = (hi.y + EPS).floor();
    if i1 < 0.0 || j1 < 0.0 {
        return;
    }
    let i1 = (i1 as usize).min(nx.saturating_sub(1));
    let j1 = (j1 as usize).min(ny.saturating_sub(1));
    // Edge normals of the polygon (zero-length edges skipped). For a segment, both directions of
    // its normal appear, which is what the separating-axis test needs.
    let normals: Vec<DVec2> = (0..poly.len())
        .filter_map(|k| {
            let e = poly[(k + 1) % poly.len()] - poly[k];
            let n = DVec2::new(-e.y, e.x);
            (n.length_squared() > 1e-24).then(|| n.normalize())
        })
        .collect();
    let ranges: Vec<(f64, f64)> = normals
        .iter()
        .map(|n| {
            poly.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    let d = n.dot(*p);
                    (a.min(d), b.max(d))
                })
        })
        .collect();
    for j in j0..=j1 {
        for i in i0..=i1 {
            let c = DVec2::new(i as f64 + 0.5, j as f64 + 0.5);
            let separated = normals.iter().zip(&ranges).any(|(n, &(pmin, pmax))| {
                let d = n.dot(c);
                let r = 0.5 * (n.x.abs() + n.y.abs());
                d + r < pmin - EPS || d - r > pmax + EPS
            });
            if !separated {
                mark(i, j);
            }
        }
    }
}

/// Visits every cell that the closed segment `a → b` (index space) touches, boundary contact
/// included, column by column. Stops early and returns `false` as soon as `visit` returns `false`.
pub(crate) fn segment_cells(a: DVec2, b: DVec2, mut visit: impl FnMut(i64, i64) -> bool) -> bool {
    const EPS: f64 = 1e-9;
    let (a, b) = if a.x <= b.x { (a, b) } else { (b, a) };
    let i0 = (a.x - EPS).floor() as i64;
    let i1 = (b.x + EPS).floor() as i64;
    let dx = b.x - a.x;
    let y_at = |x: f64| {
        if dx > 0.0 {
            a.y + (b.y - a.y) * ((x - a.x) / dx)
        } else {
            a.y
        }
    };
    for i in i0..=i1 {
        let xl = (i as f64).clamp(a.x, b.x);
        let xr = ((i + 1) as f64).clamp(a.x, b.x);
        let (ya, yb) = if dx > 0.0 {
            (y_at(xl), y_at(xr))
        } else {
            (a.y, b.y)
        };
        let j0 = (ya.min(yb) - EPS).floor() as i64;
        let j1 = (ya.max(yb) + EPS).floor() as i64;
        for j in j0..=j1 {
            if !visit(i, j) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(a: (f64, f64), b: (f64, f64)) -> Vec<(i64, i64)> {
        let mut v = Vec::new();
        segment_cells(DVec2::new(a.0, a.1), DVec2::new(b.0, b.1), |i, j| {
            v.push((i, j));
            true
        });
        v.sort();
        v
    }

    #[test]
    fn knight_move_between_centres_crosses_exactly_four_cells() {
        assert_eq!(
            cells((0.5, 0.5), (2.5, 1.5)),
            vec![(0, 0), (1, 0), (1, 1), (2, 1)]
        );
    }

    #[test]
    fn diagonal_move_through_a_corner_touches_both_orthogonal_neighbours() {
        assert_eq!(
            cells((0.5, 0.5), (1.5, 1.5)),
            vec![(0, 0), (0, 1), (1, 0), (1, 1)]
        );
    }

    #[test]
    fn straight_move_stays_in_its_row() {
        assert_eq!(cells((2.5, 0.5), (0.5, 0.5)), vec![(0, 0), (1, 0), (2, 0)]);
        assert_eq!(cells((0.5, 0.5), (0.5, 2.5)), vec![(0, 0), (0, 1), (0, 2)]);
    }

    #[test]
    fn segment_supercover_matches_dense_sampling() {
        // Every cell hit by a dense sampling of the segment must be reported (conservative).
        let segs = [
            ((0.3, 0.7), (5.9, 3.2)),
            ((4.1, 0.2), (0.6, 4.8)),
            ((1.0, 1.0), (3.0, 1.7)),
        ];
        for (a, b) in segs {
            let got = cells(a, b);
            for k in 0..=10_000 {
                let t = k as f64 / 10_000.0;
                let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                let c = (p.0.floor() as i64, p.1.floor() as i64);
                assert!(got.contains(&c), "{c:?} missing for {a:?}->{b:?}");
            }
        }
    }

    #[test]
    fn vertical_wall_triangle_is_clipped_to_the_band() {
        let tri = [
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(1.0, 0.0, 0.0),
            Vec3::new(0.0, 0.0, 3.0),
        ];
        let poly = clip_to_slab(tri, 0.05, 1.6);
        assert!(poly.len() >= 3);
        assert!(poly.iter().all(|p| (0.05..=1.6).contains(&p.z)));
        // The floor-level triangle is removed entirely.
        let floor = [
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(1.0, 0.0, 0.0),
            Vec3::new(0.0, 1.0, 0.0),
        ];
        assert!(clip_to_slab(floor, 0.05, 1.6).is_empty());
    }

    #[test]
    fn polygon_cover_is_conservative() {
        let poly = [
            DVec2::new(0.2, 0.2),
            DVec2::new(3.7, 1.1),
            DVec2::new(1.4, 2.9),
        ];
        let mut got = Vec::new();
        cover_convex_polygon(&poly, 10, 10, |i, j| got.push((i, j)));
        // Dense sampling inside the triangle.
        for u in 0..100 {
            for v in 0..(100 - u) {
                let (s, t) = (u as f64 / 100.0, v as f64 / 100.0);
                let p = poly[0] + (poly[1] - poly[0]) * s + (poly[2] - poly[0]) * t;
                let c = (p.x.floor() as usize, p.y.floor() as usize);
                assert!(got.contains(&c), "{c:?}");
            }
        }
        // And a degenerate (segment) polygon covers the cells along it.
        let seg = [
            DVec2::new(0.5, 0.5),
            DVec2::new(4.5, 0.5),
            DVec2::new(0.5, 0.5),
        ];
        let mut got = Vec::new();
        cover_convex_polygon(&seg, 10, 10, |i, j| got.push((i, j)));
        got.sort();
        assert_eq!(got, vec![(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]);
    }
}
