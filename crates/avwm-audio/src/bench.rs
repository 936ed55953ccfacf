//! The shoebox benchmark of `avwm bench sim`: avwm's hybrid RIR (image sources to order 10 and a
//! ray-traced late tail) for the acoustics.md anchor room, against pyroomacoustics on the same
//! room in the same run when Python has it.

use crate::AudioError;
use crate::binaural::{Hrtf, RenderConfig, render_binaural, render_omni};
use crate::error::Result;
use crate::propagation::AcousticsConfig;
use crate::propagation::shoebox::ShoeboxRoom;
use avwm_core::{NUM_BANDS, Seed};
use avwm_geom::Vec3;
use serde::Serialize;
use std::time::Instant;

/// The pyroomacoustics reference script (`scripts/bench_pyroomacoustics.py`), embedded so that
/// the binary runs it from anywhere.
const PRA_SCRIPT: &str = include_str!("../../../scripts/bench_pyroomacoustics.py");

/// `avwm bench sim`'s shoebox result (the acoustics.md anchor room).
#[derive(Debug, Clone, Serialize)]
pub struct ShoeboxBench {
    /// Room size (m).
    pub room_m: [f32; 3],
    /// Image-source order.
    pub ism_order: usize,
    /// Rays of the late tail.
    pub late_rays: usize,
    /// Early paths found.
    pub paths: usize,
    /// Samples of the longest RIR.
    pub rir_samples: usize,
    /// Propagation only: image sources to order 10 + ray-traced late histogram (ms, median).
    pub propagation_ms: f64,
    /// Propagation + omnidirectional RIR waveform for two microphones, what pyroomacoustics'
    /// `compute_rir` produces in the reference script (ms, median).
    pub hybrid_omni_2mic_ms: f64,
    /// Propagation + binaural (KEMAR) RIR waveform (ms, median).
    pub hybrid_binaural_ms: f64,
    /// The target of the hybrid RIR (ms).
    pub target_ms: f64,
    /// pyroomacoustics' median for the same room (ms), when Python and the package are present.
    pub pyroomacoustics_median_ms: Option<f64>,
    /// pyroomacoustics time / avwm `hybrid_omni_2mic_ms` (same machine, same run).
    pub speedup_vs_pyroomacoustics: Option<f64>,
}

/// Times the hybrid RIR of the 6 × 5 × 3 m shoebox on one core: propagation alone, with the
/// omnidirectional waveforms of two microphones (what pyroomacoustics' `compute_rir` produces),
/// and with a binaural (KEMAR) waveform; medians over `reps` rounds after one warm-up round.
/// With `reference`, also times pyroomacoustics on the same room ([`pyroomacoustics_ms`]).
///
/// # Errors
/// The KEMAR HRTF cannot be loaded; a thread pool cannot be started; propagation fails.
pub fn shoebox_bench(reps: usize, reference: bool) -> Result<ShoeboxBench> {
    // The acoustics.md anchor, with pyroomacoustics 0.10.1's own material tables (first six octave
    // bands, 125 Hz … 4 kHz) so that both engines simulate the same room.
    let plasterboard = [0.15, 0.10, 0.06, 0.04, 0.04, 0.05];
    let glass = [0.10, 0.05, 0.04, 0.03, 0.03, 0.03];
    let wood_door = [0.14, 0.10, 0.06, 0.08, 0.10, 0.10];
    let carpet = [0.07, 0.31, 0.49, 0.81, 0.66, 0.54];
    let ceiling = [0.20, 0.15, 0.10, 0.08, 0.04, 0.02];
    let room = ShoeboxRoom {
        size: Vec3::new(6.0, 5.0, 3.0),
        absorption: [
            plasterboard,
            plasterboard,
            wood_door,
            glass,
            carpet,
            ceiling,
        ], // west, east, south, north (pyroomacoustics names)
        scattering: [[0.1; NUM_BANDS]; 6],
    };
    let cfg = AcousticsConfig::default();
    let hrtf = Hrtf::kemar_default()?;
    let rcfg = RenderConfig::default();
    let (src, lis) = (Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| AudioError::Threads(e.to_string()))?;
    let (mut prop, mut omni, mut bin) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = (0, 0);
    let lis2 = lis + Vec3::new(0.0, 0.18, 0.0);
    pool.install(|| -> Result<()> {
        for i in 0..reps.max(1) + 1 {
            let seed = Seed(i as u64);
            let t = Instant::now();
            let resp = room.response(src, lis, &cfg, seed)?;
            let t_prop = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            let h1 = render_omni(&resp, &rcfg, seed);
            let resp2 = room.response(src, lis2, &cfg, seed.derive("mic2", 0))?;
            let h2 = render_omni(&resp2, &rcfg, seed.derive("mic2", 0));
            let t_omni = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            let rir = render_binaural(&resp, 0.0, &hrtf, &rcfg, seed);
            let t_bin = t.elapsed().as_secs_f64() * 1e3;
            // The first round warms caches (FFT plans, noise bank).
            if i > 0 {
                prop.push(t_prop);
                // Two microphones: two propagations and two waveforms.
                omni.push(t_prop + t_omni);
                bin.push(t_prop + t_bin);
            }
            last = (resp.paths.len(), rir.len().max(h1.len()).max(h2.len()));
        }
        Ok(())
    })?;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (prop, omni, bin) = (median(&mut prop), median(&mut omni), median(&mut bin));
    let pra = if reference {
        pyroomacoustics_ms()
    } else {
        None
    };
    Ok(ShoeboxBench {
        room_m: [6.0, 5.0, 3.0],
        ism_order: cfg.shoebox_ism_order,
        late_rays: cfg.receiver_rays,
        paths: last.0,
        rir_samples: last.1,
        propagation_ms: prop,
        hybrid_omni_2mic_ms: omni,
        hybrid_binaural_ms: bin,
        target_ms: 10.0,
        pyroomacoustics_median_ms: pra,
        speedup_vs_pyroomacoustics: pra.map(|p| p / omni),
    })
}

/// Runs the embedded pyroomacoustics script with `python3`; `None` if Python or the package is missing.
pub fn pyroomacoustics_ms() -> Option<f64> {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(PRA_SCRIPT)
        .arg("5")
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    if v.get("available")?.as_bool()? {
        v.get("median_ms")?.as_f64()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shoebox_bench_times_a_full_response() {
        let b = super::shoebox_bench(1, false).unwrap();
        assert_eq!(b.room_m, [6.0, 5.0, 3.0]);
        assert!(b.paths > 100, "order-10 image sources: {} paths", b.paths);
        // A 2 s response at 16 kHz, at least.
        assert!(b.rir_samples >= 16_000, "{} samples", b.rir_samples);
        assert!(b.propagation_ms > 0.0);
        assert!(b.hybrid_omni_2mic_ms >= b.propagation_ms);
        assert!(b.hybrid_binaural_ms >= b.propagation_ms);
        assert!(b.pyroomacoustics_median_ms.is_none() && b.speedup_vs_pyroomacoustics.is_none());
    }
}
