//! Hand-built box scenes for tests and benchmarks (shared via `#[path]`).
#![allow(dead_code)]

use avwm_geom::{TriMesh, Vec2, Vec3};
use avwm_scene::{Door, Scene, SceneOrigin, SoundSource, material_library};

/// Wall height (m) of the test scenes.
pub const WALL_H: f32 = 2.5;
/// Wall thickness (m).
pub const WALL_T: f32 = 0.1;

/// Appends an axis-aligned box `[min, max]` (12 triangles) to `mesh`.
pub fn push_box(mesh: &mut TriMesh, min: Vec3, max: Vec3) {
    mesh.push_box(min, max, [0; 6], false);
}

/// Appends a horizontal rectangle at height `z` (2 triangles).
pub fn push_quad(mesh: &mut TriMesh, min: Vec2, max: Vec2, z: f32) {
    let base = mesh.positions.len() as u32;
    for p in [
        (min.x, min.y),
        (max.x, min.y),
        (max.x, max.y),
        (min.x, max.y),
    ] {
        mesh.positions.push(Vec3::new(p.0, p.1, z));
    }
    mesh.triangles.push([base, base + 1, base + 2]);
    mesh.triangles.push([base, base + 2, base + 3]);
    mesh.material.extend([0, 0]);
}

/// A wall box between two points on the floor (axis-aligned, thickness [`WALL_T`]).
pub fn push_wall(mesh: &mut TriMesh, a: Vec2, b: Vec2) {
    let h = WALL_T / 2.0;
    let lo = a.min(b) - Vec2::splat(h);
    let hi = a.max(b) + Vec2::splat(h);
    push_box(mesh, lo.extend(0.0), hi.extend(WALL_H));
}

/// Outer walls of a rectangular building whose interior is `[0, w] × [0, h]` (walls outside it),
/// plus the floor and the ceiling over the footprint.
pub fn push_shell(mesh: &mut TriMesh, w: f32, h: f32) {
    let t = WALL_T;
    push_box(mesh, Vec3::new(-t, -t, 0.0), Vec3::new(0.0, h + t, WALL_H));
    push_box(mesh, Vec3::new(w, -t, 0.0), Vec3::new(w + t, h + t, WALL_H));
    push_box(mesh, Vec3::new(0.0, -t, 0.0), Vec3::new(w, 0.0, WALL_H));
    push_box(mesh, Vec3::new(0.0, h, 0.0), Vec3::new(w, h + t, WALL_H));
    push_quad(mesh, Vec2::new(-t, -t), Vec2::new(w + t, h + t), 0.0);
    push_quad(mesh, Vec2::new(-t, -t), Vec2::new(w + t, h + t), WALL_H);
}

pub fn scene(name: &str, mesh: TriMesh, source: Vec3, doors: Vec<Door>) -> Scene {
    Scene {
        name: name.into(),
        origin: SceneOrigin::Procedural { seed: 0 },
        mesh,
        materials: material_library(),
        floor_z: 0.0,
        ceiling_h: WALL_H,
        source: SoundSource { position: source },
        lights: Vec::new(),
        rooms: Vec::new(),
        doors,
        edges: Vec::new(),
    }
}

/// Interior x of the dividing wall's centre plane in [`two_rooms`].
pub const DIVIDER_X: f32 = 5.0;
/// Door opening of [`two_rooms`]: y range.
pub const DOOR_Y: (f32, f32) = (4.5, 5.5);

/// Two 5 m × 6 m rooms side by side (interior `[0, 10] × [0, 6]`), joined by a 1 m door in the
/// dividing wall at x = 5 (wall `[4.95, 5.05]`, opening y ∈ [4.5, 5.5], lintel above 2 m).
/// The source hangs at 1 m height at `source_xy` (no table) unless `table` is set, in which case a
/// 1 m × 1 m × 0.75 m table stands at (8, 3) with the source on it at 0.9 m.
pub fn two_rooms(source_xy: Vec2, table: bool) -> Scene {
    let mut m = TriMesh::default();
    push_shell(&mut m, 10.0, 6.0);
    let h = WALL_T / 2.0;
    push_box(
        &mut m,
        Vec3::new(DIVIDER_X - h, 0.0, 0.0),
        Vec3::new(DIVIDER_X + h, DOOR_Y.0, WALL_H),
    );
    push_box(
        &mut m,
        Vec3::new(DIVIDER_X - h, DOOR_Y.1, 0.0),
        Vec3::new(DIVIDER_X + h, 6.0, WALL_H),
    );
    push_box(
        &mut m,
        Vec3::new(DIVIDER_X - h, DOOR_Y.0, 2.0),
        Vec3::new(DIVIDER_X + h, DOOR_Y.1, WALL_H),
    );
    let source = if table {
        push_box(&mut m, Vec3::new(7.5, 2.5, 0.0), Vec3::new(8.5, 3.5, 0.75));
        Vec3::new(8.0, 3.0, 0.9)
    } else {
        source_xy.extend(1.0)
    };
    let door = Door {
        center: Vec2::new(DIVIDER_X, 5.0),
        along: Vec2::Y,
        width_m: 1.0,
        height_m: 2.0,
    };
    scene("two-rooms", m, source, vec![door])
}

/// A single empty room with interior `[0, w] × [0, h]` and the source at its centre.
pub fn empty_room(w: f32, h: f32) -> Scene {
    let mut m = TriMesh::default();
    push_shell(&mut m, w, h);
    scene(
        "empty-room",
        m,
        Vec3::new(w / 2.0, h / 2.0, 1.0),
        Vec::new(),
    )
}

/// A 20 m × 20 m apartment (400 m²): 4 × 4 rooms of 5 m with a 0.9 m door in every interior wall
/// segment, a table in every room and a diagonal cabinet in some, source on a table in a corner room.
pub fn apartment() -> Scene {
    let mut m = TriMesh::default();
    push_shell(&mut m, 20.0, 20.0);
    let mut doors = Vec::new();
    for k in 1..4 {
        let c = 5.0 * k as f32;
        for r in 0..4 {
            let (a, b) = (5.0 * r as f32, 5.0 * (r + 1) as f32);
            let mid = a + 2.5 + if (k + r) % 2 == 0 { 1.0 } else { -1.0 };
            // Vertical wall at x = c, segment y ∈ [a, b], door around `mid`.
            push_wall(&mut m, Vec2::new(c, a), Vec2::new(c, mid - 0.5));
            push_wall(&mut m, Vec2::new(c, mid + 0.5), Vec2::new(c, b));
            doors.push(Door {
                center: Vec2::new(c, mid),
                along: Vec2::Y,
                width_m: 0.9,
                height_m: 2.0,
            });
            // Horizontal wall at y = c, segment x ∈ [a, b].
            push_wall(&mut m, Vec2::new(a, c), Vec2::new(mid - 0.5, c));
            push_wall(&mut m, Vec2::new(mid + 0.5, c), Vec2::new(b, c));
            doors.push(Door {
                center: Vec2::new(mid, c),
                along: Vec2::X,
                width_m: 0.9,
                height_m: 2.0,
            });
        }
    }
    for r in 0..4 {
        for q in 0..4 {
            let o = Vec2::new(5.0 * q as f32, 5.0 * r as f32);
            push_box(
                &mut m,
                (o + Vec2::new(2.0, 2.0)).extend(0.0),
                (o + Vec2::new(3.0, 2.8)).extend(0.75),
            );
            if (r + q) % 3 == 0 {
                // A cabinet rotated by 30°: a prism made of two boxes' worth of triangles.
                let base = m.positions.len() as u32;
                let c = o + Vec2::new(1.0, 3.8);
                let (s, co) = (30f32.to_radians().sin(), 30f32.to_radians().cos());
                let rot = |x: f32, y: f32| c + Vec2::new(co * x - s * y, s * x + co * y);
                for z in [0.0, 1.8] {
                    for (x, y) in [(-0.5, -0.2), (0.5, -0.2), (0.5, 0.2), (-0.5, 0.2)] {
                        m.positions.push(rot(x, y).extend(z));
                    }
                }
                for f in [
                    [0, 1, 5, 4],
                    [1, 2, 6, 5],
                    [2, 3, 7, 6],
                    [3, 0, 4, 7],
                    [4, 5, 6, 7],
                    [0, 3, 2, 1],
                ] {
                    m.triangles.push([base + f[0], base + f[1], base + f[2]]);
                    m.triangles.push([base + f[0], base + f[2], base + f[3]]);
                    m.material.extend([0, 0]);
                }
            }
        }
    }
    scene("apartment", m, Vec3::new(2.5, 2.4, 0.9), doors)
}
