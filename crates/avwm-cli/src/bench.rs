//! `avwm bench …`: throughput measurements written as JSON.

use crate::common::{Preset, progress, sim_config, write_json};
use anyhow::{Context, Result};
use avwm_sim::SimConfig;
use avwm_sim::bench::{SimBenchReport, bench_sim};
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;

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
struct Report {
    sim_one_core: SimBenchReport,
    sim_all_cores: SimBenchReport,
    target_steps_per_s_per_core: f64,
    shoebox: avwm_audio::bench::ShoeboxBench,
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
            let shoebox = avwm_audio::bench::shoebox_bench(shoebox_reps, !no_reference)?;
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
