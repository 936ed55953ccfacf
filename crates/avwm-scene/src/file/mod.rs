//! Scene files: TOML that names either a procedural seed or a mesh, plus saving scenes to disk.
//!
//! Two forms (exactly one of `[procedural]` and `[mesh]`):
//!
//! ```toml
//! # A generated apartment; any ProceduralConfig field may be overridden.
//! name = "flat-42"          # optional
//! [procedural]
//! seed = 42
//! [procedural.config]
//! rooms_max = 6
//! ```
//!
//! ```toml
//! # An imported mesh (glTF/GLB, OBJ or PLY), path relative to this file.
//! [mesh]
//! path = "house.glb"
//! up_axis = "y"             # "y" (glTF, Habitat) or "z"; default: "y" for glTF/GLB, else "z"
//! scale = 1.0               # metres per mesh unit (default 1)
//! floor_z = 0.0             # optional: default = the lowest large upward-facing surface
//! ceiling_h = 2.6           # optional: default = the lowest large downward-facing surface above it
//! [source]
//! position = [1.0, 2.0, 0.8]   # metres, in the converted z-up scene frame (required for meshes)
//! [materials]
//! default = "plaster"       # library material of unmatched mesh materials (default "default")
//! "Floor_Wood" = "wood_floor"  # exact mesh material name ...
//! "wall" = "plaster"        # ... or a case-insensitive substring (the longest match wins)
//! [[lights]]                # optional; default: a grid of point lights under the ceiling
//! position = [1.0, 2.0, 2.3]
//! intensity = [3.0, 3.0, 3.0]
//! ```
//!
//! `[source]` and `[[lights]]` also override a procedural scene's. Unknown keys are errors.
//! [`write_scene_dir`] saves a scene as `scene.toml` (reloadable with [`load_scene_file`]),
//! `scene.json` (annotations and materials) and `mesh.ply` (for any mesh viewer).

mod gltf;
mod obj;
mod ply;
mod write;

pub use write::write_scene_dir;

use crate::material::{Material, Pattern, material_library};
use crate::procedural::{ProceduralConfig, generate};
use crate::scene::{Light, Scene, SceneError, SceneOrigin, SoundSource};
use avwm_geom::{TriMesh, Vec3};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed scene file (see the [module docs](self) for the format).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneFile {
    /// Scene name (default: `proc-<seed>` or the mesh file's stem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Generate the scene procedurally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedural: Option<ProceduralSection>,
    /// Load the scene from a mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<MeshSection>,
    /// The sound source (required for meshes; overrides the generated one otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSection>,
    /// Mesh material name (exact, or case-insensitive substring) → library material name; the key
    /// `default` names the material of everything unmatched. Meshes only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub materials: BTreeMap<String, String>,
    /// Point lights (default for meshes: a grid under the ceiling; for procedural scenes: one per room).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lights: Vec<LightSection>,
}

/// `[procedural]`: a seed and generator overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProceduralSection {
    /// Generator seed (TOML integers are signed: at most 2⁶³ − 1).
    pub seed: u64,
    /// Generator configuration; missing fields take their defaults.
    #[serde(default)]
    pub config: ProceduralConfig,
}

/// Which mesh axis points up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpAxis {
    /// y up (glTF, Habitat): converted by `(x, y, z) → (x, −z, y)`, a rotation by +90° about x.
    Y,
    /// z up (our frame): unchanged.
    Z,
}

/// `[mesh]`: where the mesh is and how to place it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshSection {
    /// Mesh file (`.glb`, `.gltf`, `.obj`, `.ply`), relative to the scene file.
    pub path: PathBuf,
    /// Up axis of the mesh (default: `y` for glTF/GLB, `z` for OBJ and PLY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_axis: Option<UpAxis>,
    /// Metres per mesh unit, applied after the axis conversion (default 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub scale: f32,
    /// Floor height in the converted frame (m); default: the lowest large upward-facing surface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_z: Option<f32>,
    /// Ceiling height above the floor (m); default: the lowest large downward-facing surface at
    /// least 1.8 m above the floor, else the mesh height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_h: Option<f32>,
}

fn one() -> f32 {
    1.0
}

fn is_one(v: &f32) -> bool {
    *v == 1.0
}

/// `[source]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    /// Emitter position (m, z-up scene frame).
    pub position: [f32; 3],
}

/// One `[[lights]]` entry (see [`Light`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightSection {
    /// Position (m, z-up scene frame).
    pub position: [f32; 3],
    /// Linear RGB intensity (irradiance at 1 m).
    pub intensity: [f32; 3],
}

/// A mesh as read from a file, before materials are resolved and axes converted.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawMesh {
    pub(crate) positions: Vec<Vec3>,
    pub(crate) triangles: Vec<[u32; 3]>,
    /// Index into `materials` per triangle.
    pub(crate) material: Vec<u32>,
    pub(crate) materials: Vec<RawMaterial>,
    pub(crate) vertex_colors: Option<Vec<[f32; 3]>>,
}

/// A material as named by the mesh file.
#[derive(Debug, Clone)]
pub(crate) struct RawMaterial {
    pub(crate) name: String,
    /// Linear base colour, if the file gives one.
    pub(crate) color: Option<[f32; 3]>,
}

fn invalid(path: &Path, message: impl Into<String>) -> SceneError {
    SceneError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl SceneFile {
    /// Reads and parses a scene file (no mesh is loaded yet).
    ///
    /// # Errors
    /// [`SceneError::Io`] if unreadable, [`SceneError::Invalid`] for bad TOML or unknown keys.
    pub fn read(path: &Path) -> Result<SceneFile, SceneError> {
        let text = std::fs::read_to_string(path).map_err(|source| SceneError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        SceneFile::parse(&text, path)
    }

    /// Parses scene-file text; `path` is only used in error messages.
    ///
    /// # Errors
    /// [`SceneError::Invalid`] for bad TOML, unknown keys or wrong types.
    pub fn parse(text: &str, path: &Path) -> Result<SceneFile, SceneError> {
        toml::from_str(text).map_err(|e| invalid(path, format!("bad scene file: {e}")))
    }

    /// The file as TOML text.
    ///
    /// # Errors
    /// [`SceneError::Invalid`] if a value cannot be written as TOML (a seed above 2⁶³ − 1).
    pub fn to_toml(&self, path: &Path) -> Result<String, SceneError> {
        let mut value = toml::Value::try_from(self)
            .map_err(|e| invalid(path, format!("cannot write TOML: {e}")))?;
        shortest_floats(&mut value);
        toml::to_string_pretty(&value).map_err(|e| invalid(path, format!("cannot write TOML: {e}")))
    }

    /// Builds the scene. `path` is the scene file's own path: mesh paths are relative to its
    /// folder, and errors name it (or the mesh file).
    ///
    /// # Errors
    /// A [`SceneError`] naming the file and the problem.
    pub fn build(&self, path: &Path) -> Result<Scene, SceneError> {
        let mut scene = match (&self.procedural, &self.mesh) {
            (Some(p), None) => {
                if !self.materials.is_empty() {
                    return Err(invalid(path, "[materials] applies to [mesh] scenes only"));
                }
                generate(p.seed, &p.config).map_err(|e| invalid(path, e.to_string()))?
            }
            (None, Some(m)) => self.build_mesh(m, path)?,
            _ => {
                return Err(invalid(
                    path,
                    "a scene file needs exactly one of [procedural] and [mesh]",
                ));
            }
        };
        // Rebuilt from this file, overrides included (a procedural scene's seed is in the file).
        scene.origin = SceneOrigin::File {
            path: path.to_path_buf(),
        };
        if let Some(name) = &self.name {
            scene.name = name.clone();
        }
        if let Some(s) = self.source {
            scene.source = SoundSource {
                position: Vec3::from(s.position),
            };
        }
        if !self.lights.is_empty() {
            scene.lights = self
                .lights
                .iter()
                .map(|l| Light {
                    position: Vec3::from(l.position),
                    intensity: l.intensity,
                })
                .collect();
        }
        for (i, l) in scene.lights.iter().enumerate() {
            if !l.position.is_finite() || l.intensity.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(invalid(
                    path,
                    format!("light {i} has a non-finite position or a negative intensity"),
                ));
            }
        }
        scene.validate(path)?;
        Ok(scene)
    }

    fn build_mesh(&self, m: &MeshSection, path: &Path) -> Result<Scene, SceneError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mesh_path = dir.join(&m.path);
        let ext = mesh_path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let bytes = std::fs::read(&mesh_path).map_err(|source| SceneError::Io {
            path: mesh_path.clone(),
            source,
        })?;
        let mesh_dir = mesh_path.parent().unwrap_or(Path::new("."));
        let raw = match ext.as_str() {
            "glb" | "gltf" => gltf::read_gltf(&bytes, mesh_dir),
            "obj" => std::str::from_utf8(&bytes)
                .map_err(|_| "the OBJ file is not UTF-8 text".to_string())
                .and_then(|t| obj::read_obj(t, mesh_dir)),
            "ply" => ply::read_ply(&bytes),
            _ => Err(format!(
                "unsupported mesh format {ext:?} (use .glb, .gltf, .obj or .ply)"
            )),
        }
        .map_err(|message| invalid(&mesh_path, message))?;
        if !(m.scale.is_finite() && m.scale > 0.0) {
            return Err(invalid(
                path,
                format!("[mesh] scale = {} must be a positive number", m.scale),
            ));
        }
        let up = m
            .up_axis
            .unwrap_or(if matches!(ext.as_str(), "glb" | "gltf") {
                UpAxis::Y
            } else {
                UpAxis::Z
            });
        let positions = raw
            .positions
            .iter()
            .map(|&p| {
                m.scale
                    * if up == UpAxis::Y {
                        Vec3::new(p.x, -p.z, p.y)
                    } else {
                        p
                    }
            })
            .collect();
        let materials = resolve_materials(
            &raw.materials,
            &self.materials,
            raw.vertex_colors.is_some(),
            path,
        )?;
        let mesh = TriMesh {
            positions,
            triangles: raw.triangles,
            material: raw.material,
            vertex_colors: raw.vertex_colors,
        };
        mesh.validate().map_err(|source| SceneError::Mesh {
            path: mesh_path.clone(),
            source,
        })?;
        let floor_z = match m.floor_z {
            Some(z) if z.is_finite() => z,
            Some(z) => return Err(invalid(path, format!("[mesh] floor_z = {z} is not finite"))),
            None => detect_floor(&mesh),
        };
        let ceiling_h = match m.ceiling_h {
            Some(h) if h.is_finite() && h > 0.0 => h,
            Some(h) => {
                return Err(invalid(
                    path,
                    format!("[mesh] ceiling_h = {h} must be a positive number"),
                ));
            }
            None => detect_ceiling(&mesh, floor_z),
        };
        let source = self.source.ok_or_else(|| {
            invalid(
                path,
                "a [mesh] scene needs [source] position = [x, y, z] (m, z up)",
            )
        })?;
        let lights = if self.lights.is_empty() {
            light_grid(&mesh, floor_z, ceiling_h)
        } else {
            Vec::new()
        };
        let name = m
            .path
            .file_stem()
            .map_or_else(|| "mesh".to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Scene {
            name,
            origin: SceneOrigin::File {
                path: path.to_path_buf(),
            },
            mesh,
            materials,
            floor_z,
            ceiling_h,
            source: SoundSource {
                position: Vec3::from(source.position),
            },
            lights,
            rooms: Vec::new(),
            doors: Vec::new(),
            edges: Vec::new(),
        })
    }
}

/// Loads a scene file and builds its scene (procedural or from a mesh).
///
/// # Errors
/// A [`SceneError`] naming the file and the problem: missing file, bad TOML, unknown key, broken
/// or empty mesh, out-of-range index, non-finite vertex, unknown material name.
pub fn load_scene_file(path: &Path) -> Result<Scene, SceneError> {
    SceneFile::read(path)?.build(path)
}

/// The library material for mesh material `name`: an exact key, else the longest key contained
/// in `name` (case-insensitive; ties broken alphabetically), else the `default` entry.
fn map_material<'a>(name: &str, table: &'a BTreeMap<String, String>) -> &'a str {
    if let Some(v) = table.get(name).filter(|_| name != "default") {
        return v;
    }
    let lower = name.to_lowercase();
    let mut best: Option<(&String, &String)> = None;
    for (k, v) in table {
        if k == "default" || k.is_empty() || !lower.contains(&k.to_lowercase()) {
            continue;
        }
        if best.is_none_or(|(b, _)| k.len() > b.len()) {
            best = Some((k, v));
        }
    }
    best.map_or_else(
        || table.get("default").map_or("default", String::as_str),
        |(_, v)| v.as_str(),
    )
}

fn resolve_materials(
    raw: &[RawMaterial],
    table: &BTreeMap<String, String>,
    vertex_colored: bool,
    path: &Path,
) -> Result<Vec<Material>, SceneError> {
    let library = material_library();
    for (k, v) in table {
        if !library.iter().any(|m| &m.name == v) {
            let known: Vec<&str> = library.iter().map(|m| m.name.as_str()).collect();
            return Err(invalid(
                path,
                format!(
                    "[materials] {k:?} = {v:?}: no such library material (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut out: Vec<Material> = Vec::with_capacity(raw.len());
    for r in raw {
        let lib = map_material(&r.name, table);
        let mut m = library
            .iter()
            .find(|m| m.name == lib)
            .cloned()
            .expect("checked above");
        if vertex_colored {
            // The vertex colours carry the look: a white, untextured base.
            m.visual.color = [1.0; 3];
            m.visual.color2 = [1.0; 3];
            m.visual.pattern = Pattern::Solid;
        } else if let Some(c) = r
            .color
            .filter(|c| c.iter().all(|v| v.is_finite()) && *c != [1.0; 3])
        {
            m.visual.color = c.map(|v| v.clamp(0.0, 1.0));
            m.visual.color2 = c.map(|v| (0.85 * v).clamp(0.0, 1.0));
        }
        let mut name = if r.name.is_empty() {
            lib.to_string()
        } else {
            r.name.clone()
        };
        let mut k = 2;
        while out.iter().any(|o| o.name == name) {
            name = format!("{}#{k}", r.name);
            k += 1;
        }
        m.name = name;
        out.push(m);
    }
    Ok(out)
}

/// Near-horizontal triangles facing `up` (or down) as `(height, area m²)`, binned every 5 cm.
fn horizontal_area_by_height(mesh: &TriMesh, up: bool) -> BTreeMap<i64, Vec<(f32, f64)>> {
    let mut bins: BTreeMap<i64, Vec<(f32, f64)>> = BTreeMap::new();
    for t in 0..mesh.len() {
        let n = mesh.normal(t);
        if (up && n.z > 0.9) || (!up && n.z < -0.9) {
            let [a, b, c] = mesh.corners(t);
            let z = (a.z + b.z + c.z) / 3.0;
            bins.entry((z / 0.05).floor() as i64)
                .or_default()
                .push((z, f64::from(mesh.area(t))));
        }
    }
    bins
}

/// The area-weighted median height of the lowest 5 cm band holding at least 20 % of the largest
/// band's area, among bands whose heights satisfy `keep` (the median ignores small parts such as
/// a shelf board in the same band).
fn lowest_large_band(
    bins: &BTreeMap<i64, Vec<(f32, f64)>>,
    keep: impl Fn(f32) -> bool,
) -> Option<f32> {
    let area = |b: &Vec<(f32, f64)>| b.iter().map(|x| x.1).sum::<f64>();
    let bins: Vec<&Vec<(f32, f64)>> = bins
        .values()
        .filter(|b| b.iter().all(|x| keep(x.0)))
        .collect();
    let max = bins.iter().map(|b| area(b)).fold(0.0, f64::max);
    let band = bins
        .into_iter()
        .find(|b| max > 0.0 && area(b) >= 0.2 * max)?;
    let mut items = band.clone();
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = 0.5 * area(band);
    let mut acc = 0.0;
    items
        .iter()
        .find(|x| {
            acc += x.1;
            acc >= half
        })
        .map(|x| x.0)
}

fn detect_floor(mesh: &TriMesh) -> f32 {
    let min_z = mesh.bounds().map_or(0.0, |(lo, _)| lo.z);
    lowest_large_band(&horizontal_area_by_height(mesh, true), |_| true).unwrap_or(min_z)
}

fn detect_ceiling(mesh: &TriMesh, floor_z: f32) -> f32 {
    let max_z = mesh.bounds().map_or(floor_z, |(_, hi)| hi.z);
    let above = |z: f32| z >= floor_z + 1.8;
    match lowest_large_band(&horizontal_area_by_height(mesh, false), above) {
        Some(z) => z - floor_z,
        None if max_z - floor_z > 1.0 => max_z - floor_z,
        None => 2.5,
    }
}

/// Point lights every 4 m over the mesh's footprint (at most 8 × 8, spacing grows to fit),
/// 0.3 m under the ceiling.
fn light_grid(mesh: &TriMesh, floor_z: f32, ceiling_h: f32) -> Vec<Light> {
    let Some((lo, hi)) = mesh.bounds() else {
        return Vec::new();
    };
    let size = hi - lo;
    let nx = ((size.x / 4.0).ceil() as usize).clamp(1, 8);
    let ny = ((size.y / 4.0).ceil() as usize).clamp(1, 8);
    let z = floor_z + (ceiling_h - 0.3).max(0.5 * ceiling_h);
    let mut out = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            let x = lo.x + (i as f32 + 0.5) * size.x / nx as f32;
            let y = lo.y + (j as f32 + 0.5) * size.y / ny as f32;
            out.push(Light {
                position: Vec3::new(x, y, z),
                intensity: [3.0; 3],
            });
        }
    }
    out
}

/// Rewrites every float that came from an `f32` to its shortest decimal form, so files say
/// `0.15` rather than `0.15000000596046448` (the value read back is the same `f32`).
fn shortest_floats(v: &mut toml::Value) {
    match v {
        toml::Value::Float(f) => {
            let short = (*f as f32).to_string().parse::<f64>();
            if let Ok(s) = short
                && (s as f32) == (*f as f32)
            {
                *f = s;
            }
        }
        toml::Value::Array(a) => a.iter_mut().for_each(shortest_floats),
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| shortest_floats(v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
