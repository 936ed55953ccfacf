//! glTF 2.0 (`.gltf` with embedded or external buffers, or binary `.glb`) through the `gltf`
//! crate. Reads triangle primitives of the default scene with their node transforms, the material
//! name and `baseColorFactor`; textures are ignored (no image decoding).

use super::{RawMaterial, RawMesh};
use avwm_geom::Vec3;
use base64::Engine;
use glam::Mat4;
use std::collections::HashMap;
use std::path::Path;

/// Loads the buffers a document refers to. `blob` is the GLB binary chunk, if any.
fn load_buffers(
    doc: &gltf::Document,
    blob: Option<&[u8]>,
    dir: &Path,
) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for buffer in doc.buffers() {
        let data = match buffer.source() {
            gltf::buffer::Source::Bin => blob
                .ok_or("buffer refers to a GLB binary chunk that is missing")?
                .to_vec(),
            gltf::buffer::Source::Uri(uri) => {
                if let Some(rest) = uri.strip_prefix("data:") {
                    let (_, payload) = rest
                        .split_once(";base64,")
                        .ok_or("only base64 data URIs are supported")?;
                    base64::engine::general_purpose::STANDARD
                        .decode(payload)
                        .map_err(|e| format!("buffer {}: bad base64 data: {e}", buffer.index()))?
                } else {
                    // A relative URI reference (RFC 3986): percent-encoded octets decode to
                    // UTF-8 (`my%20mesh.bin`, `b%C3%BCro.bin`).
                    let rel = percent_encoding::percent_decode_str(uri)
                        .decode_utf8()
                        .map_err(|e| {
                            format!(
                                "buffer {}: URI {uri:?} is not UTF-8 once decoded: {e}",
                                buffer.index()
                            )
                        })?;
                    let p = dir.join(rel.as_ref());
                    std::fs::read(&p).map_err(|e| {
                        format!(
                            "buffer {}: cannot read {}: {e}",
                            buffer.index(),
                            p.display()
                        )
                    })?
                }
            }
        };
        if data.len() < buffer.length() {
            return Err(format!(
                "buffer {} holds {} bytes but declares {}",
                buffer.index(),
                data.len(),
                buffer.length()
            ));
        }
        out.push(data);
    }
    Ok(out)
}

/// Checks what the `gltf` crate's readers assume (some only in debug assertions, one with
/// `unreachable!`): the element type, a dense view, a stride of at least one element, and that
/// every element lies inside the buffer.
fn check_accessor(
    acc: &gltf::Accessor<'_>,
    types: &[gltf::accessor::DataType],
    dims: gltf::accessor::Dimensions,
    buffers: &[Vec<u8>],
    what: &str,
) -> Result<(), String> {
    if !types.contains(&acc.data_type()) || acc.dimensions() != dims {
        return Err(format!(
            "{what}: unsupported accessor type {:?} {:?}",
            acc.data_type(),
            acc.dimensions()
        ));
    }
    if acc.sparse().is_some() {
        return Err(format!("{what}: sparse accessors are not supported"));
    }
    let view = acc
        .view()
        .ok_or_else(|| format!("{what}: accessor has no buffer view"))?;
    let size = acc.size();
    let stride = view.stride().unwrap_or(size);
    let buffer_len = buffers.get(view.buffer().index()).map_or(0, Vec::len);
    let last = acc
        .count()
        .checked_sub(1)
        .and_then(|n| n.checked_mul(stride))
        .and_then(|n| n.checked_add(acc.offset()))
        .and_then(|n| n.checked_add(size));
    let view_end = view.offset().checked_add(view.length());
    match (last, view_end) {
        (Some(end), Some(view_end))
            if stride >= size && end <= view.length() && view_end <= buffer_len =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{what}: accessor lies outside its buffer view or buffer"
        )),
    }
}

struct Ctx<'a> {
    buffers: &'a [Vec<u8>],
    mesh: RawMesh,
    materials: HashMap<Option<usize>, u32>,
}

impl Ctx<'_> {
    fn add_mesh(&mut self, mesh: gltf::Mesh<'_>, world: Mat4) -> Result<(), String> {
        let flip = world.determinant() < 0.0;
        for prim in mesh.primitives() {
            if prim.mode() != gltf::mesh::Mode::Triangles {
                continue; // points and lines have no surface
            }
            let Some(pos_acc) = prim.get(&gltf::Semantic::Positions) else {
                return Err(format!(
                    "mesh {}: a primitive has no POSITION attribute",
                    mesh.index()
                ));
            };
            if pos_acc.count() == 0 || prim.indices().is_some_and(|a| a.count() == 0) {
                continue;
            }
            let what = format!("mesh {} POSITION", mesh.index());
            check_accessor(
                &pos_acc,
                &[gltf::accessor::DataType::F32],
                gltf::accessor::Dimensions::Vec3,
                self.buffers,
                &what,
            )?;
            if let Some(acc) = prim.indices() {
                use gltf::accessor::DataType::{U8, U16, U32};
                let what = format!("mesh {} indices", mesh.index());
                check_accessor(
                    &acc,
                    &[U8, U16, U32],
                    gltf::accessor::Dimensions::Scalar,
                    self.buffers,
                    &what,
                )?;
            }
            let buffers = self.buffers;
            let reader = prim.reader(|b| buffers.get(b.index()).map(|v| v.as_slice()));
            let positions: Vec<Vec3> = reader
                .read_positions()
                .ok_or_else(|| {
                    format!(
                        "mesh {}: POSITION accessor lies outside its buffer",
                        mesh.index()
                    )
                })?
                .map(|p| world.transform_point3(Vec3::from(p)))
                .collect();
            let n = positions.len() as u32;
            let indices: Vec<u32> = match (prim.indices(), reader.read_indices()) {
                (None, _) => (0..n).collect(),
                (Some(_), Some(i)) => i.into_u32().collect(),
                (Some(_), None) => {
                    return Err(format!(
                        "mesh {}: index accessor lies outside its buffer",
                        mesh.index()
                    ));
                }
            };
            if !indices.len().is_multiple_of(3) {
                return Err(format!(
                    "mesh {}: {} indices is not a multiple of 3",
                    mesh.index(),
                    indices.len()
                ));
            }
            let material = prim.material();
            let next = self.mesh.materials.len() as u32;
            let id = *self.materials.entry(material.index()).or_insert(next);
            if id == next {
                let name = match (material.name(), material.index()) {
                    (Some(name), _) => name.to_string(),
                    (None, Some(i)) => format!("material_{i}"),
                    (None, None) => "gltf_default".to_string(),
                };
                let [r, g, b, _] = material.pbr_metallic_roughness().base_color_factor();
                self.mesh.materials.push(RawMaterial {
                    name,
                    color: Some([r, g, b]),
                });
            }
            let base = self.mesh.positions.len() as u32;
            self.mesh.positions.extend(positions);
            for t in indices.chunks_exact(3) {
                for &i in t {
                    if i >= n {
                        return Err(format!(
                            "mesh {}: index {i} out of range ({n} vertices)",
                            mesh.index()
                        ));
                    }
                }
                let tri = if flip {
                    [t[0], t[2], t[1]]
                } else {
                    [t[0], t[1], t[2]]
                };
                self.mesh.triangles.push(tri.map(|i| base + i));
                self.mesh.material.push(id);
            }
        }
        Ok(())
    }

    fn add_node(&mut self, node: gltf::Node<'_>, parent: Mat4, depth: usize) -> Result<(), String> {
        if depth > 256 {
            return Err("node hierarchy deeper than 256 levels (a cycle?)".into());
        }
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        if let Some(mesh) = node.mesh() {
            self.add_mesh(mesh, world)?;
        }
        for child in node.children() {
            self.add_node(child, world, depth + 1)?;
        }
        Ok(())
    }
}

/// The JSON part of a `.gltf` or `.glb` file, if it can be found.
fn json_part(bytes: &[u8]) -> Option<&[u8]> {
    if !bytes.starts_with(b"glTF") {
        return Some(bytes);
    }
    let len = u32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?) as usize;
    (bytes.get(16..20)? == b"JSON").then_some(())?;
    bytes.get(20..20usize.checked_add(len)?)
}

/// Checks the accessor indices of mesh primitives before the `gltf` crate sees them: its
/// validation (gltf-json 1.4) indexes the POSITION accessor before checking that it exists, and
/// panics on such files.
fn precheck(bytes: &[u8]) -> Result<(), String> {
    // gltf 1.4 subtracts the 12-byte header from the GLB's declared length unchecked.
    if let Some(len) = bytes.strip_prefix(b"glTF").and_then(|b| b.get(4..8)) {
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
        if len < 12 {
            return Err(format!(
                "glTF parse error: the GLB header declares {len} bytes, less than the header"
            ));
        }
    }
    let Some(json) = json_part(bytes) else {
        return Ok(());
    };
    // serde_json skips UTF-8 checks inside ignored strings, so the gltf crate accepts some
    // invalid UTF-8: parse a lossy copy, and reject what is not JSON at all.
    let text = String::from_utf8_lossy(json);
    let root: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("glTF parse error: invalid JSON: {e}"))?;
    let n = root
        .get("accessors")
        .and_then(|a| a.as_array())
        .map_or(0, Vec::len) as u64;
    let check = |v: &serde_json::Value, what: &str| match v.as_u64() {
        Some(i) if i < n => Ok(()),
        _ => Err(format!(
            "{what} refers to accessor {v}, but the file has {n} accessors"
        )),
    };
    let meshes = root
        .get("meshes")
        .and_then(|m| m.as_array())
        .map_or(&[][..], Vec::as_slice);
    for (mi, mesh) in meshes.iter().enumerate() {
        let prims = mesh
            .get("primitives")
            .and_then(|p| p.as_array())
            .map_or(&[][..], Vec::as_slice);
        for (pi, prim) in prims.iter().enumerate() {
            let what = format!("mesh {mi} primitive {pi}");
            let mut maps: Vec<&serde_json::Value> = prim.get("attributes").into_iter().collect();
            if let Some(targets) = prim.get("targets").and_then(|t| t.as_array()) {
                maps.extend(targets);
            }
            for map in maps {
                if let Some(map) = map.as_object() {
                    for (name, v) in map {
                        check(v, &format!("{what} attribute {name}"))?;
                    }
                }
            }
            if let Some(v) = prim.get("indices") {
                check(v, &format!("{what} indices"))?;
            }
        }
    }
    Ok(())
}

/// Parses a glTF or GLB file's bytes; `dir` resolves external buffers.
pub(crate) fn read_gltf(bytes: &[u8], dir: &Path) -> Result<RawMesh, String> {
    precheck(bytes)?;
    let gltf = gltf::Gltf::from_slice(bytes).map_err(|e| format!("glTF parse error: {e}"))?;
    let buffers = load_buffers(&gltf.document, gltf.blob.as_deref(), dir)?;
    let mut ctx = Ctx {
        buffers: &buffers,
        mesh: RawMesh::default(),
        materials: HashMap::new(),
    };
    match gltf
        .document
        .default_scene()
        .or_else(|| gltf.document.scenes().next())
    {
        Some(scene) => {
            for node in scene.nodes() {
                ctx.add_node(node, Mat4::IDENTITY, 0)?;
            }
        }
        None => {
            for mesh in gltf.document.meshes() {
                ctx.add_mesh(mesh, Mat4::IDENTITY)?;
            }
        }
    }
    Ok(ctx.mesh)
}
