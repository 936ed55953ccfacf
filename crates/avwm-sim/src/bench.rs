//! `avwm bench sim`: simulator throughput per core, with per-stage timings.

use crate::SimConfig;
use crate::policy::{Policy, PolicyKind};
use crate::sim::{SimError, Simulator, StepTimings};
use avwm_core::{Env, EpisodeSpec, Seed};
use avwm_scene::Scene;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Result of [`bench_sim`].
#[derive(Debug, Clone, Serialize)]
pub struct SimBenchReport {
    /// Scene name.
    pub scene: String,
    /// Triangles in the scene.
    pub triangles: usize,
    /// Image size (px).
    pub image: [u32; 2],
    /// Simulator construction (BVH, navigation grid, acoustic precomputation, HRTF) (s).
    pub setup_s: f64,
    /// Timed steps.
    pub steps: usize,
    /// Threads used for the timed run.
    pub threads: usize,
    /// Full steps per second (render + fresh propagation + binaural + step audio + motion).
    pub steps_per_s: f64,
    /// Mean time per step (ms).
    pub ms_per_step: f64,
    /// Mean per-stage time per step (ms).
    pub stage_ms: StageMs,
}

/// Mean per-stage milliseconds per step.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StageMs {
    /// Motion and geodesic lookup.
    pub nav: f64,
    /// Camera.
    pub render: f64,
    /// Propagation.
    pub propagation: f64,
    /// Binaural RIR synthesis.
    pub binaural: f64,
    /// Step audio convolution + crossfade.
    pub step_audio: f64,
}

impl StageMs {
    fn from(t: &StepTimings, n: usize) -> StageMs {
        let k = 1000.0 / n.max(1) as f64;
        StageMs {
            nav: t.nav_s * k,
            render: t.render_s * k,
            propagation: t.propagation_s * k,
            binaural: t.binaural_s * k,
            step_audio: t.step_audio_s * k,
        }
    }
}

/// Runs `steps` random-policy steps on `threads` threads with the propagation cache **off**, so
/// that every step computes a fresh acoustic response, as the target demands.
///
/// # Errors
/// Simulator construction or stepping failures; a thread pool that cannot be started.
pub fn bench_sim(
    scene: Arc<Scene>,
    cfg: &SimConfig,
    steps: usize,
    threads: usize,
) -> Result<SimBenchReport, SimError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| SimError::Threads(e.to_string()))?;
    pool.install(|| {
        let t0 = Instant::now();
        let mut sim = Simulator::new(scene.clone(), cfg)?;
        let setup_s = t0.elapsed().as_secs_f64();
        sim.cache_enabled = false;
        let seed = Seed(cfg.acoustic_seed).derive("bench", 0);
        let mut episode = 0u64;
        let reset = |sim: &mut Simulator, episode: &mut u64| -> Result<Policy, SimError> {
            let s = seed.derive("episode", *episode);
            *episode += 1;
            sim.reset(&EpisodeSpec {
                seed: s,
                start: sim.random_start(s),
            })?;
            Ok(Policy::new(PolicyKind::Random, s))
        };
        let mut policy = reset(&mut sim, &mut episode)?;
        // Warm-up (caches, page faults), then time.
        for _ in 0..5 {
            let pose = sim.state().map(|s| s.pose).ok_or(SimError::NotReset)?;
            let a = policy.act(&sim, pose);
            if sim.step(a)?.done {
                policy = reset(&mut sim, &mut episode)?;
            }
        }
        sim.take_timings();
        let t = Instant::now();
        for _ in 0..steps {
            let pose = sim.state().map(|s| s.pose).ok_or(SimError::NotReset)?;
            let a = policy.act(&sim, pose);
            if sim.step(a)?.done {
                policy = reset(&mut sim, &mut episode)?;
            }
        }
        let wall = t.elapsed().as_secs_f64();
        let timings = sim.take_timings();
        Ok(SimBenchReport {
            scene: scene.name.clone(),
            triangles: scene.mesh.len(),
            image: [cfg.camera.width, cfg.camera.height],
            setup_s,
            steps,
            threads: threads.max(1),
            steps_per_s: steps as f64 / wall,
            ms_per_step: wall * 1000.0 / steps.max(1) as f64,
            stage_ms: StageMs::from(&timings, timings.observations as usize),
        })
    })
}
