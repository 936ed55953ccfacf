//! Wavefront OBJ through `tobj` (polygons triangulated). `usemtl` names are kept even when the
//! `.mtl` library is missing; a present library adds its diffuse colour (`Kd`).

use super::{RawMaterial, RawMesh};
use avwm_geom::Vec3;
use std::collections::HashMap;
use std::path::Path;

/// Name of the material library that stands for the `usemtl` names found in the file itself.
const VIRTUAL_MTL: &str = "__avwm_usemtl_names__.mtl";

/// Parses OBJ text; `dir` is where `mtllib` files are looked up.
pub(crate) fn read_obj(text: &str, dir: &Path) -> Result<RawMesh, String> {
    // tobj forgets `usemtl` names that no loaded library defines, so a virtual library listing
    // every name used comes first; real libraries loaded later take precedence.
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.trim_start().strip_prefix("usemtl") {
            let name = rest.trim().to_string();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let source = format!("mtllib {VIRTUAL_MTL}\n{text}");
    let opts = tobj::LoadOptions {
        triangulate: true,
        single_index: false,
        ..Default::default()
    };
    let loader = |p: &Path| -> tobj::MTLLoadResult {
        if p == Path::new(VIRTUAL_MTL) {
            let mats: Vec<tobj::Material> = names
                .iter()
                .map(|n| tobj::Material {
                    name: n.clone(),
                    ..Default::default()
                })
                .collect();
            let map = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect();
            return Ok((mats, map));
        }
        // A missing or broken library only loses colours, not names.
        tobj::load_mtl(dir.join(p)).or_else(|_| Ok((Vec::new(), Default::default())))
    };
    let (models, materials) = tobj::load_obj_buf(&mut source.as_bytes(), &opts, loader)
        .map_err(|e| format!("OBJ parse error: {e}"))?;
    let materials = materials.unwrap_or_default();
    let mut mesh = RawMesh::default();
    let mut ids: HashMap<Option<usize>, u32> = HashMap::new();
    for model in &models {
        let m = &model.mesh;
        if !m.positions.len().is_multiple_of(3) || !m.indices.len().is_multiple_of(3) {
            return Err(format!(
                "object {:?}: malformed vertex or index arrays",
                model.name
            ));
        }
        let base = mesh.positions.len() as u64;
        mesh.positions.extend(
            m.positions
                .chunks_exact(3)
                .map(|p| Vec3::new(p[0], p[1], p[2])),
        );
        let id = *ids.entry(m.material_id).or_insert_with(|| {
            let (name, color) = match m.material_id.and_then(|i| materials.get(i)) {
                Some(mat) => (mat.name.clone(), mat.diffuse),
                None => ("obj_default".to_string(), None),
            };
            mesh.materials.push(RawMaterial { name, color });
            (mesh.materials.len() - 1) as u32
        });
        for t in m.indices.chunks_exact(3) {
            let idx = [0, 1, 2].map(|k| base + u64::from(t[k]));
            if idx.iter().any(|&i| i > u64::from(u32::MAX)) {
                return Err("more than 2³² vertices".into());
            }
            mesh.triangles.push(idx.map(|i| i as u32));
            mesh.material.push(id);
        }
    }
    Ok(mesh)
}
