//! A small PLY reader (ASCII, binary little- and big-endian) and a binary PLY writer.
//!
//! Reads `vertex` elements with `x, y, z` and optional `red, green, blue` (integer colours are
//! taken as sRGB and converted to linear; float colours as linear), and `face` elements with a
//! `vertex_indices` (or `vertex_index`) list of any length, fan-triangulated. Every other element
//! and property is skipped. PLY has no material names: every triangle gets one material.

use super::RawMesh;
use crate::scene::Scene;
use avwm_geom::Vec3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Ty {
    fn parse(s: &str) -> Option<Ty> {
        Some(match s {
            "char" | "int8" => Ty::I8,
            "uchar" | "uint8" => Ty::U8,
            "short" | "int16" => Ty::I16,
            "ushort" | "uint16" => Ty::U16,
            "int" | "int32" => Ty::I32,
            "uint" | "uint32" => Ty::U32,
            "float" | "float32" => Ty::F32,
            "double" | "float64" => Ty::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Ty::I8 | Ty::U8 => 1,
            Ty::I16 | Ty::U16 => 2,
            Ty::I32 | Ty::U32 | Ty::F32 => 4,
            Ty::F64 => 8,
        }
    }

    /// Full scale of an integer colour channel (`None` for floats).
    fn full_scale(self) -> Option<f64> {
        match self {
            Ty::U8 | Ty::I8 => Some(255.0),
            Ty::U16 | Ty::I16 => Some(65535.0),
            Ty::U32 | Ty::I32 => Some(4294967295.0),
            Ty::F32 | Ty::F64 => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Property {
    Scalar { name: String, ty: Ty },
    List { name: String, count: Ty, item: Ty },
}

#[derive(Debug, Clone)]
struct Element {
    name: String,
    count: usize,
    props: Vec<Property>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Ascii,
    Little,
    Big,
}

/// Values of the body, read one at a time.
struct Body<'a> {
    format: Format,
    bytes: &'a [u8],
    pos: usize,
    tokens: std::str::SplitAsciiWhitespace<'a>,
}

impl Body<'_> {
    fn read(&mut self, ty: Ty) -> Result<f64, String> {
        if self.format == Format::Ascii {
            let tok = self
                .tokens
                .next()
                .ok_or("the file ends before all elements were read")?;
            return tok
                .parse::<f64>()
                .map_err(|_| format!("{tok:?} is not a number"));
        }
        let n = ty.size();
        let b = self
            .bytes
            .get(self.pos..self.pos + n)
            .ok_or("the file ends before all elements were read")?;
        self.pos += n;
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b);
        if self.format == Format::Big {
            a[..n].reverse();
        }
        Ok(match ty {
            Ty::I8 => f64::from(a[0] as i8),
            Ty::U8 => f64::from(a[0]),
            Ty::I16 => f64::from(i16::from_le_bytes([a[0], a[1]])),
            Ty::U16 => f64::from(u16::from_le_bytes([a[0], a[1]])),
            Ty::I32 => f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            Ty::U32 => f64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            Ty::F32 => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            Ty::F64 => f64::from_le_bytes(a),
        })
    }

    /// Smallest number of bytes (binary) or tokens (ASCII) one element can take: bounds the
    /// element count against the file size before anything is allocated.
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

/// sRGB-encoded channel in [0, 1] to linear.
pub(crate) fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear channel in [0, 1] to sRGB-encoded.
pub(crate) fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Parses a PLY file. Errors are messages; the caller adds the path.
pub(crate) fn read_ply(bytes: &[u8]) -> Result<RawMesh, String> {
    const END: &[u8] = b"end_header";
    let end = bytes
        .windows(END.len())
        .position(|w| w == END)
        .ok_or("no `end_header` line: not a PLY file")?;
    let header = std::str::from_utf8(&bytes[..end]).map_err(|_| "the header is not UTF-8 text")?;
    let mut body_start = end + END.len();
    // The header ends with a single newline (`\n` or `\r\n`).
    if bytes.get(body_start) == Some(&b'\r') {
        body_start += 1;
    }
    if bytes.get(body_start) == Some(&b'\n') {
        body_start += 1;
    }
    let mut lines = header.lines().map(str::trim);
    if lines.next() != Some("ply") {
        return Err("the first line is not `ply`".into());
    }
    let mut format = None;
    let mut elements: Vec<Element> = Vec::new();
    for (n, line) in lines.enumerate() {
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        let bad = || format!("header line {}: cannot read {line:?}", n + 2);
        match words.first().copied() {
            None | Some("comment") | Some("obj_info") => {}
            Some("format") => {
                format = Some(match words.get(1).copied() {
                    Some("ascii") => Format::Ascii,
                    Some("binary_little_endian") => Format::Little,
                    Some("binary_big_endian") => Format::Big,
                    _ => return Err(bad()),
                });
            }
            Some("element") => {
                let (Some(name), Some(count)) =
                    (words.get(1), words.get(2).and_then(|c| c.parse().ok()))
                else {
                    return Err(bad());
                };
                elements.push(Element {
                    name: name.to_string(),
                    count,
                    props: Vec::new(),
                });
            }
            Some("property") => {
                let el = elements
                    .last_mut()
                    .ok_or_else(|| format!("header line {}: property before any element", n + 2))?;
                let prop = if words.get(1) == Some(&"list") {
                    match (
                        words.get(2).and_then(|t| Ty::parse(t)),
                        words.get(3).and_then(|t| Ty::parse(t)),
                        words.get(4),
                    ) {
                        (Some(count), Some(item), Some(name)) => Property::List {
                            name: name.to_string(),
                            count,
                            item,
                        },
                        _ => return Err(bad()),
                    }
                } else {
                    match (words.get(1).and_then(|t| Ty::parse(t)), words.get(2)) {
                        (Some(ty), Some(name)) => Property::Scalar {
                            name: name.to_string(),
                            ty,
                        },
                        _ => return Err(bad()),
                    }
                };
                el.props.push(prop);
            }
            Some(_) => return Err(bad()),
        }
    }
    let format = format.ok_or("no `format` line in the header")?;
    let rest = &bytes[body_start..];
    let text = if format == Format::Ascii {
        std::str::from_utf8(rest).map_err(|_| "the ASCII body is not UTF-8 text")?
    } else {
        ""
    };
    let mut body = Body {
        format,
        bytes: rest,
        pos: 0,
        tokens: text.split_ascii_whitespace(),
    };

    let mut mesh = RawMesh::default();
    let mut colors: Vec<[f32; 3]> = Vec::new();
    let mut has_vertex = false;
    for el in &elements {
        // Every element takes at least one byte per property: reject counts the file cannot hold.
        if el.count > 0 && !el.props.is_empty() && el.count > body.remaining() {
            return Err(format!(
                "element {:?} claims {} entries, more than the file holds",
                el.name, el.count
            ));
        }
        match el.name.as_str() {
            "vertex" => {
                has_vertex = true;
                let find = |want: &str| {
                    el.props
                        .iter()
                        .position(|p| matches!(p, Property::Scalar { name, .. } if name == want))
                };
                let (Some(ix), Some(iy), Some(iz)) = (find("x"), find("y"), find("z")) else {
                    return Err("the vertex element lacks x, y or z".into());
                };
                let rgb = match (find("red"), find("green"), find("blue")) {
                    (Some(r), Some(g), Some(b)) => Some([r, g, b]),
                    _ => None,
                };
                mesh.positions.reserve(el.count);
                let mut vals = vec![0.0f64; el.props.len()];
                for _ in 0..el.count {
                    for (k, p) in el.props.iter().enumerate() {
                        vals[k] = read_property(&mut body, p)?;
                    }
                    mesh.positions.push(Vec3::new(
                        vals[ix] as f32,
                        vals[iy] as f32,
                        vals[iz] as f32,
                    ));
                    if let Some(rgb) = rgb {
                        colors.push(rgb.map(|k| {
                            let Property::Scalar { ty, .. } = el.props[k] else {
                                unreachable!("found as scalar")
                            };
                            match ty.full_scale() {
                                Some(s) => srgb_to_linear((vals[k] / s).clamp(0.0, 1.0) as f32),
                                None => (vals[k] as f32).clamp(0.0, 1.0),
                            }
                        }));
                    }
                }
            }
            "face" => {
                let Some(il) = el.props.iter().position(
                    |p| matches!(p, Property::List { name, .. } if name == "vertex_indices" || name == "vertex_index"),
                ) else {
                    return Err("the face element has no vertex_indices list".into());
                };
                for f in 0..el.count {
                    for (k, p) in el.props.iter().enumerate() {
                        if k != il {
                            read_property(&mut body, p)?;
                            continue;
                        }
                        let Property::List { count, item, .. } = p else {
                            unreachable!("found as list")
                        };
                        let n = body.read(*count)?;
                        if !(3.0..=1e6).contains(&n) {
                            return Err(format!("face {f} has {n} vertices (at least 3 needed)"));
                        }
                        let mut idx = Vec::with_capacity(n as usize);
                        for _ in 0..n as usize {
                            let v = body.read(*item)?;
                            if v < 0.0 || v > f64::from(u32::MAX) || v.fract() != 0.0 {
                                return Err(format!("face {f} has an invalid vertex index {v}"));
                            }
                            idx.push(v as u32);
                        }
                        for i in 1..idx.len() - 1 {
                            mesh.triangles.push([idx[0], idx[i], idx[i + 1]]);
                        }
                    }
                }
            }
            _ => {
                for _ in 0..el.count {
                    for p in &el.props {
                        read_property(&mut body, p)?;
                    }
                }
            }
        }
    }
    if !has_vertex {
        return Err("no vertex element".into());
    }
    if !colors.is_empty() {
        mesh.vertex_colors = Some(colors);
    }
    mesh.material = vec![0; mesh.triangles.len()];
    mesh.materials.push(super::RawMaterial {
        name: "ply".into(),
        color: None,
    });
    Ok(mesh)
}

fn read_property(body: &mut Body<'_>, p: &Property) -> Result<f64, String> {
    match p {
        Property::Scalar { ty, .. } => body.read(*ty),
        Property::List { count, item, name } => {
            let n = body.read(*count)?;
            if !(0.0..=1e6).contains(&n) {
                return Err(format!("list {name:?} has an invalid length {n}"));
            }
            for _ in 0..n as usize {
                body.read(*item)?;
            }
            Ok(n)
        }
    }
}

/// Binary little-endian PLY of `scene.mesh` with sRGB vertex colours: each triangle's material
/// colour (times the mesh's vertex colour, if any). Vertices shared by triangles of different
/// materials are duplicated, so every face shows its own colour in any viewer.
pub(crate) fn write_ply(scene: &Scene) -> Vec<u8> {
    let mesh = &scene.mesh;
    let mut remap: Vec<Vec<(u32, u32)>> = vec![Vec::new(); mesh.positions.len()];
    let mut verts: Vec<(Vec3, [u8; 3])> = Vec::with_capacity(mesh.positions.len());
    let mut tris: Vec<[u32; 3]> = Vec::with_capacity(mesh.len());
    for (t, tri) in mesh.triangles.iter().enumerate() {
        let m = mesh.material[t];
        let base = scene
            .materials
            .get(m as usize)
            .map_or([0.7; 3], |m| m.visual.color);
        let mut out = [0u32; 3];
        for (o, &v) in out.iter_mut().zip(tri) {
            let slot = &mut remap[v as usize];
            *o = match slot.iter().find(|(mm, _)| *mm == m) {
                Some(&(_, id)) => id,
                None => {
                    let vc = mesh
                        .vertex_colors
                        .as_ref()
                        .and_then(|c| c.get(v as usize))
                        .copied()
                        .unwrap_or([1.0; 3]);
                    let rgb: [u8; 3] = std::array::from_fn(|k| {
                        (linear_to_srgb(base[k] * vc[k]) * 255.0).round() as u8
                    });
                    verts.push((mesh.positions[v as usize], rgb));
                    let id = (verts.len() - 1) as u32;
                    slot.push((m, id));
                    id
                }
            };
        }
        tris.push(out);
    }
    let mut out = Vec::with_capacity(64 + verts.len() * 15 + tris.len() * 13);
    let header = format!(
        "ply\nformat binary_little_endian 1.0\ncomment avwm scene {}\ncomment z up, metres, sRGB vertex colours\n\
         element vertex {}\nproperty float x\nproperty float y\nproperty float z\n\
         property uchar red\nproperty uchar green\nproperty uchar blue\n\
         element face {}\nproperty list uchar uint vertex_indices\nend_header\n",
        scene.name.replace(['\n', '\r'], " "),
        verts.len(),
        tris.len()
    );
    out.extend_from_slice(header.as_bytes());
    for (p, c) in &verts {
        for v in p.to_array() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(c);
    }
    for t in &tris {
        out.push(3);
        for i in t {
            out.extend_from_slice(&i.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_conversion_round_trips_and_matches_reference_points() {
        // IEC 61966-2-1: sRGB 0.5 ↔ linear 0.2140; 1 ↔ 1; 0 ↔ 0.
        assert!((srgb_to_linear(0.5) - 0.214_041).abs() < 1e-5);
        for i in 0..=255 {
            let c = i as f32 / 255.0;
            assert!((linear_to_srgb(srgb_to_linear(c)) - c).abs() < 1e-5);
        }
    }

    #[test]
    fn ascii_polygons_are_fan_triangulated_and_colours_linearised() {
        let text = "ply\nformat ascii 1.0\ncomment quad and triangle\nelement vertex 5\n\
            property float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n\
            element face 2\nproperty list uchar int vertex_indices\nproperty uchar flags\nend_header\n\
            0 0 0 255 0 0\n1 0 0 0 255 0\n1 1 0 0 0 255\n0 1 0 128 128 128\n0 0 1 0 0 0\n4 0 1 2 3 7\n3 0 1 4 0\n";
        let m = read_ply(text.as_bytes()).unwrap();
        assert_eq!(m.positions.len(), 5);
        assert_eq!(m.triangles, vec![[0, 1, 2], [0, 2, 3], [0, 1, 4]]);
        let c = m.vertex_colors.unwrap();
        assert_eq!(c[0], [1.0, 0.0, 0.0]);
        assert!((c[3][0] - srgb_to_linear(128.0 / 255.0)).abs() < 1e-6);
    }

    #[test]
    fn big_endian_binary_is_read() {
        let mut b = b"ply\nformat binary_big_endian 1.0\nelement vertex 3\nproperty double x\nproperty double y\nproperty double z\n\
            element face 1\nproperty list uchar ushort vertex_indices\nend_header\n"
            .to_vec();
        for v in [0.0f64, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.5] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.push(3);
        for i in [0u16, 1, 2] {
            b.extend_from_slice(&i.to_be_bytes());
        }
        let m = read_ply(&b).unwrap();
        assert_eq!(m.positions[2], Vec3::new(0.0, 3.0, 0.5));
        assert_eq!(m.triangles, vec![[0, 1, 2]]);
    }

    #[test]
    fn broken_ply_files_give_messages() {
        let head = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n\
            element face 1\nproperty list uchar int vertex_indices\nend_header\n";
        let cases = [
            ("not a ply", "end_header"),
            ("plx\nformat ascii 1.0\nend_header\n", "first line"),
            (
                "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n0\n",
                "lacks x, y or z",
            ),
            (
                "ply\nformat ascii 1.0\nelement vertex 2 3\nproperty floaty x\nend_header\n",
                "header line",
            ),
            (&format!("{head}0 0 0\n1 0 0\n"), "ends before"),
            (&format!("{head}0 0 0\n1 0 0\n0 1 0\n2 0 1\n"), "at least 3"),
            (
                &format!("{head}0 0 0\n1 0 0\n0 1 0\n3 0 1 -2\n"),
                "invalid vertex index",
            ),
            (
                &format!("{head}0 0 0\n1 zero 0\n0 1 0\n3 0 1 2\n"),
                "not a number",
            ),
        ];
        for (text, needle) in cases {
            let err = read_ply(text.as_bytes()).expect_err(needle);
            assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        }
        let huge = "ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\nproperty float z\nend_header\n";
        assert!(
            read_ply(huge.as_bytes())
                .expect_err("huge")
                .contains("more than the file holds")
        );
    }
}
