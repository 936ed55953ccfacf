//! `avwm scene …`

use crate::common::{Preset, load_toml, write_json};
use anyhow::{Context, Result};
use avwm_scene::procedural::{ProceduralConfig, generate};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum SceneCmd {
    /// Generate a procedural scene: writes scene.toml, scene.json, mesh.ply and map.png.
    Gen {
        /// Generator seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Procedural generator settings (TOML); the preset's if omitted.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Settings preset: `tiny` (3–5 rooms, 60–100 m²) or `default` (3–10 rooms, 150–450 m²).
        #[arg(long, value_enum, default_value = "default")]
        preset: Preset,
    },
}

pub fn run(cmd: SceneCmd) -> Result<()> {
    match cmd {
        SceneCmd::Gen {
            seed,
            out,
            config,
            preset,
        } => {
            let cfg: ProceduralConfig = match config {
                Some(p) => load_toml(Some(&p))?,
                None => preset.scene_config(),
            };
            let scene = generate(seed, &cfg).with_context(|| format!("generating scene {seed}"))?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            avwm_scene::file::write_scene_dir(&scene, Some(&cfg), &out)
                .with_context(|| format!("writing scene to {}", out.display()))?;
            let nav = avwm_nav::NavGrid::build(&scene, &avwm_nav::NavConfig::default())
                .context("building the navigation grid")?;
            let map = nav.draw_map(&scene, &[], 20.0);
            avwm_core::write_atomic(&out.join("map.png"), &avwm_core::encode_png(&map)?)?;
            let (lo, hi) = scene.mesh.bounds().context("the scene is empty")?;
            let summary = serde_json::json!({
                "name": scene.name,
                "seed": seed,
                "rooms": scene.rooms.len(),
                "doors": scene.doors.len(),
                "triangles": scene.mesh.len(),
                "bounds_min": [lo.x, lo.y, lo.z],
                "bounds_max": [hi.x, hi.y, hi.z],
                "navigable_m2": nav.area_m2(),
                "source": [scene.source.position.x, scene.source.position.y, scene.source.position.z],
            });
            write_json(&out.join("summary.json"), &summary)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
    }
}
