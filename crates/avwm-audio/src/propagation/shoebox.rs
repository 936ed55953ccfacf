//! Analytic shoebox (rectangular room) model: every image source to a given order (no
//! visibility test is needed in a convex box) plus the ray-traced late tail through an analytic
//! ray–box intersection. Used to compare with other simulators (pyroomacoustics' `ShoeBox`) and to
//! check the generic mesh engine against an exact answer ([`ShoeboxRoom::to_scene`]).

use super::config::AcousticsConfig;
use super::geometry::{SurfaceCoeffs, SurfaceHit, TraceGeometry};
use super::tracer::{self, ReceiverGrid, TraceParams};
use crate::error::AudioError;
use crate::paths::{AcousticResponse, EnergyHistogram, PathKind, PropagationPath};
use avwm_core::{Bands, NUM_BANDS, SPEED_OF_SOUND_M_S, Seed};
use avwm_geom::TriMesh;
use avwm_scene::{
    AcousticMaterial, Light, Material, Room, Scene, SceneOrigin, SoundSource, material_library,
};
use glam::{Vec2, Vec3};
use serde::{Deserialize, Serialize};

/// Wall order used by [`ShoeboxRoom`]: `-x, +x, -y, +y, floor (-z), ceiling (+z)`.
pub const WALL_NAMES: [&str; 6] = [
    "wall_-x", "wall_+x", "wall_-y", "wall_+y", "floor", "ceiling",
];

/// A rectangular room `[0, size.x] × [0, size.y] × [0, size.z]` (m) with one material per wall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShoeboxRoom {
    /// Interior dimensions (m).
    pub size: Vec3,
    /// Energy absorption per band of the walls, in [`WALL_NAMES`] order.
    pub absorption: [Bands; 6],
    /// Scattering per band of the walls, in [`WALL_NAMES`] order.
    pub scattering: [Bands; 6],
}

impl ShoeboxRoom {
    /// A room with the same absorption and scattering on every wall and band.
    pub fn uniform(size: Vec3, absorption: f32, scattering: f32) -> ShoeboxRoom {
        ShoeboxRoom {
            size,
            absorption: [[absorption; NUM_BANDS]; 6],
            scattering: [[scattering; NUM_BANDS]; 6],
        }
    }

    /// Interior volume (m³).
    pub fn volume_m3(&self) -> f32 {
        self.size.x * self.size.y * self.size.z
    }

    /// Area of wall `w` (m²), in [`WALL_NAMES`] order.
    pub fn wall_area_m2(&self, w: usize) -> f32 {
        let s = self.size;
        match w / 2 {
            0 => s.y * s.z,
            1 => s.x * s.z,
            _ => s.x * s.y,
        }
    }

    /// Eyring's reverberation time (s) per band, `T = 0.161·V / (−S·ln(1−ᾱ))` with the
    /// area-weighted mean absorption ᾱ (no air absorption).
    pub fn eyring_rt60_s(&self) -> Bands {
        let area: f32 = (0..6).map(|w| self.wall_area_m2(w)).sum();
        std::array::from_fn(|b| {
            let mean = (0..6)
                .map(|w| self.wall_area_m2(w) * self.absorption[w][b])
                .sum::<f32>()
                / area;
            0.161 * self.volume_m3() / (-area * (1.0 - mean).ln())
        })
    }

    fn validate(&self, source: Vec3, listener: Vec3) -> Result<(), AudioError> {
        if !(self.size.is_finite() && self.size.min_element() > 0.0) {
            return Err(AudioError::Config(
                "shoebox size must be finite and positive".into(),
            ));
        }
        if self
            .absorption
            .iter()
            .chain(&self.scattering)
            .flatten()
            .any(|v| !(0.0..=1.0).contains(v))
        {
            return Err(AudioError::Config(
                "shoebox coefficients must be in [0, 1]".into(),
            ));
        }
        for (p, what) in [(source, "source"), (listener, "listener")] {
            if !(p.is_finite() && p.cmpgt(Vec3::ZERO).all() && p.cmplt(self.size).all()) {
                return Err(AudioError::Config(format!(
                    "shoebox {what} {p} is not strictly inside the room"
                )));
            }
        }
        Ok(())
    }

    /// Image-source paths up to `order` (the direct sound is order 0), all valid in a box.
    ///
    /// Gains: `Π_w (√((1−α_w)(1−s_w)))^{n_w}` per band over the reflections `n_w` on each wall,
    /// divided by the image distance, times air absorption.
    ///
    /// # Errors
    /// [`AudioError::Config`] for a bad room or positions outside it.
    pub fn image_sources(
        &self,
        source: Vec3,
        listener: Vec3,
        order: usize,
        cfg: &AcousticsConfig,
    ) -> Result<Vec<PropagationPath>, AudioError> {
        self.validate(source, listener)?;
        let air = cfg.air_per_m();
        // pow[w][k][b] = β_{w,b}^k.
        let beta: [Bands; 6] = std::array::from_fn(|w| {
            std::array::from_fn(|b| {
                ((1.0 - self.absorption[w][b]) * (1.0 - self.scattering[w][b]))
                    .max(0.0)
                    .sqrt()
            })
        });
        let pow: Vec<Vec<Bands>> = (0..6)
            .map(|w| {
                let mut v = vec![[1.0f32; NUM_BANDS]; order + 1];
                for k in 1..=order {
                    v[k] = std::array::from_fn(|b| v[k - 1][b] * beta[w][b]);
                }
                v
            })
            .collect();
        let o = order as i64;
        let mut out = Vec::new();
        for nx in -o..=o {
            let ry = o - nx.abs();
            for ny in -ry..=ry {
                let rz = ry - ny.abs();
                for nz in -rz..=rz {
                    let n = [nx, ny, nz];
                    let mut img = Vec3::ZERO;
                    let mut gain = [1.0f32; NUM_BANDS];
                    for a in 0..3 {
                        let l = self.size[a];
                        img[a] = if n[a].rem_euclid(2) == 0 {
                            n[a] as f32 * l + source[a]
                        } else {
                            (n[a] + 1) as f32 * l - source[a]
                        };
                        // Reflections on the low (2a) and high (2a+1) wall of this axis.
                        let k = n[a].unsigned_abs() as usize;
                        let (lo_hits, hi_hits) = if n[a] >= 0 {
                            (k / 2, k.div_ceil(2))
                        } else {
                            (k.div_ceil(2), k / 2)
                        };
                        for b in 0..NUM_BANDS {
                            gain[b] *= pow[2 * a][lo_hits][b] * pow[2 * a + 1][hi_hits][b];
                        }
                    }
                    let d = (img - listener).length();
                    for b in 0..NUM_BANDS {
                        gain[b] *= (-0.5 * air[b] * d).exp() / d;
                    }
                    let k = (nx.abs() + ny.abs() + nz.abs()) as u8;
                    out.push(PropagationPath {
                        kind: if k == 0 {
                            PathKind::Direct
                        } else {
                            PathKind::Reflection { order: k }
                        },
                        delay_s: d / SPEED_OF_SOUND_M_S,
                        direction: (img - listener).normalize_or(Vec3::X),
                        gain,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Hybrid response: analytic image sources to `cfg.shoebox_ism_order` plus the ray-traced
    /// tail (`cfg.receiver_rays` rays from the source, single-threaded, seeded from `seed`,
    /// cubic receiver of `cfg.receiver_size_m` around the listener, pyroomacoustics' hybrid rule).
    ///
    /// # Errors
    /// [`AudioError::Config`] for an invalid config, a bad room or positions outside it.
    pub fn response(
        &self,
        source: Vec3,
        listener: Vec3,
        cfg: &AcousticsConfig,
        seed: Seed,
    ) -> Result<AcousticResponse, AudioError> {
        cfg.validate()?;
        let paths = self.image_sources(source, listener, cfg.shoebox_ism_order, cfg)?;
        let geo = BoxGeometry::new(self);
        let nbins = (cfg.max_rir_s / cfg.bin_s).ceil() as usize;
        let size = cfg.receiver_size_m;
        let grid = ReceiverGrid::new(
            listener - Vec3::splat(0.5 * size),
            Vec3::splat(size),
            [1, 1, 1],
            nbins,
            cfg.bin_s,
        );
        let p = TraceParams {
            rays: cfg.receiver_rays,
            max_bounces: cfg.max_bounces,
            cutoff: 10f32.powf(-cfg.energy_cutoff_db / 10.0),
            max_len_m: cfg.max_rir_s * SPEED_OF_SOUND_M_S,
            hybrid_order: cfg.shoebox_ism_order,
            air_per_m: cfg.air_per_m(),
            parallel: false,
        };
        tracer::trace(&geo, source, &grid, &p, seed.derive("shoebox-late", 0));
        let mut bins = grid.histograms(p.rays).pop().unwrap_or_default();
        tracer::smooth_sparse(&mut bins);
        Ok(AcousticResponse {
            paths,
            late: EnergyHistogram {
                bin_s: cfg.bin_s,
                bins,
            },
        })
    }

    /// A closed box [`Scene`] of this room (12 triangles facing inwards, one material per wall
    /// named after [`WALL_NAMES`], transmission 0), with the source at `source`, so that the
    /// generic engine can be checked against the analytic one.
    pub fn to_scene(&self, source: Vec3) -> Scene {
        let s = self.size;
        // Material w is wall w: `push_box`'s face order is WALL_NAMES' order.
        let mut mesh = TriMesh::default();
        mesh.push_box(Vec3::ZERO, self.size, [0, 1, 2, 3, 4, 5], true);
        let visual = material_library()
            .into_iter()
            .find(|m| m.name == "plaster")
            .map(|m| m.visual)
            .expect("the built-in library has plaster");
        let materials = (0..6)
            .map(|w| Material {
                name: WALL_NAMES[w].to_string(),
                visual: visual.clone(),
                acoustic: AcousticMaterial {
                    absorption: self.absorption[w],
                    scattering: self.scattering[w],
                    transmission: [0.0; NUM_BANDS],
                },
            })
            .collect();
        Scene {
            name: "shoebox".into(),
            origin: SceneOrigin::Procedural { seed: 0 },
            mesh,
            materials,
            floor_z: 0.0,
            ceiling_h: s.z,
            source: SoundSource { position: source },
            lights: vec![Light {
                position: Vec3::new(0.5 * s.x, 0.5 * s.y, 0.95 * s.z),
                intensity: [4.0; 3],
            }],
            rooms: vec![Room {
                kind: "shoebox".into(),
                min: Vec2::ZERO,
                max: Vec2::new(s.x, s.y),
            }],
            doors: Vec::new(),
            edges: Vec::new(),
        }
    }
}

/// Analytic ray–box intersection for the late tail (surface id = wall index).
struct BoxGeometry {
    size: Vec3,
    coeffs: [SurfaceCoeffs; 6],
}

impl BoxGeometry {
    fn new(room: &ShoeboxRoom) -> BoxGeometry {
        BoxGeometry {
            size: room.size,
            coeffs: std::array::from_fn(|w| SurfaceCoeffs {
                absorption: room.absorption[w],
                scattering: room.scattering[w],
                transmission: [0.0; NUM_BANDS],
            }),
        }
    }
}

impl TraceGeometry for BoxGeometry {
    #[inline]
    fn closest_hit(&self, origin: Vec3, dir: Vec3, _t_min: f32, t_max: f32) -> Option<SurfaceHit> {
        // Inside a convex box the exit point is the only hit; clamp the origin against round-off.
        let o = origin.clamp(Vec3::ZERO, self.size);
        let mut best = (f32::INFINITY, 0usize);
        let mut axis = |a: usize, d: f32, o: f32, size: f32| {
            let t = if d > 1e-12 {
                (size - o) / d
            } else if d < -1e-12 {
                -o / d
            } else {
                return;
            };
            if t < best.0 {
                best = (t, 2 * a + usize::from(d > 0.0));
            }
        };
        axis(0, dir.x, o.x, self.size.x);
        axis(1, dir.y, o.y, self.size.y);
        axis(2, dir.z, o.z, self.size.z);
        let (t, wall) = best;
        if t > t_max {
            return None;
        }
        let mut normal = Vec3::ZERO;
        normal[wall / 2] = 1.0;
        Some(SurfaceHit {
            t: t.max(0.0),
            normal,
            surface: wall as u32,
        })
    }

    #[inline]
    fn coeffs(&self, id: u32) -> &SurfaceCoeffs {
        &self.coeffs[id as usize]
    }

    fn surface_count(&self) -> usize {
        self.coeffs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_count_and_delays_match_the_closed_form() {
        let room = ShoeboxRoom::uniform(Vec3::new(6.0, 5.0, 3.0), 0.2, 0.1);
        let cfg = AcousticsConfig::default();
        let paths = room
            .image_sources(Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5), 10, &cfg)
            .expect("valid room");
        // Integer points in the 3D L1 ball of radius 10: 1 + Σ_{k=1..10} (4k² + 2) = 1561, the
        // image count pyroomacoustics reports for a ShoeBox at max_order 10 (acoustics.md §1.1).
        let expect: usize = 1 + (1..=10).map(|k| 4 * k * k + 2).sum::<usize>();
        assert_eq!(expect, 1561);
        assert_eq!(paths.len(), expect);
        assert!(
            paths
                .iter()
                .all(|p| p.delay_s > 0.0 && p.gain.iter().all(|g| g.is_finite() && *g > 0.0))
        );
    }
}
