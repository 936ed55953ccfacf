//! Stochastic ray tracing of the late tail into volumetric receivers.
//!
//! Rays leave the source uniformly, each carrying energy 1 per band, seeded from
//! `(seed, ray index)`. At each wall the energy is multiplied by `1−α` per band; the ray then
//! either continues specularly (probability `1−s̄`, band energies reweighted by `(1−s_b)/(1−s̄)`)
//! or in a Lambert (cosine) direction (probability `s̄`, reweighted by `s_b/s̄`), where `s̄` is
//! the band mean of the scattering coefficient: an unbiased per-band split of the specular and
//! diffuse energies with one geometric direction per ray.
//!
//! **Receiver estimator.** Instead of pyroomacoustics' receiver sphere with diffuse rain, each
//! ray segment deposits `energy × (length inside the cell)` into every receiver cell it crosses,
//! at the time bin of its arrival (a track-length estimator). With `N` rays the energy per bin is
//! `(4π/N) · Σ E·ℓ / V_cell`: for the free-field direct sound this gives `1/r²`, i.e. the same
//! units as the discrete paths (pressure amplitude 1 at 1 m). It needs no visibility test per
//! receiver, which is what makes a whole grid of receivers affordable.
//!
//! **Hybrid rule** (pyroomacoustics): segments of a ray that has only been reflected
//! specularly, `hybrid_order` times or fewer, are not logged: the direct path and the image
//! sources (whose gains carry `√(1−s)` per reflection) already hold that energy.
//!
//! **Determinism.** Deposits are accumulated as 64-bit fixed-point integers with atomic adds,
//! which commute, so the result is bit-identical for any thread count or schedule.

use super::geometry::{SurfaceCoeffs, TraceGeometry};
use avwm_core::{Bands, NUM_BANDS, SPEED_OF_SOUND_M_S, Seed};
use glam::Vec3;
use rand::Rng;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fixed-point scale of the accumulators: a deposit of energy×length `q` adds `round(q·2^40)`.
const FIXED_SCALE: f64 = (1u64 << 40) as f64;

/// Parameters of one tracing run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceParams {
    /// Number of rays.
    pub rays: usize,
    /// Maximum reflections per ray.
    pub max_bounces: usize,
    /// Linear energy below which a ray stops.
    pub cutoff: f32,
    /// Maximum travelled distance (m).
    pub max_len_m: f32,
    /// Purely specular segments with at most this many reflections are not logged.
    pub hybrid_order: usize,
    /// Air absorption energy coefficients per metre.
    pub air_per_m: Bands,
    /// Trace rays in parallel (rayon).
    pub parallel: bool,
}

/// A regular grid of box-shaped receiver cells, each with a per-band energy histogram.
#[derive(Debug)]
pub(crate) struct ReceiverGrid {
    /// Minimum corner (m).
    pub lo: Vec3,
    /// Cell size per axis (m).
    pub cell: Vec3,
    /// Number of cells per axis.
    pub dims: [usize; 3],
    /// Number of time bins.
    pub nbins: usize,
    /// Bin width (s).
    pub bin_s: f32,
    /// Maximum corner (m).
    hi: Vec3,
    /// Centre of the grid box (m).
    centre: Vec3,
    /// Squared distance (m²) from `centre` beyond which a segment certainly misses the box: the
    /// half-diagonal plus a margin far above rounding, so the test never rejects a real crossing.
    reach_sq: f32,
    acc: Vec<AtomicU64>,
}

impl ReceiverGrid {
    /// A grid covering `[lo, lo + dims·cell]`.
    pub fn new(lo: Vec3, cell: Vec3, dims: [usize; 3], nbins: usize, bin_s: f32) -> ReceiverGrid {
        let n = dims[0] * dims[1] * dims[2] * nbins * NUM_BANDS;
        let hi = lo + cell * Vec3::new(dims[0] as f32, dims[1] as f32, dims[2] as f32);
        let reach = 0.5 * (hi - lo).length() * (1.0 + 1e-3) + 1e-3;
        ReceiverGrid {
            lo,
            cell,
            dims,
            nbins,
            bin_s,
            hi,
            centre: 0.5 * (lo + hi),
            reach_sq: reach * reach,
            acc: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// Linear index of cell `(i, j, k)`.
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        (k * self.dims[1] + j) * self.dims[0] + i
    }

    /// Deposits a segment `p0 + t·dir`, `t ∈ [0, len]`, that started after `d0` metres of
    /// travel, with band energies `e0` at its start and `e1` at its end (linear in between).
    #[cfg(test)]
    fn deposit(&self, p0: Vec3, dir: Vec3, len: f32, d0: f32, e0: &Bands, e1: &Bands) {
        if let Some(range) = self.clip(p0, dir, len) {
            self.deposit_clipped(p0, dir, len, range, d0, e0, e1);
        }
    }

    /// The part `[t0, t1]` of the segment `p0 + t·dir`, `t ∈ [0, len]` (`dir` unit), inside the
    /// grid box.
    #[inline]
    fn clip(&self, p0: Vec3, dir: Vec3, len: f32) -> Option<(f32, f32)> {
        // Cheap rejection first (most tail segments miss a small receiver): the segment's closest
        // approach to the box centre is farther than the box's (padded) half-diagonal.
        let v = self.centre - p0;
        let s = v.dot(dir).clamp(0.0, len);
        if (v - dir * s).length_squared() > self.reach_sq {
            return None;
        }
        // Clip to the grid box (slab method), axis by axis.
        let mut t0 = 0.0f32;
        let mut t1 = len;
        let mut slab = |d: f32, p: f32, lo: f32, hi: f32| -> bool {
            if d.abs() < 1e-12 {
                return !(p < lo || p > hi);
            }
            let inv = 1.0 / d;
            let (mut ta, mut tb) = ((lo - p) * inv, (hi - p) * inv);
            if ta > tb {
                std::mem::swap(&mut ta, &mut tb);
            }
            t0 = t0.max(ta);
            t1 = t1.min(tb);
            true
        };
        if !(slab(dir.x, p0.x, self.lo.x, self.hi.x)
            && slab(dir.y, p0.y, self.lo.y, self.hi.y)
            && slab(dir.z, p0.z, self.lo.z, self.hi.z))
        {
            return None;
        }
        (t0 < t1).then_some((t0, t1))
    }

    /// Deposits the clipped part `range` of a segment (see [`ReceiverGrid::clip`]) that
    /// started after `d0` metres of travel, with band energies `e0` at its start and `e1` at its
    /// end (linear in between).
    #[allow(clippy::too_many_arguments)]
    fn deposit_clipped(
        &self,
        p0: Vec3,
        dir: Vec3,
        len: f32,
        (t0, t1): (f32, f32),
        d0: f32,
        e0: &Bands,
        e1: &Bands,
    ) {
        // Amanatides–Woo traversal.
        let start = p0 + dir * (0.5 * (t0 + t1)).min(t0 + 1e-5);
        let mut idx = [0usize; 3];
        let mut step = [0i64; 3];
        let mut t_max = [f32::INFINITY; 3];
        let mut t_delta = [f32::INFINITY; 3];
        for a in 0..3 {
            let c = ((start[a] - self.lo[a]) / self.cell[a])
                .floor()
                .clamp(0.0, (self.dims[a] - 1) as f32);
            idx[a] = c as usize;
            if dir[a] > 1e-12 {
                step[a] = 1;
                t_max[a] = (self.lo[a] + (c + 1.0) * self.cell[a] - p0[a]) / dir[a];
                t_delta[a] = self.cell[a] / dir[a];
            } else if dir[a] < -1e-12 {
                step[a] = -1;
                t_max[a] = (self.lo[a] + c * self.cell[a] - p0[a]) / dir[a];
                t_delta[a] = -self.cell[a] / dir[a];
            }
        }
        let inv_len = if len > 0.0 { 1.0 / len } else { 0.0 };
        let mut t = t0;
        loop {
            let axis = if t_max[0] <= t_max[1] && t_max[0] <= t_max[2] {
                0
            } else if t_max[1] <= t_max[2] {
                1
            } else {
                2
            };
            let t_next = t_max[axis].min(t1);
            let ell = t_next - t;
            if ell > 0.0 {
                let tm = 0.5 * (t + t_next);
                let bin = ((d0 + tm) / SPEED_OF_SOUND_M_S / self.bin_s) as usize;
                if bin < self.nbins {
                    let w = tm * inv_len;
                    let base = (self.index(idx[0], idx[1], idx[2]) * self.nbins + bin) * NUM_BANDS;
                    for b in 0..NUM_BANDS {
                        let e = e0[b] + (e1[b] - e0[b]) * w;
                        let q = (f64::from(e * ell) * FIXED_SCALE).round() as u64;
                        if q > 0 {
                            self.acc[base + b].fetch_add(q, Ordering::Relaxed);
                        }
                    }
                }
            }
            if t_next >= t1 {
                break;
            }
            let ni = idx[axis] as i64 + step[axis];
            if ni < 0 || ni >= self.dims[axis] as i64 {
                break;
            }
            idx[axis] = ni as usize;
            t = t_next;
            t_max[axis] += t_delta[axis];
        }
    }

    /// Per-cell histograms (energy per bin per band, normalised for `rays` rays), each trimmed
    /// after its last non-zero bin.
    pub fn histograms(&self, rays: usize) -> Vec<Vec<Bands>> {
        let vol = self.cell.x * self.cell.y * self.cell.z;
        let norm = 4.0 * std::f64::consts::PI / (rays as f64 * f64::from(vol) * FIXED_SCALE);
        (0..self.cells())
            .map(|c| {
                let mut h: Vec<Bands> = (0..self.nbins)
                    .map(|bin| {
                        let base = (c * self.nbins + bin) * NUM_BANDS;
                        std::array::from_fn(|b| {
                            (self.acc[base + b].load(Ordering::Relaxed) as f64 * norm) as f32
                        })
                    })
                    .collect();
                while h.last().is_some_and(|e| e.iter().all(|&x| x == 0.0)) {
                    h.pop();
                }
                h
            })
            .collect()
    }
}

/// Half-width (bins) of the density probe and the largest spreading of [`smooth_sparse`].
const SMOOTH_MAX_HALF_BINS: usize = 12;
/// Half-width (bins) of the window in which [`smooth_sparse`] measures density.
const SMOOTH_PROBE_HALF_BINS: usize = 6;

/// Spreads sparse histogram energy over neighbouring bins, conserving energy exactly.
///
/// Far from the source only a few rays reach a receiver, and its histogram is a handful of
/// spikes between empty bins; noise shaped by such an envelope sounds like isolated clicks. Each
/// non-empty bin is spread uniformly over `±h` bins, with `h = round(1/d) − 1` (at most
/// 12 bins, i.e. ±48 ms at 4 ms bins) where `d` is the share of non-empty bins within ±6 bins:
/// dense regions (`d = 1`) are untouched. Nothing is moved before the first non-empty bin, so the
/// histogram stays causal; the histogram may grow by up to 12 bins past its last input bin.
pub(crate) fn smooth_sparse(h: &mut Vec<Bands>) {
    let n = h.len();
    let Some(first) = h.iter().position(|e| e.iter().any(|&x| x > 0.0)) else {
        return;
    };
    let nonzero: Vec<bool> = h.iter().map(|e| e.iter().any(|&x| x > 0.0)).collect();
    let mut out = vec![[0.0f32; NUM_BANDS]; n + SMOOTH_MAX_HALF_BINS];
    for i in first..n {
        if !nonzero[i] {
            continue;
        }
        let (lo, hi) = (
            i.saturating_sub(SMOOTH_PROBE_HALF_BINS),
            (i + SMOOTH_PROBE_HALF_BINS).min(n - 1),
        );
        let count = nonzero[lo..=hi].iter().filter(|&&z| z).count();
        let density = count as f32 / (hi - lo + 1) as f32;
        let half = ((1.0 / density).round() as usize)
            .saturating_sub(1)
            .min(SMOOTH_MAX_HALF_BINS);
        let (a, b) = (i.saturating_sub(half).max(first), i + half);
        let w = 1.0 / (b - a + 1) as f32;
        for o in &mut out[a..=b] {
            for (x, e) in o.iter_mut().zip(h[i]) {
                *x += e * w;
            }
        }
    }
    while out.last().is_some_and(|e| e.iter().all(|&x| x == 0.0)) {
        out.pop();
    }
    *h = out;
}

/// A uniformly distributed unit vector.
fn uniform_sphere(rng: &mut impl Rng) -> Vec3 {
    let z: f32 = rng.random_range(-1.0..1.0);
    let phi: f32 = rng.random_range(0.0..std::f32::consts::TAU);
    let r = (1.0 - z * z).max(0.0).sqrt();
    Vec3::new(r * phi.cos(), r * phi.sin(), z)
}

/// A cosine-distributed direction around the unit normal `n`.
fn lambert(rng: &mut impl Rng, n: Vec3) -> Vec3 {
    let u1: f32 = rng.random();
    let u2: f32 = rng.random_range(0.0..std::f32::consts::TAU);
    let r = u1.sqrt();
    let (t, b) = n.any_orthonormal_pair();
    (t * (r * u2.cos()) + b * (r * u2.sin()) + n * (1.0 - u1).max(0.0).sqrt()).normalize_or(n)
}

/// Per-surface reflection factors, precomputed once per trace with exactly the arithmetic of
/// the per-bounce update they replace (so results are bit-identical).
struct SurfaceFactors {
    /// Band mean of the scattering coefficient.
    s_mean: f32,
    /// `(1−α)·s/s̄` per band (diffuse bounce).
    diffuse: Bands,
    /// `(1−α)·(1−s)/(1−s̄)` per band (specular bounce).
    specular: Bands,
}

impl SurfaceFactors {
    fn new(c: &SurfaceCoeffs) -> SurfaceFactors {
        let s_mean = c.scattering.iter().sum::<f32>() / NUM_BANDS as f32;
        SurfaceFactors {
            s_mean,
            diffuse: std::array::from_fn(|b| (1.0 - c.absorption[b]) * (c.scattering[b] / s_mean)),
            specular: std::array::from_fn(|b| {
                (1.0 - c.absorption[b]) * ((1.0 - c.scattering[b]) / (1.0 - s_mean))
            }),
        }
    }
}

/// Everything [`trace_ray`] needs besides the geometry, prepared once per trace.
struct Prepared<'a> {
    grid: &'a ReceiverGrid,
    p: &'a TraceParams,
    factors: Vec<SurfaceFactors>,
    /// Bands by increasing air absorption: the order in which the stopping test looks for a band
    /// still above the cutoff (usually the first one is).
    band_order: [usize; NUM_BANDS],
}

/// Traces `p.rays` rays from `source` and accumulates them into `grid`.
pub(crate) fn trace<G: TraceGeometry>(
    geo: &G,
    source: Vec3,
    grid: &ReceiverGrid,
    p: &TraceParams,
    seed: Seed,
) {
    let mut band_order: [usize; NUM_BANDS] = std::array::from_fn(|b| b);
    band_order.sort_by(|&a, &b| p.air_per_m[a].total_cmp(&p.air_per_m[b]));
    let prep = Prepared {
        grid,
        p,
        factors: (0..geo.surface_count())
            .map(|id| SurfaceFactors::new(geo.coeffs(id as u32)))
            .collect(),
        band_order,
    };
    let one = |i: usize| trace_ray(geo, source, &prep, seed.derive("late-ray", i as u64));
    if p.parallel {
        (0..p.rays).into_par_iter().for_each(one);
    } else {
        (0..p.rays).for_each(one);
    }
}

fn trace_ray<G: TraceGeometry>(geo: &G, source: Vec3, prep: &Prepared<'_>, seed: Seed) {
    const EPS: f32 = 1e-4;
    let (grid, p) = (prep.grid, prep.p);
    let mut rng = seed.rng();
    let mut dir = uniform_sphere(&mut rng);
    let mut origin = source;
    let mut energy = [1.0f32; NUM_BANDS];
    let mut travelled = 0.0f32;
    let mut specular_only = true;
    let mut t_min = 0.0;
    // Air absorption is evaluated lazily: only for segments that reach the receivers, and for
    // the stopping test every 4th reflection (a ray may thus run up to 3 reflections past the cutoff).
    let air = |d: f32| -> Bands { std::array::from_fn(|b| (-p.air_per_m[b] * d).exp()) };
    for bounce in 0..=p.max_bounces {
        let remaining = p.max_len_m - travelled;
        if remaining <= 0.0 {
            break;
        }
        let hit = geo.closest_hit(origin, dir, t_min, remaining);
        let seg = hit.map_or(remaining, |h| h.t);
        if !(specular_only && bounce <= p.hybrid_order)
            && let Some(range) = grid.clip(origin, dir, seg)
        {
            let (air0, air1) = (air(travelled), air(travelled + seg));
            let e0: Bands = std::array::from_fn(|b| energy[b] * air0[b]);
            let e1: Bands = std::array::from_fn(|b| energy[b] * air1[b]);
            grid.deposit_clipped(origin, dir, seg, range, travelled, &e0, &e1);
        }
        let Some(hit) = hit else { break };
        travelled += seg;
        origin += dir * seg;
        let f = &prep.factors[hit.surface as usize];
        let n = if hit.normal.dot(dir) > 0.0 {
            -hit.normal
        } else {
            hit.normal
        };
        let diffuse = f.s_mean > 0.0 && rng.random::<f32>() < f.s_mean;
        let factor = if diffuse { &f.diffuse } else { &f.specular };
        for (e, x) in energy.iter_mut().zip(factor) {
            *e *= x;
        }
        if diffuse {
            dir = lambert(&mut rng, n);
            specular_only = false;
        } else {
            dir = (dir - 2.0 * dir.dot(n) * n).normalize_or(n);
        }
        // Stop when every band, with air absorption, is below the cutoff. A band whose energy is
        // already below it needs no exponential (the attenuation is at most 1).
        if bounce % 4 == 3
            && !prep.band_order.iter().any(|&b| {
                energy[b] >= p.cutoff && energy[b] * (-p.air_per_m[b] * travelled).exp() >= p.cutoff
            })
        {
            break;
        }
        t_min = EPS;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_length_estimator_gives_inverse_square_law_in_free_field() {
        // Deposit the free-field direct sound of N uniform rays into one receiver cell at
        // distance r: it must integrate to 1/r² (the paths' normalisation), in the bin r/c.
        let rays = 200_000;
        for r in [2.0f32, 4.0] {
            let size = 0.8;
            let lo = Vec3::new(r - size / 2.0, -size / 2.0, -size / 2.0);
            let grid = ReceiverGrid::new(lo, Vec3::splat(size), [1, 1, 1], 100, 0.004);
            let mut rng = Seed(3).rng();
            for _ in 0..rays {
                let d = uniform_sphere(&mut rng);
                grid.deposit(Vec3::ZERO, d, 10.0, 0.0, &[1.0; 6], &[1.0; 6]);
            }
            let h = grid.histograms(rays);
            let total: f32 = h[0].iter().map(|e| e[0]).sum();
            let expect = 1.0 / (r * r);
            assert!(
                (total / expect - 1.0).abs() < 0.05,
                "r {r}: {total} vs {expect}"
            );
            let peak = h[0]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1[0].total_cmp(&b.1[0]))
                .map_or(0, |(i, _)| i);
            assert_eq!(peak, (r / SPEED_OF_SOUND_M_S / 0.004) as usize);
        }
    }

    #[test]
    fn sparse_smoothing_conserves_energy_stays_causal_and_leaves_dense_histograms_alone() {
        let mut sparse = vec![[0.0f32; NUM_BANDS]; 100];
        for (i, e) in [(20usize, 1.0f32), (33, 2.0), (60, 0.5), (99, 0.25)] {
            sparse[i] = [e; NUM_BANDS];
        }
        let total = |h: &[Bands]| h.iter().map(|e| f64::from(e[3])).sum::<f64>();
        let before = total(&sparse);
        let mut s = sparse.clone();
        smooth_sparse(&mut s);
        assert!((total(&s) - before).abs() < 1e-6);
        assert!(
            s[..20].iter().all(|e| e[0] == 0.0),
            "energy moved before the first arrival"
        );
        assert!(
            s.iter().map(|e| e[0]).fold(0.0, f32::max) < 0.5,
            "spikes were not spread"
        );
        let dense: Vec<Bands> = (0..80).map(|i| [1.0 + (i % 3) as f32; NUM_BANDS]).collect();
        let mut d = dense.clone();
        smooth_sparse(&mut d);
        assert_eq!(d, dense);
    }

    #[test]
    fn grid_traversal_deposits_the_full_segment_length() {
        // A segment crossing a 4×3×2 grid diagonally: the sum over cells of ℓ equals the clipped length.
        let grid = ReceiverGrid::new(Vec3::ZERO, Vec3::splat(0.5), [4, 3, 2], 10, 1.0);
        let p0 = Vec3::new(-0.3, 0.1, 0.2);
        let p1 = Vec3::new(2.5, 1.4, 0.9);
        let dir = (p1 - p0).normalize();
        grid.deposit(p0, dir, (p1 - p0).length(), 0.0, &[1.0; 6], &[1.0; 6]);
        let h = grid.histograms(1);
        // Undo the normalisation 4π/(N·V).
        let v = 0.125f32;
        let sum: f32 =
            h.iter().flatten().map(|e| e[0]).sum::<f32>() * v / (4.0 * std::f32::consts::PI);
        // Entry at x = 0 (t = 0.3/|dx|·len), exit at x = 2.0.
        let t_in = 0.3 / dir.x;
        let t_out = 2.3 / dir.x;
        assert!(
            (sum - (t_out - t_in)).abs() < 1e-4,
            "{sum} vs {}",
            t_out - t_in
        );
    }
}
