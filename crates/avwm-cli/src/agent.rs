//! `avwm agent …` and `avwm nav …`: train the AV-Nav agent, evaluate it with or without a planner.

use crate::common::{load_toml, progress};
use anyhow::{Context, Result, bail};
use avwm_agent::learned::LearnedModel;
use avwm_agent::nav::{self, NavConfig, PolicyMode};
use avwm_agent::planner::{OracleModel, PlanConfig};
use avwm_agent::train::{self, UpdateLog};
use avwm_agent::{Agent, TrainConfig};
use avwm_model::predict::{RolloutContext, Sampler};
use avwm_view::imagine::ImaginerConfig;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `avwm agent …`.
#[derive(Subcommand, Debug)]
pub enum AgentCmd {
    /// Train (or resume) the AV-Nav agent in the simulator on the training scenes: a DAgger warm
    /// start on the shortest-path expert, then PPO. Resumable bit for bit.
    Train(TrainArgs),
}

/// Arguments of `avwm agent train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Run folder (`config.json`, `log.jsonl`, `ckpt/`, `agent/`, `summary.json`).
    #[arg(long)]
    run: PathBuf,
    /// Training settings (TOML, the fields of `TrainConfig`; missing fields take the defaults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Total frames (overrides the config; may be raised on resume).
    #[arg(long)]
    frames: Option<u64>,
    /// Run seed (overrides the config).
    #[arg(long)]
    seed: Option<u64>,
    /// libtorch threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// `avwm nav …`.
#[derive(Subcommand, Debug)]
pub enum NavCmd {
    /// Run an agent on a fixed episode file, alone or planning through a world model; SPL,
    /// SoftSPL, NA, SNA, success and distance to goal with 95 % intervals. Resumable.
    Eval(Box<EvalArgs>),
    /// The paper's Table 8 (Markdown) from evaluation folders: metrics with 95 % intervals and
    /// the paired differences against the plain agent.
    Table {
        /// Evaluation folders, in the order of the rows.
        #[arg(long, num_args = 1.., required = true)]
        evals: Vec<PathBuf>,
        /// Markdown file to write (printed when omitted).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The paper's Fig. 7: top-down maps of the same episodes with every evaluation's path in
    /// its colour (`episode-<id>.png`, `figures.json`, `README.md` with the legend).
    Plot {
        /// Evaluation folders (1–6), e.g. the plain agent, planning in the world model, planning
        /// in the oracle.
        #[arg(long, num_args = 1.., required = true)]
        evals: Vec<PathBuf>,
        /// The episode file the evaluations ran on.
        #[arg(long, default_value = "episodes/audiogoal-small-test-v1.jsonl")]
        episodes: PathBuf,
        /// Figures: the first N episodes that every evaluation finished.
        #[arg(long, default_value_t = 6)]
        count: usize,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Which world model the planner looks ahead in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlannerKind {
    /// No planning: the agent's own policy.
    None,
    /// The simulator itself (the upper bound).
    Oracle,
    /// The learned world model (`--model` with its tokenizers).
    Wm,
}

/// How the plain agent chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PolicyArg {
    /// The most probable action.
    Greedy,
    /// A sample from the policy.
    Sample,
}

/// Arguments of `avwm nav eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Agent folder (`agent.json` + `agent.safetensors`: a training run's `agent/` or `models/…`).
    #[arg(long)]
    agent: PathBuf,
    /// Planner: none, or beam search through the learned world model (wm) or the simulator
    /// itself (oracle).
    #[arg(long, value_enum, default_value = "none")]
    planner: PlannerKind,
    /// The learned world model of `--planner wm`.
    #[arg(long, default_value = "models/avwm-small")]
    model: PathBuf,
    /// Its visual tokenizer.
    #[arg(long, default_value = "models/tokenizer-visual")]
    visual_tokenizer: PathBuf,
    /// Its audio tokenizer (`models/tokenizer-audio` for the paper's AV-CDiT).
    #[arg(long, default_value = "models/tokenizer-audio-mdct")]
    audio_tokenizer: PathBuf,
    /// Its sampler: ddim or ddpm.
    #[arg(long, default_value = "ddim")]
    sampler: String,
    /// Its sampling steps (the shipped avwm model is evaluated with 1).
    #[arg(long, default_value_t = 1)]
    sampler_steps: usize,
    /// How an imagined frame enters the model's context: pixels (decoded and re-encoded, the
    /// evaluation's protocol) or latent (the sampled latents; faster).
    #[arg(long, default_value = "pixels")]
    rollout_context: String,
    /// Distinct candidate actions per expansion.
    #[arg(long, default_value_t = 2)]
    n: usize,
    /// Beams kept per depth (B).
    #[arg(long, default_value_t = 3)]
    beam: usize,
    /// Look-ahead depth (k).
    #[arg(long, default_value_t = 5)]
    depth: usize,
    /// Discount of the planner's rewards and values.
    #[arg(long, default_value_t = 0.99)]
    gamma: f64,
    /// Episode file (JSON Lines, `avwm data episodes`).
    #[arg(long, default_value = "episodes/audiogoal-small-test-v1.jsonl")]
    episodes: PathBuf,
    /// Output folder (`config.json`, `episodes.jsonl`, `summary.json`); an interrupted run resumes.
    #[arg(long)]
    out: PathBuf,
    /// Action choice of the agent when it does not plan.
    #[arg(long, value_enum, default_value = "greedy")]
    policy: PolicyArg,
    /// Evaluate only the first N episodes.
    #[arg(long)]
    limit: Option<usize>,
    /// Action limit per episode (SoundSpaces': 500); a smaller one ends episodes early as
    /// failures, for quick checks.
    #[arg(long, default_value_t = avwm_core::MAX_EPISODE_STEPS)]
    max_actions: usize,
    /// Run seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Another evaluation folder on the same episodes: adds a paired comparison (this − that).
    #[arg(long)]
    against: Option<PathBuf>,
    /// libtorch threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// Runs `avwm agent …`.
pub fn run_agent(cmd: AgentCmd) -> Result<()> {
    match cmd {
        AgentCmd::Train(a) => run_train(a),
    }
}

/// Runs `avwm nav …`.
pub fn run_nav(cmd: NavCmd) -> Result<()> {
    match cmd {
        NavCmd::Eval(a) => run_eval(*a),
        NavCmd::Table { evals, out } => {
            let md = nav::table(&evals)?;
            match out {
                Some(path) => {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("creating {}", dir.display()))?;
                    }
                    std::fs::write(&path, &md)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                None => print!("{md}"),
            }
            Ok(())
        }
        NavCmd::Plot {
            evals,
            episodes,
            count,
            out,
        } => {
            let eps = avwm_datagen::episodes::read_episodes(&episodes)?;
            let figs = nav::trajectory_figures(&evals, &eps, count, &out)?;
            println!(
                "{} trajectory figures in {} (legend in README.md)",
                figs.len(),
                out.display()
            );
            Ok(())
        }
    }
}

fn run_train(a: TrainArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let mut cfg: TrainConfig = load_toml(a.config.as_deref())?;
    if let Some(f) = a.frames {
        cfg.frames = f;
    }
    if let Some(s) = a.seed {
        cfg.seed = s;
    }
    let pb = progress(cfg.frames, "frames");
    let mut on_update = |l: &UpdateLog| {
        pb.set_position(l.frames.min(cfg.frames));
        pb.set_message(format!(
            "{} {:.0} fps succ {:.2} spl {:.2} agree {:.2}",
            l.phase, l.fps, l.success, l.spl, l.expert_agreement
        ));
    };
    let summary = train::train(&cfg, &a.run, avwm_nn::default_device(), &mut on_update)
        .with_context(|| format!("training the agent in {}", a.run.display()))?;
    pb.finish();
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

fn run_eval(a: EvalArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let device = avwm_nn::default_device();
    let agent = Agent::load(&a.agent, device)
        .with_context(|| format!("loading the agent {}", a.agent.display()))?;
    let episodes = avwm_datagen::episodes::read_episodes(&a.episodes)?;
    if episodes.is_empty() {
        bail!("{} holds no episodes", a.episodes.display());
    }
    let plan = match a.planner {
        PlannerKind::None => None,
        PlannerKind::Oracle | PlannerKind::Wm => Some(PlanConfig {
            candidates: a.n,
            beam: a.beam,
            depth: a.depth,
            gamma: a.gamma,
        }),
    };
    let cfg = NavConfig {
        policy: match a.policy {
            PolicyArg::Greedy => PolicyMode::Greedy,
            PolicyArg::Sample => PolicyMode::Sample,
        },
        plan,
        seed: a.seed,
        limit: a.limit,
        max_actions: a.max_actions,
    };
    let total = a.limit.unwrap_or(episodes.len()).min(episodes.len());
    let pb = progress(total as u64, "episodes");
    let mut on_episode = |r: &nav::EpisodeRecord, done: usize, _total: usize| {
        pb.set_position(done as u64);
        pb.set_message(format!(
            "#{} {} spl {:.2}",
            r.episode_id,
            if r.outcome.success { "ok" } else { "--" },
            r.outcome.spl()
        ));
    };
    let summary = match a.planner {
        PlannerKind::None => nav::evaluate::<OracleModel>(
            &agent,
            &a.agent,
            &episodes,
            &cfg,
            None,
            &a.out,
            &mut on_episode,
        ),
        PlannerKind::Oracle => nav::evaluate(
            &agent,
            &a.agent,
            &episodes,
            &cfg,
            Some(&mut OracleModel),
            &a.out,
            &mut on_episode,
        ),
        PlannerKind::Wm => {
            let mut wm = LearnedModel::load(
                &ImaginerConfig {
                    model: a.model.clone(),
                    visual_tokenizer: a.visual_tokenizer.clone(),
                    audio_tokenizer: a.audio_tokenizer.clone(),
                    sampler: Sampler::parse(&a.sampler, a.sampler_steps)?,
                    seed: a.seed,
                },
                match a.rollout_context.as_str() {
                    "pixels" => RolloutContext::Pixels,
                    "latent" => RolloutContext::Latent,
                    other => bail!("--rollout-context: {other:?} is neither pixels nor latent"),
                },
                device,
            )?;
            nav::evaluate(
                &agent,
                &a.agent,
                &episodes,
                &cfg,
                Some(&mut wm),
                &a.out,
                &mut on_episode,
            )
        }
    };
    let mut summary = summary.with_context(|| format!("evaluating into {}", a.out.display()))?;
    pb.finish();
    if let Some(base) = &a.against {
        summary = nav::compare_folders(&a.out, base)
            .with_context(|| format!("comparing with {}", base.display()))?;
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
