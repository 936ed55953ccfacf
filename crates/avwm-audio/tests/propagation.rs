//! Physical checks of the propagation engine on small hand-built scenes.

use avwm_audio::propagation::shoebox::ShoeboxRoom;
use avwm_audio::propagation::{AcousticScene, AcousticsConfig};
use avwm_audio::{AcousticResponse, PathKind};
use avwm_core::{NUM_BANDS, SPEED_OF_SOUND_M_S, Seed};
use avwm_geom::{Bvh, TriMesh, Vec2, Vec3};
use avwm_scene::{DiffractionEdge, Room, Scene, SceneOrigin, SoundSource, material_library};
use std::sync::Arc;

/// Appends an axis-aligned box; `inward` makes the faces look into the box (a room shell).
fn add_box(mesh: &mut TriMesh, lo: Vec3, hi: Vec3, material: u32, inward: bool) {
    mesh.push_box(lo, hi, [material; 6], inward);
}

fn scene_from(mesh: TriMesh, source: Vec3, edges: Vec<DiffractionEdge>) -> Scene {
    Scene {
        name: "test".into(),
        origin: SceneOrigin::Procedural { seed: 0 },
        mesh,
        materials: material_library(),
        floor_z: 0.0,
        ceiling_h: 3.0,
        source: SoundSource { position: source },
        lights: Vec::new(),
        rooms: vec![Room {
            kind: "test".into(),
            min: Vec2::ZERO,
            max: Vec2::new(10.2, 4.0),
        }],
        doors: Vec::new(),
        edges,
    }
}

fn mat(name: &str) -> u32 {
    material_library()
        .iter()
        .position(|m| m.name == name)
        .expect("library material") as u32
}

/// Room A = x ∈ [0, 5], room B = x ∈ [5.2, 10.2], y ∈ [0, 4], z ∈ [0, 3], separated by a 0.2 m
/// wall with a door y ∈ [1.5, 2.5], z ∈ [0, 2.1] whose jambs and lintel are diffraction edges on
/// both wall faces (as the procedural generator does).
fn two_rooms(source: Vec3) -> Scene {
    let mut m = TriMesh::default();
    let plaster = mat("plaster");
    add_box(&mut m, Vec3::ZERO, Vec3::new(10.2, 4.0, 3.0), plaster, true);
    add_box(
        &mut m,
        Vec3::new(5.0, 0.0, 0.0),
        Vec3::new(5.2, 1.5, 3.0),
        plaster,
        false,
    );
    add_box(
        &mut m,
        Vec3::new(5.0, 2.5, 0.0),
        Vec3::new(5.2, 4.0, 3.0),
        plaster,
        false,
    );
    add_box(
        &mut m,
        Vec3::new(5.0, 1.5, 2.1),
        Vec3::new(5.2, 2.5, 3.0),
        plaster,
        false,
    );
    let mut edges = Vec::new();
    for x in [5.0, 5.2] {
        for y in [1.5, 2.5] {
            edges.push(DiffractionEdge {
                a: Vec3::new(x, y, 0.0),
                b: Vec3::new(x, y, 2.1),
                wedge_rad: 1.5 * std::f32::consts::PI,
            });
        }
        edges.push(DiffractionEdge {
            a: Vec3::new(x, 1.5, 2.1),
            b: Vec3::new(x, 2.5, 2.1),
            wedge_rad: 1.5 * std::f32::consts::PI,
        });
    }
    scene_from(m, source, edges)
}

fn test_cfg() -> AcousticsConfig {
    AcousticsConfig {
        field_rays: 1500,
        receiver_rays: 1500,
        max_rir_s: 1.2,
        ..AcousticsConfig::default()
    }
}

fn acoustic(scene: &Scene, cfg: &AcousticsConfig) -> AcousticScene {
    AcousticScene::new(scene, Arc::new(Bvh::build(&scene.mesh)), cfg, Seed(11))
        .expect("valid scene")
}

/// Omnidirectional energy per band: discrete paths (gain²) plus the late histogram.
fn total_energy(r: &AcousticResponse) -> [f32; NUM_BANDS] {
    std::array::from_fn(|b| {
        r.paths.iter().map(|p| p.gain[b] * p.gain[b]).sum::<f32>()
            + r.late.bins.iter().map(|e| e[b]).sum::<f32>()
    })
}

fn early_energy(r: &AcousticResponse, b: usize) -> f32 {
    r.paths.iter().map(|p| p.gain[b] * p.gain[b]).sum()
}

fn db(x: f32) -> f32 {
    10.0 * x.log10()
}

/// Image positions of a box for all plane sequences of length ≤ 2 (no plane twice in a row),
/// deduplicated: the analytic reference (6 first-order + 18 second-order images).
fn box_images(size: Vec3, s: Vec3) -> Vec<(usize, Vec3)> {
    let mirror = |p: Vec3, w: usize| {
        let a = w / 2;
        let mut q = p;
        q[a] = if w.is_multiple_of(2) {
            -p[a]
        } else {
            2.0 * size[a] - p[a]
        };
        q
    };
    let mut out: Vec<(usize, Vec3)> = Vec::new();
    for w in 0..6 {
        out.push((1, mirror(s, w)));
        for w2 in 0..6 {
            if w2 != w {
                let p = mirror(mirror(s, w), w2);
                if !out.iter().any(|(_, q)| (*q - p).length() < 1e-4) {
                    out.push((2, p));
                }
            }
        }
    }
    out
}

#[test]
fn shoebox_image_delays_equal_mirrored_distances_in_both_engines() {
    let size = Vec3::new(6.0, 5.0, 3.0);
    let room = ShoeboxRoom::uniform(size, 0.2, 0.1);
    let (s, l) = (Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5));
    let reference = box_images(size, s);
    assert_eq!(reference.iter().filter(|r| r.0 == 1).count(), 6);
    assert_eq!(reference.iter().filter(|r| r.0 == 2).count(), 18);
    let mut expect: Vec<f32> = reference
        .iter()
        .map(|(_, p)| (*p - l).length() / SPEED_OF_SOUND_M_S)
        .collect();
    expect.sort_by(f32::total_cmp);

    let cfg = test_cfg();
    // Analytic shoebox model.
    let analytic = room.image_sources(s, l, 2, &cfg).expect("inside");
    let mut got: Vec<f32> = analytic
        .iter()
        .filter(|p| matches!(p.kind, PathKind::Reflection { .. }))
        .map(|p| p.delay_s)
        .collect();
    got.sort_by(f32::total_cmp);
    assert_eq!(got.len(), expect.len());
    for (g, e) in got.iter().zip(&expect) {
        assert!((g - e).abs() < 1e-6, "{g} vs {e}");
    }

    // Generic mesh engine on the same room as 12 triangles.
    let scene = room.to_scene(s);
    let eng = acoustic(&scene, &cfg);
    assert_eq!(eng.plane_count(), 6);
    let resp = eng.response(l, Seed(1));
    let direct: Vec<_> = resp
        .paths
        .iter()
        .filter(|p| p.kind == PathKind::Direct)
        .collect();
    assert_eq!(direct.len(), 1);
    assert!((direct[0].delay_s - (s - l).length() / SPEED_OF_SOUND_M_S).abs() < 1e-6);
    let mut mesh_paths: Vec<_> = resp
        .paths
        .iter()
        .filter(|p| matches!(p.kind, PathKind::Reflection { .. }))
        .collect();
    mesh_paths.sort_by(|a, b| a.delay_s.total_cmp(&b.delay_s));
    assert_eq!(
        mesh_paths.len(),
        24,
        "the mesh engine must find all 6 + 18 images"
    );
    for m in &mesh_paths {
        // The analytic image arriving at the same time from the same direction.
        let a = analytic
            .iter()
            .find(|a| (m.delay_s - a.delay_s).abs() < 2e-6 && m.direction.dot(a.direction) > 0.9999)
            .expect("every mesh image is an analytic image");
        assert_eq!(m.kind, a.kind);
        for b in 0..NUM_BANDS {
            assert!(
                (m.gain[b] / a.gain[b] - 1.0).abs() < 1e-3,
                "gain band {b}: {} vs {}",
                m.gain[b],
                a.gain[b]
            );
        }
    }
}

/// Reverberation time from Schroeder backward integration of the omnidirectional energy
/// (paths + late histogram), linear fit of the decay between −5 and −25 dB (T20 × 3).
fn schroeder_rt60(r: &AcousticResponse, b: usize) -> f32 {
    let bin = r.late.bin_s;
    let mut e: Vec<f64> = r.late.bins.iter().map(|x| f64::from(x[b])).collect();
    for p in &r.paths {
        let i = (p.delay_s / bin) as usize;
        if i >= e.len() {
            e.resize(i + 1, 0.0);
        }
        e[i] += f64::from(p.gain[b] * p.gain[b]);
    }
    avwm_audio::dsp::decay::energy_decay_rt(&e, f64::from(bin), 20.0)
        .expect("not enough decay to fit") as f32
}

#[test]
fn shoebox_rt60_agrees_with_eyring_within_20_percent() {
    let cfg = AcousticsConfig {
        air_absorption: false,
        receiver_rays: 3000,
        max_rir_s: 2.0,
        ..AcousticsConfig::default()
    };
    for alpha in [0.15f32, 0.35] {
        let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), alpha, 0.3);
        let r = room
            .response(
                Vec3::new(4.5, 3.5, 1.2),
                Vec3::new(1.5, 1.8, 1.5),
                &cfg,
                Seed(5),
            )
            .expect("inside");
        let eyring = room.eyring_rt60_s()[0];
        for b in [0, 5] {
            let t = schroeder_rt60(&r, b);
            eprintln!("alpha {alpha} band {b}: RT60 {t:.3} s, Eyring {eyring:.3} s");
            assert!(
                (t / eyring - 1.0).abs() < 0.2,
                "alpha {alpha} band {b}: RT60 {t:.3} s vs Eyring {eyring:.3} s"
            );
        }
    }
}

#[test]
fn late_energy_is_finite_non_negative_and_decays() {
    let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), 0.2, 0.3);
    let r = room
        .response(
            Vec3::new(4.5, 3.5, 1.2),
            Vec3::new(1.5, 1.8, 1.5),
            &test_cfg(),
            Seed(2),
        )
        .expect("inside");
    assert!(
        r.late
            .bins
            .iter()
            .flatten()
            .all(|e| e.is_finite() && *e >= 0.0)
    );
    // Energy in successive 100 ms windows falls (Eyring RT60 ≈ 0.6 s ⇒ ≈ 10 dB per window; we ask ≥ 3 dB).
    let window = |t0: f32| -> f32 {
        let (a, b) = (
            (t0 / r.late.bin_s) as usize,
            ((t0 + 0.1) / r.late.bin_s) as usize,
        );
        r.late.bins.iter().take(b).skip(a).map(|e| e[2]).sum()
    };
    let w: Vec<f32> = [0.05, 0.15, 0.25, 0.35, 0.45]
        .iter()
        .map(|&t| window(t))
        .collect();
    for pair in w.windows(2) {
        assert!(pair[1] < pair[0] * 0.5, "late energy does not decay: {w:?}");
    }
}

#[test]
fn direct_level_falls_six_db_per_doubling_in_free_field() {
    let mut scene = scene_from(TriMesh::default(), Vec3::new(0.0, 0.0, 1.5), Vec::new());
    scene.rooms.clear();
    let eng = acoustic(&scene, &test_cfg());
    let s = Vec3::new(0.0, 0.0, 1.5);
    let mut prev: Option<[f32; NUM_BANDS]> = None;
    for d in [1.0f32, 2.0, 4.0, 8.0, 16.0] {
        let r = eng.response_between(s, s + Vec3::new(d, 0.0, 0.0), Seed(0));
        assert_eq!(r.paths.len(), 1);
        assert_eq!(r.paths[0].kind, PathKind::Direct);
        assert!(r.late.bins.is_empty());
        let g = r.paths[0].gain;
        if let Some(p) = prev {
            for b in 0..NUM_BANDS {
                let drop = 20.0 * (p[b] / g[b]).log10();
                assert!((drop - 6.02).abs() < 0.5, "band {b} at {d} m: {drop} dB");
            }
        }
        prev = Some(g);
    }
}

#[test]
fn source_behind_a_wall_is_at_least_10_db_quieter_at_4_khz() {
    // Direct + early energy (all discrete paths: direct, diffracted, transmitted, image sources)
    // at 4 kHz, same 3 m distance: in line of sight in room A vs behind the partition in room B.
    let src = Vec3::new(3.0, 0.5, 1.5);
    let scene = two_rooms(src);
    let eng = acoustic(&scene, &test_cfg());
    let los = eng.response(Vec3::new(3.0, 3.5, 1.5), Seed(0));
    let hidden = eng.response(Vec3::new(6.0, 0.5, 1.5), Seed(0));
    // Same distance: |(3,3.5)-(3,0.5)| = 3 = |(6,0.5)-(3,0.5)|.
    assert!(los.paths.iter().any(|p| p.kind == PathKind::Direct));
    assert!(!hidden.paths.iter().any(|p| p.kind == PathKind::Direct));
    let (a, b) = (early_energy(&los, 5), early_energy(&hidden, 5));
    eprintln!(
        "4 kHz direct+early: LOS {:.1} dB, behind the wall {:.1} dB",
        db(a),
        db(b)
    );
    assert!(
        db(a) - db(b) >= 10.0,
        "LOS {:.1} dB vs hidden {:.1} dB",
        db(a),
        db(b)
    );
}

#[test]
fn diffraction_level_rises_continuously_towards_line_of_sight_and_costs_more_at_4_khz() {
    let src = Vec3::new(2.5, 2.0, 1.5);
    let scene = two_rooms(src);
    let eng = acoustic(&scene, &test_cfg());
    let level = |y: f32, b: usize| -> f32 {
        let r = eng.response(Vec3::new(7.0, y, 1.5), Seed(0));
        db(r.paths
            .iter()
            .filter(|p| matches!(p.kind, PathKind::Direct | PathKind::Diffracted { .. }))
            .map(|p| p.gain[b] * p.gain[b])
            .sum())
    };
    // Shadow boundary of the jamb edge (5.2, 1.5) at x = 7 is y ≈ 1.17; walk from 0.3 to 1.6.
    for b in [0, 5] {
        let ys: Vec<f32> = (0..=26).map(|i| 0.3 + 0.05 * i as f32).collect();
        let lv: Vec<f32> = ys.iter().map(|&y| level(y, b)).collect();
        for (i, w) in lv.windows(2).enumerate() {
            assert!(
                w[1] >= w[0] - 0.05,
                "band {b}: level falls from {} to {} at y = {}",
                w[0],
                w[1],
                ys[i + 1]
            );
            assert!(
                w[1] - w[0] < 3.0,
                "band {b}: jump of {:.1} dB at y = {}",
                w[1] - w[0],
                ys[i + 1]
            );
        }
    }
    // Deep in the shadow the diffraction loss (relative to spherical spreading) is larger at 4 kHz.
    let r = eng.response(Vec3::new(7.0, 0.4, 1.5), Seed(0));
    let d = r
        .paths
        .iter()
        .find(|p| matches!(p.kind, PathKind::Diffracted { order: 1 }))
        .expect("a diffracted path");
    let spread = 1.0 / (d.delay_s * SPEED_OF_SOUND_M_S);
    let loss = |b: usize| -20.0 * (d.gain[b] / spread).log10();
    assert!(
        loss(5) > loss(0) + 6.0,
        "loss 125 Hz {:.1} dB, 4 kHz {:.1} dB",
        loss(0),
        loss(5)
    );
}

#[test]
fn swapping_source_and_listener_keeps_energy_within_1_db() {
    let cfg = AcousticsConfig {
        receiver_rays: 4000,
        ..test_cfg()
    };
    let scene = two_rooms(Vec3::new(1.0, 1.0, 1.5));
    let eng = acoustic(&scene, &cfg);
    for (a, b) in [
        (Vec3::new(1.0, 1.0, 1.4), Vec3::new(4.0, 3.0, 1.6)),
        (Vec3::new(2.0, 2.5, 1.5), Vec3::new(8.0, 1.0, 1.5)),
    ] {
        let ab = total_energy(&eng.response_between(a, b, Seed(3)));
        let ba = total_energy(&eng.response_between(b, a, Seed(4)));
        for k in 0..NUM_BANDS {
            eprintln!("reciprocity band {k}: {:.2} dB", db(ab[k]) - db(ba[k]));
            assert!(
                (db(ab[k]) - db(ba[k])).abs() < 1.0,
                "band {k}: {:.2} vs {:.2} dB",
                db(ab[k]),
                db(ba[k])
            );
        }
    }
}

#[test]
fn field_tail_matches_a_fresh_single_receiver_trace() {
    // The volumetric field (0.5 m cells) and a fresh trace (0.8 m cube) estimate the same late energy.
    let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), 0.2, 0.3);
    let s = Vec3::new(4.5, 3.5, 1.2);
    let cfg = AcousticsConfig {
        field_rays: 6000,
        receiver_rays: 3000,
        ..test_cfg()
    };
    let eng = acoustic(&room.to_scene(s), &cfg);
    let l = Vec3::new(1.6, 1.8, 1.5);
    let field: f32 = eng
        .response(l, Seed(1))
        .late
        .bins
        .iter()
        .map(|e| e[1])
        .sum();
    let fresh: f32 = eng
        .response_between(s, l, Seed(1))
        .late
        .bins
        .iter()
        .map(|e| e[1])
        .sum();
    assert!(
        (db(field) - db(fresh)).abs() < 1.0,
        "field {:.2} dB vs fresh {:.2} dB",
        db(field),
        db(fresh)
    );
}

#[test]
fn same_seed_same_response_for_any_thread_count() {
    let scene = two_rooms(Vec3::new(2.0, 1.0, 1.5));
    let cfg = test_cfg();
    let build = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let eng =
                AcousticScene::new(&scene, Arc::new(Bvh::build(&scene.mesh)), &cfg, Seed(seed))
                    .expect("valid");
            (
                eng.response(Vec3::new(7.0, 3.0, 1.5), Seed(0)),
                eng.response_between(Vec3::new(1.0, 3.0, 1.2), Vec3::new(4.0, 1.0, 1.5), Seed(9)),
            )
        })
    };
    let one = build(1, 7);
    let two = build(2, 7);
    assert!(!one.0.late.bins.is_empty());
    assert_eq!(one, two);
    let other = build(2, 8);
    assert_ne!(one.0.late, other.0.late);
}

#[test]
fn config_roundtrips_through_toml_and_rejects_unknown_fields() {
    let cfg = AcousticsConfig::default();
    let text = toml::to_string(&cfg).expect("serialise");
    let back: AcousticsConfig = toml::from_str(&text).expect("parse");
    assert_eq!(back, cfg);
    let partial: AcousticsConfig = toml::from_str("ism_order = 3\n").expect("partial table");
    assert_eq!(partial.ism_order, 3);
    assert_eq!(partial.bin_s, cfg.bin_s);
    assert!(toml::from_str::<AcousticsConfig>("ism_ordr = 3\n").is_err());
}

#[test]
fn procedural_apartment_responses_are_causal_finite_and_reach_every_room() {
    use avwm_scene::procedural::{ProceduralConfig, generate};
    let scene = generate(3, &ProceduralConfig::small()).expect("procedural scene");
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    let cfg = AcousticsConfig {
        field_rays: 2000,
        ..test_cfg()
    };
    let eng = AcousticScene::new(&scene, bvh.clone(), &cfg, Seed(1)).expect("valid scene");
    let src = scene.source.position;
    assert!(!scene.rooms.is_empty());
    for room in &scene.rooms {
        let c = 0.5 * (room.min + room.max);
        let lis = Vec3::new(c.x, c.y, scene.floor_z + avwm_core::EAR_HEIGHT_M);
        let r = eng.response(lis, Seed(0));
        let straight_s = (lis - src).length() / SPEED_OF_SOUND_M_S;
        // Nothing arrives before the straight-line travel time.
        for p in &r.paths {
            assert!(
                p.delay_s >= straight_s - 1e-6,
                "{:?} arrives at {} s < {straight_s} s",
                p.kind,
                p.delay_s
            );
            assert!(p.gain.iter().all(|g| g.is_finite() && *g >= 0.0));
            assert!((p.direction.length() - 1.0).abs() < 1e-4);
        }
        if let Some(first) = r.late.bins.iter().position(|e| e.iter().any(|&x| x > 0.0)) {
            assert!(
                (first as f32 + 1.0) * r.late.bin_s >= straight_s,
                "late energy before the direct sound"
            );
        }
        assert!(
            r.late
                .bins
                .iter()
                .flatten()
                .all(|e| e.is_finite() && *e >= 0.0)
        );
        // A direct path exactly when the line of sight is free.
        let has_direct = r.paths.iter().any(|p| p.kind == PathKind::Direct);
        assert_eq!(
            has_direct,
            bvh.visible(src, lis, 1e-4),
            "room {}",
            room.kind
        );
        // Every room of a connected apartment hears the source.
        assert!(total_energy(&r)[2] > 0.0, "room {} is silent", room.kind);
    }
}

#[test]
fn transmission_through_a_closed_wall_is_the_product_of_both_faces() {
    // A full 0.2 m partition (two plaster faces) between two rooms, no door and no edges.
    let mut m = TriMesh::default();
    let plaster = mat("plaster");
    add_box(&mut m, Vec3::ZERO, Vec3::new(10.2, 4.0, 3.0), plaster, true);
    add_box(
        &mut m,
        Vec3::new(5.0, 0.0, 0.0),
        Vec3::new(5.2, 4.0, 3.0),
        plaster,
        false,
    );
    let src = Vec3::new(2.5, 2.0, 1.5);
    let eng = acoustic(&scene_from(m, src, Vec::new()), &test_cfg());
    let lis = Vec3::new(7.5, 2.0, 1.5);
    let r = eng.response(lis, Seed(0));
    assert!(
        !r.paths
            .iter()
            .any(|p| matches!(p.kind, PathKind::Direct | PathKind::Diffracted { .. }))
    );
    let t: Vec<_> = r
        .paths
        .iter()
        .filter(|p| p.kind == PathKind::Transmitted)
        .collect();
    assert_eq!(t.len(), 1);
    let tau = material_library()[plaster as usize].acoustic.transmission;
    let air = AcousticsConfig::default().air_absorption_per_m;
    for b in 0..NUM_BANDS {
        // Energy τ per face, two faces ⇒ amplitude τ; spreading 1/5 m; air absorption over 5 m.
        let expect = tau[b] * (-0.5 * air[b] * 5.0).exp() / 5.0;
        assert!(
            (t[0].gain[b] / expect - 1.0).abs() < 1e-4,
            "band {b}: {} vs {expect}",
            t[0].gain[b]
        );
    }
    assert!((t[0].delay_s - 5.0 / SPEED_OF_SOUND_M_S).abs() < 1e-7);
    // Nothing else reaches the closed room: no image source crosses the wall, the tail stays out.
    assert!(r.paths.iter().all(|p| p.kind == PathKind::Transmitted));
    assert!(r.late.bins.iter().flatten().all(|&e| e == 0.0));
}

#[test]
fn hybrid_split_neither_loses_nor_double_counts_energy() {
    // Moving the ISM/ray-tracing boundary from order 2 to order 10 must keep the total energy:
    // the tracer skips exactly the purely specular arrivals the image sources provide.
    let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), 0.25, 0.2);
    let (s, l) = (Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5));
    let energy = |order: usize| {
        let cfg = AcousticsConfig {
            shoebox_ism_order: order,
            receiver_rays: 4000,
            ..test_cfg()
        };
        total_energy(&room.response(s, l, &cfg, Seed(8)).expect("inside"))
    };
    let (low, high) = (energy(2), energy(10));
    for b in 0..NUM_BANDS {
        let diff = db(low[b]) - db(high[b]);
        eprintln!("band {b}: {diff:.3} dB");
        assert!(
            diff.abs() < 0.5,
            "band {b}: order 2 {:.2} dB vs order 10 {:.2} dB",
            db(low[b]),
            db(high[b])
        );
    }
}

#[test]
fn mesh_engine_hybrid_split_keeps_energy_and_matches_the_analytic_shoebox() {
    let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), 0.25, 0.2);
    let (s, l) = (Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5));
    let scene = room.to_scene(s);
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    let mesh_energy = |order: usize| {
        let cfg = AcousticsConfig {
            ism_order: order,
            receiver_rays: 4000,
            field_rays: 100,
            ..test_cfg()
        };
        let eng = AcousticScene::new(&scene, bvh.clone(), &cfg, Seed(1)).expect("valid");
        let r = eng.response_between(s, l, Seed(8));
        (total_energy(&r), r.paths.len())
    };
    let cfg = AcousticsConfig {
        shoebox_ism_order: 2,
        receiver_rays: 4000,
        ..test_cfg()
    };
    let analytic = total_energy(&room.response(s, l, &cfg, Seed(8)).expect("inside"));
    let (e2, n2) = mesh_energy(2);
    let (e3, n3) = mesh_energy(3);
    // 1 + 6 + 18 paths at order 2; order 3 adds up to 38 images (fewer if guide rays miss some).
    assert_eq!(n2, 25);
    assert!(n3 > n2, "order 3 found no new image");
    for b in 0..NUM_BANDS {
        eprintln!(
            "band {b}: mesh2 {:.3} mesh3 {:.3} analytic {:.3} dB ({n3} paths)",
            db(e2[b]),
            db(e3[b]),
            db(analytic[b])
        );
        assert!((db(e2[b]) - db(analytic[b])).abs() < 0.5, "band {b}");
        assert!((db(e3[b]) - db(e2[b])).abs() < 0.5, "band {b}");
    }
}

#[test]
fn two_offset_doors_in_series_give_a_second_order_diffracted_path() {
    // Rooms x ∈ [0, 4] | [4.2, 8.2] | [8.4, 12.4], y ∈ [0, 4]; door 1 at y ∈ [0.5, 1.5],
    // door 2 at y ∈ [2.5, 3.5]: no single edge connects the outer rooms.
    let mut m = TriMesh::default();
    let plaster = mat("plaster");
    add_box(&mut m, Vec3::ZERO, Vec3::new(12.4, 4.0, 3.0), plaster, true);
    let mut edges = Vec::new();
    for (x0, (y0, y1)) in [(4.0f32, (0.5f32, 1.5f32)), (8.2, (2.5, 3.5))] {
        let x1 = x0 + 0.2;
        add_box(
            &mut m,
            Vec3::new(x0, 0.0, 0.0),
            Vec3::new(x1, y0, 3.0),
            plaster,
            false,
        );
        add_box(
            &mut m,
            Vec3::new(x0, y1, 0.0),
            Vec3::new(x1, 4.0, 3.0),
            plaster,
            false,
        );
        add_box(
            &mut m,
            Vec3::new(x0, y0, 2.1),
            Vec3::new(x1, y1, 3.0),
            plaster,
            false,
        );
        for x in [x0, x1] {
            for y in [y0, y1] {
                edges.push(DiffractionEdge {
                    a: Vec3::new(x, y, 0.0),
                    b: Vec3::new(x, y, 2.1),
                    wedge_rad: 1.5 * std::f32::consts::PI,
                });
            }
        }
    }
    let src = Vec3::new(1.0, 3.2, 1.5);
    let eng = acoustic(&scene_from(m, src, edges), &test_cfg());
    let lis = Vec3::new(11.0, 0.8, 1.5);
    let r = eng.response(lis, Seed(0));
    assert!(
        !r.paths
            .iter()
            .any(|p| matches!(p.kind, PathKind::Direct | PathKind::Diffracted { order: 1 }))
    );
    let d2: Vec<_> = r
        .paths
        .iter()
        .filter(|p| p.kind == PathKind::Diffracted { order: 2 })
        .collect();
    assert!(!d2.is_empty(), "no second-order path");
    // The shortest route: around door 1's upper jamb, then door 2's lower jamb.
    let via = (Vec3::new(4.2, 1.5, 1.5) - src).length()
        + (Vec3::new(8.2, 2.5, 1.5) - Vec3::new(4.2, 1.5, 1.5)).length()
        + (lis - Vec3::new(8.4, 2.5, 1.5)).length();
    let shortest = d2
        .iter()
        .map(|p| p.delay_s * SPEED_OF_SOUND_M_S)
        .fold(f32::INFINITY, f32::min);
    assert!(
        (shortest - via).abs() < 0.25,
        "shortest second-order path {shortest} m, expected ≈ {via} m"
    );
    let p = d2[0];
    let spread = 1.0 / (p.delay_s * SPEED_OF_SOUND_M_S);
    let loss = |b: usize| -20.0 * (p.gain[b] / spread).log10();
    assert!(
        loss(0) >= 10.0 - 1e-3,
        "two edges lose at least 2 × 5 dB: {}",
        loss(0)
    );
    assert!(loss(5) > loss(0));
}

#[test]
fn acoustic_scene_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AcousticScene>();
    assert_send_sync::<ShoeboxRoom>();
}

#[test]
fn invalid_scenes_and_configs_are_rejected_with_typed_errors() {
    use avwm_audio::AudioError;
    let scene = two_rooms(Vec3::new(1.0, 1.0, 1.5));
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    let new =
        |s: &Scene, b: Arc<Bvh>, c: &AcousticsConfig| AcousticScene::new(s, b, c, Seed(0)).err();
    let cfg = test_cfg();
    assert!(matches!(
        new(
            &scene,
            bvh.clone(),
            &AcousticsConfig {
                ism_order: 1,
                ..cfg.clone()
            }
        ),
        Some(AudioError::Config(_))
    ));
    let mut bad = scene.clone();
    bad.mesh.material[0] = 999;
    assert!(matches!(
        new(&bad, bvh.clone(), &cfg),
        Some(AudioError::Config(_))
    ));
    let mut bad = scene.clone();
    bad.materials[0].acoustic.absorption[2] = 1.5;
    assert!(matches!(
        new(&bad, bvh.clone(), &cfg),
        Some(AudioError::Config(_))
    ));
    let other = Arc::new(Bvh::build(
        &ShoeboxRoom::uniform(Vec3::ONE, 0.1, 0.1)
            .to_scene(Vec3::splat(0.5))
            .mesh,
    ));
    assert!(matches!(
        new(&scene, other, &cfg),
        Some(AudioError::Config(_))
    ));
    let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), 0.2, 0.1);
    assert!(
        room.response(Vec3::new(7.0, 1.0, 1.0), Vec3::ONE, &cfg, Seed(0))
            .is_err()
    );
}
