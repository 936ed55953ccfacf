//! Scene files: loaders on small hand-written meshes, save/load round trips, and every broken
//! input giving an error that names the file.

use super::*;
use crate::procedural::ProceduralConfig;
use avwm_geom::{Bvh, Ray};
use base64::Engine;
use std::fs;

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, content).expect("temp dir is writable");
    p
}

fn err_of(path: &Path) -> String {
    match load_scene_file(path) {
        Ok(_) => panic!("{} loaded but should fail", path.display()),
        Err(e) => e.to_string(),
    }
}

const SOURCE: &str = "[source]\nposition = [0.2, 0.2, 0.5]\n";

#[test]
fn procedural_file_with_overrides_matches_generate() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.toml",
        "name = \"flat\"\n[procedural]\nseed = 42\n[procedural.config]\nrooms_max = 5\nrooms_min = 4\n",
    );
    let scene = load_scene_file(&p).unwrap();
    let cfg = ProceduralConfig {
        rooms_min: 4,
        rooms_max: 5,
        ..ProceduralConfig::default()
    };
    let mut expected = crate::procedural::generate(42, &cfg).unwrap();
    expected.name = "flat".into();
    expected.origin = SceneOrigin::File { path: p.clone() };
    assert_eq!(scene, expected);
    // Saved without a config (it is in the file) and reloaded from elsewhere: the same scene.
    let out = tempfile::tempdir().unwrap();
    write_scene_dir(&scene, None, out.path()).unwrap();
    let back = load_scene_file(&out.path().join("scene.toml")).unwrap();
    assert_eq!(back.mesh, scene.mesh);
    assert_eq!(
        (back.name.as_str(), back.source, &back.lights),
        ("flat", scene.source, &scene.lights)
    );
}

#[test]
fn written_scene_dir_is_byte_identical_and_reloads_to_the_same_scene() {
    let cfg = ProceduralConfig::small();
    let scene = crate::procedural::generate(7, &cfg).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_scene_dir(&scene, Some(&cfg), a.path()).unwrap();
    write_scene_dir(
        &crate::procedural::generate(7, &cfg).unwrap(),
        Some(&cfg),
        b.path(),
    )
    .unwrap();
    for f in ["scene.toml", "scene.json", "mesh.ply"] {
        let (x, y) = (
            fs::read(a.path().join(f)).unwrap(),
            fs::read(b.path().join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between two writes of the same scene");
    }
    let names: Vec<_> = fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "no temporary files left behind: {names:?}");
    let toml = fs::read_to_string(a.path().join("scene.toml")).unwrap();
    assert!(
        toml.contains("wall_thickness_m = 0.15\n"),
        "shortest floats:\n{toml}"
    );
    let reloaded = load_scene_file(&a.path().join("scene.toml")).unwrap();
    assert_eq!(
        reloaded.origin,
        SceneOrigin::File {
            path: a.path().join("scene.toml")
        }
    );
    assert_eq!(
        Scene {
            origin: scene.origin.clone(),
            ..reloaded
        },
        scene
    );
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(a.path().join("scene.json")).unwrap()).unwrap();
    assert_eq!(json["rooms"].as_array().unwrap().len(), scene.rooms.len());
    assert_eq!(json["edges"].as_array().unwrap().len(), scene.edges.len());
    assert_eq!(json["triangles"], scene.mesh.len());

    // mesh.ply loads back through the PLY reader with the same geometry.
    let p = write(
        a.path(),
        "ply.toml",
        format!("[mesh]\npath = \"mesh.ply\"\nfloor_z = 0.0\n{SOURCE}"),
    );
    let back = load_scene_file(&p).unwrap();
    assert_eq!(back.mesh.len(), scene.mesh.len());
    assert_eq!(back.mesh.bounds(), scene.mesh.bounds());
    assert!(back.mesh.vertex_colors.is_some());
    let (b1, b2) = (Bvh::build(&scene.mesh), Bvh::build(&back.mesh));
    let c = 0.5 * (scene.rooms[0].min + scene.rooms[0].max);
    for k in 0..32 {
        let a = k as f32 * std::f32::consts::TAU / 32.0;
        let ray = Ray::new(c.extend(1.0), Vec3::new(a.cos(), a.sin(), 0.1));
        assert_eq!(
            b1.cast_ray(&ray).map(|h| h.t),
            b2.cast_ray(&ray).map(|h| h.t)
        );
    }
    // Detected floor and ceiling of the procedural mesh.
    let p = write(
        a.path(),
        "ply2.toml",
        format!("[mesh]\npath = \"mesh.ply\"\n{SOURCE}"),
    );
    let back = load_scene_file(&p).unwrap();
    assert!(back.floor_z.abs() < 1e-4, "floor {}", back.floor_z);
    assert!(
        (back.ceiling_h - scene.ceiling_h).abs() < 1e-3,
        "ceiling {} vs {}",
        back.ceiling_h,
        scene.ceiling_h
    );
    assert!(!back.lights.is_empty());

    // A procedural scene cannot be saved without its config.
    let e = write_scene_dir(&scene, None, a.path()).expect_err("needs cfg");
    assert!(matches!(e, SceneError::Config(_)));
}

#[test]
fn obj_groups_map_to_library_materials_by_exact_name_and_substring() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "room.obj",
        "o room\nv 0 0 0\nv 4 0 0\nv 4 3 0\nv 0 3 0\nv 0 0 2.5\nv 4 0 2.5\n\
         usemtl FloorTiles\nf 1 2 3 4\nusemtl Wall_North\nf 1 2 6\nf 1 6 5\nusemtl Sofa\nf 1 3 5\n",
    );
    let p = write(
        dir.path(),
        "room.toml",
        format!(
            "[mesh]\npath = \"room.obj\"\n{SOURCE}[materials]\ndefault = \"fabric\"\nFloorTiles = \"tile\"\nwall = \"plaster\"\nwall_north = \"brick\"\n"
        ),
    );
    let s = load_scene_file(&p).unwrap();
    assert_eq!(s.mesh.len(), 5);
    assert_eq!(s.floor_z, 0.0);
    let names: Vec<_> = s.materials.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["FloorTiles", "Wall_North", "Sofa"]);
    let lib = material_library();
    let acoustic = |n: &str| lib.iter().find(|m| m.name == n).unwrap().acoustic.clone();
    assert_eq!(s.materials[0].acoustic, acoustic("tile"));
    // The longer key `wall_north` wins over `wall`.
    assert_eq!(s.materials[1].acoustic, acoustic("brick"));
    assert_eq!(s.materials[2].acoustic, acoustic("fabric"));
    assert_eq!(s.mesh.material, [0, 0, 1, 1, 2]);
    assert_eq!(s.origin, SceneOrigin::File { path: p.clone() });
}

#[test]
fn obj_material_library_colour_is_used() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.mtl", "newmtl red_wall\nKd 0.8 0.1 0.1\n");
    write(
        dir.path(),
        "m.obj",
        "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl red_wall\nf 1 2 3\n",
    );
    let p = write(
        dir.path(),
        "m.toml",
        format!("[mesh]\npath = \"m.obj\"\n{SOURCE}"),
    );
    let s = load_scene_file(&p).unwrap();
    assert_eq!(s.materials[0].name, "red_wall");
    assert_eq!(s.materials[0].visual.color, [0.8, 0.1, 0.1]);
}

/// A one-triangle glTF in Habitat's y-up frame: a node translates it up by 1 (y) and scales by 2.
fn gltf_json(buffer_uri: Option<&str>) -> (String, Vec<u8>) {
    let mut bin = Vec::new();
    for v in [0.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, -1.0] {
        bin.extend_from_slice(&v.to_le_bytes());
    }
    for i in [0u16, 1, 2] {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    bin.extend_from_slice(&[0, 0]);
    let uri = buffer_uri
        .map(|u| format!(", \"uri\": \"{u}\""))
        .unwrap_or_default();
    let json = format!(
        r#"{{"asset": {{"version": "2.0"}}, "scene": 0, "scenes": [{{"nodes": [0]}}],
        "nodes": [{{"mesh": 0, "translation": [0, 1, 0], "scale": [2, 2, 2]}}],
        "meshes": [{{"primitives": [{{"attributes": {{"POSITION": 0}}, "indices": 1, "material": 0}}]}}],
        "materials": [{{"name": "WallPaint", "pbrMetallicRoughness": {{"baseColorFactor": [0.2, 0.4, 0.6, 1.0]}}}}],
        "buffers": [{{"byteLength": 44{uri}}}],
        "bufferViews": [{{"buffer": 0, "byteOffset": 0, "byteLength": 36}}, {{"buffer": 0, "byteOffset": 36, "byteLength": 6}}],
        "accessors": [
          {{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0, 0, -1], "max": [1, 0, 0]}},
          {{"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}}]}}"#
    );
    (json, bin)
}

fn glb(json: &str, bin: &[u8]) -> Vec<u8> {
    let mut j = json.as_bytes().to_vec();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let total = 12 + 8 + j.len() + 8 + bin.len();
    let mut out = Vec::new();
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&j);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(bin);
    out
}

fn check_gltf_triangle(s: &Scene) {
    // y-up (x, y, z) → z-up (x, −z, y): after the node transform the corners are (0,1,0),
    // (2,1,0), (0,1,−2) y-up, i.e. (0,0,1), (2,0,1), (0,2,1) z-up.
    let expected = [
        Vec3::new(0.0, 0.0, 1.0),
        Vec3::new(2.0, 0.0, 1.0),
        Vec3::new(0.0, 2.0, 1.0),
    ];
    for (p, e) in s.mesh.positions.iter().zip(expected) {
        assert!(p.distance(e) < 1e-6, "{p} vs {e}");
    }
    assert!(
        s.mesh.normal(0).z > 0.99,
        "winding is kept by the proper rotation"
    );
    assert_eq!(s.materials[0].name, "WallPaint");
    assert_eq!(s.materials[0].visual.color, [0.2, 0.4, 0.6]);
    assert_eq!(
        s.materials[0].acoustic,
        material_library()
            .iter()
            .find(|m| m.name == "plaster")
            .unwrap()
            .acoustic
    );
    assert_eq!(s.floor_z, 1.0);
}

#[test]
fn gltf_with_embedded_base64_and_glb_load_with_y_up_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bin) = gltf_json(None);
    let uri = format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bin)
    );
    let (json, _) = gltf_json(Some(&uri));
    write(dir.path(), "t.gltf", &json);
    let toml = format!(
        "[mesh]\npath = \"t.gltf\"\nceiling_h = 2.5\n{SOURCE}[materials]\nwall = \"plaster\"\n"
    );
    check_gltf_triangle(&load_scene_file(&write(dir.path(), "t.toml", toml)).unwrap());

    let (json, bin) = gltf_json(None);
    write(dir.path(), "t.glb", glb(&json, &bin));
    let toml = format!(
        "[mesh]\npath = \"t.glb\"\nceiling_h = 2.5\n{SOURCE}[materials]\nwall = \"plaster\"\n"
    );
    check_gltf_triangle(&load_scene_file(&write(dir.path(), "g.toml", toml)).unwrap());

    // External buffer file.
    write(dir.path(), "t.bin", &bin);
    let (json, _) = gltf_json(Some("t.bin"));
    write(dir.path(), "e.gltf", &json);
    let toml = format!(
        "[mesh]\npath = \"e.gltf\"\nceiling_h = 2.5\n{SOURCE}[materials]\nwall = \"plaster\"\n"
    );
    check_gltf_triangle(&load_scene_file(&write(dir.path(), "e.toml", toml)).unwrap());
    // An external buffer whose URI is percent-encoded (a space and a UTF-8 "ü").
    write(dir.path(), "my b\u{fc}ro.bin", &bin);
    let (json, _) = gltf_json(Some("my%20b%C3%BCro.bin"));
    write(dir.path(), "p.gltf", &json);
    let toml = format!(
        "[mesh]\npath = \"p.gltf\"\nceiling_h = 2.5\n{SOURCE}[materials]\nwall = \"plaster\"\n"
    );
    check_gltf_triangle(&load_scene_file(&write(dir.path(), "p.toml", toml)).unwrap());
    // Octets that are not UTF-8 once decoded are named, not guessed at.
    let (json, _) = gltf_json(Some("b%FFd.bin"));
    write(dir.path(), "bad.gltf", &json);
    let toml = format!("[mesh]\npath = \"bad.gltf\"\n{SOURCE}");
    let e = load_scene_file(&write(dir.path(), "bad.toml", toml)).unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");

    // Same file, declared z-up: no rotation (the node's y translation stays on y).
    let toml = format!("[mesh]\npath = \"t.glb\"\nup_axis = \"z\"\n{SOURCE}");
    let s = load_scene_file(&write(dir.path(), "z.toml", toml)).unwrap();
    assert!(s.mesh.positions[2].distance(Vec3::new(0.0, 1.0, -2.0)) < 1e-6);
}

#[test]
fn floor_and_ceiling_are_detected_from_large_horizontal_surfaces() {
    let dir = tempfile::tempdir().unwrap();
    // A 10 × 10 floor at z = 0.3, a small 0.5 × 0.5 step at z = 0.1, a ceiling facing down at 2.9,
    // and a small shelf facing down at 1.0.
    let mut ply = String::from(
        "ply\nformat ascii 1.0\nelement vertex 16\nproperty float x\nproperty float y\nproperty float z\n\
         element face 4\nproperty list uchar int vertex_indices\nend_header\n",
    );
    for (z, s) in [(0.3, 10.0), (0.1, 0.5), (2.9, 10.0), (1.0, 0.5)] {
        for (x, y) in [(0.0, 0.0), (s, 0.0), (s, s), (0.0, s)] {
            ply.push_str(&format!("{x} {y} {z}\n"));
        }
    }
    ply.push_str("4 0 1 2 3\n4 4 5 6 7\n4 11 10 9 8\n4 15 14 13 12\n");
    write(dir.path(), "f.ply", &ply);
    let s = load_scene_file(&write(
        dir.path(),
        "f.toml",
        format!("[mesh]\npath = \"f.ply\"\n{SOURCE}"),
    ))
    .unwrap();
    assert!((s.floor_z - 0.3).abs() < 1e-6, "floor {}", s.floor_z);
    assert!((s.ceiling_h - 2.6).abs() < 1e-5, "ceiling {}", s.ceiling_h);
    assert_eq!(s.lights.len(), 9, "3 × 3 grid over 10 m");
    assert!(
        s.lights
            .iter()
            .all(|l| (l.position.z - 2.9 + 0.3).abs() < 1e-5)
    );
}

#[test]
fn broken_inputs_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ok.ply",
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
    );
    write(
        d,
        "oob.ply",
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n",
    );
    write(
        d,
        "nan.ply",
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\nnan 0 0\n0 1 0\n3 0 1 2\n",
    );
    write(
        d,
        "empty.ply",
        "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n",
    );
    write(d, "garbage.ply", "this is not a mesh");
    write(d, "bad.obj", "v 0 0 0\nv one 0 0\nf 1 2 3\n");
    write(d, "oob.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n");
    write(d, "bad.glb", b"glTF\x02\0\0\0garbage");
    write(
        d,
        "short.gltf",
        gltf_json(Some("data:application/octet-stream;base64,AAAA")).0,
    );
    write(d, "mesh.stl", "solid x\nendsolid x\n");
    let mesh = |file: &str, extra: &str| format!("[mesh]\npath = \"{file}\"\n{SOURCE}{extra}");
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "toml.toml",
            "[procedural\nseed = 1".into(),
            "toml.toml",
            "bad scene file",
        ),
        (
            "unknown.toml",
            "[procedural]\nseed = 1\ncolour = 3\n".into(),
            "unknown.toml",
            "colour",
        ),
        (
            "unknown_cfg.toml",
            "[procedural]\nseed = 1\n[procedural.config]\nroom_max = 3\n".into(),
            "unknown_cfg.toml",
            "room_max",
        ),
        (
            "neither.toml",
            "name = \"x\"\n".into(),
            "neither.toml",
            "exactly one",
        ),
        (
            "both.toml",
            format!("[procedural]\nseed = 1\n{}", mesh("ok.ply", "")),
            "both.toml",
            "exactly one",
        ),
        (
            "badcfg.toml",
            "[procedural]\nseed = 1\n[procedural.config]\nrooms_min = 9\nrooms_max = 3\n".into(),
            "badcfg.toml",
            "rooms_min",
        ),
        (
            "nosource.toml",
            "[mesh]\npath = \"ok.ply\"\n".into(),
            "nosource.toml",
            "[source]",
        ),
        (
            "badmat.toml",
            mesh("ok.ply", "[materials]\nwall = \"plastr\"\n"),
            "badmat.toml",
            "plastr",
        ),
        (
            "baddefault.toml",
            mesh("ok.ply", "[materials]\ndefault = \"nope\"\n"),
            "baddefault.toml",
            "nope",
        ),
        (
            "missing.toml",
            mesh("missing.glb", ""),
            "missing.glb",
            "No such file",
        ),
        (
            "stl.toml",
            mesh("mesh.stl", ""),
            "mesh.stl",
            "unsupported mesh format",
        ),
        ("oob.toml", mesh("oob.ply", ""), "oob.ply", "vertex 7"),
        ("nan.toml", mesh("nan.ply", ""), "nan.ply", "non-finite"),
        (
            "empty.toml",
            mesh("empty.ply", ""),
            "empty.ply",
            "no triangles",
        ),
        (
            "garbage.toml",
            mesh("garbage.ply", ""),
            "garbage.ply",
            "not a PLY",
        ),
        ("badobj.toml", mesh("bad.obj", ""), "bad.obj", "OBJ"),
        ("oobobj.toml", mesh("oob.obj", ""), "oob.obj", ""),
        ("badglb.toml", mesh("bad.glb", ""), "bad.glb", "glTF"),
        (
            "short.toml",
            mesh("short.gltf", ""),
            "short.gltf",
            "declares 44",
        ),
        (
            "scale.toml",
            "[mesh]\npath = \"ok.ply\"\nscale = -1.0\n[source]\nposition = [0, 0, 0]\n".into(),
            "scale.toml",
            "scale",
        ),
        (
            "nansrc.toml",
            "[mesh]\npath = \"ok.ply\"\n[source]\nposition = [nan, 0, 0]\n".into(),
            "nansrc.toml",
            "source",
        ),
        (
            "light.toml",
            format!(
                "{}[[lights]]\nposition = [0, 0, 2]\nintensity = [-1, 1, 1]\n",
                mesh("ok.ply", "")
            ),
            "light.toml",
            "light 0",
        ),
    ];
    for (name, content, names_file, needle) in cases {
        let p = write(d, name, content);
        let e = err_of(&p);
        assert!(
            e.contains(names_file),
            "{name}: {e:?} should name {names_file}"
        );
        assert!(
            e.contains(needle),
            "{name}: {e:?} should mention {needle:?}"
        );
    }
    let e = err_of(&d.join("does_not_exist.toml"));
    assert!(e.contains("does_not_exist.toml"), "{e}");
    // The good file loads.
    load_scene_file(&write(d, "good.toml", mesh("ok.ply", ""))).unwrap();
}

#[test]
fn scene_file_round_trips_through_toml() {
    let f = SceneFile {
        name: Some("x".into()),
        mesh: Some(MeshSection {
            path: "a/b.glb".into(),
            up_axis: Some(UpAxis::Y),
            scale: 0.01,
            floor_z: None,
            ceiling_h: Some(2.7),
        }),
        source: Some(SourceSection {
            position: [1.0, 2.0, 0.8],
        }),
        materials: [("default".to_string(), "plaster".to_string())].into(),
        lights: vec![LightSection {
            position: [0.0, 0.0, 2.4],
            intensity: [3.0, 2.9, 2.5],
        }],
        ..SceneFile::default()
    };
    let text = f.to_toml(Path::new("x.toml")).unwrap();
    assert!(text.contains("scale = 0.01\n"), "{text}");
    assert_eq!(SceneFile::parse(&text, Path::new("x.toml")).unwrap(), f);
}

#[test]
fn shipped_shoebox_asset_loads_closed_and_inward_facing() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/meshes/shoebox.toml");
    let s = load_scene_file(&path).unwrap();
    assert_eq!(s.name, "shoebox");
    assert_eq!(s.mesh.len(), 12);
    assert_eq!((s.floor_z, s.ceiling_h), (0.0, 2.7));
    let total: f32 = (0..s.mesh.len()).map(|t| s.mesh.area(t)).sum();
    assert!(
        (total - 2.0 * (5.0 * 4.0 + 5.0 * 2.7 + 4.0 * 2.7)).abs() < 1e-3,
        "surface {total} m²"
    );
    let names: Vec<_> = s.materials.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Floor_Wood", "Ceiling", "Wall_Plaster"]);
    assert_eq!(
        s.materials[0].visual.pattern,
        Pattern::Planks,
        "floor → wood_floor"
    );
    let bvh = Bvh::build(&s.mesh);
    let mut rng = avwm_core::Seed(11).rng();
    use rand::Rng;
    for _ in 0..2000 {
        let d = Vec3::new(
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
        )
        .normalize_or(Vec3::X);
        let hit = bvh
            .cast_ray(&Ray::new(s.source.position, d))
            .expect("closed room");
        assert!(
            s.mesh.normal(hit.triangle as usize).dot(d) < 0.0,
            "front faces face the room"
        );
    }
}

#[test]
fn loaded_mesh_scene_saves_and_reloads_from_another_folder() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/meshes/shoebox.toml");
    let s = load_scene_file(&path).unwrap();
    let out = tempfile::tempdir().unwrap();
    write_scene_dir(&s, None, out.path()).unwrap();
    let back = load_scene_file(&out.path().join("scene.toml")).unwrap();
    assert_eq!(back.mesh, s.mesh);
    assert_eq!(back.materials, s.materials);
    assert_eq!(
        (back.floor_z, back.ceiling_h, back.source, &back.lights),
        (s.floor_z, s.ceiling_h, s.source, &s.lights)
    );
    assert_eq!(
        back.origin,
        SceneOrigin::File {
            path: out.path().join("scene.toml")
        }
    );
}

/// Truncated and bit-flipped versions of valid GLB, glTF, PLY (ASCII and binary) and OBJ files
/// give `Ok` or `Err`, never a panic.
#[test]
fn mutated_mesh_files_never_panic() {
    use rand::Rng;
    let dir = tempfile::tempdir().unwrap();
    let (json, bin) = gltf_json(None);
    let uri = format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bin)
    );
    let scene = crate::procedural::generate(
        1,
        &ProceduralConfig {
            rooms_max: 3,
            ..ProceduralConfig::small()
        },
    )
    .unwrap();
    let ascii_ply = "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n\
        property uchar red\nproperty uchar green\nproperty uchar blue\nelement face 1\nproperty list uchar int vertex_indices\n\
        end_header\n0 0 0 1 2 3\n1 0 0 4 5 6\n1 1 0 7 8 9\n0 1 0 1 1 1\n4 0 1 2 3\n";
    let obj = "mtllib none.mtl\no a\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvn 0 0 1\nusemtl x\nf 1/1/1 2/1/1 3/1/1 4/1/1\ng b\nf -1 -2 -3\n";
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("glb", glb(&json, &bin)),
        ("gltf", gltf_json(Some(&uri)).0.into_bytes()),
        ("ply", ascii_ply.as_bytes().to_vec()),
        ("ply", ply::write_ply(&scene)),
        ("obj", obj.as_bytes().to_vec()),
    ];
    let mut rng = avwm_core::Seed(11).rng();
    let mut loaded = 0;
    for (kind, bytes) in &inputs {
        for k in 0..400 {
            let mut b = bytes.clone();
            if k % 2 == 0 {
                b.truncate(rng.random_range(0..b.len()));
            } else {
                for _ in 0..rng.random_range(1..5) {
                    let i = rng.random_range(0..b.len());
                    b[i] = rng.random();
                }
            }
            let raw = match *kind {
                "ply" => ply::read_ply(&b),
                "obj" => String::from_utf8(b)
                    .map_err(|e| e.to_string())
                    .and_then(|t| obj::read_obj(&t, dir.path())),
                _ => gltf::read_gltf(&b, dir.path()),
            };
            if let Ok(raw) = raw {
                let mesh = TriMesh {
                    positions: raw.positions,
                    triangles: raw.triangles,
                    material: raw.material,
                    vertex_colors: raw.vertex_colors,
                };
                if mesh.validate().is_ok() {
                    loaded += 1;
                }
            }
        }
    }
    assert!(
        loaded > 50,
        "some mutations (e.g. in vertex values) still load: {loaded}"
    );
}
