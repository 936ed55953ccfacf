//! `avwm sim …`

use crate::common::{Preset, load_scene, parse_floats, progress, sim_config};
use anyhow::{Context, Result};
use avwm_core::{Pose, Seed};
use avwm_sim::policy::PolicyKind;
use avwm_sim::record::{RecordRequest, record};
use avwm_sim::{SimConfig, Simulator};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Record one episode: PNG frames, stitched binaural WAV, JSONL log, map, summary.json.
    Record {
        /// Scene file (TOML); the procedural scene of --scene-seed if omitted.
        #[arg(long)]
        scene: Option<PathBuf>,
        /// Procedural scene seed (when --scene is not given).
        #[arg(long, default_value_t = 0)]
        scene_seed: u64,
        /// `shortest-path`, `random`, or `scripted:` followed by letters F L R S (e.g. `scripted:FFLS`).
        #[arg(long, default_value = "shortest-path")]
        policy: String,
        /// Maximum number of actions.
        #[arg(long, default_value_t = 300)]
        steps: usize,
        /// Episode seed (start pose, audio offset, tail noise, random policy).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Start pose x,y,yaw_deg (random navigable if omitted).
        #[arg(long)]
        start: Option<String>,
        /// Simulator settings (TOML sections `camera`, `nav`, `acoustics`, `binaural`, `hrtf`, `source`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Settings preset (overridden by --config).
        #[arg(long, value_enum, default_value = "default")]
        preset: Preset,
        /// Output folder.
        #[arg(long, default_value = "runs/record")]
        out: PathBuf,
    },
}

pub fn run(cmd: SimCmd) -> Result<()> {
    match cmd {
        SimCmd::Record {
            scene,
            scene_seed,
            policy,
            steps,
            seed,
            start,
            config,
            preset,
            out,
        } => {
            let policy = PolicyKind::parse(&policy).map_err(anyhow::Error::msg)?;
            let cfg: SimConfig = sim_config(config.as_deref(), preset)?;
            let start = start
                .map(|s| {
                    parse_floats::<3>(&s, "--start")
                        .map(|[x, y, yaw]| Pose::new(x, y, yaw.to_radians()))
                })
                .transpose()?;
            let scene = load_scene(scene.as_deref(), scene_seed, preset)?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let text = toml::to_string(&cfg).context("serialising the resolved config")?;
            avwm_core::write_atomic(&out.join("config.toml"), text.as_bytes())?;
            let mut sim = Simulator::new(scene, &cfg).context("building the simulator")?;
            let pb = progress(steps as u64, "record");
            let req = RecordRequest {
                policy,
                steps,
                seed: Seed(seed),
                start,
            };
            let summary = record(&mut sim, &req, &out, &|i| pb.set_position(i as u64))
                .with_context(|| format!("recording to {}", out.display()))?;
            pb.finish_and_clear();
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
    }
}
