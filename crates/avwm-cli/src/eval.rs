//! `avwm eval` (fixed-step, rollout and counterfactual evaluation of a world model) and
//! `avwm report` (the paper's tables from evaluation folders).

use crate::common::progress;
use crate::model::{SamplingArgs, TokenizerArgs};
use anyhow::{Context, Result};
use avwm_data::{Dataset, Split};
use avwm_eval::FeatureNets;
use avwm_eval::evaluate::{EvalInputs, evaluate};
use avwm_eval::protocol::{EvalConfig, HORIZON, Mode};
use avwm_model::WorldModel;
use avwm_model::data::Transitions;
use avwm_tokenizer::cache::{CACHE_FILE, CacheMeta};
use clap::Args;
use std::path::PathBuf;

/// `avwm eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model (`x`, `x.safetensors`, or a stage folder holding `model.*`).
    #[arg(long, default_value = "models/avwm-small")]
    model: PathBuf,
    /// Latent cache of the dataset (contexts); the targets are read from the dataset it was
    /// encoded from (recorded in its `cache.json`).
    #[arg(long)]
    data: PathBuf,
    /// Dataset folder, if not the one recorded in the cache.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Protocol: fixed (Δt = 1…16 from the true context), rollout (autoregressive to t+16) or
    /// counterfactual (every action from the same context, scored against re-simulation).
    #[arg(long, default_value = "fixed")]
    mode: String,
    /// Sampling runs (mean ± std over runs).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Anchors (current frames t) drawn from the split.
    #[arg(long, default_value_t = 64)]
    anchors: usize,
    /// Horizon (frames).
    #[arg(long, default_value_t = HORIZON)]
    horizon: usize,
    /// Split (the paper evaluates on test).
    #[arg(long, default_value = "test")]
    split: String,
    /// Output folder (eval.json, samples.jsonl, plots/, sheets/).
    #[arg(long)]
    out: PathBuf,
    /// Folder with the feature networks' TorchScript files (inception.pt, lpips_alex.pt +
    /// lpips_alex_lin.safetensors, dreamsim.pt, vggish.pt); without it LPIPS, DreamSim, FID and
    /// FAD are "not computed".
    #[arg(long)]
    feature_nets: Option<PathBuf>,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// Rows per model call.
    #[arg(long, default_value_t = 48)]
    batch: usize,
    /// Anchors shown on qualitative sheets.
    #[arg(long, default_value_t = 4)]
    sheets: usize,
    /// Skip the reference systems (copy frame t, copy aligned, tokenizer ceiling).
    #[arg(long)]
    no_references: bool,
    /// Frames of history every anchor must have (raised to the model's own): the same anchors
    /// for every compared model; 16 is the avwm design's audio memory.
    #[arg(long, default_value_t = 16)]
    history: usize,
    /// Evaluation seed (anchors and sampling noise).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    tokenizers: TokenizerArgs,
    /// libtorch threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// Runs `avwm eval`.
pub fn run_eval(a: EvalArgs) -> Result<()> {
    avwm_nn::seed::set_threads(a.threads);
    let device = avwm_nn::default_device();
    let mode = Mode::parse(&a.mode)?;
    let rollout_context = a.sampling.rollout_context()?;
    let cfg = EvalConfig {
        mode,
        runs: a.runs,
        seed: a.seed,
        anchors: a.anchors,
        horizon: a.horizon,
        sampler: a.sampling.sampler()?,
        rollout_context,
        batch: a.batch,
        sheets: a.sheets,
        references: !a.no_references,
        history: a.history,
    };
    let model = WorldModel::load(&a.model, device)
        .with_context(|| format!("loading model {}", a.model.display()))?;
    let tok = a.tokenizers.load(device)?;
    let split = Split::parse(&a.split).with_context(|| format!("unknown split `{}`", a.split))?;
    let meta: CacheMeta =
        avwm_nn::ckpt::read_json(&a.data.join(CACHE_FILE)).with_context(|| {
            format!(
                "{} is not a latent cache (run `avwm tokenizer encode`)",
                a.data.display()
            )
        })?;
    let ds_dir = a
        .dataset
        .clone()
        .unwrap_or_else(|| PathBuf::from(&meta.dataset));
    let dataset = Dataset::open(&ds_dir)
        .with_context(|| format!("opening dataset {} (pass --dataset)", ds_dir.display()))?;
    eprintln!("loading latent cache {} ({}) …", a.data.display(), a.split);
    let transitions = Transitions::open(&a.data, split)?;
    transitions.check_model(model.config(), &a.model, &a.data)?;
    let nets = match &a.feature_nets {
        Some(d) => FeatureNets::load_on(d, device)
            .with_context(|| format!("loading feature networks from {}", d.display()))?,
        None => FeatureNets::none(),
    };
    let command = format!(
        "avwm {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    let inputs = EvalInputs {
        model: &model,
        model_path: &a.model,
        tok: &tok,
        transitions: &transitions,
        cache: &a.data,
        dataset: &dataset,
        split: &a.split,
        nets: &nets,
        nets_dir: a.feature_nets.as_deref(),
        device,
        command,
    };
    let pb = progress(1, &format!("eval {}", mode.name()));
    let mut on_progress = |done: u64, total: u64| {
        pb.set_length(total);
        pb.set_position(done);
    };
    let s = evaluate(&inputs, &cfg, &a.out, &mut on_progress)
        .with_context(|| format!("evaluating {} into {}", a.model.display(), a.out.display()))?;
    pb.finish_and_clear();
    let fmt = |name: &str| {
        s.metrics
            .get(name)
            .and_then(|m| m.mean_std())
            .map(|(m, sd)| format!("{name} {m:.4} ± {sd:.4}"))
    };
    let line: Vec<String> = [
        "psnr",
        "ssim",
        "lpips",
        "lsd",
        "spec_ssim",
        "itd_us",
        "reward_mse",
    ]
    .iter()
    .filter_map(|n| fmt(n))
    .collect();
    eprintln!(
        "{} {} on {} anchors × {} runs in {:.0} s: {}",
        s.model.kind(),
        mode.name(),
        s.anchors,
        cfg.runs,
        s.timing.total_s,
        line.join(", ")
    );
    if let Some(cf) = &s.counterfactual {
        eprintln!(
            "counterfactual: reward Spearman (single) {:?}, of the reward head {:?}, separation visual {:?}, audio {:?}",
            cf.single.reward_spearman.map(|x| x.mean),
            cf.single.reward_expected_spearman.map(|x| x.mean),
            cf.single.separation_visual.map(|x| x.mean),
            cf.single.separation_audio.map(|x| x.mean)
        );
    }
    eprintln!("wrote {}", a.out.join("eval.json").display());
    Ok(())
}

/// `avwm report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Folder of evaluation folders (each with the `eval.json` of `avwm eval`).
    #[arg(long)]
    evals: PathBuf,
    /// Output folder (report.md, report.html, report.json, figures/).
    #[arg(long, default_value = "docs/results")]
    out: PathBuf,
    /// A text file with the commands that made the data and the models, shown in the report
    /// before the evaluation commands (which are read from the `eval.json` files).
    #[arg(long)]
    commands: Option<PathBuf>,
}

/// Runs `avwm report`.
pub fn run_report(a: ReportArgs) -> Result<()> {
    let mut commands = Vec::new();
    if let Some(f) = &a.commands {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        commands.extend(text.lines().map(str::to_string));
        commands.push(String::new());
    }
    let evals = avwm_eval::evaluate::find_summaries(&a.evals)
        .with_context(|| format!("reading evaluations in {}", a.evals.display()))?;
    commands.push("# evaluations (from their eval.json)".into());
    // The program name as `avwm`, whatever the binary was called.
    commands.extend(evals.iter().map(|(_, s)| match s.command.split_once(' ') {
        Some((_, rest)) => format!("avwm {rest}"),
        None => s.command.clone(),
    }));
    commands.push(format!(
        "avwm {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    ));
    let s = avwm_eval::report::write_report(&a.evals, &a.out, &commands)
        .with_context(|| format!("writing the report into {}", a.out.display()))?;
    for c in &s.claims {
        eprintln!("{}: {}", c.verdict, c.claim);
    }
    eprintln!(
        "wrote {} ({} evaluations, {} tables)",
        a.out.join("report.html").display(),
        s.evaluations.len(),
        s.tables.len()
    );
    Ok(())
}
