use crate::grid;
use avwm_core::{Action, Pose, Seed};
use avwm_geom::{Bvh, Vec2};
use avwm_scene::procedural::{ProceduralConfig, generate};
use rand::Rng;

/// On generated apartments: every room is reachable (the generator connects all rooms by doors at
/// least 0.9 m wide, wider than the agent's 0.2 m diameter plus clearance), the source is snapped
/// within reach, and random walks stay inside.
#[test]
fn procedural_apartments_are_fully_navigable() {
    let cfg = ProceduralConfig::small();
    for seed in 0..6 {
        let scene = generate(seed, &cfg).expect("generator works");
        let g = grid(&scene);
        for (r, room) in scene.rooms.iter().enumerate() {
            let c = (room.min + room.max) / 2.0;
            let mut rng = Seed(seed).derive("room", r as u64).rng();
            // Some point in the room is reachable (its centre may hold furniture).
            let hit = (0..400).any(|_| {
                let p = Vec2::new(
                    rng.random_range(room.min.x..room.max.x),
                    rng.random_range(room.min.y..room.max.y),
                );
                g.is_navigable(p) && g.geodesic_to_source(p).is_finite()
            });
            assert!(
                hit,
                "seed {seed}: room {r} ({}) around {c} is not reachable",
                room.kind
            );
        }
        let offset = g.goal().distance(g.source_xy());
        assert!(
            offset < 1.0,
            "seed {seed}: goal {offset} m from the source (success radius is 1 m)"
        );
        let bvh = Bvh::build(&scene.mesh);
        let mut rng = Seed(seed).derive("walk", 0).rng();
        for _ in 0..20 {
            let p = g.random_navigable_point(&mut rng);
            let mut pose = Pose::new(p.x, p.y, rng.random_range(-3.2..3.2));
            for _ in 0..50 {
                let a = Action::ALL[rng.random_range(1..4)];
                let m = g.apply_action(pose, a);
                assert!(g.is_navigable(m.pose.xy()));
                for h in [0.5, 1.0] {
                    assert!(bvh.visible(pose.xy().extend(h), m.pose.xy().extend(h), 0.0));
                }
                pose = m.pose;
            }
        }
        if seed == 0 {
            let img = g.draw_map(&scene, &[], 30.0);
            let dir = option_env!("CARGO_TARGET_TMPDIR")
                .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
            std::fs::write(
                dir.join("avwm-nav-procedural-0.png"),
                avwm_core::encode_png(&img).unwrap(),
            )
            .expect("write png");
        }
    }
}
