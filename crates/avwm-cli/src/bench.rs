//! `avwm bench …`: throughput measurements written as JSON.

use crate::common::{Preset, progress, sim_config, write_json};
use anyhow::{Context, Result};
use avwm_audio::binaural::{Hrtf, RenderConfig, render_binaural, render_omni};
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
    /// AV-CDiT training step time and model FLOP utilisation (model FLOP/s over the FLOP/s of a
    /// 2048² matrix product measured in the same run on the same threads; target ≥ 0.5).
    Train {
        #[command(flatten)]
        arch: crate::model::ArchArgs,
        /// Contexts per batch (×4 targets; default: the preset's).
        #[arg(long)]
        contexts: Option<usize>,
        /// Timed steps (after 2 warm-up steps).
        #[arg(long, default_value_t = 5)]
        steps: usize,
        /// libtorch threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// JSON output file.
        #[arg(long, default_value = "bench-train.json")]
        out: PathBuf,
    },
    /// The navigation agent: training frames/s end to end (native small render and downsampled
    /// 128²; target ≥ 600), how well the native render matches the downsampled one (PSNR), and
    /// the seconds of one planned real step through the oracle and the learned world model
    /// (target ≤ 0.5 s at n = 2, B = 3, k = 5).
    Agent {
        /// Training settings (TOML, as `avwm agent train`; defaults if omitted).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Timed training updates per render path (after one warm-up update).
        #[arg(long, default_value_t = 3)]
        updates: u64,
        /// Frames of the render comparison.
        #[arg(long, default_value_t = 200)]
        render_steps: usize,
        /// Planned real steps timed per world model.
        #[arg(long, default_value_t = 10)]
        plan_steps: usize,
        /// Candidates per expansion (n).
        #[arg(long, default_value_t = 2)]
        n: usize,
        /// Beams (B).
        #[arg(long, default_value_t = 3)]
        beam: usize,
        /// Depth (k).
        #[arg(long, default_value_t = 5)]
        depth: usize,
        /// The planning agent (default: a freshly initialised one).
        #[arg(long)]
        agent: Option<PathBuf>,
        /// The learned world model (skipped when the file is missing).
        #[arg(long, default_value = "models/avwm-small")]
        model: PathBuf,
        /// Its visual tokenizer.
        #[arg(long, default_value = "models/tokenizer-visual")]
        visual_tokenizer: PathBuf,
        /// Its audio tokenizer.
        #[arg(long, default_value = "models/tokenizer-audio-mdct")]
        audio_tokenizer: PathBuf,
        /// libtorch threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// JSON output file.
        #[arg(long, default_value = "bench-agent.json")]
        out: PathBuf,
    },
    /// Latency of one audio-visual prediction step (image + binaural audio + reward, batch 1)
    /// with a few-step DDIM sampler (target ≤ 150 ms, the time one step covers).
    Sample {
        /// Model (an initialised `small` network is timed if the file does not exist).
        #[arg(long, default_value = "models/avwm-small")]
        model: PathBuf,
        /// Visual tokenizer.
        #[arg(long, default_value = "models/tokenizer-visual")]
        visual_tokenizer: PathBuf,
        /// Audio tokenizer (`models/tokenizer-audio` for `models/avcdit-small`).
        #[arg(long, default_value = "models/tokenizer-audio-mdct")]
        audio_tokenizer: PathBuf,
        /// Sampler: ddim or ddpm.
        #[arg(long, default_value = "ddim")]
        sampler: String,
        /// Sampler steps.
        #[arg(long, default_value_t = 10)]
        sampler_steps: usize,
        /// Timed repetitions (after one warm-up).
        #[arg(long, default_value_t = 20)]
        reps: usize,
        /// libtorch threads (default: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// JSON output file.
        #[arg(long, default_value = "bench-sample.json")]
        out: PathBuf,
    },
    /// Time to answer one step of `avwm view` (imagination, simulator, pictures and sounds)
    /// with the shipped model, against the 150 ms budget.
    View {
        #[command(flatten)]
        world: crate::view::WorldArgs,
        /// Timed steps (after two warm-up steps).
        #[arg(long, default_value_t = 40)]
        steps: usize,
        /// Imagined steps per real step.
        #[arg(long, default_value_t = 1)]
        lookahead: usize,
        /// JSON output file.
        #[arg(long, default_value = "bench-view.json")]
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
    /// Propagation only: image sources to order 10 + ray-traced late histogram (ms, median).
    propagation_ms: f64,
    /// Propagation + omnidirectional RIR waveform for two microphones, what pyroomacoustics'
    /// `compute_rir` produces in the reference script (ms, median).
    hybrid_omni_2mic_ms: f64,
    /// Propagation + binaural (KEMAR) RIR waveform (ms, median).
    hybrid_binaural_ms: f64,
    target_ms: f64,
    pyroomacoustics_median_ms: Option<f64>,
    /// pyroomacoustics time / avwm `hybrid_omni_2mic_ms` (same machine, same run).
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
    let hrtf = Hrtf::kemar_default().context("loading the KEMAR HRTF")?;
    let rcfg = RenderConfig::default();
    let (src, lis) = (Vec3::new(4.5, 3.5, 1.2), Vec3::new(1.5, 1.8, 1.5));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("thread pool")?;
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
fn pyroomacoustics_ms() -> Option<f64> {
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

pub fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Agent {
            config,
            updates,
            render_steps,
            plan_steps,
            n,
            beam,
            depth,
            agent,
            model,
            visual_tokenizer,
            audio_tokenizer,
            threads,
            out,
        } => {
            avwm_nn::seed::set_threads(threads);
            let train: avwm_agent::TrainConfig = crate::common::load_toml(config.as_deref())?;
            let has_model = model.with_extension("json").is_file() || model.is_dir();
            let cfg = avwm_agent::bench::AgentBenchConfig {
                train,
                updates,
                render_steps,
                plan_steps,
                plan: avwm_agent::planner::PlanConfig {
                    candidates: n,
                    beam,
                    depth,
                    gamma: 0.99,
                },
                agent,
                model: has_model.then_some(avwm_view::imagine::ImaginerConfig {
                    model,
                    visual_tokenizer,
                    audio_tokenizer,
                    sampler: avwm_model::predict::Sampler::Ddim(1),
                    seed: 0,
                }),
            };
            eprintln!("bench: agent training, planning and render match …");
            let report = avwm_agent::bench::bench_agent(&cfg, avwm_nn::default_device())
                .context("agent benchmark")?;
            write_json(&out, &report)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        BenchCmd::Sim {
            steps,
            scene_seed,
            config,
            shoebox_reps,
            no_reference,
            preset,
            out,
        } => {
            let cfg: SimConfig = sim_config(config.as_deref(), preset)?;
            let scene = crate::common::load_scene(None, scene_seed, preset)?;
            eprintln!("bench: simulator on one core ({steps} steps)…");
            let one = bench_sim(scene.clone(), &cfg, steps, 1)
                .context("simulator benchmark (1 thread)")?;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            eprintln!("bench: simulator on {cores} threads…");
            let all = bench_sim(scene, &cfg, steps, cores)
                .context("simulator benchmark (all threads)")?;
            eprintln!("bench: shoebox hybrid RIR…");
            let shoebox = shoebox_bench(shoebox_reps, !no_reference)?;
            let report = Report {
                sim_one_core: one,
                sim_all_cores: all,
                target_steps_per_s_per_core: 200.0,
                shoebox,
            };
            write_json(&out, &report)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        BenchCmd::Train {
            arch,
            contexts,
            steps,
            threads,
            out,
        } => {
            avwm_nn::seed::set_threads(threads);
            let cfg = arch.config()?;
            let pb = progress((steps.max(1) + 2) as u64, "train step");
            let r =
                avwm_model::bench::bench_train(&cfg, &arch.preset, contexts, steps, &mut || {
                    pb.inc(1)
                })?;
            pb.finish_and_clear();
            write_json(&out, &r)?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
        BenchCmd::View {
            world,
            steps,
            lookahead,
            out,
        } => {
            let cfg = world.session()?;
            let r = avwm_view::bench::bench_view(&cfg, steps, lookahead, avwm_nn::default_device())
                .context("benchmarking the viewer")?;
            write_json(&out, &r)?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
        BenchCmd::Sample {
            model,
            visual_tokenizer,
            audio_tokenizer,
            sampler,
            sampler_steps,
            reps,
            threads,
            out,
        } => {
            let sampler = avwm_model::predict::Sampler::parse(&sampler, sampler_steps)?;
            avwm_nn::seed::set_threads(threads);
            let pb = progress((reps.max(1) + 1) as u64, "sample");
            let r = avwm_model::bench::bench_sample(
                &model,
                &visual_tokenizer,
                &audio_tokenizer,
                sampler,
                reps,
                &mut || pb.inc(1),
            )?;
            pb.finish_and_clear();
            write_json(&out, &r)?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
    }
}
