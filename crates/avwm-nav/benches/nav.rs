//! Throughput of grid construction, geodesic queries, motion and path search on a 400 m²
//! apartment (4 × 4 rooms of 5 m, 24 doors, furniture) and on a procedural apartment.
//!
//! Run: `cargo bench -p avwm-nav`.

#[path = "../tests/common/scenes.rs"]
mod scenes;

use avwm_core::{Action, Pose, Seed};
use avwm_nav::{NavConfig, NavGrid};
use avwm_scene::Scene;
use divan::Bencher;
use divan::counter::ItemsCount;
use glam::Vec2;
use std::sync::LazyLock;

fn main() {
    divan::main();
}

static APARTMENT: LazyLock<Scene> = LazyLock::new(scenes::apartment);
static GRID: LazyLock<NavGrid> =
    LazyLock::new(|| NavGrid::build(&APARTMENT, &NavConfig::default()).expect("builds"));

const QUERIES: usize = 10_000;

fn points(n: usize) -> Vec<Vec2> {
    let mut rng = Seed(5).rng();
    (0..n)
        .map(|_| GRID.random_navigable_point(&mut rng))
        .collect()
}

/// Full grid build of the 400 m² box apartment (counter: grid cells).
#[divan::bench(sample_count = 10)]
fn build_apartment_400m2(bencher: Bencher) {
    let (nx, ny) = GRID.dims();
    bencher
        .counter(ItemsCount::new(nx * ny))
        .bench(|| NavGrid::build(&APARTMENT, &NavConfig::default()));
}

/// Full grid build of a procedural apartment (default config, seed 1).
#[divan::bench(sample_count = 10)]
fn build_procedural_default(bencher: Bencher) {
    let scene =
        avwm_scene::procedural::generate(1, &avwm_scene::procedural::ProceduralConfig::default())
            .expect("generates");
    let g = NavGrid::build(&scene, &NavConfig::default()).expect("builds");
    let (nx, ny) = g.dims();
    bencher
        .counter(ItemsCount::new(nx * ny))
        .bench(|| NavGrid::build(&scene, &NavConfig::default()));
}

/// O(1) geodesic distance to the source (counter: queries).
#[divan::bench]
fn geodesic_to_source(bencher: Bencher) {
    let pts = points(QUERIES);
    bencher
        .counter(ItemsCount::new(QUERIES))
        .bench(|| pts.iter().map(|p| GRID.geodesic_to_source(*p)).sum::<f32>());
}

/// Forward steps with sliding (counter: actions).
#[divan::bench]
fn forward_step(bencher: Bencher) {
    let mut rng = Seed(6).rng();
    let poses: Vec<Pose> = points(QUERIES)
        .into_iter()
        .map(|p| Pose::new(p.x, p.y, rand::Rng::random_range(&mut rng, -3.0..3.0)))
        .collect();
    bencher.counter(ItemsCount::new(QUERIES)).bench(|| {
        poses
            .iter()
            .map(|p| GRID.apply_action(*p, Action::Forward).moved_m)
            .sum::<f32>()
    });
}

/// A* between random pairs of points (counter: paths).
#[divan::bench(sample_count = 20)]
fn shortest_path_random_pairs(bencher: Bencher) {
    let pts = points(40);
    bencher.counter(ItemsCount::new(20usize)).bench(|| {
        pts.chunks(2)
            .map(|w| GRID.shortest_path(w[0], w[1]).map_or(0.0, |p| p.length_m))
            .sum::<f32>()
    });
}

/// Top-down map at 40 px/m, with PNG encoding.
#[divan::bench(sample_count = 10)]
fn draw_map_png(bencher: Bencher) {
    bencher.bench(|| {
        avwm_core::encode_png(&GRID.draw_map(&APARTMENT, &[], 40.0)).map_or(0, |b| b.len())
    });
}

/// Shortest-path follower episodes from random starts to the source (counter: actions).
#[divan::bench(sample_count = 10)]
fn oracle_episode(bencher: Bencher) {
    let starts: Vec<Pose> = points(10)
        .into_iter()
        .map(|p| Pose::new(p.x, p.y, 0.0))
        .collect();
    let n: usize = starts
        .iter()
        .map(|s| GRID.oracle_actions(*s, 1.0, 500).0.len())
        .sum();
    bencher.counter(ItemsCount::new(n)).bench(|| {
        starts
            .iter()
            .map(|s| GRID.oracle_actions(*s, 1.0, 500).0.len())
            .sum::<usize>()
    });
}
