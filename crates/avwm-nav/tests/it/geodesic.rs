use crate::grid;
use crate::scenes::{self, DIVIDER_X, DOOR_Y, WALL_T, two_rooms};
use avwm_core::Seed;
use avwm_geom::Vec2;
use avwm_nav::NavGrid;

/// Worst-case relative overestimate of a 16-connected grid path in open space (documented on
/// `NavGrid`): 1/cos(atan(1/2)/2).
fn grid_factor() -> f32 {
    1.0 / (0.5f32.atan() / 2.0).cos()
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-4 + 1e-5 * a.abs().max(b.abs())
}

fn scenes_under_test() -> Vec<NavGrid> {
    vec![
        grid(&two_rooms(Vec2::ZERO, true)),
        grid(&scenes::apartment()),
    ]
}

#[test]
fn grid_factor_is_the_documented_2_75_percent() {
    assert!((grid_factor() - 1.02749).abs() < 1e-4, "{}", grid_factor());
}

#[test]
fn geodesic_is_never_shorter_than_the_straight_line() {
    for g in scenes_under_test() {
        let mut rng = Seed(10).rng();
        for _ in 0..4000 {
            let p = g.random_navigable_point(&mut rng);
            let d = g.geodesic_to_source(p);
            assert!(d.is_finite());
            assert!(d >= p.distance(g.source_xy()) - 1e-5, "{p}: {d} < euclid");
        }
    }
}

#[test]
fn geodesic_equals_the_length_of_its_path_and_of_the_astar_path() {
    for g in scenes_under_test() {
        let mut rng = Seed(11).rng();
        let offset = g.goal().distance(g.source_xy());
        for _ in 0..300 {
            let p = g.random_navigable_point(&mut rng);
            let d = g.geodesic_to_source(p);
            let path = g.path_to_source(p).expect("navigable");
            let summed: f32 = path.points.windows(2).map(|w| w[0].distance(w[1])).sum();
            assert!(
                close(path.length_m, d) && close(summed, d),
                "path {} / {summed} vs geodesic {d}",
                path.length_m
            );
            assert_eq!(path.points.first(), Some(&p));
            assert_eq!(path.points.last(), Some(&g.source_xy()));
            // Every grid segment (all but the last, which climbs onto the table) is free.
            let n = path.points.len();
            for w in path.points[..n - 1].windows(2) {
                assert!(
                    g.line_of_sight(w[0], w[1]),
                    "segment {} -> {} leaves the free space",
                    w[0],
                    w[1]
                );
            }
            let astar = g.shortest_path(p, g.goal()).expect("navigable");
            assert!(
                close(astar.length_m + offset, d),
                "A* {} + {offset} vs Dijkstra {d}",
                astar.length_m
            );
        }
    }
}

#[test]
fn shortest_path_is_symmetric_and_smoothing_never_lengthens_it() {
    let g = grid(&scenes::apartment());
    let mut rng = Seed(12).rng();
    let mut shortened = 0;
    for _ in 0..60 {
        let (a, b) = (
            g.random_navigable_point(&mut rng),
            g.random_navigable_point(&mut rng),
        );
        let ab = g.shortest_path(a, b).expect("navigable");
        let ba = g.geodesic(b, a).expect("navigable");
        assert!(close(ab.length_m, ba), "{} vs {ba}", ab.length_m);
        assert!(ab.length_m >= a.distance(b) - 1e-5);
        let s = ab.smoothed(&g);
        assert!(s.length_m <= ab.length_m + 1e-5);
        assert!(s.length_m >= a.distance(b) - 1e-5);
        assert_eq!((s.points.first(), s.points.last()), (Some(&a), Some(&b)));
        for w in s.points.windows(2) {
            assert!(g.line_of_sight(w[0], w[1]));
        }
        if s.length_m < ab.length_m - 1e-3 {
            shortened += 1;
        }
    }
    assert!(
        shortened > 10,
        "string pulling should shorten most grid paths ({shortened}/60)"
    );
}

#[test]
fn open_space_geodesic_is_within_the_documented_bound() {
    let g = grid(&scenes::empty_room(10.0, 10.0));
    let mut rng = Seed(13).rng();
    // d = |p − c| + D + |g − s| with D ≤ f·|c − g| ≤ f·(|c − p| + |p − s| + |s − g|), and both
    // endpoint offsets ≤ cell/√2: d ≤ f·|p − s| + 2·(1 + f)·cell/√2.
    let slack = 2.0 * (1.0 + grid_factor()) * 0.05 * std::f32::consts::FRAC_1_SQRT_2;
    let mut worst: f32 = 1.0;
    for _ in 0..3000 {
        let p = g.random_navigable_point(&mut rng);
        let e = p.distance(g.source_xy());
        let d = g.geodesic_to_source(p);
        assert!(d <= grid_factor() * e + slack + 1e-4, "{p}: {d} vs {e}");
        if e > 2.0 {
            worst = worst.max(d / e);
        }
    }
    // The bound is nearly attained in some direction (so this test can fail if it is wrong).
    assert!(worst > 1.015, "worst ratio {worst}");
    // Along a lattice direction the grid is exact.
    let p = g.goal() + Vec2::new(3.0, 0.0);
    assert!(close(
        g.geodesic_to_source(p),
        3.0 + g.goal().distance(g.source_xy())
    ));
}

#[test]
fn route_behind_a_wall_goes_through_the_door() {
    let src = Vec2::new(8.0, 2.0);
    let g = grid(&two_rooms(src, false));
    let p = Vec2::new(2.0, 2.0);
    let d = g.geodesic_to_source(p);
    // Any path from room A to room B crosses both faces of the divider inside the opening; with p
    // and the source below the door the shortest such path wraps the lower jamb's two corners.
    let h = WALL_T / 2.0;
    let route = |delta: f32| {
        let a = Vec2::new(DIVIDER_X - h - delta, DOOR_Y.0 + delta);
        let b = Vec2::new(DIVIDER_X + h + delta, DOOR_Y.0 + delta);
        p.distance(a) + a.distance(b) + b.distance(src)
    };
    let lower = route(0.0);
    // The agent keeps its radius (0.1 m) plus at most two cells from the jamb: wrapping corners
    // inflated by 0.25 m is a feasible route, and the grid adds at most its 2.75 % and the
    // endpoint terms.
    let upper = grid_factor() * route(0.25) + 3.0 * 0.05;
    assert!(
        d >= lower && d <= upper,
        "geodesic {d} not in [{lower}, {upper}]"
    );
    assert!(
        d <= 1.05 * lower,
        "geodesic {d} exceeds the zero-radius door route {lower} by more than 5 %"
    );
    assert!(d > p.distance(src) + 1.0, "the wall must force a detour");
    // The path really passes through the door opening.
    let path = g.path_to_source(p).expect("navigable");
    let crossing = path
        .points
        .windows(2)
        .find(|w| (w[0].x - DIVIDER_X) * (w[1].x - DIVIDER_X) <= 0.0)
        .expect("crosses x = 5");
    let y = crossing[0].y.max(crossing[1].y);
    assert!(
        y > DOOR_Y.0 && crossing[0].y.min(crossing[1].y) < DOOR_Y.1,
        "crossing at y ≈ {y}"
    );
    // The same geodesic from the other side is reciprocal.
    // (A* from the source's cell and Dijkstra from the goal cell use the same endpoint terms.)
    let back = g.geodesic(src, p).expect("navigable");
    assert!(close(back, d), "{back} vs {d}");
}

#[test]
fn non_navigable_points_have_no_geodesic() {
    let g = grid(&two_rooms(Vec2::ZERO, true));
    for p in [
        Vec2::new(5.0, 2.0),
        Vec2::new(8.0, 3.0),
        Vec2::new(-5.0, -5.0),
        Vec2::new(f32::NAN, 1.0),
    ] {
        assert_eq!(g.geodesic_to_source(p), f32::INFINITY);
        assert!(g.path_to_source(p).is_none());
        assert!(g.geodesic(p, g.goal()).is_none());
    }
}
