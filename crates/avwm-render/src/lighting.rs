//! Surface irradiance (point lights with shadow rays, ambient with ambient occlusion) and the
//! per-scene lightmap cache that stores it.

use crate::CameraConfig;
use crate::pattern::hash3;
use avwm_geom::{Bvh, Ray, TriMesh};
use glam::{Vec2, Vec3};
use rayon::prelude::*;

/// Lighting samples are lifted this far (m) off their surface along the normal, so that shadow
/// and occlusion rays do not hit the surface they start from. 1 mm is far above f32 rounding of
/// coordinates up to ~100 m (≈ 8 µm) and below anything visible at 128 px.
const SURFACE_OFFSET_M: f32 = 1e-3;
/// Light-map samples are pulled this far towards their triangle's centroid, so that a sample on
/// an edge shared with another surface (a room corner) does not sit on that surface after the
/// normal offset, where its probe rays would hit it at distance ≈ 0.
const EDGE_INSET_M: f32 = 5e-3;

/// `p` moved [`EDGE_INSET_M`] towards `centroid` (or onto it when closer).
fn inset(p: Vec3, centroid: Vec3) -> Vec3 {
    let d = centroid - p;
    let l = d.length();
    if l <= EDGE_INSET_M {
        centroid
    } else {
        p + d * (EDGE_INSET_M / l)
    }
}
/// Lights whose unshadowed contribution is below this irradiance are skipped (no shadow ray).
const MIN_LIGHT_IRRADIANCE: f32 = 1e-4;

/// A bounded ray for the shared BVH (kept for `renderer.rs`; equivalent to [`Ray::bounded`]).
/// No `-0.0` sanitising is needed any more: `avwm_geom::Bvh` handles `-0.0` direction components
/// itself (see the regression test below).
#[inline]
pub(crate) fn bvh_ray(origin: Vec3, dir: Vec3, t_min: f32, t_max: f32) -> Ray {
    Ray::bounded(origin, dir, t_min, t_max)
}

/// A point light prepared for shading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PointLight {
    pub position: Vec3,
    pub intensity: Vec3,
}

/// Everything needed to evaluate irradiance at a surface point.
pub(crate) struct Illumination {
    pub lights: Vec<PointLight>,
    pub ambient: Vec3,
    pub shadows: bool,
    /// Cosine-weighted unit directions in a local frame (z = normal); empty if AO is off.
    pub ao_dirs: Vec<Vec3>,
    pub ao_radius_m: f32,
    pub ao_strength: f32,
    pub light_clearance_m: f32,
}

impl Illumination {
    pub fn new(cfg: &CameraConfig, lights: Vec<PointLight>) -> Illumination {
        let n = if cfg.ambient_occlusion && cfg.ao_radius_m > 0.0 {
            cfg.ao_rays as usize
        } else {
            0
        };
        Illumination {
            lights,
            ambient: Vec3::from(cfg.ambient),
            shadows: cfg.shadows,
            ao_dirs: cosine_directions(n),
            ao_radius_m: cfg.ao_radius_m,
            ao_strength: cfg.ao_strength,
            light_clearance_m: cfg.light_clearance_m,
        }
    }

    /// Irradiance (linear RGB) at surface point `p` with unit normal `n` (the side being lit).
    /// `key` selects the rotation of the ambient-occlusion direction set: a pure function of the
    /// sample's identity, so the result never depends on scheduling.
    pub fn irradiance(&self, bvh: &Bvh, p: Vec3, n: Vec3, key: u32) -> Vec3 {
        self.direct(bvh, p, n) + self.ambient * self.ambient_visibility(bvh, p, n, key)
    }

    /// Irradiance from the point lights only (Lambert cosine, 1/d², shadow rays).
    pub fn direct(&self, bvh: &Bvh, p: Vec3, n: Vec3) -> Vec3 {
        self.direct_with(p, n, |_, origin, dir, t_max| {
            !(self.shadows && bvh.occluded(&Ray::bounded(origin, dir, 0.0, t_max)))
        })
    }

    /// Bit `i` set if light `i` (< 64) contributes at `p` (in front, above the threshold) and
    /// is not shadowed.
    pub fn visibility_mask(&self, bvh: &Bvh, p: Vec3, n: Vec3) -> u64 {
        let mut mask = 0;
        self.direct_with(p, n, |i, origin, dir, t_max| {
            let visible = !(self.shadows && bvh.occluded(&Ray::bounded(origin, dir, 0.0, t_max)));
            mask |= u64::from(visible) << i;
            visible
        });
        mask
    }

    /// Like [`Illumination::direct`], but for lights whose bit is clear in `unknown` the
    /// visibility is taken from `known` instead of being traced.
    pub fn direct_masked(&self, bvh: &Bvh, p: Vec3, n: Vec3, known: u64, unknown: u64) -> Vec3 {
        self.direct_with(p, n, |i, origin, dir, t_max| {
            if unknown >> i & 1 == 1 {
                !(self.shadows && bvh.occluded(&Ray::bounded(origin, dir, 0.0, t_max)))
            } else {
                known >> i & 1 == 1
            }
        })
    }

    /// Sums the contributions of the lights in front of `p` for which `visible(index, origin,
    /// direction, shadow-ray length)` is true.
    #[inline]
    fn direct_with(
        &self,
        p: Vec3,
        n: Vec3,
        mut visible: impl FnMut(usize, Vec3, Vec3, f32) -> bool,
    ) -> Vec3 {
        let p = p + n * SURFACE_OFFSET_M;
        let mut e = Vec3::ZERO;
        for (i, light) in self.lights.iter().enumerate() {
            let l = light.position - p;
            let d2 = l.length_squared();
            if d2 <= 1e-12 {
                continue;
            }
            let d = d2.sqrt();
            let dir = l / d;
            let cos = n.dot(dir);
            if cos <= 0.0 {
                continue;
            }
            let contrib = light.intensity * (cos / d2);
            if contrib.max_element() < MIN_LIGHT_IRRADIANCE {
                continue;
            }
            let t_max = d - self.light_clearance_m;
            if t_max <= 0.0 || visible(i, p, dir, t_max) {
                e += contrib;
            }
        }
        e
    }

    /// Factor in [1 − strength, 1] applied to the ambient term: one minus `ao_strength` times
    /// the fraction of the fixed cosine-weighted direction set (rotated about `n` by an angle
    /// derived from `key`) blocked within `ao_radius_m`. 1 if ambient occlusion is off.
    pub fn ambient_visibility(&self, bvh: &Bvh, p: Vec3, n: Vec3, key: u32) -> f32 {
        if self.ao_dirs.is_empty() {
            return 1.0;
        }
        let p = p + n * SURFACE_OFFSET_M;
        let (t, b) = orthonormal_basis(n);
        let angle = (key >> 8) as f32 * (std::f32::consts::TAU / 16_777_216.0);
        let (s, c) = angle.sin_cos();
        let mut blocked = 0u32;
        for d in &self.ao_dirs {
            let x = d.x * c - d.y * s;
            let y = d.x * s + d.y * c;
            let dir = t * x + b * y + n * d.z;
            if bvh.occluded(&Ray::bounded(p, dir, 0.0, self.ao_radius_m)) {
                blocked += 1;
            }
        }
        1.0 - self.ao_strength * (blocked as f32 / self.ao_dirs.len() as f32)
    }

    /// True if ambient occlusion is computed.
    pub fn has_ao(&self) -> bool {
        !self.ao_dirs.is_empty()
    }
}

/// `n` cosine-weighted directions on the upper hemisphere (z up), a deterministic
/// Fibonacci-spiral set: equal-area in the projected disk, so each carries equal weight.
pub(crate) fn cosine_directions(n: usize) -> Vec<Vec3> {
    let golden = std::f32::consts::PI * (3.0 - 5f32.sqrt());
    (0..n)
        .map(|k| {
            let r2 = (k as f32 + 0.5) / n as f32;
            let r = r2.sqrt();
            let phi = k as f32 * golden;
            Vec3::new(r * phi.cos(), r * phi.sin(), (1.0 - r2).max(0.0).sqrt())
        })
        .collect()
}

/// Two unit tangents completing `n` to a right-handed orthonormal basis (Duff et al.,
/// "Building an orthonormal basis, revisited", JCGT 2017).
pub(crate) fn orthonormal_basis(n: Vec3) -> (Vec3, Vec3) {
    let sign = 1f32.copysign(n.z);
    let a = -1.0 / (sign + n.z);
    let b = n.x * n.y * a;
    (
        Vec3::new(1.0 + sign * n.x * n.x * a, sign * b, -sign * n.x),
        Vec3::new(b, sign + n.y * n.y * a, -n.y),
    )
}

/// Closest point of triangle `abc` to `p` (Ericson, *Real-Time Collision Detection*, §5.1.5).
pub(crate) fn closest_point_on_triangle(p: Vec3, a: Vec3, b: Vec3, c: Vec3) -> Vec3 {
    let ab = b - a;
    let ac = c - a;
    let ap = p - a;
    let d1 = ab.dot(ap);
    let d2 = ac.dot(ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return a;
    }
    let bp = p - b;
    let d3 = ab.dot(bp);
    let d4 = ac.dot(bp);
    if d3 >= 0.0 && d4 <= d3 {
        return b;
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return a + ab * (d1 / (d1 - d3));
    }
    let cp = p - c;
    let d5 = ab.dot(cp);
    let d6 = ac.dot(cp);
    if d6 >= 0.0 && d5 <= d6 {
        return c;
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return a + ac * (d2 / (d2 - d6));
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        return b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6)));
    }
    let denom = 1.0 / (va + vb + vc);
    a + ab * (vb * denom) + ac * (vc * denom)
}

/// Where one triangle's two lightmaps live and how barycentrics map to their grid.
///
/// The grid lies in the triangle's plane, axes `e_u = normalize(b − a)` and `e_v = n × e_u`,
/// with samples at grid *vertices* `origin + (i·e_u + j·e_v)·spacing`, covering the triangle's
/// bounding rectangle; a point's grid coordinate is affine in its barycentrics, so lookup needs
/// no 3D math. Side 0 is the front (normal `n`), side 1 the back (`−n`). A side the camera can
/// never see gets a single sample (lookups clamp to it).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LightmapRect {
    /// Index of the first sample of each side.
    pub offset: [usize; 2],
    /// Samples along `e_u` and `e_v` (≥ 1) of each side.
    pub dims: [[u16; 2]; 2],
    /// Grid coordinate of corner `a`, and of `b − a`, `c − a`.
    pub g0: Vec2,
    pub gu: Vec2,
    pub gv: Vec2,
}

impl LightmapRect {
    #[inline]
    fn len(&self, side: usize) -> usize {
        usize::from(self.dims[side][0]) * usize::from(self.dims[side][1])
    }
}

/// Probe length (m) of [`side_enclosed`]. The most grazing probe leaves at 80° from the normal,
/// so the inner faces of walls up to 0.17 m thick count as enclosed (0.15 m in the procedural
/// generator); any cavity the camera could look into has an opening through which some of the
/// 64 probes escape farther than this. A side wrongly judged enclosed would only lose its
/// lighting detail (one sample for the whole triangle), not its colour.
const ENCLOSED_M: f32 = 1.0;

/// True if the side of triangle `corners` facing `ns` lies inside a closed cavity (the inner
/// face of a wall box or a closed piece of furniture): every probe ray — 16 cosine-weighted
/// directions from the centroid and from three points halfway to the corners — hits geometry
/// within [`ENCLOSED_M`]. Such a side can never be seen by a camera in free space.
fn side_enclosed(bvh: &Bvh, corners: [Vec3; 3], ns: Vec3, dirs: &[Vec3]) -> bool {
    if ns == Vec3::ZERO {
        return false;
    }
    let [a, b, c] = corners;
    let centroid = (a + b + c) / 3.0;
    let (t, bt) = orthonormal_basis(ns);
    [
        centroid,
        (centroid + a) * 0.5,
        (centroid + b) * 0.5,
        (centroid + c) * 0.5,
    ]
    .iter()
    .all(|&p| {
        let p = p + ns * SURFACE_OFFSET_M;
        dirs.iter().all(|d| {
            let dir = t * d.x + bt * d.y + ns * d.z;
            bvh.occluded(&Ray::bounded(p, dir, 0.0, ENCLOSED_M))
        })
    })
}

/// Can a camera at height `eye_z` see the `side` of a triangle with normal `n` through `p`?
/// Only horizontal surfaces are decided: a floor's underside or a ceiling's top is invisible
/// from every camera pose, since all poses share the same eye height. Everything else may be seen.
fn side_visible(n: Vec3, p: Vec3, side: usize, eye_z: f32) -> bool {
    let ns = if side == 0 { n } else { -n };
    if ns.z.abs() < 0.999 {
        return true;
    }
    ns.z * (eye_z - p.z) > 0.0
}

/// Grid layout for one triangle; returns the rect (offset unset) and the 3D grid frame.
fn layout(corners: [Vec3; 3], spacing: f32) -> (LightmapRect, Vec3, Vec3, Vec3) {
    let [a, b, c] = corners;
    let n = (b - a).cross(c - a).normalize_or_zero();
    let eu = (b - a).normalize_or_zero();
    let ev = n.cross(eu);
    let to2 = |p: Vec3| Vec2::new((p - a).dot(eu), (p - a).dot(ev));
    let (pa, pb, pc) = (Vec2::ZERO, to2(b), to2(c));
    let lo = pa.min(pb).min(pc);
    let hi = pa.max(pb).max(pc);
    let axis = |lo: f32, hi: f32| -> (u16, f32) {
        let extent = hi - lo;
        if extent.is_nan() || extent < 0.5 * spacing {
            // Narrower than half a texel (or degenerate): a single sample row at the middle.
            return (1, 0.5 * (lo + hi));
        }
        let n = ((extent / spacing).ceil() as usize + 1).min(u16::MAX as usize);
        (n as u16, lo)
    };
    let (nu, ou) = axis(lo.x, hi.x);
    let (nv, ov) = axis(lo.y, hi.y);
    let origin2 = Vec2::new(ou, ov);
    let g = |p: Vec2| (p - origin2) / spacing;
    let rect = LightmapRect {
        offset: [0; 2],
        dims: [[nu, nv]; 2],
        g0: g(pa),
        gu: g(pb) - g(pa),
        gv: g(pc) - g(pa),
    };
    let origin3 = a + eu * ou + ev * ov;
    (rect, origin3, eu * spacing, ev * spacing)
}

/// Baked irradiance on both sides of every triangle.
pub(crate) struct Lightmaps {
    /// Per triangle (mesh order).
    pub rects: Vec<LightmapRect>,
    /// Irradiance samples (linear RGB), fixed point: value × [`TEXEL_SCALE`], saturating.
    pub texels: Vec<[u16; 3]>,
    /// Grid spacing actually used (m).
    pub spacing_m: f32,
}

impl Lightmaps {
    /// Bakes the lightmaps. Parallel over triangles with rayon; every sample depends only on its
    /// own identity, so the result is the same for any thread count.
    pub fn bake(
        mesh: &TriMesh,
        bvh: &Bvh,
        illum: &Illumination,
        spacing_m: f32,
        max_texels: usize,
        eye_z: f32,
    ) -> Lightmaps {
        let mut spacing = spacing_m;
        let probe_dirs = cosine_directions(16);
        let visible: Vec<[bool; 2]> = (0..mesh.len())
            .into_par_iter()
            .map(|t| {
                let (n, corners) = (mesh.normal(t), mesh.corners(t));
                [0, 1].map(|side| {
                    side_visible(n, corners[0], side, eye_z)
                        && !side_enclosed(bvh, corners, if side == 0 { n } else { -n }, &probe_dirs)
                })
            })
            .collect();
        let layout_all = |spacing: f32| -> Vec<LightmapRect> {
            (0..mesh.len())
                .map(|t| {
                    let mut r = layout(mesh.corners(t), spacing).0;
                    for (dims, seen) in r.dims.iter_mut().zip(visible[t]) {
                        if !seen {
                            *dims = [1, 1];
                        }
                    }
                    r
                })
                .collect()
        };
        let mut rects = layout_all(spacing);
        // Enlarge the spacing until the total fits the budget; tiny triangles keep ≥ 1 sample per
        // side, so give up after a few rounds rather than loop forever.
        for _ in 0..8 {
            let total: usize = rects.iter().map(|r| r.len(0) + r.len(1)).sum();
            if total <= max_texels {
                break;
            }
            spacing *= (total as f32 / max_texels as f32).sqrt() * 1.05;
            rects = layout_all(spacing);
        }
        let mut offset = 0usize;
        for r in &mut rects {
            for side in 0..2 {
                r.offset[side] = offset;
                offset += r.len(side);
            }
        }
        // Lighting varies slowly away from shadow edges: ambient occlusion over the AO radius,
        // light visibility only at shadow boundaries. Both are therefore sampled on a grid
        // `coarse` times coarser than the lightmap (every `coarse`-th grid vertex, ≤ 15 cm and
        // ≤ a quarter of the AO radius apart): AO is interpolated bilinearly, and a fine sample
        // traces a shadow ray only for the lights whose visibility differs between the four
        // corners of its coarse cell. Shadows of occluders smaller than a coarse cell that
        // fall entirely between its corners are missed; the baked-vs-direct test bounds the effect.
        let coarse_m = if illum.has_ao() {
            (0.25 * illum.ao_radius_m).min(0.15)
        } else {
            0.15
        };
        let coarse = ((coarse_m / spacing).floor() as usize).clamp(1, 16);
        let adaptive_shadows = illum.shadows && illum.lights.len() <= 64;
        let per_triangle: Vec<Vec<[f32; 3]>> = (0..mesh.len())
            .into_par_iter()
            .map(|t| {
                let corners = mesh.corners(t);
                let [a, b, c] = corners;
                let (_, origin, du, dv) = layout(corners, spacing);
                let rect = rects[t];
                let n = mesh.normal(t);
                let mut out = Vec::with_capacity(rect.len(0) + rect.len(1));
                if n == Vec3::ZERO {
                    // Degenerate triangle: primary rays never hit it.
                    out.resize(rect.len(0) + rect.len(1), [0.0; 3]);
                    return out;
                }
                let reach2 = 2.0 * spacing * spacing * 1.01;
                let k = coarse;
                // A fine sample within `reach` of the triangle interpolates coarse vertices up to
                // one coarse cell diagonal farther away.
                let coarse_reach2 = 2.0 * ((k + 1) as f32 * spacing).powi(2) * 1.01;
                let mut vis: Vec<f32> = Vec::new();
                let mut masks: Vec<u64> = Vec::new();
                for (side, seen) in visible[t].into_iter().enumerate() {
                    let ns = if side == 0 { n } else { -n };
                    let [nu, nv] = rect.dims[side].map(usize::from);
                    if !seen {
                        let key = hash3(t as u32, u32::MAX, side as u32);
                        out.push(illum.irradiance(bvh, (a + b + c) / 3.0, ns, key).to_array());
                        continue;
                    }
                    let point = |i: usize, j: usize| origin + du * i as f32 + dv * j as f32;
                    let centroid = (a + b + c) / 3.0;
                    let (cu, cv) = ((nu - 1).div_ceil(k) + 1, (nv - 1).div_ceil(k) + 1);
                    vis.clear();
                    masks.clear();
                    for cj in 0..cv {
                        for ci in 0..cu {
                            let grid = point(ci * k, cj * k);
                            let p = closest_point_on_triangle(grid, a, b, c);
                            if grid.distance_squared(p) > coarse_reach2 {
                                vis.push(1.0);
                                masks.push(0);
                                continue;
                            }
                            let p = inset(p, centroid);
                            let key =
                                hash3(t as u32, ((cj as u32) << 16) | ci as u32, side as u32 | 2);
                            vis.push(illum.ambient_visibility(bvh, p, ns, key));
                            masks.push(if adaptive_shadows {
                                illum.visibility_mask(bvh, p, ns)
                            } else {
                                0
                            });
                        }
                    }
                    for j in 0..nv {
                        for i in 0..nu {
                            let grid = point(i, j);
                            let p = closest_point_on_triangle(grid, a, b, c);
                            if grid.distance_squared(p) > reach2 {
                                // Bilinear lookups inside the triangle only read grid vertices of
                                // cells that overlap it, all within one cell diagonal.
                                out.push([0.0; 3]);
                                continue;
                            }
                            let p = inset(p, centroid);
                            let (ci0, cj0) = (i / k, j / k);
                            let (ci1, cj1) = ((ci0 + 1).min(cu - 1), (cj0 + 1).min(cv - 1));
                            let (tx, ty) = ((i % k) as f32 / k as f32, (j % k) as f32 / k as f32);
                            let at = |ci: usize, cj: usize| vis[cj * cu + ci];
                            let top = at(ci0, cj0) + (at(ci1, cj0) - at(ci0, cj0)) * tx;
                            let bottom = at(ci0, cj1) + (at(ci1, cj1) - at(ci0, cj1)) * tx;
                            let v = top + (bottom - top) * ty;
                            let direct = if adaptive_shadows {
                                let m = [(ci0, cj0), (ci1, cj0), (ci0, cj1), (ci1, cj1)]
                                    .map(|(ci, cj)| masks[cj * cu + ci]);
                                let all = m[0] & m[1] & m[2] & m[3];
                                let any = m[0] | m[1] | m[2] | m[3];
                                illum.direct_masked(bvh, p, ns, all, all ^ any)
                            } else {
                                illum.direct(bvh, p, ns)
                            };
                            let e = direct + illum.ambient * v;
                            out.push(e.to_array());
                        }
                    }
                }
                out
            })
            .collect();
        let texels = per_triangle
            .iter()
            .flatten()
            .map(|e| e.map(encode_texel))
            .collect();
        Lightmaps {
            rects,
            texels,
            spacing_m: spacing,
        }
    }

    /// Bilinearly interpolated irradiance of triangle `t` at barycentrics `(u, v)`, front
    /// (`back = false`) or back side.
    #[inline]
    pub fn lookup(&self, t: usize, u: f32, v: f32, back: bool) -> Vec3 {
        let r = &self.rects[t];
        let side = usize::from(back);
        let g = r.g0 + r.gu * u + r.gv * v;
        let [nu, nv] = r.dims[side].map(usize::from);
        let fx = g.x.clamp(0.0, (nu - 1) as f32);
        let fy = g.y.clamp(0.0, (nv - 1) as f32);
        let i0 = (fx as usize).min(nu - 1);
        let j0 = (fy as usize).min(nv - 1);
        let i1 = (i0 + 1).min(nu - 1);
        let j1 = (j0 + 1).min(nv - 1);
        let (tx, ty) = (fx - i0 as f32, fy - j0 as f32);
        let base = r.offset[side];
        let at = |i: usize, j: usize| {
            let [r, g, b] = self.texels[base + j * nu + i];
            Vec3::new(f32::from(r), f32::from(g), f32::from(b))
        };
        let top = at(i0, j0).lerp(at(i1, j0), tx);
        let bottom = at(i0, j1).lerp(at(i1, j1), tx);
        top.lerp(bottom, ty) * (1.0 / TEXEL_SCALE)
    }
}

/// Fixed-point scale of stored irradiance: steps of 1/2048 ≈ 0.0005 (0.8 % of the darkest
/// ambient-occluded level with the default ambient, far below one 8-bit code), range up to 32,
/// above which any material but a near-black one is white anyway. Halves the cache's memory
/// (6 instead of 12 bytes per sample) and its cache misses per pixel.
pub(crate) const TEXEL_SCALE: f32 = 2048.0;

#[inline]
fn encode_texel(e: f32) -> u16 {
    // `as` saturates (and maps NaN to 0).
    (e * TEXEL_SCALE + 0.5) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_directions_are_unit_upper_hemisphere_with_cosine_mean_two_thirds() {
        let d = cosine_directions(4096);
        assert!(
            d.iter()
                .all(|v| (v.length() - 1.0).abs() < 1e-5 && v.z >= 0.0)
        );
        // For a cosine-weighted hemisphere E[cos θ] = 2/3 and E[x] = E[y] = 0.
        let mean = d.iter().copied().sum::<Vec3>() / d.len() as f32;
        assert!(
            (mean.z - 2.0 / 3.0).abs() < 1e-3 && mean.x.abs() < 1e-2 && mean.y.abs() < 1e-2,
            "{mean}"
        );
    }

    #[test]
    fn orthonormal_basis_is_orthonormal_for_many_normals() {
        for k in 0..500 {
            let n = Vec3::new(
                (k as f32 * 0.37).sin(),
                (k as f32 * 1.3).cos(),
                (k as f32 * 0.11).sin() - 0.5,
            )
            .normalize();
            let (t, b) = orthonormal_basis(n);
            for (x, y) in [(t, b), (t, n), (b, n)] {
                assert!(x.dot(y).abs() < 1e-5);
            }
            assert!((t.length() - 1.0).abs() < 1e-5 && (b.length() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn closest_point_on_triangle_matches_dense_search() {
        let (a, b, c) = (
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(2.0, 0.0, 0.5),
            Vec3::new(0.3, 1.5, 0.0),
        );
        for k in 0..200 {
            let p = Vec3::new(
                (k as f32 * 0.7).sin() * 3.0,
                (k as f32 * 0.3).cos() * 3.0,
                (k as f32 * 1.1).sin(),
            );
            let q = closest_point_on_triangle(p, a, b, c);
            let mut best = f32::INFINITY;
            let m = 200;
            for i in 0..=m {
                for j in 0..=(m - i) {
                    let (u, v) = (i as f32 / m as f32, j as f32 / m as f32);
                    best = best.min((a + (b - a) * u + (c - a) * v).distance(p));
                }
            }
            assert!(
                q.distance(p) <= best + 1e-4,
                "{p}: {} vs {best}",
                q.distance(p)
            );
        }
    }

    /// Closed box `[lo, hi]`, outward normals.
    fn cube(lo: Vec3, hi: Vec3) -> TriMesh {
        let mut m = TriMesh::default();
        let v = |x: f32, y: f32, z: f32| Vec3::new(x, y, z);
        let (x0, y0, z0, x1, y1, z1) = (lo.x, lo.y, lo.z, hi.x, hi.y, hi.z);
        let quads = [
            [v(x0, y0, z0), v(x0, y1, z0), v(x1, y1, z0), v(x1, y0, z0)],
            [v(x0, y0, z1), v(x1, y0, z1), v(x1, y1, z1), v(x0, y1, z1)],
            [v(x0, y0, z0), v(x1, y0, z0), v(x1, y0, z1), v(x0, y0, z1)],
            [v(x0, y1, z0), v(x0, y1, z1), v(x1, y1, z1), v(x1, y1, z0)],
            [v(x0, y0, z0), v(x0, y0, z1), v(x0, y1, z1), v(x0, y1, z0)],
            [v(x1, y0, z0), v(x1, y1, z0), v(x1, y1, z1), v(x1, y0, z1)],
        ];
        for q in quads {
            let base = m.positions.len() as u32;
            m.positions.extend_from_slice(&q);
            m.triangles
                .extend([[base, base + 1, base + 2], [base, base + 2, base + 3]]);
            m.material.extend([0, 0]);
        }
        m
    }

    /// Regression: AO and probe rays along axis-aligned normals have `-0.0` components, for
    /// which the BVH reported no hit; these probes escaped and the cavity looked open.
    #[test]
    fn negative_zero_directions_hit_like_positive_zero_ones() {
        let wall = cube(Vec3::new(0.0, 0.0, 0.0), Vec3::new(3.0, 0.15, 2.5));
        let bvh = Bvh::build(&wall);
        let p = Vec3::new(2.0, 0.001, 0.8);
        let dir = Vec3::new(0.176_776_7, 0.984_250_96, -0.0);
        let brute = wall
            .cast_ray_brute_force(&Ray::new(p, dir))
            .expect("brute force hits the far face");
        assert!(bvh.occluded(&Ray::bounded(p, dir, 0.0, 1.0)));
        let hit = bvh
            .cast_ray(&Ray::bounded(p, dir, 0.0, f32::INFINITY))
            .expect("hit");
        assert!((hit.t - brute.t).abs() < 1e-5);
    }

    #[test]
    fn inner_faces_of_a_thin_wall_box_are_enclosed_and_outer_faces_are_not() {
        // A wall 3 m long, 0.15 m thick, 2.5 m high; and a room-sized box 3 × 3 × 2.5 m.
        let wall = cube(Vec3::new(0.0, 0.0, 0.0), Vec3::new(3.0, 0.15, 2.5));
        let room = cube(Vec3::new(0.0, 0.0, 0.0), Vec3::new(3.0, 3.0, 2.5));
        let dirs = cosine_directions(16);
        for (mesh, inner_enclosed) in [(&wall, true), (&room, false)] {
            let bvh = Bvh::build(mesh);
            for t in 0..mesh.len() {
                let n = mesh.normal(t);
                assert!(
                    !side_enclosed(&bvh, mesh.corners(t), n, &dirs),
                    "outer side of {t}"
                );
                // The wall's large faces (normal ±y) are 0.15 m apart; from its end and top faces
                // the inside extends 2.5–3 m, which is not a closed cavity.
                let expected = inner_enclosed && n.y.abs() > 0.5;
                assert_eq!(
                    side_enclosed(&bvh, mesh.corners(t), -n, &dirs),
                    expected,
                    "inner side of {t}"
                );
            }
        }
    }

    #[test]
    fn lightmap_grid_coordinates_of_corners_lie_inside_the_grid() {
        let corners = [
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(3.0, 0.0, 0.0),
            Vec3::new(0.0, 0.0, 2.5),
        ];
        let (r, origin, du, dv) = layout(corners, 0.05);
        assert_eq!(r.dims, [[61, 51]; 2]);
        for g in [r.g0, r.g0 + r.gu, r.g0 + r.gv] {
            assert!(
                g.x >= -1e-3 && g.y >= -1e-3 && g.x <= 60.001 && g.y <= 50.001,
                "{g}"
            );
        }
        // The grid point at the grid coordinate of corner c is corner c.
        let gc = r.g0 + r.gv;
        assert!((origin + du * gc.x + dv * gc.y).distance(corners[2]) < 1e-4);
    }
}
