//! `avwm data …`: generate, inspect and export AVW-4k-style datasets.

use crate::common::{progress, write_json};
use anyhow::{Context, Result};
use avwm_data::{Dataset, DatasetInfo};
use avwm_datagen::GenConfig;
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// Dataset size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataPreset {
    /// Seconds: 3 small scenes, 6 trajectories of ≤ 40 frames, 32×32 images (tests, CI).
    Tiny,
    /// The model issues' default: 12 scenes, 300 trajectories, 128×128 images.
    Small,
    /// The paper's AVW-4k scale: 76 scenes, 4,560 trajectories, ≈ 720 k frames.
    Avw4k,
}

#[derive(Debug, Subcommand)]
pub enum DataCmd {
    /// Generate a dataset (parallel, deterministic, resumable: re-run the same command to finish).
    Generate {
        /// Size preset; a --config file overrides any of its fields.
        #[arg(long, value_enum, default_value = "tiny")]
        preset: DataPreset,
        /// TOML with GenConfig fields (seed, scenes, episodes, max_frames, `[variation]`, `[scene]`, `[sim]`, …).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Root seed (overrides the config's).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Generate only part I of N (`I/N`, 0 ≤ I < N; the plan's scenes I, I+N, …) for data
        /// generation across machines; `avwm data merge` then joins the parts.
        #[arg(long, value_name = "I/N")]
        shard: Option<avwm_datagen::Part>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Join the parts made by `data generate --shard I/N` into one dataset (statistics, plots,
    /// info.json), byte-identical to a single-machine run.
    Merge {
        /// The dataset folder. With no PARTS, every part was generated into it (a shared folder).
        #[arg(long)]
        out: PathBuf,
        /// Folders the parts were generated in, when each machine wrote its own: their shards are
        /// copied into --out.
        parts: Vec<PathBuf>,
    },
    /// Fixed AudioGoal evaluation episodes in the scenes of one split of a dataset plan (SoundSpaces'
    /// filters: geodesic > 4 m, geodesic / Euclidean > 1.1), as JSON Lines.
    Episodes {
        /// Dataset preset whose scene plan gives the scenes; a --config file overrides its fields.
        #[arg(long, value_enum, default_value = "small")]
        preset: DataPreset,
        /// TOML with GenConfig fields.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The dataset's root seed (overrides the config's): the same plan as `data generate`.
        #[arg(long)]
        seed: Option<u64>,
        /// Split whose scenes hold the episodes.
        #[arg(long, default_value = "test")]
        split: String,
        /// Episodes per scene.
        #[arg(long, default_value_t = 80)]
        per_scene: usize,
        /// Seed of the episode draws.
        #[arg(long, default_value_t = 0)]
        episode_seed: u64,
        /// Smallest geodesic distance to the source (m, exclusive).
        #[arg(long, default_value_t = 4.0)]
        min_geodesic: f32,
        /// Smallest geodesic / Euclidean ratio (exclusive).
        #[arg(long, default_value_t = 1.1)]
        min_ratio: f32,
        /// Output file (JSON Lines).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the statistics of a dataset (splits, patterns, lengths, geodesic distances).
    Inspect {
        /// Dataset folder.
        dir: PathBuf,
        /// Print the full statistics as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Audio levels per split: the peak sample and where it is, frames and samples at or above
    /// full scale (what a 16-bit WAV would clip), and the distribution of frame RMS levels (dBFS).
    Levels {
        /// Dataset folder.
        dir: PathBuf,
        /// Also write the levels as JSON here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Export one episode: frames (PNG), stitched binaural WAV, contact sheet with spectrograms.
    Export {
        /// Dataset folder.
        dir: PathBuf,
        /// Episode id.
        #[arg(long)]
        episode: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The preset with the file's fields on top and the seed override.
fn resolve(preset: DataPreset, config: Option<&Path>, seed: Option<u64>) -> Result<GenConfig> {
    let base = match preset {
        DataPreset::Tiny => GenConfig::tiny(),
        DataPreset::Small => GenConfig::small(),
        DataPreset::Avw4k => GenConfig::avw4k(),
    };
    let mut cfg = match config {
        None => base,
        Some(p) => base.with_overrides(p)?,
    };
    if let Some(s) = seed {
        cfg.seed = s;
    }
    cfg.validate().map_err(anyhow::Error::msg)?;
    Ok(cfg)
}

pub fn run(cmd: DataCmd) -> Result<()> {
    match cmd {
        DataCmd::Episodes {
            preset,
            config,
            seed,
            split,
            per_scene,
            episode_seed,
            min_geodesic,
            min_ratio,
            out,
        } => {
            use avwm_datagen::episodes::{EpisodeRules, sample_episodes, write_episodes};
            let cfg = resolve(preset, config.as_deref(), seed)?;
            let split = avwm_data::Split::parse(&split)
                .with_context(|| format!("unknown split `{split}` (train, validation, test)"))?;
            let rules = EpisodeRules {
                min_geodesic_m: min_geodesic,
                min_ratio,
                ..EpisodeRules::default()
            };
            let eps = sample_episodes(
                &cfg,
                split,
                per_scene,
                &rules,
                avwm_core::Seed(episode_seed),
            )?;
            write_episodes(&out, &eps)?;
            let n = eps.len() as f64;
            let mean = |f: &dyn Fn(&avwm_datagen::episodes::NavEpisode) -> f64| {
                eps.iter().map(f).sum::<f64>() / n
            };
            let mut scenes: Vec<&str> = eps.iter().map(|e| e.scene.as_str()).collect();
            scenes.dedup();
            let summary = serde_json::json!({
                "out": out,
                "episodes": eps.len(),
                "scenes": scenes,
                "mean_geodesic_m": mean(&|e| f64::from(e.geodesic_distance)),
                "mean_ratio": mean(&|e| f64::from(e.geodesic_distance / e.euclidean_distance)),
                "mean_num_action": mean(&|e| e.num_action as f64),
            });
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        DataCmd::Generate {
            preset,
            config,
            seed,
            threads,
            shard,
            out,
        } => {
            let cfg = resolve(preset, config.as_deref(), seed)?;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build()
                .context("building the thread pool")?;
            let pb = progress(cfg.episodes as u64, "episodes");
            let on_progress = |p: avwm_datagen::Progress| {
                pb.set_length(p.episodes_total as u64);
                pb.set_position(p.episodes_done as u64);
                pb.set_message(format!("{} fr", p.frames_done));
            };
            let t = std::time::Instant::now();
            let threads = pool.current_num_threads();
            let report = match shard {
                Some(part) => {
                    let summary = pool
                        .install(|| avwm_datagen::generate_part(&cfg, &out, part, &on_progress))
                        .with_context(|| {
                            format!("generating part {part} into {}", out.display())
                        })?;
                    serde_json::json!({
                        "out": out,
                        "shard": part.to_string(),
                        "scenes": summary.scenes,
                        "episodes": summary.shards.iter().map(|s| s.episodes.len()).sum::<usize>(),
                        "frames": summary.shards.iter().map(|s| s.rows).sum::<usize>(),
                        "shards_written": summary.shards_written,
                        "shards_skipped": summary.shards_skipped,
                        "bytes": summary.shards.iter().map(|s| s.bytes).sum::<u64>(),
                        "wall_s": t.elapsed().as_secs_f64(),
                        "threads": threads,
                        "next": format!("when all {} parts are done: avwm data merge --out DIR [PART_DIRS…]", part.count),
                    })
                }
                None => {
                    let summary = pool
                        .install(|| avwm_datagen::generate(&cfg, &out, &on_progress))
                        .with_context(|| format!("generating into {}", out.display()))?;
                    let wall = t.elapsed().as_secs_f64();
                    let frames = summary.info.statistics.all.frames;
                    serde_json::json!({
                        "out": out,
                        "episodes": summary.info.statistics.all.episodes,
                        "frames": frames,
                        "hours": summary.info.statistics.all.hours,
                        "shards_written": summary.shards_written,
                        "shards_skipped": summary.shards_skipped,
                        "bytes": summary.info.shards.iter().map(|s| s.bytes).sum::<u64>(),
                        "wall_s": wall,
                        "frames_per_s_this_run": frames as f64 / wall,
                        "threads": threads,
                    })
                }
            };
            pb.finish_and_clear();
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        DataCmd::Merge { out, parts } => {
            let pb = progress(0, "episodes");
            let t = std::time::Instant::now();
            let summary = avwm_datagen::merge(&out, &parts, &|p| {
                pb.set_length(p.episodes_total as u64);
                pb.set_position(p.episodes_done as u64);
            })
            .with_context(|| format!("merging into {}", out.display()))?;
            pb.finish_and_clear();
            let all = &summary.info.statistics.all;
            let report = serde_json::json!({
                "out": out,
                "parts": summary.parts,
                "shards_copied": summary.shards_copied,
                "episodes": all.episodes,
                "frames": all.frames,
                "hours": all.hours,
                "bytes": summary.info.shards.iter().map(|s| s.bytes).sum::<u64>(),
                "wall_s": t.elapsed().as_secs_f64(),
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        DataCmd::Inspect { dir, json } => {
            let ds = Dataset::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
            let info = ds.info();
            if json {
                println!("{}", serde_json::to_string_pretty(&info.statistics)?);
            } else {
                print!("{}", table(info, &dir));
            }
            Ok(())
        }
        DataCmd::Levels { dir, out } => {
            let ds = Dataset::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
            let levels = avwm_data::levels::audio_levels(&ds)
                .with_context(|| format!("measuring the audio of {}", dir.display()))?;
            if let Some(out) = &out {
                write_json(out, &levels)?;
            }
            println!("{}", serde_json::to_string_pretty(&levels)?);
            Ok(())
        }
        DataCmd::Export { dir, episode, out } => {
            let ds = Dataset::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
            let e = ds.episode(episode)?.clone();
            let frames = ds.episode_frames(episode)?;
            let fdir = out.join("frames");
            std::fs::create_dir_all(&fdir)
                .with_context(|| format!("creating {}", fdir.display()))?;
            let (mut left, mut right) = (Vec::new(), Vec::new());
            let mut log = Vec::new();
            for f in &frames {
                let png = avwm_data::media::encode_png(&f.rgb)?;
                avwm_core::write_atomic(&fdir.join(format!("{:04}.png", f.step)), &png)?;
                left.extend_from_slice(&f.audio.left);
                right.extend_from_slice(&f.audio.right);
                log.push(serde_json::json!({
                    "step": f.step, "action": f.action.map(|a| a.name()), "x": f.pose.x, "y": f.pose.y,
                    "yaw": f.pose.yaw, "geodesic_m": f.geodesic_m, "reward": f.reward,
                    "distance_reduction_m": f.distance_reduction_m,
                }));
            }
            let wav = avwm_audio::source::encode_wav(&[&left, &right], avwm_core::SAMPLE_RATE_HZ)?;
            avwm_core::write_atomic(&out.join("audio.wav"), &wav)?;
            let sheet = avwm_data::plot::contact_sheet(&frames, 8, 64);
            avwm_core::write_atomic(
                &out.join("contact_sheet.png"),
                &avwm_data::media::encode_png(&sheet)?,
            )?;
            write_json(
                &out.join("episode.json"),
                &serde_json::json!({
                    "episode_id": episode, "scene_id": e.entry.scene_id, "split": e.split.name(),
                    "pattern": e.entry.pattern.name(), "frames": frames.len(), "steps": log,
                }),
            )?;
            println!(
                "{} frames of episode {episode} ({}, {}) → {}",
                frames.len(),
                e.split.name(),
                e.entry.pattern.name(),
                out.display()
            );
            Ok(())
        }
    }
}

fn table(info: &DatasetInfo, dir: &Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let bytes: u64 = info.shards.iter().map(|s| s.bytes).sum();
    let _ = writeln!(
        s,
        "{}  format {} v{}  {} shards, {:.2} GB, images {}×{}, audio {} Hz stereo",
        dir.display(),
        info.format,
        info.format_version,
        info.shards.len(),
        bytes as f64 / 1e9,
        info.image_size[0],
        info.image_size[1],
        info.sample_rate_hz
    );
    let _ = writeln!(
        s,
        "{:<11} {:>6} {:>8} {:>9} {:>6} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "split",
        "scenes",
        "episodes",
        "frames",
        "hours",
        "src→goal",
        "start→src",
        "rnd→rnd",
        "len mean",
        "len max",
        "geo mean"
    );
    let rows = info
        .statistics
        .splits
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .chain(std::iter::once(("all", &info.statistics.all)));
    for (name, st) in rows {
        let share = |p: &str| 100.0 * st.pattern_share.get(p).copied().unwrap_or(0.0);
        let _ = writeln!(
            s,
            "{:<11} {:>6} {:>8} {:>9} {:>6.2} {:>7.1}% {:>8.1}% {:>7.1}% {:>9.1} {:>9.0} {:>7.2}m",
            name,
            st.scenes,
            st.episodes,
            st.frames,
            st.hours,
            share("source_to_goal"),
            share("start_to_source"),
            share("random_to_random"),
            st.length_frames.mean,
            st.length_frames.max,
            st.geodesic_m.mean
        );
    }
    let a = &info.statistics.all.action_share;
    let _ = writeln!(
        s,
        "actions: forward {:.1}%, left {:.1}%, right {:.1}%, stop/pause {:.1}%   geodesic max {:.2} m",
        100.0 * a.get("forward").copied().unwrap_or(0.0),
        100.0 * a.get("turn_left").copied().unwrap_or(0.0),
        100.0 * a.get("turn_right").copied().unwrap_or(0.0),
        100.0 * a.get("stop").copied().unwrap_or(0.0),
        info.statistics.all.geodesic_m.max
    );
    let _ = writeln!(s, "plots: {}", info.plots.join(", "));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_overrides_preset_fields_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gen.toml");
        std::fs::write(
            &p,
            "episodes = 9\n[variation]\npause = 0.5\n[sim.camera]\nwidth = 48\n",
        )
        .unwrap();
        let cfg = resolve(DataPreset::Tiny, Some(&p), Some(42)).unwrap();
        let tiny = GenConfig::tiny();
        assert_eq!((cfg.episodes, cfg.seed, cfg.variation.pause), (9, 42, 0.5));
        assert_eq!(cfg.sim.camera.width, 48);
        assert_eq!(cfg.sim.camera.height, tiny.sim.camera.height);
        assert_eq!(cfg.scenes, tiny.scenes);
        std::fs::write(&p, "episodez = 9\n").unwrap();
        assert!(
            resolve(DataPreset::Tiny, Some(&p), None).is_err(),
            "unknown fields are rejected"
        );
    }
}
