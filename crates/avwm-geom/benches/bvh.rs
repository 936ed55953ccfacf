//! Ray-casting throughput of [`avwm_geom::Bvh`].
//!
//! `cargo bench -p avwm-geom --bench bvh`
//!
//! Scene: the default procedural apartment (`generate(0, &ProceduralConfig::default())`).
//!
//! * `closest_hit_camera` / `occluded_camera`: coherent primary rays, one 128×128 pinhole image
//!   (90° horizontal field of view, camera 1.5 m above the floor) from the centre of every room
//!   towards four yaws; throughput in rays/s.
//! * `closest_hit_random` / `occluded_random`: incoherent rays, origins uniform in the rooms'
//!   free interiors, directions uniform on the sphere (the acoustic tracer's regime); the
//!   occlusion rays are bounded to 3 m (shadow/visibility-like).
//! * `build`: BVH construction for the same mesh.

use avwm_geom::{Bvh, Ray, Vec3};
use avwm_scene::Scene;
use avwm_scene::procedural::{ProceduralConfig, generate};
use divan::counter::ItemsCount;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::OnceLock;

struct Setup {
    scene: Scene,
    bvh: Bvh,
    camera: Vec<Ray>,
    random: Vec<Ray>,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let scene = generate(0, &ProceduralConfig::default()).expect("default config is valid");
        let bvh = Bvh::build(&scene.mesh);
        let (w, h) = (128usize, 128usize);
        let tan_h = (45f32).to_radians().tan();
        let mut camera = Vec::new();
        for room in &scene.rooms {
            let c = 0.5 * (room.min + room.max);
            let eye = Vec3::new(c.x, c.y, scene.floor_z + 1.5);
            for k in 0..4 {
                let yaw = k as f32 * std::f32::consts::FRAC_PI_2 + 0.3;
                let (s, co) = yaw.sin_cos();
                let (fwd, right) = (Vec3::new(co, s, 0.0), Vec3::new(s, -co, 0.0));
                for j in 0..h {
                    for i in 0..w {
                        let sx = ((i as f32 + 0.5) * 2.0 / w as f32 - 1.0) * tan_h;
                        let sy = (1.0 - (j as f32 + 0.5) * 2.0 / h as f32) * tan_h;
                        let d = (fwd + right * sx + Vec3::Z * sy).normalize();
                        camera.push(Ray::new(eye, d));
                    }
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let random = (0..65_536)
            .map(|_| {
                let room = &scene.rooms[rng.random_range(0..scene.rooms.len())];
                let o = Vec3::new(
                    rng.random_range(room.min.x..room.max.x),
                    rng.random_range(room.min.y..room.max.y),
                    scene.floor_z + rng.random_range(0.1..2.3),
                );
                let z: f32 = rng.random_range(-1.0..1.0);
                let phi: f32 = rng.random_range(0.0..std::f32::consts::TAU);
                let r = (1.0 - z * z).sqrt();
                Ray::new(o, Vec3::new(r * phi.cos(), r * phi.sin(), z))
            })
            .collect();
        Setup {
            scene,
            bvh,
            camera,
            random,
        }
    })
}

fn main() {
    let s = setup();
    eprintln!(
        "apartment: {} triangles, {} camera rays, {} random rays",
        s.bvh.len(),
        s.camera.len(),
        s.random.len()
    );
    divan::main();
}

#[divan::bench(sample_count = 30)]
fn closest_hit_camera(bencher: divan::Bencher) {
    let s = setup();
    bencher.counter(ItemsCount::new(s.camera.len())).bench(|| {
        s.camera
            .iter()
            .filter_map(|r| s.bvh.cast_ray(divan::black_box(r)))
            .map(|h| h.t)
            .sum::<f32>()
    });
}

#[divan::bench(sample_count = 30)]
fn occluded_camera(bencher: divan::Bencher) {
    let s = setup();
    bencher.counter(ItemsCount::new(s.camera.len())).bench(|| {
        s.camera
            .iter()
            .filter(|r| s.bvh.occluded(divan::black_box(r)))
            .count()
    });
}

#[divan::bench(sample_count = 30)]
fn closest_hit_random(bencher: divan::Bencher) {
    let s = setup();
    bencher.counter(ItemsCount::new(s.random.len())).bench(|| {
        s.random
            .iter()
            .filter_map(|r| s.bvh.cast_ray(divan::black_box(r)))
            .map(|h| h.t)
            .sum::<f32>()
    });
}

#[divan::bench(sample_count = 30)]
fn occluded_random(bencher: divan::Bencher) {
    let s = setup();
    bencher.counter(ItemsCount::new(s.random.len())).bench(|| {
        s.random
            .iter()
            .filter(|r| {
                s.bvh
                    .occluded(divan::black_box(&Ray::bounded(r.origin, r.dir, 0.0, 3.0)))
            })
            .count()
    });
}

#[divan::bench(sample_count = 10)]
fn build(bencher: divan::Bencher) {
    let s = setup();
    bencher
        .counter(ItemsCount::new(s.scene.mesh.len()))
        .bench(|| Bvh::build(divan::black_box(&s.scene.mesh)));
}
