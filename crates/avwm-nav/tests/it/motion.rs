use crate::grid;
use crate::scenes::{self, DIVIDER_X, WALL_T, two_rooms};
use avwm_core::{Action, FORWARD_STEP_M, Pose, Seed, TURN_DEG, wrap_angle};
use avwm_geom::{Bvh, Vec2};
use rand::Rng;

fn angle_diff(a: f32, b: f32) -> f32 {
    wrap_angle(a - b).abs()
}

#[test]
fn random_walks_never_pass_through_walls() {
    for (scene, starts) in [
        (two_rooms(Vec2::ZERO, true), 150),
        (scenes::apartment(), 150),
    ] {
        let g = grid(&scene);
        let bvh = Bvh::build(&scene.mesh);
        let seed = Seed(20).derive(&scene.name, 0);
        let mut rng = seed.rng();
        let (mut collisions, mut steps, mut travelled) = (0, 0, 0.0);
        for _ in 0..starts {
            let p = g.random_navigable_point(&mut rng);
            let mut pose = Pose::new(p.x, p.y, rng.random_range(-3.2..3.2));
            for _ in 0..60 {
                // Mostly forward, so that the agent reaches walls.
                let action = match rng.random_range(0..10) {
                    0..6 => Action::Forward,
                    6..8 => Action::TurnLeft,
                    _ => Action::TurnRight,
                };
                let m = g.apply_action(pose, action);
                let (a, b) = (pose.xy(), m.pose.xy());
                assert!(g.is_navigable(b), "left the navigable space at {b}");
                assert!(
                    m.moved_m <= FORWARD_STEP_M + 1e-4,
                    "{pose:?} {action:?} -> {m:?}"
                );
                if action == Action::Forward && m.moved_m < FORWARD_STEP_M - 1e-4 {
                    assert!(m.collided, "a shortened step must report a collision");
                }
                if action != Action::Forward {
                    assert!(!m.collided);
                }
                assert!((a.distance(b) - m.moved_m).abs() < 1e-5);
                if action != Action::Forward {
                    assert_eq!(a, b);
                }
                for h in [0.5, 1.0] {
                    assert!(
                        bvh.visible(a.extend(h), b.extend(h), 0.0),
                        "{a} -> {b} crosses geometry at {h} m"
                    );
                }
                collisions += usize::from(m.collided);
                travelled += m.moved_m;
                steps += 1;
                pose = m.pose;
            }
        }
        // The walk must actually meet walls for the test to mean anything.
        assert!(
            collisions > steps / 50,
            "{}: only {collisions} collisions in {steps} steps",
            scene.name
        );
        assert!(travelled > 0.3 * steps as f32 * FORWARD_STEP_M);
    }
}

#[test]
fn forward_in_open_space_moves_the_full_step() {
    let g = grid(&scenes::empty_room(6.0, 6.0));
    for k in 0..36 {
        let pose = Pose::new(3.0, 3.0, (k as f32 * 10.0).to_radians());
        let m = g.apply_action(pose, Action::Forward);
        assert!(!m.collided);
        assert!((m.moved_m - FORWARD_STEP_M).abs() < 1e-5, "{}", m.moved_m);
        let expected = pose.xy() + pose.forward() * FORWARD_STEP_M;
        assert!(m.pose.xy().distance(expected) < 1e-5);
        assert_eq!(m.pose.yaw, pose.yaw);
    }
}

#[test]
fn head_on_into_a_wall_collides_without_moving() {
    let g = grid(&two_rooms(Vec2::new(8.0, 2.0), false));
    // Face +x towards the divider from room A.
    let mut pose = Pose::new(4.0, 2.0, 0.0);
    let mut last = g.apply_action(pose, Action::Forward);
    for _ in 0..20 {
        last = g.apply_action(pose, Action::Forward);
        if last.collided {
            break;
        }
        pose = last.pose;
    }
    assert!(last.collided, "never reached the wall");
    pose = last.pose;
    // The agent stops at its radius from the wall face (plus at most two cells).
    let gap = DIVIDER_X - WALL_T / 2.0 - pose.x;
    assert!((0.1..=0.1 + 2.0 * 0.05 + 1e-4).contains(&gap), "gap {gap}");
    let m = g.apply_action(pose, Action::Forward);
    assert!(m.collided);
    assert!(m.moved_m < 1e-6, "moved {}", m.moved_m);
    assert_eq!(m.pose, pose);
}

#[test]
fn walking_into_a_wall_at_45_degrees_slides_along_it() {
    let g = grid(&two_rooms(Vec2::new(8.0, 2.0), false));
    // Heading up-right towards the top wall (y = 6) of room A.
    let mut pose = Pose::new(1.0, 5.0, 45f32.to_radians());
    let mut slid = 0;
    for _ in 0..20 {
        let m = g.apply_action(pose, Action::Forward);
        if m.collided {
            // Along the wall: the x component of the step survives (0.15·cos 45° ≈ 0.106 m).
            let dx = m.pose.x - pose.x;
            assert!(
                dx > 0.9 * FORWARD_STEP_M * std::f32::consts::FRAC_1_SQRT_2,
                "dx {dx}"
            );
            assert!(m.moved_m < FORWARD_STEP_M);
            slid += 1;
        }
        pose = m.pose;
    }
    assert!(slid >= 10, "slid only {slid} times");
    assert!(
        pose.x > 1.0 + 20.0 * 0.09,
        "progress along the wall {}",
        pose.x
    );
    assert!(
        6.0 - pose.y >= 0.1 && 6.0 - pose.y <= 0.2 + 1e-4,
        "distance to the wall {}",
        6.0 - pose.y
    );
}

#[test]
fn sliding_along_a_slanted_wall_uses_its_direction() {
    // The cabinet rotated by 30° in the apartment: walking into it obliquely still makes progress.
    let g = grid(&scenes::apartment());
    let mut rng = Seed(21).rng();
    let mut progressed = 0;
    let mut blocked_steps = 0;
    for _ in 0..400 {
        let p = g.random_navigable_point(&mut rng);
        let pose = Pose::new(p.x, p.y, rng.random_range(-3.2..3.2));
        let m = g.apply_action(pose, Action::Forward);
        if m.collided {
            blocked_steps += 1;
            if m.moved_m > 0.3 * FORWARD_STEP_M {
                progressed += 1;
            }
        }
    }
    assert!(blocked_steps > 0);
    assert!(
        progressed * 2 > blocked_steps,
        "{progressed} of {blocked_steps} blocked steps kept sliding"
    );
}

#[test]
fn turns_are_ten_degrees_and_36_return_to_the_start() {
    let g = grid(&scenes::empty_room(4.0, 4.0));
    let start = Pose::new(2.0, 2.0, 0.3);
    let left = g.apply_action(start, Action::TurnLeft);
    assert!(angle_diff(left.pose.yaw, 0.3 + TURN_DEG.to_radians()) < 1e-6);
    assert!(!left.collided && left.moved_m == 0.0);
    let right = g.apply_action(start, Action::TurnRight);
    assert!(angle_diff(right.pose.yaw, 0.3 - TURN_DEG.to_radians()) < 1e-6);
    for action in [Action::TurnLeft, Action::TurnRight] {
        let mut pose = start;
        for k in 1..=36 {
            pose = g.apply_action(pose, action).pose;
            assert_eq!(pose.xy(), start.xy());
            if k == 18 {
                assert!(angle_diff(pose.yaw, 0.3 + std::f32::consts::PI) < 1e-5);
            }
        }
        assert!(
            angle_diff(pose.yaw, start.yaw) < 1e-5,
            "{action:?}: {}",
            pose.yaw
        );
    }
    let stop = g.apply_action(start, Action::Stop);
    assert_eq!(stop.pose, start);
    assert!(!stop.collided && stop.moved_m == 0.0);
}

#[test]
fn same_actions_give_the_same_trajectory_bit_for_bit() {
    let scene = scenes::apartment();
    let (g1, g2) = (grid(&scene), grid(&scene));
    let run = |g: &avwm_nav::NavGrid| {
        let mut rng = Seed(22).rng();
        let p = g.random_navigable_point(&mut rng);
        let mut pose = Pose::new(p.x, p.y, 0.0);
        let mut out = Vec::new();
        for _ in 0..300 {
            let a = avwm_core::Action::ALL[rng.random_range(1..4)];
            pose = g.apply_action(pose, a).pose;
            out.push((
                pose.x.to_bits(),
                pose.y.to_bits(),
                pose.yaw.to_bits(),
                g.geodesic_to_source(pose.xy()).to_bits(),
            ));
        }
        out
    };
    assert_eq!(run(&g1), run(&g2));
}
