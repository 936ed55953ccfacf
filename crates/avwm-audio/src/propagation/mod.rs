//! The propagation engine: from a scene, a source and a listener position to an
//! [`AcousticResponse`] (discrete early paths + a late energy histogram per band).
//!
//! What a response holds (all gains follow the normalisation of [`crate::paths`]):
//!
//! * **Direct** path if the segment is unobstructed: gain `1/r` × air absorption, delay `r/c`,
//!   times a lit-zone edge correction when it grazes a diffraction edge ([`diffraction`]).
//! * If occluded: **diffracted** paths around the scene's explicit edges (first order, else
//!   second order) and a **transmitted** path (the straight line attenuated by `√Πτ` over every
//!   surface crossed).
//! * **Image sources** up to `ism_order` with an exact visibility test per path. Candidate plane
//!   sequences come from deterministic guide rays cast from both ends (first hits and specular
//!   chains), not from all `planes^order`; every candidate is then validated exactly: traced
//!   back from the listener, each leg must be free and land on a triangle of that plane.
//! * The **late** histogram from stochastic ray tracing: per-band energy, absorption, scattering
//!   (specular or Lambert continuation), air absorption, a track-length receiver estimator,
//!   and pyroomacoustics' hybrid rule (purely specular arrivals of order ≤ the ISM order are not
//!   logged, ISM gains carry `√(1−s)`), so nothing is counted twice.
//!
//! For the scene's own (fixed) source, [`AcousticScene::new`] traces `field_rays` rays once into
//! a volumetric receiver field: a slab of `field_cell_m`-sized cells at ear height ±
//! `field_half_height_m`, each with its own late histogram. [`AcousticScene::response`] then
//! computes only the exact per-pose paths and reads the field (bilinear weights over the four
//! nearest cell centres that are visible from the listener), so its cost does not depend on the
//! number of precomputed rays. [`AcousticScene::response_between`] traces a fresh single-receiver
//! tail instead (for arbitrary source/listener pairs).
//!
//! Everything is deterministic: guide rays are a fixed Fibonacci lattice, the tracer seeds
//! each ray from `(seed, ray index)` and accumulates in fixed point, so the same seed gives the
//! same bytes for any rayon thread count.
//!
//! # Known limitations
//!
//! * Late energy does not pass through walls (rays reflect; only the discrete straight path is
//!   transmitted), so a fully closed room hears only the transmitted direct sound. With the
//!   library's coefficients a two-face wall transmits ≤ −40 dB, at the tracer's cutoff anyway.
//! * Far from the source (rooms reached through several doors) few rays arrive; sparse
//!   histograms are spread over up to ±48 ms (energy-conserving, causal) rather than left spiky.
//! * Receiver cells cut by a wall hold the free-space energy averaged over the whole cell, so
//!   the late level within ½ cell of a wall is underestimated by up to the wall's share of the
//!   cell (≈ 1 dB for 0.15 m walls and 0.5 m cells).
//! * Guide rays may miss a small reflecting patch between their directions; raise `guide_rays`.
//! * Diffraction uses explicit edges only (procedural scenes have them; loaded meshes may not),
//!   a thin-screen loss model that ignores the wedge angle, and at most two edges in series.

mod config;
pub mod diffraction;
mod geometry;
mod ism;
pub mod shoebox;
mod tracer;

pub use config::{AIR_ABSORPTION_20C_PER_M, AcousticsConfig};

use crate::error::AudioError;
use crate::paths::{AcousticResponse, EnergyHistogram, PathKind, PropagationPath};
use avwm_core::{Bands, EAR_HEIGHT_M, NUM_BANDS, SPEED_OF_SOUND_M_S, Seed};
use avwm_geom::Bvh;
use avwm_scene::Scene;
use geometry::AcousticMesh;
use glam::Vec3;
use ism::GuideSet;
use std::sync::Arc;
use tracer::{ReceiverGrid, TraceParams};

/// Maximum number of surfaces counted along a transmitted path; beyond, the path is dropped.
const MAX_TRANSMISSION_CROSSINGS: usize = 16;
/// Transmitted paths weaker than this amplitude factor (−120 dB) are dropped.
const MIN_TRANSMISSION_AMPLITUDE: f32 = 1e-6;

/// The precomputed late field of the scene's source.
#[derive(Debug, Clone)]
struct LateField {
    lo: Vec3,
    cell: Vec3,
    dims: [usize; 3],
    /// Per cell: energy histogram (trimmed).
    cells: Vec<Vec<Bands>>,
}

/// A scene prepared for sound propagation (one per scene; immutable, `Send + Sync`).
#[derive(Debug, Clone)]
pub struct AcousticScene {
    mesh: AcousticMesh,
    edges: diffraction::EdgeSet,
    cfg: AcousticsConfig,
    source: Vec3,
    source_guides: GuideSet,
    field: Option<LateField>,
    floor_z: f32,
}

impl AcousticScene {
    /// Prepares `scene` for its source `scene.source.position`: groups coplanar triangles,
    /// casts the source's guide rays and traces the late field (`cfg.field_rays` rays, in
    /// parallel, each seeded from `(seed, ray index)`; bit-identical for any thread count).
    ///
    /// `bvh` must have been built from `scene.mesh`.
    ///
    /// # Errors
    /// [`AudioError::Config`] if `cfg` is invalid, the BVH does not match the mesh, or the scene
    /// has a malformed mesh, material ids out of range, coefficients outside [0, 1] or a
    /// non-finite source.
    pub fn new(
        scene: &Scene,
        bvh: Arc<Bvh>,
        cfg: &AcousticsConfig,
        seed: Seed,
    ) -> Result<AcousticScene, AudioError> {
        cfg.validate()?;
        if bvh.len() != scene.mesh.len() {
            return Err(AudioError::Config(format!(
                "the BVH has {} triangles but the scene mesh has {}",
                bvh.len(),
                scene.mesh.len()
            )));
        }
        if !scene.mesh.is_empty() {
            scene
                .mesh
                .validate()
                .map_err(|e| AudioError::Config(format!("scene mesh: {e}")))?;
        }
        if let Some(m) = scene.materials.iter().find(|m| !m.acoustic.is_valid()) {
            return Err(AudioError::Config(format!(
                "material {:?} has an acoustic coefficient outside [0, 1]",
                m.name
            )));
        }
        let n_mat = scene.materials.len() as u32;
        if scene.mesh.material.len() != scene.mesh.len()
            || scene.mesh.material.iter().any(|&m| m >= n_mat)
        {
            return Err(AudioError::Config(
                "scene mesh has missing or out-of-range material ids".into(),
            ));
        }
        if !scene.source.position.is_finite() {
            return Err(AudioError::Config(
                "scene source position is not finite".into(),
            ));
        }
        let mesh = AcousticMesh::new(scene, bvh);
        let source = scene.source.position;
        let source_guides = GuideSet::new(&mesh, source, cfg.guide_rays, cfg.ism_order);
        let mut this = AcousticScene {
            mesh,
            edges: diffraction::EdgeSet::new(&scene.edges),
            cfg: cfg.clone(),
            source,
            source_guides,
            field: None,
            floor_z: scene.floor_z,
        };
        this.field = this.trace_field(seed);
        Ok(this)
    }

    /// The configuration in use.
    pub fn config(&self) -> &AcousticsConfig {
        &self.cfg
    }

    /// The source position the late field was traced for (m).
    pub fn source(&self) -> Vec3 {
        self.source
    }

    /// Heap memory held by the precomputed late field (bytes).
    pub fn late_field_bytes(&self) -> usize {
        self.field.as_ref().map_or(0, |f| {
            f.cells
                .iter()
                .map(|c| c.capacity() * std::mem::size_of::<Bands>())
                .sum::<usize>()
                + f.cells.capacity() * std::mem::size_of::<Vec<Bands>>()
        })
    }

    /// Number of coplanar surface groups used by the image-source method.
    pub fn plane_count(&self) -> usize {
        self.mesh.planes.len()
    }

    fn trace_params(&self, rays: usize, hybrid_order: usize, parallel: bool) -> TraceParams {
        TraceParams {
            rays,
            max_bounces: self.cfg.max_bounces,
            cutoff: 10f32.powf(-self.cfg.energy_cutoff_db / 10.0),
            max_len_m: self.cfg.max_rir_s * SPEED_OF_SOUND_M_S,
            hybrid_order,
            air_per_m: self.cfg.air_per_m(),
            parallel,
        }
    }

    fn nbins(&self) -> usize {
        (self.cfg.max_rir_s / self.cfg.bin_s).ceil() as usize
    }

    fn trace_field(&self, seed: Seed) -> Option<LateField> {
        let (lo, hi) = self.mesh.bounds?;
        let c = self.cfg.field_cell_m;
        let h = self.cfg.field_half_height_m;
        let ear = self.floor_z + EAR_HEIGHT_M;
        let nx = (((hi.x - lo.x) / c).ceil() as usize).max(1);
        let ny = (((hi.y - lo.y) / c).ceil() as usize).max(1);
        let cell = Vec3::new(c, c, 2.0 * h);
        let glo = Vec3::new(lo.x, lo.y, ear - h);
        let grid = ReceiverGrid::new(glo, cell, [nx, ny, 1], self.nbins(), self.cfg.bin_s);
        let p = self.trace_params(self.cfg.field_rays, self.cfg.ism_order, true);
        tracer::trace(
            &self.mesh,
            self.source,
            &grid,
            &p,
            seed.derive("late-field", 0),
        );
        Some(LateField {
            lo: glo,
            cell,
            dims: grid.dims,
            cells: {
                let mut cells = grid.histograms(p.rays);
                cells.iter_mut().for_each(tracer::smooth_sparse);
                cells
            },
        })
    }

    /// The response at `listener` (m, world frame) for the scene's source.
    ///
    /// The discrete paths are exact for this listener position; the late histogram comes from
    /// the precomputed field. `seed` is only used if the listener lies outside the field (then a
    /// fresh single-receiver tail is traced, which is slower).
    pub fn response(&self, listener: Vec3, seed: Seed) -> AcousticResponse {
        let lis_guides = GuideSet::new(
            &self.mesh,
            listener,
            self.cfg.guide_rays,
            self.cfg.ism_order,
        );
        let paths = self.paths(self.source, listener, &self.source_guides, &lis_guides);
        let late = match self.field_lookup(listener) {
            Some(late) => late,
            None => self.fresh_tail(self.source, listener, seed),
        };
        AcousticResponse { paths, late }
    }

    /// The response between an arbitrary `source` and `listener` (m): fresh guide rays at both
    /// ends and a fresh single-receiver tail (`receiver_rays` rays seeded from `seed`, cubic
    /// receiver of `receiver_size_m` centred on the listener).
    pub fn response_between(&self, source: Vec3, listener: Vec3, seed: Seed) -> AcousticResponse {
        let src_guides = GuideSet::new(&self.mesh, source, self.cfg.guide_rays, self.cfg.ism_order);
        let lis_guides = GuideSet::new(
            &self.mesh,
            listener,
            self.cfg.guide_rays,
            self.cfg.ism_order,
        );
        let paths = self.paths(source, listener, &src_guides, &lis_guides);
        let late = self.fresh_tail(source, listener, seed);
        AcousticResponse { paths, late }
    }

    /// Direct / diffracted / transmitted / image-source paths.
    fn paths(
        &self,
        source: Vec3,
        listener: Vec3,
        src_g: &GuideSet,
        lis_g: &GuideSet,
    ) -> Vec<PropagationPath> {
        let mut out = Vec::new();
        let air = self.cfg.air_per_m();
        let r = (listener - source).length().max(1e-3);
        let direction = (source - listener).normalize_or(Vec3::X);
        let straight = |factor: Bands, kind: PathKind| PropagationPath {
            kind,
            delay_s: r / SPEED_OF_SOUND_M_S,
            direction,
            gain: std::array::from_fn(|b| factor[b] * (-0.5 * air[b] * r).exp() / r),
        };
        if self.mesh.bvh.visible(source, listener, 1e-4) {
            let lit = if self.cfg.diffraction {
                diffraction::lit_zone_factor(&self.edges.edges, source, listener)
            } else {
                [1.0; NUM_BANDS]
            };
            out.push(straight(lit, PathKind::Direct));
        } else {
            if self.cfg.diffraction {
                out.extend(diffraction::diffracted_paths(
                    &self.mesh,
                    &self.edges,
                    source,
                    listener,
                    &self.cfg,
                ));
            }
            if self.cfg.transmission {
                let tau = self
                    .mesh
                    .transmission(source, listener, MAX_TRANSMISSION_CROSSINGS);
                let amp: Bands = std::array::from_fn(|b| tau[b].sqrt());
                if amp.iter().any(|&a| a > MIN_TRANSMISSION_AMPLITUDE) {
                    out.push(straight(amp, PathKind::Transmitted));
                }
            }
        }
        out.extend(ism::image_sources(
            &self.mesh,
            src_g,
            lis_g,
            source,
            listener,
            self.cfg.ism_order,
            &air,
        ));
        out
    }

    /// A fresh single-receiver late tail.
    fn fresh_tail(&self, source: Vec3, listener: Vec3, seed: Seed) -> EnergyHistogram {
        if self.mesh.bounds.is_none() {
            return EnergyHistogram::empty(self.cfg.bin_s);
        }
        let size = self.cfg.receiver_size_m;
        let grid = ReceiverGrid::new(
            listener - Vec3::splat(0.5 * size),
            Vec3::splat(size),
            [1, 1, 1],
            self.nbins(),
            self.cfg.bin_s,
        );
        let p = self.trace_params(self.cfg.receiver_rays, self.cfg.ism_order, true);
        tracer::trace(
            &self.mesh,
            source,
            &grid,
            &p,
            seed.derive("late-receiver", 0),
        );
        let mut bins = grid.histograms(p.rays).pop().unwrap_or_default();
        tracer::smooth_sparse(&mut bins);
        EnergyHistogram {
            bin_s: self.cfg.bin_s,
            bins,
        }
    }

    /// Bilinear interpolation of the field over the four nearest cell centres that the listener
    /// can see (renormalised weights; the nearest cell if none is visible). `None` outside the field.
    fn field_lookup(&self, listener: Vec3) -> Option<EnergyHistogram> {
        let f = self.field.as_ref()?;
        let rel = (listener - f.lo) / f.cell;
        if rel.x < 0.0 || rel.y < 0.0 || rel.z < 0.0 {
            return None;
        }
        let (nx, ny, nz) = (f.dims[0], f.dims[1], f.dims[2]);
        if rel.x > nx as f32 || rel.y > ny as f32 || rel.z > nz as f32 {
            return None;
        }
        let k = (rel.z.floor() as usize).min(nz - 1);
        // Coordinates relative to cell centres.
        let gx = (rel.x - 0.5).clamp(0.0, (nx - 1) as f32);
        let gy = (rel.y - 0.5).clamp(0.0, (ny - 1) as f32);
        let (i0, j0) = (gx.floor() as usize, gy.floor() as usize);
        let (i1, j1) = ((i0 + 1).min(nx - 1), (j0 + 1).min(ny - 1));
        let (fx, fy) = (gx - i0 as f32, gy - j0 as f32);
        let corners = [
            (i0, j0, (1.0 - fx) * (1.0 - fy)),
            (i1, j0, fx * (1.0 - fy)),
            (i0, j1, (1.0 - fx) * fy),
            (i1, j1, fx * fy),
        ];
        let mut picked: Vec<(usize, f32)> = Vec::with_capacity(4);
        for (i, j, w) in corners {
            if w <= 0.0 {
                continue;
            }
            let idx = (k * ny + j) * nx + i;
            if picked.iter().any(|&(p, _)| p == idx) {
                continue;
            }
            let centre = f.lo
                + f.cell * Vec3::new(i as f32 + 0.5, j as f32 + 0.5, 0.0)
                + Vec3::Z * (listener.z - f.lo.z);
            if self.mesh.bvh.visible(listener, centre, 1e-4) {
                picked.push((idx, w));
            }
        }
        if picked.is_empty() {
            let i = (rel.x.floor() as usize).min(nx - 1);
            let j = (rel.y.floor() as usize).min(ny - 1);
            picked.push(((k * ny + j) * nx + i, 1.0));
        }
        let wsum: f32 = picked.iter().map(|p| p.1).sum();
        let len = picked
            .iter()
            .map(|&(c, _)| f.cells[c].len())
            .max()
            .unwrap_or(0);
        let mut bins = vec![[0.0f32; NUM_BANDS]; len];
        for &(c, w) in &picked {
            let w = w / wsum;
            for (dst, src) in bins.iter_mut().zip(&f.cells[c]) {
                for b in 0..NUM_BANDS {
                    dst[b] += w * src[b];
                }
            }
        }
        Some(EnergyHistogram {
            bin_s: self.cfg.bin_s,
            bins,
        })
    }
}
