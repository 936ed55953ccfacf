//! The renderer: primary rays through the BVH, pattern albedo, baked or direct lighting, fog.

use crate::camera::Camera;
use crate::lighting::{Illumination, Lightmaps, PointLight, bvh_ray};
use crate::pattern::{Surface, hash3};
use crate::srgb::Encoder;
use crate::{CameraConfig, LightingMode, RenderError};
use avwm_core::{Pose, RgbImage};
use avwm_geom::{Bvh, Ray};
use avwm_scene::Scene;
use glam::{Vec2, Vec3};
use rayon::prelude::*;
use std::sync::Arc;

/// Per-triangle shading data (mesh order).
#[derive(Debug, Clone, Copy)]
struct TriShade {
    /// Unit geometric normal (right-hand rule over the vertex order).
    normal: Vec3,
    /// Index into `Renderer::surfaces`.
    material: u32,
    /// Pattern plane: 0 → (y, z), 1 → (x, z), 2 → (x, y): the plane most parallel to the triangle.
    plane: u8,
}

/// Summary of the baked lighting cache.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LightmapStats {
    /// Number of irradiance samples (both sides of every triangle).
    pub samples: usize,
    /// Grid spacing actually used (m); larger than [`CameraConfig::lightmap_texel_m`] only if
    /// [`CameraConfig::lightmap_max_texels`] forced it.
    pub spacing_m: f32,
    /// Memory held by the samples (bytes).
    pub bytes: usize,
}

/// An egocentric RGB camera for one scene. Immutable after construction and `Sync`: one renderer
/// can serve many threads. Output depends only on the scene, the configuration and the pose.
///
/// ```
/// use avwm_core::{Pose, glam::Vec3};
/// use avwm_geom::{Bvh, TriMesh};
/// use avwm_render::{CameraConfig, Renderer};
/// use avwm_scene::{Scene, SceneOrigin, SoundSource, material_library};
/// use std::sync::Arc;
///
/// // A single wall facing −x, 2 m in front of the camera.
/// let mesh = TriMesh {
///     positions: vec![Vec3::new(2.0, -5.0, -1.0), Vec3::new(2.0, 5.0, -1.0), Vec3::new(2.0, 0.0, 9.0)],
///     triangles: vec![[0, 1, 2]],
///     material: vec![0],
///     vertex_colors: None,
/// };
/// let scene = Scene {
///     name: "wall".into(), origin: SceneOrigin::Procedural { seed: 0 }, mesh,
///     materials: material_library(), floor_z: 0.0, ceiling_h: 2.5,
///     source: SoundSource { position: Vec3::ZERO }, lights: vec![], rooms: vec![], doors: vec![], edges: vec![],
/// };
/// let cfg = CameraConfig { width: 16, height: 16, ..CameraConfig::default() };
/// let renderer = Renderer::new(&scene, Arc::new(Bvh::build(&scene.mesh)), &cfg).unwrap();
/// let depth = renderer.render_depth(Pose::new(0.0, 0.0, 0.0));
/// // Ray through the pixel right of the centre: 2 m divided by the cosine of its angle.
/// let c = depth[8 * 16 + 8];
/// assert!(c > 2.0 && c < 2.02);
/// assert_eq!(renderer.render(Pose::new(0.0, 0.0, 0.0)).data.len(), 16 * 16 * 3);
/// ```
pub struct Renderer {
    cfg: CameraConfig,
    bvh: Arc<Bvh>,
    floor_z: f32,
    tris: Vec<TriShade>,
    /// Per-triangle corner colours, if the mesh has vertex colours.
    vertex_colors: Option<Vec<[Vec3; 3]>>,
    surfaces: Vec<Surface>,
    illum: Illumination,
    lightmaps: Option<Lightmaps>,
    encoder: Encoder,
    fog_color: Vec3,
    /// Width of one sample's footprint per metre of distance (rad): pixel angle / √(samples).
    footprint_per_m: f32,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("cfg", &self.cfg)
            .field("triangles", &self.tris.len())
            .field("lightmaps", &self.lightmap_stats())
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Prepares a camera for `scene`. `bvh` must be `Bvh::build(&scene.mesh)` (it is shared with
    /// the acoustics engine). With [`LightingMode::Baked`] this bakes the lightmaps: about
    /// `2 × area / lightmap_texel_m²` samples, each costing one shadow ray per light in front of
    /// it plus [`CameraConfig::ao_rays`] short rays, in parallel over triangles.
    ///
    /// # Errors
    /// [`RenderError::Config`] for an out-of-range field, [`RenderError::BvhMismatch`] if the BVH
    /// was built from another mesh, [`RenderError::Scene`] for bad material ids, vertex colours
    /// or lights.
    pub fn new(scene: &Scene, bvh: Arc<Bvh>, cfg: &CameraConfig) -> Result<Renderer, RenderError> {
        cfg.validate()?;
        let mesh = &scene.mesh;
        if bvh.len() != mesh.len() {
            return Err(RenderError::BvhMismatch {
                bvh: bvh.len(),
                mesh: mesh.len(),
            });
        }
        if mesh.material.len() != mesh.len() {
            return Err(RenderError::Scene(format!(
                "{} material ids for {} triangles",
                mesh.material.len(),
                mesh.len()
            )));
        }
        let n_mat = scene.materials.len();
        if let Some(t) = mesh.material.iter().position(|&m| m as usize >= n_mat) {
            return Err(RenderError::Scene(format!(
                "triangle {t} uses material {} but only {n_mat} materials exist",
                mesh.material[t]
            )));
        }
        if let Some((t, i)) = mesh.triangles.iter().enumerate().find_map(|(t, tri)| {
            tri.iter()
                .find(|&&i| i as usize >= mesh.positions.len())
                .map(|&i| (t, i))
        }) {
            return Err(RenderError::Scene(format!(
                "triangle {t} refers to missing vertex {i}"
            )));
        }
        let vertex_colors = match &mesh.vertex_colors {
            None => None,
            Some(c) if c.len() != mesh.positions.len() => {
                return Err(RenderError::Scene(format!(
                    "{} vertex colours for {} vertices",
                    c.len(),
                    mesh.positions.len()
                )));
            }
            Some(c) => Some(
                mesh.triangles
                    .iter()
                    .map(|tri| tri.map(|i| Vec3::from(c[i as usize]).max(Vec3::ZERO)))
                    .collect(),
            ),
        };
        let mut lights = Vec::with_capacity(scene.lights.len());
        for (i, l) in scene.lights.iter().enumerate() {
            if !l.position.is_finite() || l.intensity.iter().any(|v| !(v.is_finite() && *v >= 0.0))
            {
                return Err(RenderError::Scene(format!(
                    "light {i} has a non-finite position or a negative intensity"
                )));
            }
            lights.push(PointLight {
                position: l.position,
                intensity: Vec3::from(l.intensity),
            });
        }
        if !scene.floor_z.is_finite() {
            return Err(RenderError::Scene("floor_z is not finite".into()));
        }
        let tris = (0..mesh.len())
            .map(|t| {
                let normal = mesh.normal(t);
                let a = normal.abs();
                let plane = if a.z >= a.x && a.z >= a.y {
                    2
                } else if a.x >= a.y {
                    0
                } else {
                    1
                };
                TriShade {
                    normal,
                    material: mesh.material[t],
                    plane,
                }
            })
            .collect();
        let illum = Illumination::new(cfg, lights);
        let lightmaps = match cfg.lighting {
            LightingMode::Baked => Some(Lightmaps::bake(
                mesh,
                &bvh,
                &illum,
                cfg.lightmap_texel_m,
                cfg.lightmap_max_texels,
                scene.floor_z + cfg.camera_height_m,
            )),
            LightingMode::Direct => None,
        };
        let spp = cfg.supersampling.offsets().len() as f32;
        let tan_h = (cfg.hfov_deg.to_radians() * 0.5).tan();
        Ok(Renderer {
            cfg: cfg.clone(),
            bvh,
            floor_z: scene.floor_z,
            tris,
            vertex_colors,
            surfaces: scene
                .materials
                .iter()
                .map(|m| Surface::new(&m.visual))
                .collect(),
            illum,
            lightmaps,
            encoder: Encoder::new(cfg.srgb_encode),
            fog_color: Vec3::from(cfg.fog_color),
            footprint_per_m: 2.0 * tan_h / cfg.width as f32 / spp.sqrt(),
        })
    }

    /// The configuration this renderer was built with.
    pub fn config(&self) -> &CameraConfig {
        &self.cfg
    }

    /// The shared BVH.
    pub fn bvh(&self) -> &Arc<Bvh> {
        &self.bvh
    }

    /// Size of the baked lighting cache, or `None` with [`LightingMode::Direct`].
    pub fn lightmap_stats(&self) -> Option<LightmapStats> {
        self.lightmaps.as_ref().map(|l| LightmapStats {
            samples: l.texels.len(),
            spacing_m: l.spacing_m,
            bytes: l.texels.len() * std::mem::size_of::<[u16; 3]>(),
        })
    }

    fn camera(&self, pose: Pose) -> Camera {
        Camera::new(&self.cfg, self.floor_z, pose)
    }

    /// The world-space ray through image position `(px, py)` (pixels from the top-left corner;
    /// pixel `(i, j)` has its centre at `(i + 0.5, j + 0.5)`), starting at the eye, unit direction.
    pub fn pixel_ray(&self, pose: Pose, px: f32, py: f32) -> Ray {
        let cam = self.camera(pose);
        bvh_ray(cam.eye, cam.dir(px, py), 0.0, f32::INFINITY)
    }

    /// Image position `(px, py)` of a world point (pixels from the top-left corner), or `None`
    /// if it is behind the camera. Visible points have `0 ≤ px ≤ width`, `0 ≤ py ≤ height`.
    pub fn project(&self, pose: Pose, point: Vec3) -> Option<(f32, f32)> {
        self.camera(pose).project(point)
    }

    /// Renders one frame, rows in parallel with rayon. Identical bytes to
    /// [`Renderer::render_single_thread`].
    pub fn render(&self, pose: Pose) -> RgbImage {
        let cam = self.camera(pose);
        let mut img = RgbImage::new(self.cfg.width, self.cfg.height);
        let stride = self.cfg.width as usize * 3;
        img.data
            .par_chunks_mut(stride)
            .enumerate()
            .for_each(|(y, row)| self.render_row(&cam, y, row));
        img
    }

    /// Renders one frame on the calling thread only (for per-core benchmarks and for callers that
    /// parallelise over frames or environments themselves).
    pub fn render_single_thread(&self, pose: Pose) -> RgbImage {
        let cam = self.camera(pose);
        let mut img = RgbImage::new(self.cfg.width, self.cfg.height);
        let stride = self.cfg.width as usize * 3;
        img.data
            .chunks_mut(stride)
            .enumerate()
            .for_each(|(y, row)| self.render_row(&cam, y, row));
        img
    }

    /// Distance (m) along the ray through each pixel centre to the first surface, row-major from
    /// the top-left; `f32::INFINITY` where the ray hits nothing. This is ray length, not the
    /// planar z-depth (z-depth = distance × cos of the ray's angle to the optical axis).
    pub fn render_depth(&self, pose: Pose) -> Vec<f32> {
        let cam = self.camera(pose);
        let w = self.cfg.width as usize;
        let mut depth = vec![f32::INFINITY; w * self.cfg.height as usize];
        depth.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, d) in row.iter_mut().enumerate() {
                let dir = cam.dir(x as f32 + 0.5, y as f32 + 0.5);
                if let Some(h) = self
                    .bvh
                    .cast_ray(&bvh_ray(cam.eye, dir, 0.0, f32::INFINITY))
                {
                    *d = h.t;
                }
            }
        });
        depth
    }

    fn render_row(&self, cam: &Camera, y: usize, row: &mut [u8]) {
        let offsets = self.cfg.supersampling.offsets();
        let inv = 1.0 / offsets.len() as f32;
        let exposure = self.cfg.exposure;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let mut acc = Vec3::ZERO;
            for (s, &(ox, oy)) in offsets.iter().enumerate() {
                // Only the per-pixel (direct) lighting uses the key, to rotate its AO directions.
                let key = if self.lightmaps.is_none() {
                    hash3((y * self.cfg.width as usize + x) as u32, s as u32, 0x5EED)
                } else {
                    0
                };
                acc += self.shade(cam, x as f32 + ox, y as f32 + oy, key);
            }
            let c = acc * (inv * exposure);
            let tm = self.cfg.tonemap;
            px[0] = self.encoder.encode(tm.apply(c.x));
            px[1] = self.encoder.encode(tm.apply(c.y));
            px[2] = self.encoder.encode(tm.apply(c.z));
        }
    }

    /// Linear radiance (before exposure) of one camera sample.
    #[inline]
    fn shade(&self, cam: &Camera, px: f32, py: f32, key: u32) -> Vec3 {
        let dir = cam.dir(px, py);
        let Some(hit) = self
            .bvh
            .cast_ray(&bvh_ray(cam.eye, dir, 0.0, f32::INFINITY))
        else {
            return self.fog_color;
        };
        let t = hit.triangle as usize;
        let tri = &self.tris[t];
        let p = cam.eye + dir * hit.t;
        let cos = dir.dot(tri.normal);
        let back = cos > 0.0;
        let surface = &self.surfaces[tri.material as usize];
        let footprint = hit.t * self.footprint_per_m / cos.abs().max(0.25);
        let q = match tri.plane {
            0 => Vec2::new(p.y, p.z),
            1 => Vec2::new(p.x, p.z),
            _ => Vec2::new(p.x, p.y),
        };
        let mut albedo = surface.albedo(q, footprint);
        if let Some(vc) = &self.vertex_colors {
            let [c0, c1, c2] = vc[t];
            albedo *= c0 * (1.0 - hit.u - hit.v) + c1 * hit.u + c2 * hit.v;
        }
        let irradiance = match &self.lightmaps {
            Some(lm) => lm.lookup(t, hit.u, hit.v, back),
            None => {
                let n = if back { -tri.normal } else { tri.normal };
                self.illum.irradiance(&self.bvh, p, n, key)
            }
        };
        let mut c = albedo * irradiance;
        if surface.emissive {
            c += surface.emission;
        }
        if self.cfg.fog_per_m > 0.0 {
            let f = (-self.cfg.fog_per_m * hit.t).exp();
            c = c * f + self.fog_color * (1.0 - f);
        }
        c
    }
}
