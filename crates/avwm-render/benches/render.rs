//! Frame throughput of the renderer (frames/s at 128², one thread and rayon) and the cost of
//! building a renderer (lightmap bake), on a hand-built furnished room and a procedural apartment.
//!
//! ```text
//! cargo bench -p avwm-render --bench render
//! ```

use avwm_core::Pose;
use avwm_geom::Bvh;
use avwm_render::{CameraConfig, LightingMode, Renderer};
use avwm_scene::Scene;
use avwm_scene::procedural::{ProceduralConfig, generate};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use std::sync::Arc;

#[path = "../tests/it/scenes.rs"]
#[allow(dead_code)]
mod scenes;

fn main() {
    divan::main();
}

const SCENES: &[&str] = &["room", "apartment"];

/// The scene and a set of camera poses inside it (room centres, several headings).
fn scene(which: &str) -> (Scene, Arc<Bvh>, Vec<Pose>) {
    match which {
        "room" => {
            let (s, b) = scenes::furnished_room(3.0, 2.0);
            let poses = (0..16)
                .map(|k| Pose::new(-1.0 + 0.1 * k as f32, -0.5, k as f32 * 0.4))
                .collect();
            (s, b, poses)
        }
        _ => {
            let s = generate(1, &ProceduralConfig::default()).expect("procedural scene");
            let b = Arc::new(Bvh::build(&s.mesh));
            let poses = s
                .rooms
                .iter()
                .flat_map(|r| {
                    let c = (r.min + r.max) * 0.5;
                    (0..8).map(move |k| Pose::new(c.x, c.y, k as f32 * std::f32::consts::FRAC_PI_4))
                })
                .collect();
            (s, b, poses)
        }
    }
}

fn frames(bencher: Bencher, which: &str, cfg: CameraConfig, threaded: bool) {
    let (scene, bvh, poses) = scene(which);
    let r = Renderer::new(&scene, bvh, &cfg).expect("renderer");
    let mut i = 0;
    bencher
        .counter(ItemsCount::new(1usize))
        .bench_local(move || {
            i = (i + 1) % poses.len();
            if threaded {
                r.render(black_box(poses[i]))
            } else {
                r.render_single_thread(black_box(poses[i]))
            }
        });
}

/// One 128² frame on the calling thread, baked lighting (the simulator's per-core budget).
#[divan::bench(args = SCENES)]
fn frame_128_one_thread(bencher: Bencher, which: &str) {
    frames(bencher, which, CameraConfig::default(), false);
}

/// One 128² frame, rows in parallel (all cores).
#[divan::bench(args = SCENES)]
fn frame_128_rayon(bencher: Bencher, which: &str) {
    frames(bencher, which, CameraConfig::default(), true);
}

/// One 128² frame with 2×2 supersampling, one thread.
#[divan::bench(args = SCENES, sample_count = 20)]
fn frame_128_ss2x2_one_thread(bencher: Bencher, which: &str) {
    let cfg = CameraConfig {
        supersampling: avwm_render::Supersampling::Grid2x2,
        ..CameraConfig::default()
    };
    frames(bencher, which, cfg, false);
}

/// One 128² frame with per-pixel (unbaked) lighting, one thread: the reference path.
#[divan::bench(args = SCENES, sample_count = 10)]
fn frame_128_direct_one_thread(bencher: Bencher, which: &str) {
    let cfg = CameraConfig {
        lighting: LightingMode::Direct,
        ..CameraConfig::default()
    };
    frames(bencher, which, cfg, false);
}

/// `Renderer::new`: the lightmap bake (parallel over triangles).
#[divan::bench(args = SCENES, sample_count = 3, sample_size = 1)]
fn renderer_new_bake(bencher: Bencher, which: &str) {
    let (scene, bvh, _) = scene(which);
    bencher.bench_local(|| {
        Renderer::new(&scene, bvh.clone(), &CameraConfig::default()).expect("renderer")
    });
}
