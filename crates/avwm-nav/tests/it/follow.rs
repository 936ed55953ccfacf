use crate::grid;
use crate::scenes::{self, two_rooms};
use avwm_core::{Action, FORWARD_STEP_M, MAX_EPISODE_STEPS, Pose, SUCCESS_DISTANCE_M, Seed};
use avwm_geom::Vec2;
use rand::Rng;

#[test]
fn oracle_reaches_the_source_in_about_geodesic_over_step_forward_moves() {
    for scene in [two_rooms(Vec2::ZERO, true), scenes::apartment()] {
        let g = grid(&scene);
        assert!(g.goal_offset_m() < SUCCESS_DISTANCE_M);
        let mut rng = Seed(30).derive(&scene.name, 0).rng();
        for _ in 0..25 {
            let p = g.random_navigable_point(&mut rng);
            let start = Pose::new(p.x, p.y, rng.random_range(-3.2..3.2));
            let d0 = g.geodesic_to_source(p);
            let (actions, poses) = g.oracle_actions(start, SUCCESS_DISTANCE_M, MAX_EPISODE_STEPS);
            let end = *poses.last().expect("at least one action");
            if d0 < SUCCESS_DISTANCE_M {
                assert_eq!(actions, vec![Action::Stop]);
                continue;
            }
            assert_eq!(
                actions.last(),
                Some(&Action::Stop),
                "{}: no stop from {p} (d0 {d0})",
                scene.name
            );
            assert!(g.geodesic_to_source(end.xy()) < SUCCESS_DISTANCE_M);
            let forwards = actions.iter().filter(|a| **a == Action::Forward).count() as f32;
            // Lower bound: the grid overestimates the true distance by ≤ 2.75 % (+ endpoint terms),
            // and the agent stops as soon as it is within the success radius.
            let min = (d0 / 1.0275 - SUCCESS_DISTANCE_M - 0.1) / FORWARD_STEP_M;
            // Upper bound: the follower cuts corners (string pulling towards a 1 m look-ahead) and
            // slides, so it should need little more than the geodesic.
            let max = (1.15 * d0) / FORWARD_STEP_M + 3.0;
            assert!(
                forwards >= min && forwards <= max,
                "{}: {forwards} forward moves for {d0} m (bounds {min}..{max})",
                scene.name
            );
            // Turns are bounded by the initial alignment (≤ 180°) plus the total heading change
            // of the smoothed geodesic path, plus corrections: no spinning.
            let turns = actions.len() as f32 - forwards - 1.0;
            let path = g.path_to_source(p).expect("navigable").smoothed(&g);
            let n = path.points.len();
            let heading_change: f32 = path.points[..n - 1]
                .windows(3)
                .map(|w| {
                    let (a, b) = (w[1] - w[0], w[2] - w[1]);
                    a.perp_dot(b).atan2(a.dot(b)).abs()
                })
                .sum();
            // Door passages with discrete headings cost a few corrections each (0.3 per forward).
            let max_turns = 18.0 + 2.0 * heading_change.to_degrees() / 10.0 + 0.3 * forwards;
            assert!(
                turns <= max_turns,
                "{turns} turns for a path turning {}° ({forwards} forwards)",
                heading_change.to_degrees()
            );
            let longest_spin = actions
                .chunk_by(|a, b| a == b && *a != Action::Forward)
                .map(<[Action]>::len)
                .max()
                .unwrap_or(0);
            assert!(longest_spin <= 18, "spun {longest_spin} × 10° in a row");
        }
    }
}

#[test]
fn geodesic_to_goal_is_the_source_geodesic_minus_the_offset() {
    let g = grid(&two_rooms(Vec2::ZERO, true));
    assert!(g.geodesic_to_goal(g.goal()).abs() < 1e-6);
    let p = Vec2::new(2.0, 2.0);
    assert!((g.geodesic_to_goal(p) + g.goal_offset_m() - g.geodesic_to_source(p)).abs() < 1e-5);
    assert_eq!(
        g.oracle_action(Pose::new(-9.0, -9.0, 0.0), 1.0),
        Action::Stop
    );
}
