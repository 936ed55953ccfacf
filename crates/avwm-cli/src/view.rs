//! `avwm demo` and `avwm view`: the world model imagining beside the simulator.

use crate::common::{Preset, load_scene, parse_floats, progress, sim_config};
use anyhow::{Context, Result};
use avwm_core::Pose;
use avwm_model::predict::Sampler;
use avwm_sim::policy::PolicyKind;
use avwm_view::demo::{DemoConfig, run_demo};
use avwm_view::{ImaginerConfig, Session, SessionConfig};
use clap::Args;
use std::path::PathBuf;

/// The scene, simulator and model options both commands share.
#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Scene file (TOML); the procedural scene of --scene-seed if omitted.
    #[arg(long)]
    scene: Option<PathBuf>,
    /// Procedural scene seed (when --scene is not given).
    #[arg(long, default_value_t = 0)]
    scene_seed: u64,
    /// Simulator settings (TOML); the default preset's otherwise (the tokenizers need 128×128).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The world model.
    #[arg(long, default_value = "models/avwm-small")]
    model: PathBuf,
    /// Its visual tokenizer.
    #[arg(long, default_value = "models/tokenizer-visual")]
    visual_tokenizer: PathBuf,
    /// Its audio tokenizer (`models/tokenizer-audio` for the paper's AV-CDiT, `models/avcdit-small`).
    #[arg(long, default_value = "models/tokenizer-audio-mdct")]
    audio_tokenizer: PathBuf,
    /// Sampler: ddim or ddpm.
    #[arg(long, default_value = "ddim")]
    sampler: String,
    /// Sampling steps (the shipped avwm model is evaluated with 1).
    #[arg(long, default_value_t = 1)]
    sampler_steps: usize,
    /// Seed of the episode and of the diffusion noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// libtorch threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

impl WorldArgs {
    /// The session these options describe (sets libtorch's threads).
    pub fn session(&self) -> Result<SessionConfig> {
        avwm_nn::seed::set_threads(self.threads);
        let scene = load_scene(self.scene.as_deref(), self.scene_seed, Preset::Default)?;
        Ok(SessionConfig {
            scene,
            sim: sim_config(self.config.as_deref(), Preset::Default)?,
            imaginer: ImaginerConfig {
                model: self.model.clone(),
                visual_tokenizer: self.visual_tokenizer.clone(),
                audio_tokenizer: self.audio_tokenizer.clone(),
                sampler: Sampler::parse(&self.sampler, self.sampler_steps)?,
                seed: self.seed,
            },
        })
    }
}

/// `avwm demo`: a short drive with the world model imagining beside the truth, as one HTML page.
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Driver: `shortest-path`, `random`, or `scripted:` followed by letters F L R S.
    #[arg(long, default_value = "shortest-path")]
    policy: String,
    /// Actions to take.
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Start pose x,y,yaw_deg (the seed's random navigable start if omitted).
    #[arg(long)]
    start: Option<String>,
    /// The page to write (summary.json goes beside it).
    #[arg(long, default_value = "runs/demo/demo.html")]
    out: PathBuf,
}

/// `avwm view`: a local web page to drive the agent with the keys.
#[derive(Debug, Args)]
pub struct ViewArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Address to serve on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8765")]
    addr: String,
}

pub fn run_demo_cmd(a: DemoArgs) -> Result<()> {
    let policy = PolicyKind::parse(&a.policy).map_err(anyhow::Error::msg)?;
    let start = a
        .start
        .as_deref()
        .map(|s| {
            parse_floats::<3>(s, "--start").map(|[x, y, yaw]| Pose::new(x, y, yaw.to_radians()))
        })
        .transpose()?;
    let cfg = DemoConfig {
        session: a.world.session()?,
        seed: a.world.seed,
        start,
        policy,
        steps: a.steps,
        out: a.out.clone(),
    };
    let pb = progress(a.steps as u64, "demo");
    let summary = run_demo(&cfg, avwm_nn::default_device(), &mut |i, _| {
        pb.set_position(i as u64);
    })
    .with_context(|| format!("writing the demo to {}", a.out.display()))?;
    pb.finish_and_clear();
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

pub fn run_view_cmd(a: ViewArgs) -> Result<()> {
    if !a.addr.starts_with("127.0.0.1:") && !a.addr.starts_with("localhost:") {
        anyhow::bail!(
            "--addr {}: the viewer serves on 127.0.0.1 only (it has no authentication)",
            a.addr
        );
    }
    let cfg = a.world.session()?;
    let session = Session::new(&cfg, avwm_nn::default_device()).context("loading the session")?;
    avwm_view::server::serve(session, &a.addr, a.world.seed, &mut |addr| {
        // The first line of stdout is the address: scripts and tests read it.
        println!("http://{addr}/");
        eprintln!(
            "avwm view: open http://{addr}/ in a browser (POST /api/quit or Ctrl-C stops it)"
        );
    })
    .with_context(|| format!("serving on {}", a.addr))?;
    Ok(())
}
