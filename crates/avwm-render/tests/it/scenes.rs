//! Hand-built test scenes: axis-aligned boxes and rooms made of quads.

use avwm_core::glam::Vec3;
use avwm_geom::{Bvh, TriMesh};
use avwm_scene::{
    Light, Material, Pattern, Scene, SceneOrigin, SoundSource, VisualMaterial, material_library,
};
use std::sync::Arc;

/// Appends the quad `a b c d` (counter-clockwise seen from the side its normal points to).
pub fn quad(mesh: &mut TriMesh, [a, b, c, d]: [Vec3; 4], material: u32) {
    let base = mesh.positions.len() as u32;
    mesh.positions.extend_from_slice(&[a, b, c, d]);
    mesh.triangles.push([base, base + 1, base + 2]);
    mesh.triangles.push([base, base + 2, base + 3]);
    mesh.material.extend_from_slice(&[material, material]);
}

/// The six faces of the box `[lo, hi]`, normals pointing outward (`inward = false`) or inward.
pub fn add_box(mesh: &mut TriMesh, lo: Vec3, hi: Vec3, inward: bool, materials: [u32; 3]) {
    let [walls, floor, ceiling] = materials;
    let v = |x: f32, y: f32, z: f32| Vec3::new(x, y, z);
    let (x0, y0, z0, x1, y1, z1) = (lo.x, lo.y, lo.z, hi.x, hi.y, hi.z);
    // Outward-facing quads.
    let faces = [
        (
            [v(x0, y0, z0), v(x0, y1, z0), v(x1, y1, z0), v(x1, y0, z0)],
            floor,
        ), // −z
        (
            [v(x0, y0, z1), v(x1, y0, z1), v(x1, y1, z1), v(x0, y1, z1)],
            ceiling,
        ), // +z
        (
            [v(x0, y0, z0), v(x1, y0, z0), v(x1, y0, z1), v(x0, y0, z1)],
            walls,
        ), // −y
        (
            [v(x0, y1, z0), v(x0, y1, z1), v(x1, y1, z1), v(x1, y1, z0)],
            walls,
        ), // +y
        (
            [v(x0, y0, z0), v(x0, y0, z1), v(x0, y1, z1), v(x0, y1, z0)],
            walls,
        ), // −x
        (
            [v(x1, y0, z0), v(x1, y1, z0), v(x1, y1, z1), v(x1, y0, z1)],
            walls,
        ), // +x
    ];
    for (mut q, m) in faces {
        if inward {
            q.reverse();
        }
        quad(mesh, q, m);
    }
}

/// The material library plus three extra untextured materials appended at the end.
pub struct Mats {
    pub list: Vec<Material>,
}

impl Mats {
    pub fn new() -> Mats {
        let mut list = material_library();
        let solid = |name: &str, c: [f32; 3], emission: [f32; 3]| {
            let mut m = list[0].clone();
            m.name = name.into();
            m.visual = VisualMaterial {
                color: c,
                color2: c,
                pattern: Pattern::Solid,
                scale_m: 1.0,
                emission,
            };
            m
        };
        let extra = [
            solid("grey", [0.6, 0.6, 0.6], [0.0; 3]),
            solid("red_lamp", [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]),
            solid("white", [1.0, 1.0, 1.0], [0.0; 3]),
        ];
        list.extend(extra);
        Mats { list }
    }

    pub fn id(&self, name: &str) -> u32 {
        self.list
            .iter()
            .position(|m| m.name == name)
            .expect("material exists") as u32
    }
}

pub fn make_scene(
    mesh: TriMesh,
    materials: Vec<Material>,
    lights: Vec<Light>,
) -> (Scene, Arc<Bvh>) {
    let bvh = Arc::new(Bvh::build(&mesh));
    let scene = Scene {
        name: "test".into(),
        origin: SceneOrigin::Procedural { seed: 0 },
        mesh,
        materials,
        floor_z: 0.0,
        ceiling_h: 2.5,
        source: SoundSource {
            position: Vec3::new(0.0, 0.0, 1.0),
        },
        lights,
        rooms: vec![],
        doors: vec![],
        edges: vec![],
    };
    scene
        .validate(std::path::Path::new("<test>"))
        .expect("valid test scene");
    (scene, bvh)
}

/// A textured room `[-hx, hx] × [-hy, hy] × [0, 2.5]` (plaster walls, wood floor, ceiling tiles)
/// with a table-sized box and one ceiling light.
pub fn furnished_room(hx: f32, hy: f32) -> (Scene, Arc<Bvh>) {
    let mats = Mats::new();
    let mut mesh = TriMesh::default();
    let room = [
        mats.id("plaster"),
        mats.id("wood_floor"),
        mats.id("ceiling_tile"),
    ];
    add_box(
        &mut mesh,
        Vec3::new(-hx, -hy, 0.0),
        Vec3::new(hx, hy, 2.5),
        true,
        room,
    );
    let wood = mats.id("wood");
    add_box(
        &mut mesh,
        Vec3::new(0.8, 0.6, 0.0),
        Vec3::new(1.6, 1.2, 0.75),
        false,
        [wood, wood, wood],
    );
    let lights = vec![Light {
        position: Vec3::new(0.3, -0.2, 2.3),
        intensity: [2.0, 1.9, 1.7],
    }];
    make_scene(mesh, mats.list, lights)
}

/// A square untextured room `[-h, h]² × [0, 2.5]`, light straight above the origin: symmetric
/// under rotations by 90° about the z axis through the origin.
pub fn symmetric_room(h: f32) -> (Scene, Arc<Bvh>) {
    let mats = Mats::new();
    let mut mesh = TriMesh::default();
    let g = mats.id("grey");
    let w = mats.id("white");
    add_box(
        &mut mesh,
        Vec3::new(-h, -h, 0.0),
        Vec3::new(h, h, 2.5),
        true,
        [g, w, w],
    );
    let lights = vec![Light {
        position: Vec3::new(0.0, 0.0, 2.2),
        intensity: [2.0, 2.0, 2.0],
    }];
    make_scene(mesh, mats.list, lights)
}
