use crate::grid;
use crate::scenes::{self, two_rooms};
use avwm_core::{AGENT_RADIUS_M, Seed};
use avwm_geom::{Bvh, Ray, TriMesh, Vec2, Vec3};
use avwm_nav::{CellKind, NavConfig, NavError, NavGrid};

#[test]
fn two_room_area_is_the_interior_eroded_by_the_agent_radius() {
    let g = grid(&two_rooms(Vec2::new(8.0, 2.0), false));
    // Two rooms of 4.95 m × 6 m (the divider takes 0.1 m). Eroding each by δ on every side leaves
    // 2·(4.95 − 2δ)(6 − 2δ); the exact erosion is the radius (0.1 m) and the conservative
    // rasterisation adds at most two cells (0.1 m), so δ ∈ [0.1, 0.2]. The door adds < 0.2 m².
    let a = |d: f32| 2.0 * (4.95 - 2.0 * d) * (6.0 - 2.0 * d);
    let area = g.area_m2();
    assert!(
        area <= a(0.1) + 0.2 && area >= a(0.2),
        "area {area} not in [{}, {}]",
        a(0.2),
        a(0.1)
    );
    assert_eq!(g.reachable_cells() as f32 * 0.05 * 0.05, area);
}

#[test]
fn lintel_above_the_band_does_not_block_the_door() {
    let g = grid(&two_rooms(Vec2::new(8.0, 2.0), false));
    assert!(g.is_navigable(Vec2::new(5.0, 5.0)));
    assert_eq!(g.cell_kind(Vec2::new(5.0, 3.0)), CellKind::Obstacle);
    assert!(
        g.is_navigable(Vec2::new(2.0, 2.0)),
        "room A is connected to the source's room B"
    );
}

#[test]
fn reachable_space_keeps_the_agent_radius_from_every_wall() {
    let scene = two_rooms(Vec2::new(8.0, 2.0), true);
    let g = grid(&scene);
    let bvh = Bvh::build(&scene.mesh);
    let mut rng = Seed(1).rng();
    let cell = g.cell_m();
    // Anywhere in a reachable cell: clearance ≥ r − cell/√2 (documented on `NavGrid::build`).
    let min_clear = AGENT_RADIUS_M - cell * std::f32::consts::FRAC_1_SQRT_2 - 1e-4;
    for _ in 0..3000 {
        let p = g.random_navigable_point(&mut rng);
        assert!(g.is_navigable(p));
        for h in [0.1, 0.5, 1.0, 1.55] {
            for k in 0..32 {
                let a = k as f32 * std::f32::consts::TAU / 32.0;
                let ray = Ray::bounded(
                    p.extend(h),
                    Vec3::new(a.cos(), a.sin(), 0.0),
                    0.0,
                    min_clear,
                );
                assert!(
                    !bvh.occluded(&ray),
                    "wall within {min_clear} m of {p} at height {h}"
                );
            }
        }
    }
}

#[test]
fn outside_the_building_is_not_navigable_even_on_a_ground_plane() {
    let mut scene = two_rooms(Vec2::new(8.0, 2.0), false);
    // A yard: ground all around the building, no walls.
    scenes::push_quad(
        &mut scene.mesh,
        Vec2::new(-3.0, -3.0),
        Vec2::new(13.0, 9.0),
        0.0,
    );
    let g = grid(&scene);
    let yard = Vec2::new(-1.5, 3.0);
    assert_eq!(g.cell_kind(yard), CellKind::Disconnected);
    assert!(!g.is_navigable(yard));
    assert_eq!(g.geodesic_to_source(yard), f32::INFINITY);
    assert!(g.path_to_source(yard).is_none());
    assert_eq!(g.cell_kind(Vec2::new(-20.0, 3.0)), CellKind::Outside);
    // And without the yard the same place has no floor at all.
    let g2 = grid(&two_rooms(Vec2::new(8.0, 2.0), false));
    assert_eq!(g2.cell_kind(yard), CellKind::Outside);
}

#[test]
fn source_on_a_table_snaps_to_the_nearest_navigable_cell() {
    let g = grid(&two_rooms(Vec2::ZERO, true));
    let goal = g.goal();
    assert!(g.is_navigable(goal));
    assert!(!g.is_navigable(g.source_xy()), "the table is an obstacle");
    // Table half-width 0.5 m + radius 0.1 m + at most ~2 cells of rasterisation and 1 of snapping.
    let d = goal.distance(g.source_xy());
    assert!(
        (0.6..=0.6 + 3.0 * 0.05 * 1.5).contains(&d),
        "goal offset {d}"
    );
    // Nothing navigable is closer to the source than the goal.
    let mut rng = Seed(2).rng();
    for _ in 0..5000 {
        let p = g.random_navigable_point(&mut rng);
        assert!(p.distance(g.source_xy()) >= d - 0.05 * std::f32::consts::SQRT_2);
    }
    assert!((g.geodesic_to_source(goal) - d).abs() < 1e-5);
}

#[test]
fn invalid_scenes_give_typed_errors() {
    let mut empty = scenes::empty_room(4.0, 4.0);
    empty.mesh = TriMesh::default();
    assert!(matches!(
        NavGrid::build(&empty, &NavConfig::default()),
        Err(NavError::EmptyScene)
    ));

    // Only a ceiling: nothing to stand on.
    let mut no_floor = TriMesh::default();
    scenes::push_quad(&mut no_floor, Vec2::new(0.0, 0.0), Vec2::new(6.0, 6.0), 2.5);
    let s = scenes::scene("no-floor", no_floor, Vec3::new(3.0, 3.0, 1.0), Vec::new());
    assert!(matches!(
        NavGrid::build(&s, &NavConfig::default()),
        Err(NavError::NoNavigableCell { .. })
    ));

    // A 0.8 m closet: about 0.36 m² after erosion, below the 1 m² minimum.
    let closet = scenes::empty_room(0.8, 0.8);
    match NavGrid::build(&closet, &NavConfig::default()) {
        Err(NavError::GoalComponentTooSmall { area_m2, .. }) => {
            assert!(area_m2 > 0.2 && area_m2 < 1.0, "{area_m2}")
        }
        other => panic!("expected GoalComponentTooSmall, got {other:?}"),
    }
    let ok = NavConfig {
        min_goal_region_m2: 0.1,
        ..NavConfig::default()
    };
    assert!(NavGrid::build(&closet, &ok).is_ok());

    let bad = NavConfig {
        cell_m: -1.0,
        ..NavConfig::default()
    };
    assert!(matches!(
        NavGrid::build(&closet, &bad),
        Err(NavError::Config(_))
    ));
    let huge = NavConfig {
        max_cells: 100,
        ..NavConfig::default()
    };
    assert!(matches!(
        NavGrid::build(&closet, &huge),
        Err(NavError::GridTooLarge { .. })
    ));
}

#[test]
fn config_round_trips_through_json_and_rejects_unknown_fields() {
    let c = NavConfig {
        cell_m: 0.1,
        ..NavConfig::default()
    };
    let s = serde_json::to_string(&c).expect("serialise");
    let back: NavConfig = serde_json::from_str(&s).expect("parse");
    assert_eq!(back, c);
    let partial: NavConfig =
        serde_json::from_str(r#"{"cell_m": 0.1}"#).expect("defaults fill the rest");
    assert_eq!(partial, c);
    assert!(serde_json::from_str::<NavConfig>(r#"{"cell_size": 0.1}"#).is_err());
}

#[test]
fn grid_build_is_deterministic() {
    let scene = scenes::apartment();
    let (a, b) = (grid(&scene), grid(&scene));
    assert_eq!(a.reachable_cells(), b.reachable_cells());
    assert_eq!(a.goal(), b.goal());
    let mut rng = Seed(3).rng();
    for _ in 0..500 {
        let p = a.random_navigable_point(&mut rng);
        assert_eq!(
            a.geodesic_to_source(p).to_bits(),
            b.geodesic_to_source(p).to_bits()
        );
        assert_eq!(a.path_to_source(p), b.path_to_source(p));
    }
}
