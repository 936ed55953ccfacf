//! Integration tests of avwm-render on hand-built scenes.

mod scenes;

use avwm_core::glam::Vec3;
use avwm_core::{Pose, RgbImage};
use avwm_geom::{Bvh, TriMesh};
use avwm_render::{CameraConfig, LightingMode, RenderError, Renderer, Supersampling, Tonemap};
use avwm_scene::Light;
use scenes::{Mats, add_box, furnished_room, make_scene, symmetric_room};
use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};
use std::sync::Arc;

fn small(w: u32, h: u32) -> CameraConfig {
    CameraConfig {
        width: w,
        height: h,
        ..CameraConfig::default()
    }
}

fn pixel(img: &RgbImage, x: usize, y: usize) -> [u8; 3] {
    let i = (y * img.width as usize + x) * 3;
    [img.data[i], img.data[i + 1], img.data[i + 2]]
}

fn luma(p: [u8; 3]) -> f32 {
    0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2])
}

#[test]
fn every_pixel_ray_ends_on_a_wall_of_the_room_at_the_known_distance() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let r = Renderer::new(&scene, bvh, &small(64, 48)).unwrap();
    let pose = Pose::new(-1.0, 0.0, 0.0);
    let depth = r.render_depth(pose);
    assert_eq!(depth.len(), 64 * 48);
    // The two centre pixels of the middle rows look almost straight at the wall x = 3, 4 m away.
    let ray = r.pixel_ray(pose, 32.5, 24.5);
    let expected = 4.0 / ray.dir.x;
    assert!(
        (depth[24 * 64 + 32] - expected).abs() < 1e-4,
        "{} vs {expected}",
        depth[24 * 64 + 32]
    );
    assert!((expected - 4.0).abs() < 0.01);
    // Every hit lies inside the room's bounds, and on one of its six planes or on the table.
    for y in 0..48 {
        for x in 0..64 {
            let d = depth[y * 64 + x];
            assert!(d.is_finite(), "closed room: pixel ({x}, {y}) missed");
            let p = r
                .pixel_ray(pose, x as f32 + 0.5, y as f32 + 0.5)
                .point_at(d);
            let on_room = (p.x.abs() - 3.0).abs() < 1e-4
                || (p.y.abs() - 2.0).abs() < 1e-4
                || p.z.abs() < 1e-4
                || (p.z - 2.5).abs() < 1e-4;
            let on_table = p.x > 0.8 - 1e-4
                && p.x < 1.6 + 1e-4
                && p.y > 0.6 - 1e-4
                && p.y < 1.2 + 1e-4
                && p.z < 0.75 + 1e-4;
            assert!(on_room || on_table, "pixel ({x}, {y}) hit {p}");
        }
    }
}

#[test]
fn camera_sits_at_the_configured_height_and_looks_along_the_heading() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let r = Renderer::new(&scene, bvh, &small(32, 32)).unwrap();
    for yaw in [0.0, 0.7, -2.0, PI] {
        let pose = Pose::new(0.5, -0.5, yaw);
        let centre = r.pixel_ray(pose, 16.0, 16.0);
        assert!((centre.origin - Vec3::new(0.5, -0.5, avwm_core::CAMERA_HEIGHT_M)).length() < 1e-6);
        assert!((centre.dir - Vec3::new(yaw.cos(), yaw.sin(), 0.0)).length() < 1e-6);
    }
}

#[test]
fn field_of_view_points_at_45_degrees_project_to_the_image_edges() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let r = Renderer::new(&scene, bvh, &CameraConfig::default()).unwrap();
    let pose = Pose::new(0.0, 0.0, 0.3);
    let eye = Vec3::new(0.0, 0.0, avwm_core::CAMERA_HEIGHT_M);
    let at = |yaw: f32, pitch: f32| {
        eye + 2.0
            * Vec3::new(
                yaw.cos() * pitch.cos(),
                yaw.sin() * pitch.cos(),
                pitch.sin(),
            )
    };
    // Left of the heading (+yaw, counter-clockwise) is the left edge of the image.
    let (px, py) = r.project(pose, at(0.3 + FRAC_PI_4, 0.0)).unwrap();
    assert!(px.abs() < 1e-3 && (py - 64.0).abs() < 1e-3, "{px} {py}");
    let (px, _) = r.project(pose, at(0.3 - FRAC_PI_4, 0.0)).unwrap();
    assert!((px - 128.0).abs() < 1e-3, "{px}");
    // Square pixels and a square image: the vertical field of view is also 90°, +z up on screen.
    let (px, py) = r.project(pose, at(0.3, FRAC_PI_4)).unwrap();
    assert!((px - 64.0).abs() < 1e-3 && py.abs() < 1e-3, "{px} {py}");
    assert!(r.project(pose, at(0.3 + PI, 0.0)).is_none());
    // project and pixel_ray are inverse to each other.
    for (x, y) in [(0.5, 0.5), (100.25, 3.0), (64.0, 127.5)] {
        let p = r.pixel_ray(pose, x, y).point_at(1.7);
        let (u, v) = r.project(pose, p).unwrap();
        assert!((u - x).abs() < 1e-3 && (v - y).abs() < 1e-3);
    }
}

/// A red emissive vertical pole at bearing `bearing_rad` (CCW from +x), 2.8 m from the origin,
/// in an otherwise dark room; returns the columns in which it is visible at mid-height.
fn pole_columns(bearing_rad: f32, yaw: f32) -> Vec<usize> {
    let mats = Mats::new();
    let mut mesh = TriMesh::default();
    let g = mats.id("grey");
    add_box(
        &mut mesh,
        Vec3::new(-4.0, -4.0, 0.0),
        Vec3::new(4.0, 4.0, 2.5),
        true,
        [g, g, g],
    );
    let c = 2.8 * Vec3::new(bearing_rad.cos(), bearing_rad.sin(), 0.0);
    let lamp = mats.id("red_lamp");
    add_box(
        &mut mesh,
        c - Vec3::new(0.05, 0.05, 0.0),
        c + Vec3::new(0.05, 0.05, 2.5),
        false,
        [lamp, lamp, lamp],
    );
    let (scene, bvh) = make_scene(mesh, mats.list, vec![]);
    let cfg = CameraConfig {
        fog_per_m: 0.0,
        ambient: [0.05; 3],
        ..CameraConfig::default()
    };
    let r = Renderer::new(&scene, bvh, &cfg).unwrap();
    let img = r.render(Pose::new(0.0, 0.0, yaw));
    (0..128)
        .filter(|&x| {
            let p = pixel(&img, x, 64);
            p[0] > 200 && p[1] < 60
        })
        .collect()
}

#[test]
fn a_pole_at_44_degrees_is_at_the_left_edge_and_one_at_46_degrees_is_off_screen() {
    let cols = pole_columns(44f32.to_radians(), 0.0);
    assert!(!cols.is_empty() && cols.iter().all(|&c| c <= 6), "{cols:?}");
    // (1 − tan 44°) · 64 = 2.2 px from the left edge.
    assert!(cols.contains(&2), "{cols:?}");
    // The pole's corners reach 1.45° nearer the axis than its centre: 47° is fully outside.
    assert!(pole_columns(47f32.to_radians(), 0.0).is_empty());
    assert!(pole_columns(-47f32.to_radians(), 0.0).is_empty());
    let right = pole_columns(-44f32.to_radians(), 0.0);
    assert!(
        right.contains(&125) && right.iter().all(|&c| c >= 121),
        "{right:?}"
    );
}

#[test]
fn turning_left_by_ten_degrees_moves_the_content_right_by_the_projected_amount() {
    // Pole straight ahead (column 64 ± its half width); after a 10° left turn it sits at
    // bearing −10°: column 64 · (1 + tan 10°) = 75.3.
    let ahead = pole_columns(0.0, 0.0);
    let turned = pole_columns(0.0, 10f32.to_radians());
    let mean = |v: &[usize]| v.iter().sum::<usize>() as f32 / v.len() as f32 + 0.5;
    assert!((mean(&ahead) - 64.0).abs() < 1.0, "{ahead:?}");
    assert!(
        (mean(&turned) - 64.0 * (1.0 + 10f32.to_radians().tan())).abs() < 1.0,
        "{turned:?}"
    );
}

#[test]
fn turning_by_90_degrees_in_a_symmetric_room_gives_the_same_image() {
    let (scene, bvh) = symmetric_room(2.5);
    for lighting in [LightingMode::Baked, LightingMode::Direct] {
        let cfg = CameraConfig {
            width: 48,
            height: 48,
            lighting,
            ..CameraConfig::default()
        };
        let r = Renderer::new(&scene, bvh.clone(), &cfg).unwrap();
        let base = r.render(Pose::new(0.0, 0.0, 0.2));
        let base_depth = r.render_depth(Pose::new(0.0, 0.0, 0.2));
        for k in 1..4 {
            let pose = Pose::new(0.0, 0.0, 0.2 + k as f32 * FRAC_PI_2);
            let img = r.render(pose);
            let depth = r.render_depth(pose);
            for (a, b) in base_depth.iter().zip(&depth) {
                assert!((a - b).abs() < 1e-4);
            }
            // Lightmap grids, triangulations and AO rotations are not symmetric, so allow small
            // differences (largest at the room's corners, where the lighting gradient is steep).
            let mut diffs: Vec<u8> = base
                .data
                .iter()
                .zip(&img.data)
                .map(|(a, b)| a.abs_diff(*b))
                .collect();
            diffs.sort_unstable();
            let mean = diffs.iter().map(|&d| f32::from(d)).sum::<f32>() / diffs.len() as f32;
            let (p95, max) = (diffs[diffs.len() * 95 / 100], diffs[diffs.len() - 1]);
            // Measured: baked mean ≤ 1.0, p95 ≤ 5, max ≤ 25; direct mean ≤ 0.7, p95 3, max ≤ 11.
            assert!(
                mean < 1.5 && p95 <= 6 && max <= 32,
                "{lighting:?} k={k}: mean {mean}, p95 {p95}, max {max}"
            );
        }
        // A quarter turn in a non-square room does change the image.
        let (rect, rect_bvh) = furnished_room(3.0, 1.5);
        let r2 = Renderer::new(&rect, rect_bvh, &cfg).unwrap();
        assert_ne!(
            r2.render(Pose::new(0.0, 0.0, 0.0)),
            r2.render(Pose::new(0.0, 0.0, FRAC_PI_2))
        );
    }
}

#[test]
fn rendering_is_deterministic_and_rayon_equals_single_thread() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    for (lighting, ss) in [
        (LightingMode::Baked, Supersampling::None),
        (LightingMode::Direct, Supersampling::Grid2x2),
    ] {
        let cfg = CameraConfig {
            width: 40,
            height: 30,
            lighting,
            supersampling: ss,
            ..CameraConfig::default()
        };
        let r = Renderer::new(&scene, bvh.clone(), &cfg).unwrap();
        for pose in [Pose::new(-1.0, 0.3, 0.4), Pose::new(2.0, -1.0, 2.9)] {
            let a = r.render(pose);
            assert_eq!(a, r.render(pose));
            assert_eq!(a, r.render_single_thread(pose));
        }
        // Two renderers built independently (bakes in parallel) agree bit for bit.
        let r2 = Renderer::new(&scene, bvh.clone(), &cfg).unwrap();
        assert_eq!(
            r.render(Pose::new(0.0, 0.0, 1.0)),
            r2.render_single_thread(Pose::new(0.0, 0.0, 1.0))
        );
    }
}

#[test]
fn a_textured_room_gives_a_varied_image() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let r = Renderer::new(&scene, bvh, &CameraConfig::default()).unwrap();
    let img = r.render(Pose::new(-1.5, -0.5, 0.5));
    let l: Vec<f32> = img
        .data
        .chunks_exact(3)
        .map(|p| luma([p[0], p[1], p[2]]))
        .collect();
    let mean = l.iter().sum::<f32>() / l.len() as f32;
    let var = l.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / l.len() as f32;
    assert!(var > 100.0, "luma std {} too small", var.sqrt());
    assert!(
        mean > 40.0 && mean < 220.0,
        "mean luma {mean}: badly exposed"
    );
    let distinct: std::collections::HashSet<_> = img.data.chunks_exact(3).collect();
    assert!(
        distinct.len() > 500,
        "only {} distinct colours",
        distinct.len()
    );
}

/// A floor, a 1 m cube and a light at (−2, 0, 3): the cube's shadow covers the floor around
/// (1.2, 0, 0) (between x = 0.5 and 1.75), while (1.2, 1.5, 0) is lit.
fn shadow_scene() -> (avwm_scene::Scene, Arc<Bvh>) {
    let mats = Mats::new();
    let mut mesh = TriMesh::default();
    let g = mats.id("grey");
    let v = |x, y| Vec3::new(x, y, 0.0);
    scenes::quad(
        &mut mesh,
        [v(-5.0, -5.0), v(5.0, -5.0), v(5.0, 5.0), v(-5.0, 5.0)],
        g,
    );
    add_box(
        &mut mesh,
        Vec3::new(-0.5, -0.5, 0.0),
        Vec3::new(0.5, 0.5, 1.0),
        false,
        [g, g, g],
    );
    make_scene(
        mesh,
        mats.list,
        vec![Light {
            position: Vec3::new(-2.0, 0.0, 3.0),
            intensity: [8.0; 3],
        }],
    )
}

#[test]
fn a_shadowed_floor_point_is_darker_than_a_lit_one_of_the_same_material() {
    let (scene, bvh) = shadow_scene();
    let pose = Pose::new(4.0, 0.0, PI);
    let shadowed = Vec3::new(1.2, 0.0, 0.0);
    let lit = Vec3::new(1.2, 1.5, 0.0);
    for lighting in [LightingMode::Baked, LightingMode::Direct] {
        for shadows in [true, false] {
            // Linear output, no fog, ambient 0.1: bytes = 255 · albedo (0.6) · irradiance.
            let cfg = CameraConfig {
                lighting,
                shadows,
                fog_per_m: 0.0,
                srgb_encode: false,
                ambient: [0.1; 3],
                ..CameraConfig::default()
            };
            let r = Renderer::new(&scene, bvh.clone(), &cfg).unwrap();
            let img = r.render(pose);
            let at = |p: Vec3| {
                let (x, y) = r.project(pose, p).unwrap();
                f32::from(pixel(&img, x as usize, y as usize)[1])
            };
            // Both points are > 0.6 m (the AO radius) from the cube. Light (−2, 0, 3), I = 8:
            // lit point: d² = 21.49, cos = 3/√21.49 = 0.6472, E = 0.2409 → 255·0.6·(0.1 + 0.2409) = 52.2;
            // shadowed point unshadowed: d² = 19.24, cos = 0.6840, E = 0.2844 → 58.8; in shadow → 15.3.
            let expected_shadowed = if shadows { 15.3 } else { 58.8 };
            assert!(
                (at(lit) - 52.2).abs() <= 1.5,
                "{lighting:?} shadows={shadows}: lit {}",
                at(lit)
            );
            assert!(
                (at(shadowed) - expected_shadowed).abs() <= 1.5,
                "{lighting:?} shadows={shadows}: shadowed point {}",
                at(shadowed)
            );
        }
    }
}

#[test]
fn baked_lighting_matches_per_pixel_direct_lighting() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let baked = Renderer::new(&scene, bvh.clone(), &small(96, 96)).unwrap();
    let cfg = CameraConfig {
        lighting: LightingMode::Direct,
        ..small(96, 96)
    };
    let direct = Renderer::new(&scene, bvh, &cfg).unwrap();
    for pose in [Pose::new(-1.5, -0.5, 0.5), Pose::new(2.2, -1.0, 2.5)] {
        let a = baked.render(pose);
        let b = direct.render(pose);
        let mut diffs: Vec<u8> = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(x, y)| x.abs_diff(*y))
            .collect();
        diffs.sort_unstable();
        let mean = diffs.iter().map(|&d| f32::from(d)).sum::<f32>() / diffs.len() as f32;
        let p95 = diffs[diffs.len() * 95 / 100];
        assert!(mean < 3.0 && p95 <= 8, "{pose:?}: mean {mean}, p95 {p95}");
    }
}

#[test]
fn vertex_colours_multiply_and_emission_is_added_unlit() {
    let mats = Mats::new();
    let mut mesh = TriMesh::default();
    let w = mats.id("white");
    add_box(
        &mut mesh,
        Vec3::new(-2.0, -2.0, 0.0),
        Vec3::new(2.0, 2.0, 2.5),
        true,
        [w, w, w],
    );
    mesh.vertex_colors = Some(vec![[0.2, 0.9, 0.1]; mesh.positions.len()]);
    let (scene, bvh) = make_scene(
        mesh,
        mats.list,
        vec![Light {
            position: Vec3::new(0.0, 0.0, 2.0),
            intensity: [3.0; 3],
        }],
    );
    let cfg = CameraConfig {
        fog_per_m: 0.0,
        srgb_encode: false,
        ..small(16, 16)
    };
    let img = Renderer::new(&scene, bvh, &cfg)
        .unwrap()
        .render(Pose::new(0.0, 0.0, 0.0));
    for p in img.data.chunks_exact(3) {
        // Linear output: the channels keep the vertex colour's ratios (0.2 : 0.9 : 0.1).
        let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        assert!(
            g > 20.0 && (r / g - 0.2 / 0.9).abs() < 0.05 && (b / g - 0.1 / 0.9).abs() < 0.05,
            "{p:?}"
        );
    }

    // No lights, no ambient: only the emissive pole shows, at its emission colour.
    let mats = Mats::new();
    let mut mesh = TriMesh::default();
    let (w, lamp) = (mats.id("white"), mats.id("red_lamp"));
    add_box(
        &mut mesh,
        Vec3::new(-3.0, -3.0, 0.0),
        Vec3::new(3.0, 3.0, 2.5),
        true,
        [w, w, w],
    );
    add_box(
        &mut mesh,
        Vec3::new(1.9, -0.3, 0.0),
        Vec3::new(2.1, 0.3, 2.5),
        false,
        [lamp, lamp, lamp],
    );
    let (scene, bvh) = make_scene(mesh, mats.list, vec![]);
    let cfg = CameraConfig {
        fog_per_m: 0.0,
        ambient: [0.0; 3],
        tonemap: Tonemap::Clamp,
        ..small(16, 16)
    };
    let img = Renderer::new(&scene, bvh, &cfg)
        .unwrap()
        .render(Pose::new(0.0, 0.0, 0.0));
    assert_eq!(pixel(&img, 8, 8), [255, 0, 0]);
    assert_eq!(pixel(&img, 1, 8), [0, 0, 0]);
}

#[test]
fn invalid_configurations_and_mismatched_bvhs_are_rejected() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let bad = [
        CameraConfig {
            width: 0,
            ..CameraConfig::default()
        },
        CameraConfig {
            hfov_deg: 180.0,
            ..CameraConfig::default()
        },
        CameraConfig {
            hfov_deg: 170.0,
            width: 5,
            height: 100,
            ..CameraConfig::default()
        },
        CameraConfig {
            lightmap_texel_m: 0.0,
            ..CameraConfig::default()
        },
        CameraConfig {
            ao_strength: 1.5,
            ..CameraConfig::default()
        },
        CameraConfig {
            fog_color: [0.0, f32::NAN, 0.0],
            ..CameraConfig::default()
        },
    ];
    for cfg in bad {
        assert!(
            matches!(
                Renderer::new(&scene, bvh.clone(), &cfg),
                Err(RenderError::Config { .. })
            ),
            "{cfg:?}"
        );
    }
    let (other, other_bvh) = shadow_scene();
    assert!(matches!(
        Renderer::new(&scene, other_bvh.clone(), &CameraConfig::default()),
        Err(RenderError::BvhMismatch { .. })
    ));
    let mut broken = other.clone();
    broken.mesh.material[0] = 999;
    assert!(matches!(
        Renderer::new(&broken, other_bvh, &CameraConfig::default()),
        Err(RenderError::Scene(_))
    ));
}

#[test]
fn lightmap_budget_enlarges_the_spacing() {
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let cfg = CameraConfig {
        lightmap_max_texels: 5000,
        ..small(8, 8)
    };
    let r = Renderer::new(&scene, bvh, &cfg).unwrap();
    let stats = r.lightmap_stats().unwrap();
    assert!(stats.samples <= 5000 && stats.spacing_m > 0.05, "{stats:?}");
}

#[test]
fn procedural_apartment_renders_closed_varied_views_from_every_room() {
    use avwm_scene::procedural::{ProceduralConfig, generate};
    let scene = generate(5, &ProceduralConfig::small()).expect("procedural scene");
    let bvh = Arc::new(Bvh::build(&scene.mesh));
    let cfg = small(48, 48);
    let r = Renderer::new(&scene, bvh, &cfg).unwrap();
    let stats = r.lightmap_stats().unwrap();
    assert!(
        stats.samples <= cfg.lightmap_max_texels && stats.spacing_m >= cfg.lightmap_texel_m,
        "{stats:?}"
    );
    assert!(!scene.rooms.is_empty());
    // Baked lighting (adaptive shadows, coarse AO) agrees with per-pixel lighting here too.
    let direct_cfg = CameraConfig {
        lighting: LightingMode::Direct,
        ..cfg.clone()
    };
    let direct = Renderer::new(&scene, r.bvh().clone(), &direct_cfg).unwrap();
    let mut diffs = vec![];
    for room in scene.rooms.iter().take(3) {
        let c = (room.min + room.max) * 0.5;
        let pose = Pose::new(c.x, c.y, 0.7);
        let (a, b) = (r.render(pose), direct.render(pose));
        diffs.extend(a.data.iter().zip(&b.data).map(|(x, y)| x.abs_diff(*y)));
    }
    diffs.sort_unstable();
    let mean = diffs.iter().map(|&d| f32::from(d)).sum::<f32>() / diffs.len() as f32;
    let p95 = diffs[diffs.len() * 95 / 100];
    assert!(
        mean < 3.0 && p95 <= 8,
        "baked vs direct: mean {mean}, p95 {p95}"
    );
    for room in &scene.rooms {
        let c = (room.min + room.max) * 0.5;
        for k in 0..4 {
            let pose = Pose::new(c.x, c.y, k as f32 * FRAC_PI_2);
            // The generator closes the inside for rays: every pixel hits a surface, within the
            // apartment's bounds.
            let depth = r.render_depth(pose);
            assert!(
                depth
                    .iter()
                    .all(|d| d.is_finite() && *d > 0.0 && *d < 100.0),
                "{} {k}",
                room.kind
            );
            let img = r.render(pose);
            let l: Vec<f32> = img
                .data
                .chunks_exact(3)
                .map(|p| luma([p[0], p[1], p[2]]))
                .collect();
            let mean = l.iter().sum::<f32>() / l.len() as f32;
            let var = l.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / l.len() as f32;
            assert!(
                var > 25.0 && mean > 20.0 && mean < 235.0,
                "{} {k}: mean {mean}, var {var}",
                room.kind
            );
        }
    }
}

#[test]
fn renderer_is_send_and_sync_and_usable_from_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Renderer>();
    let (scene, bvh) = furnished_room(3.0, 2.0);
    let r = Renderer::new(&scene, bvh, &small(24, 24)).unwrap();
    let pose = Pose::new(0.2, 0.1, 1.3);
    let expected = r.render_single_thread(pose);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| r.render(pose))).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}
