//! `avwm`: the command-line tool of the audio-visual world-model system.
//!
//! The binary owns error reporting (`anyhow`), argument parsing (`clap`), progress bars
//! (`indicatif`) and logging (`tracing-subscriber`); the libraries only return typed errors.

mod acoustics;
mod agent;
mod bench;
mod common;
mod data;
mod eval;
mod model;
mod scene;
mod sim;
mod tokenizer;
mod view;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Action-conditioned audio-visual world models: simulator, data, model, evaluation, planning.
#[derive(Debug, Parser)]
#[command(name = "avwm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Indoor scenes (procedural or from meshes).
    #[command(subcommand)]
    Scene(scene::SceneCmd),
    /// Run the simulator.
    #[command(subcommand)]
    Sim(sim::SimCmd),
    /// The AV-Nav agent: train it in the simulator (DAgger warm start, then PPO).
    #[command(subcommand)]
    Agent(agent::AgentCmd),
    /// Navigation: evaluate an agent on a fixed episode file, alone or planning through a world
    /// model (beam search; the oracle is the simulator itself).
    #[command(subcommand)]
    Nav(agent::NavCmd),
    /// Room impulse responses.
    #[command(subcommand)]
    Acoustics(acoustics::AcousticsCmd),
    /// Benchmarks (JSON output).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// AVW-4k-style datasets: generate, inspect, export.
    #[command(subcommand)]
    Data(data::DataCmd),
    /// Frozen visual and audio tokenizers: train, evaluate, encode a dataset into a latent cache.
    #[command(subcommand)]
    Tokenizer(tokenizer::TokenizerCmd),
    /// AV-CDiT architectures: parameter counts and FLOPs.
    #[command(subcommand)]
    Model(model::ModelCmd),
    /// Train AV-CDiT (three stages, joint, or a baseline) on a latent cache (resumable).
    Train(model::TrainArgs),
    /// Predict with a trained world model: fixed-step (context, action, Δt) or rollout (actions).
    Predict(model::PredictArgs),
    /// Evaluate a world model on the test split: fixed-step, rollout or counterfactual.
    Eval(eval::EvalArgs),
    /// The paper's tables, claims, curves and sheets from evaluation folders (Markdown, JSON, HTML).
    Report(eval::ReportArgs),
    /// A short drive with the world model imagining every step beside the simulator, written as
    /// one self-contained HTML page (frames, spectrograms, audio players, reward curves).
    Demo(view::DemoArgs),
    /// A local web page (127.0.0.1) to drive the agent with the keys, the simulator's view and
    /// sound beside the world model's imagination of the same action.
    View(view::ViewArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Scene(c) => scene::run(c),
        Command::Sim(c) => sim::run(c),
        Command::Agent(c) => agent::run_agent(c),
        Command::Nav(c) => agent::run_nav(c),
        Command::Acoustics(c) => acoustics::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Data(c) => data::run(c),
        Command::Tokenizer(c) => tokenizer::run(c),
        Command::Model(c) => model::run_model(c),
        Command::Train(a) => model::run_train(a),
        Command::Predict(a) => model::run_predict(a),
        Command::Eval(a) => eval::run_eval(a),
        Command::Report(a) => eval::run_report(a),
        Command::Demo(a) => view::run_demo_cmd(a),
        Command::View(a) => view::run_view_cmd(a),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,sofar=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
