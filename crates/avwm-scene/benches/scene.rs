//! Throughput of scene generation and saving: `cargo bench -p avwm-scene`.

use avwm_scene::file::write_scene_dir;
use avwm_scene::procedural::{ProceduralConfig, generate};
use divan::counter::ItemsCount;

fn main() {
    divan::main();
}

/// Default apartments (150–450 m², 3–10 rooms), one seed per iteration.
#[divan::bench]
fn generate_default(bencher: divan::Bencher) {
    let cfg = ProceduralConfig::default();
    let mut seed = 0u64;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        seed += 1;
        generate(divan::black_box(seed), &cfg).expect("default config is valid")
    });
}

/// Saving scene.toml + scene.json + mesh.ply of one default scene.
#[divan::bench]
fn write_dir(bencher: divan::Bencher) {
    let cfg = ProceduralConfig::default();
    let scene = generate(42, &cfg).expect("default config is valid");
    let dir = std::env::temp_dir().join(format!("avwm-scene-bench-{}", std::process::id()));
    bencher
        .counter(ItemsCount::new(1usize))
        .bench_local(|| write_scene_dir(&scene, Some(&cfg), &dir).expect("temp dir is writable"));
    let _ = std::fs::remove_dir_all(&dir);
}
