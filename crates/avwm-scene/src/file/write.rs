//! Saving a scene folder: `scene.toml`, `scene.json`, `mesh.ply`, each written atomically.

use super::{LightSection, MeshSection, ProceduralSection, SceneFile, SourceSection, invalid, ply};
use crate::material::Material;
use crate::procedural::ProceduralConfig;
use crate::scene::{
    DiffractionEdge, Door, Light, Room, Scene, SceneError, SceneOrigin, SoundSource,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `scene.json` holds: everything but the mesh itself.
#[derive(Serialize)]
struct Summary<'a> {
    name: &'a str,
    origin: &'a SceneOrigin,
    floor_z: f32,
    ceiling_h: f32,
    triangles: usize,
    vertices: usize,
    bounds_min: [f32; 3],
    bounds_max: [f32; 3],
    source: &'a SoundSource,
    lights: &'a [Light],
    rooms: &'a [Room],
    doors: &'a [Door],
    edges: &'a [DiffractionEdge],
    materials: &'a [Material],
}

/// The scene file that reproduces `scene`.
fn scene_file(
    scene: &Scene,
    cfg: Option<&ProceduralConfig>,
    toml_path: &Path,
) -> Result<SceneFile, SceneError> {
    match &scene.origin {
        SceneOrigin::Procedural { seed } => {
            let cfg = cfg.ok_or_else(|| {
                SceneError::Config(format!(
                    "scene {:?} is procedural (seed {seed}): pass the ProceduralConfig it was generated with",
                    scene.name
                ))
            })?;
            Ok(SceneFile {
                name: Some(scene.name.clone()),
                procedural: Some(ProceduralSection {
                    seed: *seed,
                    config: cfg.clone(),
                }),
                source: Some(SourceSection {
                    position: scene.source.position.to_array(),
                }),
                ..SceneFile::default()
            })
        }
        SceneOrigin::File { path } => {
            // Re-read the original file and pin its mesh path, so the copy works from any folder.
            let mut file = SceneFile::read(path)?;
            if let Some(mesh) = file.mesh.as_mut() {
                let dir = path.parent().unwrap_or(Path::new("."));
                let abs =
                    std::path::absolute(dir.join(&mesh.path)).map_err(|source| SceneError::Io {
                        path: toml_path.to_path_buf(),
                        source,
                    })?;
                *mesh = MeshSection {
                    path: abs,
                    ..mesh.clone()
                };
                // Pin what was detected, so a changed detector cannot move the scene.
                mesh.floor_z = Some(scene.floor_z);
                mesh.ceiling_h = Some(scene.ceiling_h);
                file.source = Some(SourceSection {
                    position: scene.source.position.to_array(),
                });
                file.lights = scene
                    .lights
                    .iter()
                    .map(|l| LightSection {
                        position: l.position.to_array(),
                        intensity: l.intensity,
                    })
                    .collect();
            }
            // A procedural file is self-contained: seed, config and overrides are kept as they are.
            file.name = Some(scene.name.clone());
            Ok(file)
        }
    }
}

/// Saves `scene` into `dir` (created if needed):
///
/// * `scene.toml` — a scene file that rebuilds it with [`super::load_scene_file`]: for scenes
///   from [`crate::procedural::generate`] the seed and the full `cfg` (required for them); for
///   scenes loaded from a file, a copy of that file (procedural form as is; mesh form with an
///   absolute mesh path and the floor, ceiling, source and lights pinned);
/// * `scene.json` — name, origin, sizes, source, lights, rooms, doors, edges and materials;
/// * `mesh.ply` — binary PLY, z up, sRGB vertex colours from the materials; it loads back
///   through [`super::load_scene_file`] with `[mesh] path = "mesh.ply"`.
///
/// Same scene ⇒ same bytes. Each file is written to a temporary name and renamed.
///
/// # Errors
/// [`SceneError::Config`] for a procedural scene without `cfg`; [`SceneError::Io`] naming the
/// file that could not be written.
pub fn write_scene_dir(
    scene: &Scene,
    cfg: Option<&ProceduralConfig>,
    dir: &Path,
) -> Result<(), SceneError> {
    std::fs::create_dir_all(dir).map_err(|source| SceneError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let toml_path: PathBuf = dir.join("scene.toml");
    let file = scene_file(scene, cfg, &toml_path)?;
    let mut toml = format!(
        "# avwm scene {:?}: load with avwm_scene::file::load_scene_file\n",
        scene.name
    );
    toml.push_str(&file.to_toml(&toml_path)?);

    let (lo, hi) = scene.mesh.bounds().unwrap_or_default();
    let summary = Summary {
        name: &scene.name,
        origin: &scene.origin,
        floor_z: scene.floor_z,
        ceiling_h: scene.ceiling_h,
        triangles: scene.mesh.len(),
        vertices: scene.mesh.positions.len(),
        bounds_min: lo.to_array(),
        bounds_max: hi.to_array(),
        source: &scene.source,
        lights: &scene.lights,
        rooms: &scene.rooms,
        doors: &scene.doors,
        edges: &scene.edges,
        materials: &scene.materials,
    };
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| invalid(&dir.join("scene.json"), format!("cannot write JSON: {e}")))?;

    avwm_core::write_atomic(&dir.join("mesh.ply"), &ply::write_ply(scene))?;
    avwm_core::write_atomic(&dir.join("scene.json"), json.as_bytes())?;
    avwm_core::write_atomic(&dir.join("scene.toml"), toml.as_bytes())?;
    Ok(())
}
