//! Propagation throughput.
//!
//! `cargo bench -p avwm-audio --bench propagation`
//!
//! * `shoebox_hybrid`: the pyroomacoustics anchor room (6×5×3 m, order-10 image sources plus the
//!   ray-traced tail, default config, one thread); before the divan table the bench prints the
//!   median time and the ratio to pyroomacoustics' ≈ 550 ms (`reference/acoustics.md` §1.2).
//! * `response_per_pose/*`: one fresh `AcousticScene::response` (direct/diffracted/transmitted
//!   paths, order-2 image sources with exact visibility, late field lookup) at varying listener
//!   positions, in a procedural apartment (default `ProceduralConfig`, seed 1) and a small one.
//! * `scene_precompute`: `AcousticScene::new` (planes, guide rays, 20 000-ray late field) for
//!   the small procedural apartment, on all threads.

use avwm_audio::propagation::shoebox::ShoeboxRoom;
use avwm_audio::propagation::{AcousticScene, AcousticsConfig};
use avwm_core::{EAR_HEIGHT_M, Seed};
use avwm_geom::Bvh;
use avwm_scene::Scene;
use avwm_scene::procedural::{ProceduralConfig, generate};
use divan::counter::ItemsCount;
use glam::Vec3;
use rand::Rng;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// pyroomacoustics 0.10.1 `compute_rir` for the same room (median, `reference/acoustics.md`).
const PYROOMACOUSTICS_MS: f64 = 551.0;

fn anchor_room() -> ShoeboxRoom {
    // Plasterboard walls, carpet floor, ceiling tiles (the library's octave-band values), scattering 0.1.
    let lib = avwm_scene::material_library();
    let abs = |name: &str| {
        lib.iter()
            .find(|m| m.name == name)
            .map(|m| m.acoustic.absorption)
            .unwrap_or([0.1; 6])
    };
    let wall = abs("plasterboard");
    ShoeboxRoom {
        size: Vec3::new(6.0, 5.0, 3.0),
        absorption: [wall, wall, wall, wall, abs("carpet"), abs("ceiling_tile")],
        scattering: [[0.1; 6]; 6],
    }
}

fn shoebox_once(seed: u64) {
    let room = anchor_room();
    let cfg = AcousticsConfig::default();
    let r = room.response(
        Vec3::new(4.5, 3.5, 1.2),
        Vec3::new(1.5, 1.8, 1.5),
        &cfg,
        Seed(seed),
    );
    divan::black_box(r.ok());
}

struct Prepared {
    scene: AcousticScene,
    listeners: Vec<Vec3>,
    triangles: usize,
}

fn prepare(cfg: &ProceduralConfig) -> Prepared {
    let scene: Scene = generate(1, cfg).expect("procedural scene");
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    let ac = AcousticScene::new(&scene, bvh, &AcousticsConfig::default(), Seed(1))
        .expect("acoustic scene");
    let mut rng = Seed(2).rng();
    let listeners = (0..64)
        .map(|i| {
            let room = &scene.rooms[i % scene.rooms.len()];
            Vec3::new(
                rng.random_range(room.min.x + 0.3..room.max.x - 0.3),
                rng.random_range(room.min.y + 0.3..room.max.y - 0.3),
                scene.floor_z + EAR_HEIGHT_M,
            )
        })
        .collect();
    Prepared {
        scene: ac,
        listeners,
        triangles: scene.mesh.len(),
    }
}

fn apartment() -> &'static Prepared {
    static P: OnceLock<Prepared> = OnceLock::new();
    P.get_or_init(|| prepare(&ProceduralConfig::default()))
}

fn small_apartment() -> &'static Prepared {
    static P: OnceLock<Prepared> = OnceLock::new();
    P.get_or_init(|| prepare(&ProceduralConfig::small()))
}

fn main() {
    let mut times: Vec<f64> = (0..15)
        .map(|i| {
            let t = Instant::now();
            shoebox_once(i);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "shoebox hybrid (order 10 + RT, 1 thread): median {median:.2} ms; pyroomacoustics {PYROOMACOUSTICS_MS} ms; ratio {:.0}×",
        PYROOMACOUSTICS_MS / median
    );
    let t = Instant::now();
    for _ in 0..20 {
        let cfg = AcousticsConfig::default();
        let r = anchor_room().image_sources(
            Vec3::new(4.5, 3.5, 1.2),
            Vec3::new(1.5, 1.8, 1.5),
            10,
            &cfg,
        );
        divan::black_box(r.ok());
    }
    println!(
        "  of which image sources (order 10, 1561 images): {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / 20.0
    );
    let t = Instant::now();
    let _ = apartment();
    println!(
        "AcousticScene::new on the default procedural apartment (20 000 field rays, all threads): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    for (name, p) in [("default", apartment()), ("small", small_apartment())] {
        println!(
            "procedural apartment ({name}): {} triangles, {} planes, late field {:.1} MB",
            p.triangles,
            p.scene.plane_count(),
            p.scene.late_field_bytes() as f64 / 1e6
        );
    }
    divan::main();
}

#[divan::bench(sample_count = 20)]
fn shoebox_hybrid(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(1usize))
        .bench(|| shoebox_once(1));
}

#[divan::bench(args = ["default", "small"])]
fn response_per_pose(bencher: divan::Bencher, which: &str) {
    let p = if which == "default" {
        apartment()
    } else {
        small_apartment()
    };
    let mut i = 0usize;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        i = (i + 1) % p.listeners.len();
        divan::black_box(p.scene.response(p.listeners[i], Seed(0)))
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn scene_precompute(bencher: divan::Bencher) {
    let scene = generate(1, &ProceduralConfig::small()).expect("procedural scene");
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    bencher.counter(ItemsCount::new(1usize)).bench(|| {
        divan::black_box(
            AcousticScene::new(&scene, bvh.clone(), &AcousticsConfig::default(), Seed(1)).ok(),
        )
    });
}
