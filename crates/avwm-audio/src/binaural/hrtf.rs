//! Head-related impulse responses: the MIT KEMAR SOFA set (embedded) or a Brown–Duda spherical
//! head, both tabulated on a fixed direction grid so that a lookup costs nanoseconds.
//!
//! Head frame (SOFA convention): **x forward, y left, z up**. Azimuth is counter-clockwise from
//! x (left positive), elevation up from the horizontal plane.
//!
//! SOFA sets are read with `sofar` (resampled on load; the file's per-ear delays applied as
//! whole samples), sampled on the grid with its interpolated lookup, stripped of the delay
//! common to all directions (4 samples kept before the earliest onset) and cut to 8 ms with a
//! 1 ms fade (128 taps at 16 kHz; MIT KEMAR keeps > 99.9 % of its energy).
//!
//! Normalisation (both models): the HRIR pair of the frontal direction has an energy of 1 per
//! ear (mean of the two ears), so a frontal path of pressure amplitude `g` gives each ear an
//! energy of ≈ `g²`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use glam::Vec3;

use crate::dsp::{FRAC_DELAY_HALF, frac_delay_kernel};
use crate::error::AudioError;

/// The vendored MIT KEMAR HRIR set (Gardner & Martin 1994; see `assets/hrtf/NOTICE`).
static KEMAR_SOFA: &[u8] = include_bytes!("../../../../assets/hrtf/MIT_KEMAR_normal_pinna.sofa");

/// Azimuth step of the direction table (degrees).
pub const AZIMUTH_STEP_DEG: f32 = 5.0;
/// Elevation step of the direction table (degrees), from −90° to +90°.
pub const ELEVATION_STEP_DEG: f32 = 10.0;
const N_AZ: usize = 72; // 360 / 5
const N_EL: usize = 19; // −90..=90 step 10

/// Spherical-head radius (m), Brown & Duda (1998).
pub const HEAD_RADIUS_M: f32 = 0.0875;
/// Head-shadow minimum α (Brown & Duda 1998).
const ALPHA_MIN: f32 = 0.1;
/// Angle of the head-shadow minimum (degrees) (Brown & Duda 1998).
const THETA_MIN_DEG: f32 = 150.0;
/// HRIR length of the spherical head (samples at 16 kHz: 4 ms).
const SPHERICAL_LEN_S: f32 = 0.004;

/// Where an [`Hrtf`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HrtfSource {
    /// The embedded MIT KEMAR set.
    KemarEmbedded,
    /// A SOFA file.
    Sofa(PathBuf),
    /// The Brown–Duda spherical-head model.
    SphericalHead,
}

#[derive(Debug)]
struct Table {
    source: HrtfSource,
    sample_rate_hz: u32,
    /// Taps per HRIR.
    len: usize,
    /// `[(el · N_AZ + az) · 2 + ear] · len ..`, ear 0 = left.
    data: Vec<f32>,
}

/// A tabulated HRIR set. Cloning is cheap (the table is shared).
#[derive(Debug, Clone)]
pub struct Hrtf {
    table: Arc<Table>,
}

fn grid_direction(el_i: usize, az_i: usize) -> Vec3 {
    let az = (az_i as f32 * AZIMUTH_STEP_DEG).to_radians();
    let el = (el_i as f32 * ELEVATION_STEP_DEG - 90.0).to_radians();
    Vec3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin())
}

/// Longest head-related impulse response accepted from a SOFA file, in samples at the target
/// rate (0.5 s at 16 kHz; measured HRIRs are 5–30 ms).
const MAX_HRIR_SAMPLES: usize = 8192;

impl Hrtf {
    /// The embedded MIT KEMAR set resampled to `sample_rate_hz`. Parsed once per sample rate
    /// per process (≈ 0.4 s), then shared.
    ///
    /// # Errors
    ///
    /// [`AudioError::BadSofa`] if the embedded file cannot be parsed (it can: this is tested).
    pub fn kemar(sample_rate_hz: u32) -> Result<Hrtf, AudioError> {
        static CACHE: OnceLock<std::sync::Mutex<Vec<Hrtf>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = guard.iter().find(|h| h.sample_rate_hz() == sample_rate_hz) {
            return Ok(h.clone());
        }
        let h = Hrtf::from_sofa_bytes(KEMAR_SOFA, sample_rate_hz, HrtfSource::KemarEmbedded)?;
        guard.push(h.clone());
        Ok(h)
    }

    /// The embedded MIT KEMAR set at 16 kHz (see [`Hrtf::kemar`]).
    ///
    /// # Errors
    ///
    /// As [`Hrtf::kemar`].
    pub fn kemar_default() -> Result<Hrtf, AudioError> {
        Hrtf::kemar(avwm_core::SAMPLE_RATE_HZ)
    }

    /// Loads a SOFA `SimpleFreeFieldHRIR` file, resampled to `sample_rate_hz`.
    ///
    /// # Errors
    ///
    /// [`AudioError::Io`] if the file cannot be read, [`AudioError::BadSofa`] if it cannot be
    /// parsed or holds no usable filters; both name the file.
    pub fn from_sofa(path: impl AsRef<Path>, sample_rate_hz: u32) -> Result<Hrtf, AudioError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| AudioError::Io {
            path: path.to_owned(),
            source,
        })?;
        Hrtf::from_sofa_bytes(&bytes, sample_rate_hz, HrtfSource::Sofa(path.to_owned()))
    }

    /// The SOFA file at `path` (or the embedded KEMAR set if `None`) at 16 kHz; if that fails,
    /// logs a warning and returns the spherical head.
    pub fn load_or_fallback(path: Option<&Path>) -> Hrtf {
        let fs = avwm_core::SAMPLE_RATE_HZ;
        let loaded = match path {
            Some(p) => Hrtf::from_sofa(p, fs),
            None => Hrtf::kemar(fs),
        };
        loaded.unwrap_or_else(|e| {
            log::warn!("{e}; falling back to the Brown–Duda spherical-head HRTF");
            Hrtf::spherical_head(fs)
        })
    }

    fn from_sofa_bytes(
        bytes: &[u8],
        sample_rate_hz: u32,
        source: HrtfSource,
    ) -> Result<Hrtf, AudioError> {
        let name = match &source {
            HrtfSource::Sofa(p) => p.clone(),
            _ => PathBuf::from("<embedded MIT_KEMAR_normal_pinna.sofa>"),
        };
        let bad = |reason: String| AudioError::BadSofa {
            path: name.clone(),
            reason,
        };
        if sample_rate_hz < 1000 {
            return Err(bad(format!("sample rate {sample_rate_hz} Hz too low")));
        }
        check_hdf5_header(bytes).map_err(&bad)?;
        // sofar's parser is young (0.4 panics on some malformed files, e.g. a `File size
        // mismatch` assertion in winnow); make sure a malformed file is an error, never a crash.
        let opened = std::panic::catch_unwind(|| {
            sofar::reader::OpenOptions::new()
                .sample_rate(sample_rate_hz as f32)
                .normalized(false)
                .open_data(bytes)
        })
        .map_err(|_| bad("the SOFA parser panicked on this file".into()))?
        .map_err(|e| bad(e.to_string()))?;
        let len = opened.filter_len();
        if len == 0 || opened.num_measurements() == 0 {
            return Err(bad("no measurements".into()));
        }
        // Head-related responses last milliseconds; a length beyond this is a corrupt dimension
        // (found by avwm-fuzz: a 3-byte mutation declared 87,387 samples and cost 1.5 s).
        if len > MAX_HRIR_SAMPLES {
            return Err(bad(format!(
                "its impulse responses are {len} samples long at {sample_rate_hz} Hz, more than \
                 {MAX_HRIR_SAMPLES}: not a head-related transfer function"
            )));
        }
        let mut filter = sofar::reader::Filter::new(len);
        let mut data = vec![0.0f32; N_EL * N_AZ * 2 * len];
        for el_i in 0..N_EL {
            for az_i in 0..N_AZ {
                let d = grid_direction(el_i, az_i);
                opened.filter(d.x, d.y, d.z, &mut filter);
                // Apply the file's per-ear delays (zero for MIT KEMAR) as whole samples.
                let base = (el_i * N_AZ + az_i) * 2 * len;
                for (ear, (ir, delay_s)) in [
                    (&filter.left, filter.ldelay),
                    (&filter.right, filter.rdelay),
                ]
                .into_iter()
                .enumerate()
                {
                    let shift = (delay_s * sample_rate_hz as f32).round().max(0.0) as usize;
                    let dst = &mut data[base + ear * len..base + (ear + 1) * len];
                    for (i, v) in ir.iter().enumerate() {
                        if i + shift < len {
                            dst[i + shift] = *v;
                        }
                    }
                }
            }
        }
        let (data, len) = compact(data, len, sample_rate_hz);
        let table = Table {
            source,
            sample_rate_hz,
            len,
            data,
        };
        Ok(Hrtf {
            table: Arc::new(finish(table).map_err(bad)?),
        })
    }

    /// The Brown–Duda (1998) spherical-head model at `sample_rate_hz`, for when no SOFA file is
    /// available: Woodworth's per-ear delay (head radius 8.75 cm) and the one-pole/one-zero
    /// head-shadow filter `H(ω, θ) = (1 + jα(θ)ω/2ω₀) / (1 + jω/2ω₀)`, `ω₀ = c/a`,
    /// `α(θ) = (1 + α_min/2) + (1 − α_min/2) cos(θ/θ_min · 180°)`, α_min = 0.1, θ_min = 150°,
    /// discretised with the bilinear transform; θ is the angle between the source direction and
    /// the ear's axis (±y). It models ITD and ILD only (no pinna, so no elevation cues). The
    /// ITD at 90° is (a/c)(1 + π/2) ≈ 656 µs. Each HRIR carries a bulk delay of
    /// a/c + 7 samples so that it is causal.
    pub fn spherical_head(sample_rate_hz: u32) -> Hrtf {
        let fs = sample_rate_hz as f32;
        let c = avwm_core::SPEED_OF_SOUND_M_S;
        let a_over_c = HEAD_RADIUS_M / c;
        let len = ((SPHERICAL_LEN_S * fs).ceil() as usize).max(4 * FRAC_DELAY_HALF);
        let bulk = a_over_c * fs + (FRAC_DELAY_HALF - 1) as f32;
        let w0 = c / HEAD_RADIUS_M;
        let k = 2.0 * fs;
        let mut data = vec![0.0f32; N_EL * N_AZ * 2 * len];
        for el_i in 0..N_EL {
            for az_i in 0..N_AZ {
                let d = grid_direction(el_i, az_i);
                for (ear, axis_y) in [1.0f32, -1.0].into_iter().enumerate() {
                    let theta = (d.y * axis_y).clamp(-1.0, 1.0).acos(); // angle from the ear axis
                    let t = if theta < std::f32::consts::FRAC_PI_2 {
                        -a_over_c * theta.cos()
                    } else {
                        a_over_c * (theta - std::f32::consts::FRAC_PI_2)
                    };
                    let delay = bulk + t * fs;
                    let n0 = delay.floor();
                    let kern = frac_delay_kernel(delay - n0);
                    let mut x = vec![0.0f32; len];
                    for (j, kv) in kern.iter().enumerate() {
                        let idx = n0 as i64 + j as i64 - (FRAC_DELAY_HALF as i64 - 1);
                        if (0..len as i64).contains(&idx) {
                            x[idx as usize] = *kv;
                        }
                    }
                    // Head shadow: H(s) = (2ω₀ + α s)/(2ω₀ + s), s = K(1 − z⁻¹)/(1 + z⁻¹).
                    let alpha = (1.0 + ALPHA_MIN / 2.0)
                        + (1.0 - ALPHA_MIN / 2.0)
                            * (theta.to_degrees() / THETA_MIN_DEG * std::f32::consts::PI).cos();
                    let a0 = 2.0 * w0 + k;
                    let b0 = (2.0 * w0 + alpha * k) / a0;
                    let b1 = (2.0 * w0 - alpha * k) / a0;
                    let a1 = (2.0 * w0 - k) / a0;
                    let base = (el_i * N_AZ + az_i) * 2 * len + ear * len;
                    let (mut x1, mut y1) = (0.0f32, 0.0f32);
                    for (i, xi) in x.iter().enumerate() {
                        let y = b0 * xi + b1 * x1 - a1 * y1;
                        data[base + i] = y;
                        x1 = *xi;
                        y1 = y;
                    }
                }
            }
        }
        let table = Table {
            source: HrtfSource::SphericalHead,
            sample_rate_hz,
            len,
            data,
        };
        Hrtf {
            table: Arc::new(finish(table).expect("the spherical head is finite and non-zero")),
        }
    }

    /// The HRIR pair `(left, right)` for a direction in the head frame (x forward, y left,
    /// z up; need not be normalised), from the nearest entry of the 5° × 10° table. A zero
    /// vector means "front".
    ///
    /// # Example
    ///
    /// ```
    /// use avwm_audio::Hrtf;
    /// use avwm_core::glam::Vec3;
    ///
    /// let hrtf = Hrtf::spherical_head(16_000);
    /// let (left, right) = hrtf.hrir(Vec3::Y); // a source on the left
    /// let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
    /// assert!(energy(left) > 2.0 * energy(right));
    /// ```
    pub fn hrir(&self, direction_in_head_frame: Vec3) -> (&[f32], &[f32]) {
        let (el_i, az_i) = grid_index(direction_in_head_frame);
        let t = &self.table;
        let base = (el_i * N_AZ + az_i) * 2 * t.len;
        (
            &t.data[base..base + t.len],
            &t.data[base + t.len..base + 2 * t.len],
        )
    }

    /// Taps per HRIR.
    pub fn len(&self) -> usize {
        self.table.len
    }

    /// Always `false`; provided for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.table.len == 0
    }

    /// Sample rate (Hz).
    pub fn sample_rate_hz(&self) -> u32 {
        self.table.sample_rate_hz
    }

    /// Where this set came from.
    pub fn source(&self) -> &HrtfSource {
        &self.table.source
    }
}

/// The HDF5 signature (SOFA files are HDF5 files).
const HDF5_SIGNATURE: [u8; 8] = [0x89, b'H', b'D', b'F', b'\r', b'\n', 0x1a, b'\n'];

/// Cheap checks before handing bytes to the SOFA parser: the HDF5 signature at offset 0 and
/// an end-of-file address (from the superblock, versions 0–3) that fits in the data, so that
/// truncated files are reported clearly instead of reaching the parser.
fn check_hdf5_header(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 16 || bytes[..8] != HDF5_SIGNATURE {
        return Err(format!(
            "not an HDF5/SOFA file ({} bytes, no HDF5 signature at offset 0)",
            bytes.len()
        ));
    }
    let read = |at: usize, size: usize| -> Option<u64> {
        let b = bytes.get(at..at + size)?;
        Some(b.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
    };
    let (size_off, base_at) = match bytes[8] {
        0 => (bytes[13] as usize, 24),
        1 => (bytes[13] as usize, 28),
        2 | 3 => (bytes[9] as usize, 12),
        v => return Err(format!("unsupported HDF5 superblock version {v}")),
    };
    if !matches!(size_off, 2 | 4 | 8) {
        return Err(format!("bad HDF5 offset size {size_off}"));
    }
    // v0/v1: base, free-space info, end of file; v2/v3: base, superblock extension, end of file.
    let base = read(base_at, size_off).ok_or("truncated HDF5 superblock")?;
    let eof = read(base_at + 2 * size_off, size_off).ok_or("truncated HDF5 superblock")?;
    let declared = base.saturating_add(eof);
    if declared > bytes.len() as u64 {
        return Err(format!(
            "truncated: the HDF5 header declares {declared} bytes, the file has {}",
            bytes.len()
        ));
    }
    Ok(())
}

/// Table indices `(elevation, azimuth)` of the nearest grid direction.
fn grid_index(d: Vec3) -> (usize, usize) {
    let len = d.length();
    if len.is_nan() || len <= 1e-12 || !len.is_finite() {
        return ((90.0 / ELEVATION_STEP_DEG) as usize, 0);
    }
    let el = (d.z / len).clamp(-1.0, 1.0).asin().to_degrees();
    let az = d.y.atan2(d.x).to_degrees();
    let el_i = (((el + 90.0) / ELEVATION_STEP_DEG).round() as usize).min(N_EL - 1);
    let az_i = ((az / AZIMUTH_STEP_DEG).round() as i64).rem_euclid(N_AZ as i64) as usize;
    (el_i, az_i)
}

/// Maximum HRIR length kept from a SOFA file (s): 8 ms, 128 taps at 16 kHz. MIT KEMAR's
/// 186 taps at 16 kHz hold < 0.1 % of their energy beyond this (measured on the table).
const MAX_SOFA_HRIR_S: f32 = 0.008;
/// Taps of the raised-cosine fade at the end of a shortened HRIR.
const FADE_TAPS: usize = 16;
/// Samples kept before the earliest onset of the table when removing the common bulk delay.
const ONSET_MARGIN: usize = 4;

/// Removes the delay common to all HRIRs of a table (keeping [`ONSET_MARGIN`] samples before
/// the earliest onset, where |h| first exceeds 10 % of its peak) and shortens them to
/// [`MAX_SOFA_HRIR_S`] with a short fade-out. Interaural differences are untouched.
fn compact(data: Vec<f32>, len: usize, sample_rate_hz: u32) -> (Vec<f32>, usize) {
    let n = data.len() / len;
    let mut onset = len;
    for ir in data.chunks_exact(len) {
        let peak = ir.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if peak > 0.0
            && let Some(i) = ir.iter().position(|v| v.abs() > 0.1 * peak)
        {
            onset = onset.min(i);
        }
    }
    let shift = onset.saturating_sub(ONSET_MARGIN).min(len - 1);
    let max_len = ((MAX_SOFA_HRIR_S * sample_rate_hz as f32) as usize).max(2 * FADE_TAPS);
    let new_len = (len - shift).min(max_len);
    let mut out = Vec::with_capacity(n * new_len);
    for ir in data.chunks_exact(len) {
        let start = out.len();
        out.extend_from_slice(&ir[shift..shift + new_len]);
        if new_len < len - shift {
            for k in 0..FADE_TAPS {
                let x = (k + 1) as f32 / (FADE_TAPS + 1) as f32;
                let w = 0.5 * (1.0 + (std::f32::consts::PI * x).cos());
                out[start + new_len - FADE_TAPS + k] *= w;
            }
        }
    }
    (out, new_len)
}

/// Checks the table and normalises it to unit mean frontal energy per ear.
fn finish(mut t: Table) -> Result<Table, String> {
    if t.data.iter().any(|v| !v.is_finite()) {
        return Err("non-finite HRIR samples".into());
    }
    let front = ((90.0 / ELEVATION_STEP_DEG) as usize * N_AZ) * 2 * t.len;
    let e: f32 = t.data[front..front + 2 * t.len]
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        / 2.0;
    if e.is_nan() || e <= 1e-20 {
        return Err("the frontal HRIR is silent".into());
    }
    let g = 1.0 / e.sqrt();
    for v in &mut t.data {
        *v *= g;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdf5_header_check_accepts_kemar_and_rejects_truncations() {
        assert_eq!(check_hdf5_header(KEMAR_SOFA), Ok(()));
        let cut = &KEMAR_SOFA[..KEMAR_SOFA.len() - 1];
        assert!(
            check_hdf5_header(cut)
                .expect_err("truncated")
                .contains("truncated")
        );
        assert!(check_hdf5_header(&KEMAR_SOFA[..30]).is_err());
        assert!(check_hdf5_header(b"RIFF....WAVEfmt ").is_err());
    }

    #[test]
    fn grid_index_maps_axes_to_expected_cells() {
        assert_eq!(grid_index(Vec3::X), (9, 0));
        assert_eq!(grid_index(Vec3::Y), (9, 18)); // left = azimuth +90°
        assert_eq!(grid_index(-Vec3::Y), (9, 54)); // right = azimuth 270°
        assert_eq!(grid_index(-Vec3::X), (9, 36));
        assert_eq!(grid_index(Vec3::Z).0, 18);
        assert_eq!(grid_index(Vec3::ZERO), (9, 0));
    }

    #[test]
    fn spherical_head_frontal_pair_is_symmetric_with_unit_energy() {
        let h = Hrtf::spherical_head(16_000);
        let (l, r) = h.hrir(Vec3::X);
        let el: f32 = l.iter().map(|v| v * v).sum();
        let er: f32 = r.iter().map(|v| v * v).sum();
        assert!((el - er).abs() < 1e-4 && ((el + er) / 2.0 - 1.0).abs() < 1e-4);
    }
}
