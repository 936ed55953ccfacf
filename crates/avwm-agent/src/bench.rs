//! `avwm bench agent`: the speeds the navigation issue sets targets for, measured in one run.
//!
//! * **Training** frames/s end to end (rollout in the simulator pool + learning), in PPO for the
//!   agent's view rendered natively at its input size and for the 128² render area-downsampled,
//!   and in the DAgger warm start; the pools' construction is excluded, the first update is a
//!   warm-up.
//! * **Render match**: the native small render against the downsampled 128² one at the same
//!   poses (PSNR over a random walk), and the time of a simulator step of each.
//! * **Planning**: seconds of one planned real step (`n`, `B`, `k`) through the oracle and, when
//!   given, the learned world model, on an episode of the test split at 128².

use crate::config::TrainConfig;
use crate::envs::{EpisodeFilter, agent_sim_config, draw_episode, split_scenes};
use crate::learned::LearnedModel;
use crate::net::Agent;
use crate::obs::agent_obs;
use crate::planner::{OracleModel, PlanConfig, WorldModel, plan};
use crate::train::{UpdateLog, train};
use crate::{AgentConfig, AgentError, Result};
use avwm_core::{Action, Env, Seed};
use avwm_data::Split;
use avwm_model::predict::RolloutContext;
use avwm_sim::Simulator;
use avwm_view::imagine::ImaginerConfig;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::Device;

/// What to measure.
#[derive(Debug, Clone)]
pub struct AgentBenchConfig {
    /// Training settings (the shipped defaults; the frames are set here).
    pub train: TrainConfig,
    /// Timed training updates (after one warm-up update).
    pub updates: u64,
    /// Steps of the random walk of the render comparison.
    pub render_steps: usize,
    /// Planned real steps timed per world model.
    pub plan_steps: usize,
    /// The planner's settings.
    pub plan: PlanConfig,
    /// The agent that plans (None: a freshly initialised one of the training sizes).
    pub agent: Option<std::path::PathBuf>,
    /// The learned world model (None: the oracle only); it is timed with both rollout contexts.
    pub model: Option<ImaginerConfig>,
}

/// Training speed of one render path and phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSpeed {
    /// `ppo` or `dagger` (its updates take `dagger_epochs` epochs).
    pub phase: String,
    /// The agent's view rendered at its input size (true) or downsampled from 128².
    pub native_render: bool,
    /// Frames timed.
    pub frames: u64,
    /// Seconds of the timed updates.
    pub seconds: f64,
    /// Frames per second, end to end.
    pub fps: f64,
}

/// Native small render against the downsampled full one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenderMatch {
    /// Frames compared.
    pub frames: usize,
    /// Mean PSNR (dB) of the native frames against the downsampled ones.
    pub psnr_db_mean: f64,
    /// Lowest PSNR of a frame (dB).
    pub psnr_db_min: f64,
    /// Mean simulator step time at the native size (ms).
    pub native_step_ms: f64,
    /// Mean simulator step time at 128² (ms).
    pub full_step_ms: f64,
}

/// Time of planned real steps through one world model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanSpeed {
    /// The model's name (`…-latent` when imagined latents feed the context directly).
    pub model: String,
    /// The planner's settings.
    pub plan: PlanConfig,
    /// Planned steps timed.
    pub steps: usize,
    /// Mean seconds per planned real step.
    pub seconds_mean: f64,
    /// Slowest planned step (s).
    pub seconds_max: f64,
    /// Branches imagined per planned step.
    pub branches_per_step: f64,
}

/// `bench-agent.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentBenchReport {
    /// libtorch threads.
    pub threads: i32,
    /// Training speed, native render and downsampled.
    pub train: Vec<TrainSpeed>,
    /// The render comparison.
    pub render: RenderMatch,
    /// Planning speed per world model.
    pub plan: Vec<PlanSpeed>,
    /// The targets: training fps ≥ 600 and a planned step ≤ 0.5 s.
    pub targets: serde_json::Value,
}

fn train_speed(
    cfg: &TrainConfig,
    native: bool,
    updates: u64,
    device: Device,
) -> Result<TrainSpeed> {
    let dir = tempfile::tempdir().map_err(|source| AgentError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let per = cfg.frames_per_update();
    let cfg = TrainConfig {
        native_render: native,
        frames: per * (updates + 1),
        checkpoint_every: u64::MAX,
        ..cfg.clone()
    };
    let mut lines: Vec<UpdateLog> = vec![];
    train(&cfg, dir.path(), device, &mut |l| lines.push(l.clone()))?;
    let timed: Vec<&UpdateLog> = lines.iter().skip(1).collect();
    let seconds: f64 = timed.iter().map(|l| per as f64 / l.fps).sum();
    let frames = per * timed.len() as u64;
    Ok(TrainSpeed {
        phase: if cfg.dagger_frames > 0 {
            "dagger"
        } else {
            "ppo"
        }
        .into(),
        native_render: native,
        frames,
        seconds,
        fps: frames as f64 / seconds.max(1e-9),
    })
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len().max(1) as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

fn render_match(cfg: &TrainConfig, steps: usize) -> Result<RenderMatch> {
    let size = cfg.net.image_size;
    let scenes = split_scenes(&cfg.data_preset, Split::Train)?;
    let scene = scenes
        .first()
        .ok_or_else(|| AgentError::Config("no training scene".into()))?;
    let name = scene.name.clone();
    let build = |native: bool| -> Result<Simulator> {
        let sc = agent_sim_config(&cfg.data_preset, size, native)?;
        Simulator::new(scene.clone(), &sc).map_err(AgentError::sim(&name))
    };
    let (mut small, mut full) = (build(true)?, build(false)?);
    let filter = EpisodeFilter {
        min_geodesic_m: 0.0,
        min_ratio: 0.0,
    };
    let seed = Seed(cfg.seed).derive("bench-render", 0);
    let spec = draw_episode(&full, filter, seed)?;
    let mut a = small.reset(&spec).map_err(AgentError::sim(&name))?;
    let mut b = full.reset(&spec).map_err(AgentError::sim(&name))?;
    let mut rng = seed.derive("walk", 0).rng();
    let (mut ps, mut t_small, mut t_full) = (vec![], 0.0, 0.0);
    for _ in 0..steps {
        let oa = agent_obs(&a, size as usize)?;
        let ob = agent_obs(&b, size as usize)?;
        ps.push(psnr(&oa.rgb, &ob.rgb));
        // Forward twice as often as each turn, never STOP.
        let action = [
            Action::Forward,
            Action::Forward,
            Action::TurnLeft,
            Action::TurnRight,
        ][rng.random_range(0..4)];
        let t = Instant::now();
        let sa = small.step(action).map_err(AgentError::sim(&name))?;
        t_small += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let sb = full.step(action).map_err(AgentError::sim(&name))?;
        t_full += t.elapsed().as_secs_f64();
        if sa.done || sb.done {
            let spec = draw_episode(&full, filter, seed.derive("again", ps.len() as u64))?;
            a = small.reset(&spec).map_err(AgentError::sim(&name))?;
            b = full.reset(&spec).map_err(AgentError::sim(&name))?;
        } else {
            (a, b) = (sa.obs, sb.obs);
        }
    }
    let n = ps.len().max(1) as f64;
    Ok(RenderMatch {
        frames: ps.len(),
        psnr_db_mean: ps.iter().sum::<f64>() / n,
        psnr_db_min: ps.iter().copied().fold(f64::INFINITY, f64::min),
        native_step_ms: 1e3 * t_small / n,
        full_step_ms: 1e3 * t_full / n,
    })
}

fn plan_speed<M: WorldModel>(
    agent: &Agent,
    model: &mut M,
    sim: &mut Simulator,
    cfg: &PlanConfig,
    steps: usize,
    seed: Seed,
) -> Result<PlanSpeed> {
    let size = agent.config.net.image_size as usize;
    let device = agent.vs.device();
    let name = sim.scene().name.clone();
    let spec = draw_episode(
        sim,
        EpisodeFilter {
            min_geodesic_m: 4.0,
            min_ratio: 1.0,
        },
        seed,
    )?;
    let mut obs = sim.reset(&spec).map_err(AgentError::sim(&name))?;
    model.begin(sim, &obs)?;
    let mut hidden = agent.net.initial_hidden(1, device);
    let (mut times, mut branches) = (vec![], 0usize);
    for i in 0..steps {
        let seen = agent.perceive(&[&agent_obs(&obs, size)?], &hidden)?;
        hidden = seen.hidden;
        let logp = seen.logp;
        let t = Instant::now();
        let snap = sim.snapshot();
        let choice = plan(
            agent,
            model,
            sim,
            &hidden,
            &logp,
            cfg,
            seed.derive("plan", i as u64),
        );
        sim.restore(&snap);
        let choice = choice?;
        times.push(t.elapsed().as_secs_f64());
        branches += choice.branches;
        // Walk on without stopping, so that every timed step plans from a live episode.
        let action = if choice.action == Action::Stop {
            Action::TurnLeft
        } else {
            choice.action
        };
        let step = sim.step(action).map_err(AgentError::sim(&name))?;
        if step.done {
            break;
        }
        model.observe(sim, action, &step.obs)?;
        obs = step.obs;
    }
    let n = times.len().max(1) as f64;
    Ok(PlanSpeed {
        model: model.name(),
        plan: *cfg,
        steps: times.len(),
        seconds_mean: times.iter().sum::<f64>() / n,
        seconds_max: times.iter().copied().fold(0.0, f64::max),
        branches_per_step: branches as f64 / n,
    })
}

/// Runs the benchmark.
///
/// # Errors
/// A simulator, network or model failure.
pub fn bench_agent(cfg: &AgentBenchConfig, device: Device) -> Result<AgentBenchReport> {
    cfg.plan.validate()?;
    let mut trains = vec![];
    let ppo = TrainConfig {
        dagger_frames: 0,
        ..cfg.train.clone()
    };
    for native in [true, false] {
        trains.push(train_speed(&ppo, native, cfg.updates, device)?);
    }
    if cfg.train.dagger_frames > 0 {
        trains.push(train_speed(&cfg.train, true, cfg.updates, device)?);
    }
    let render = render_match(&cfg.train, cfg.render_steps)?;
    let agent = match &cfg.agent {
        Some(dir) => Agent::load(dir, device)?,
        None => Agent::new(
            AgentConfig {
                net: cfg.train.net,
                sim_preset: "default".into(),
                data_preset: cfg.train.data_preset.clone(),
            },
            device,
        )?,
    };
    let scenes = split_scenes(&cfg.train.data_preset, Split::Test)?;
    let scene = scenes
        .first()
        .ok_or_else(|| AgentError::Config("no test scene".into()))?;
    let sim_cfg = avwm_sim::SimConfig::preset("default")
        .ok_or_else(|| AgentError::Config("no default simulator preset".into()))?;
    let mut sim = Simulator::new(scene.clone(), &sim_cfg).map_err(AgentError::sim(&scene.name))?;
    let seed = Seed(cfg.train.seed).derive("bench-plan", 0);
    let mut plans = vec![plan_speed(
        &agent,
        &mut OracleModel,
        &mut sim,
        &cfg.plan,
        cfg.plan_steps,
        seed,
    )?];
    if let Some(m) = &cfg.model {
        for context in [RolloutContext::Pixels, RolloutContext::Latent] {
            let mut wm = LearnedModel::load(m, context, device)?;
            plans.push(plan_speed(
                &agent,
                &mut wm,
                &mut sim,
                &cfg.plan,
                cfg.plan_steps,
                seed,
            )?);
        }
    }
    Ok(AgentBenchReport {
        threads: tch::get_num_threads(),
        train: trains,
        render,
        plan: plans,
        targets: serde_json::json!({
            "train_fps_min": 600.0,
            "plan_seconds_max": 0.5,
            "plan": {"n": 2, "beam": 3, "depth": 5},
        }),
    })
}

/// Writes the report as JSON.
///
/// # Errors
/// I/O.
pub fn write_report(path: &Path, r: &AgentBenchReport) -> Result<()> {
    avwm_nn::ckpt::write_json(path, r)?;
    Ok(())
}
