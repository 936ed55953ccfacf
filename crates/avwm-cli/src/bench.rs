//! `avwm bench …`: throughput measurements written as JSON.

use crate::common::{Preset, sim_config, write_json};
use anyhow::{Context, Result};
use avwm_audio::binaural::{Hrtf, RenderConfig, render_binaural};
use avwm_audio::propagation::AcousticsConfig;
use avwm_audio::propagation::shoebox::ShoeboxRoom;
use avwm_core::{NUM_BANDS, Seed};
use avwm_geom::Vec3;
use avwm_sim::SimConfig;
use avwm_sim::bench::{SimBenchReport, bench_sim};
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The pyroomacoustics reference script, embedded so the binary runs it from anywhere.
const PRA_SCRIPT: &str = include_str!("../../../scripts/bench_pyroomacoustics.py");

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Simulator steps/s per core (render 128² + fresh propagation + binaural RIR + step audio), per-stage
    /// timings, and the 6×5×3 m shoebox hybrid RIR against pyroomacoustics (when installed).
    Sim {
        /// Timed steps per measurement.
        #[arg(long, default_value_t = 200)]
        steps: usize,
        /// Procedural scene seed.
        #[arg(long, default_value_t = 0)]
        scene_seed: u64,
        /// Simulator settings (TOML); defaults if omitted.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Shoebox RIR repetitions.
        #[arg(long, default_value_t = 20)]
        shoebox_reps: usize,
        /// Skip the pyroomacoustics reference.
        #[arg(long)]
        no_reference: bool,
        /// Settings preset (overridden by --config).
        #[arg(long, value_enum, default_value = "default")]
        preset: Preset,
        /// JSON output file.
        #[arg(long, default_value = "bench-sim.json")]
        out: PathBuf,
    },
}

#[derive(Debug, Serialize)]
struct ShoeboxBench {
    room_m: [f32; 3],
    ism_order: usize,
    late_rays: usize,
    paths: usize,
    rir_samples: usize,
    /// Propagation (ISM + ray tracing) + binaural synthesis, per RIR (ms).
    median_ms: f64,
    min_ms: f64,
    target_ms: f64,
    pyroomacoustics_median_ms: Option<f64>,
    /// pyroomacoustics time / avwm time (same machine, same run).
    speedup_vs_pyroomacoustics: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    sim_one_core: SimBenchReport,
    sim_all_cores: SimBenchReport,
    target_steps_per_s_per_core: f64,
    shoebox: ShoeboxBench,
}

fn shoebox_bench(reps: usize, reference: bool) -> Result<ShoeboxBench> {
    // The acoustics.md anchor: ceiling plasterboard, carpet floor, plasterboard/glass/wood walls,
    // scattering 0.1 (absorption per octave band 125 Hz … 4 kHz from the pyroomacoustics tables).
    let plasterboard = [0.15, 0.10, 0.06, 0.04, 0.04, 0.05];
    let glass = [0.35, 0.25, 0.18, 0.12, 0.07, 0.04];
    let wood_door = [0.14, 0.10, 0.06, 0.08, 0.10, 0.10];
    let carpet = [0.02, 0.04, 0.08, 0.20, 0.35, 0.40];
    let ceiling = [0.29, 0.10, 0.05, 0.04, 0.07, 0.09];
    let room = ShoeboxRoom {
        size: Vec3::new(6.0, 5.0, 3.0),
        absorption: [plasterboard, plasterboard, glass, wood_door, carpet, ceiling],
        scattering: [[0.1; NUM_BANDS]; 6],
    };
    let cfg = AcousticsConfig::default();
    let hrtf = Hrtf::kemar_default().context("loading the KEMAR HRTF")?;
    let rcfg = RenderConfig::default();
    let (src, lis) = (Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().context("thread pool")?;
    let mut times = Vec::new();
    let mut last = None;
    pool.install(|| -> Result<()> {
        for i in 0..reps.max(1) + 1 {
            let t = Instant::now();
            let resp = room.response(src, lis, &cfg, Seed(i as u64))?;
            let rir = render_binaural(&resp, 0.0, &hrtf, &rcfg, Seed(i as u64));
            let ms = t.elapsed().as_secs_f64() * 1e3;
            if i > 0 {
                times.push(ms); // the first run warms caches
            }
            last = Some((resp.paths.len(), rir.len()));
        }
        Ok(())
    })?;
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let pra = if reference { pyroomacoustics_ms() } else { None };
    let (paths, rir_samples) = last.unwrap_or_default();
    Ok(ShoeboxBench {
        room_m: [6.0, 5.0, 3.0],
        ism_order: cfg.shoebox_ism_order,
        late_rays: cfg.receiver_rays,
        paths,
        rir_samples,
        median_ms: median,
        min_ms: times[0],
        target_ms: 10.0,
        pyroomacoustics_median_ms: pra,
        speedup_vs_pyroomacoustics: pra.map(|p| p / median),
    })
}

/// Runs the embedded pyroomacoustics script with `python3`; `None` if Python or the package is missing.
fn pyroomacoustics_ms() -> Option<f64> {
    let out = std::process::Command::new("python3").arg("-c").arg(PRA_SCRIPT).arg("5").output().ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    if v.get("available")?.as_bool()? { v.get("median_ms")?.as_f64() } else { None }
}

pub fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Sim { steps, scene_seed, config, shoebox_reps, no_reference, preset, out } => {
            let cfg: SimConfig = sim_config(config.as_deref(), preset)?;
            let scene = crate::common::load_scene(None, scene_seed, preset)?;
            eprintln!("bench: simulator on one core ({steps} steps)…");
            let one = bench_sim(scene.clone(), &cfg, steps, 1).context("simulator benchmark (1 thread)")?;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            eprintln!("bench: simulator on {cores} threads…");
            let all = bench_sim(scene, &cfg, steps, cores).context("simulator benchmark (all threads)")?;
            eprintln!("bench: shoebox hybrid RIR…");
            let shoebox = shoebox_bench(shoebox_reps, !no_reference)?;
            let report = Report { sim_one_core: one, sim_all_cores: all, target_steps_per_s_per_core: 200.0, shoebox };
            write_json(&out, &report)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
    }
}
