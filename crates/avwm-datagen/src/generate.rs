//! The dataset generator: plan (scenes, splits, episodes, shards), parallel resumable
//! generation, statistics, plots and `info.json`.

use crate::config::GenConfig;
use crate::walk::{WalkError, walk};
use avwm_core::{SAMPLE_RATE_HZ, Seed};
use avwm_data::{
    DataError, DatasetInfo, EpisodeHeader, MotionPattern, ShardInfo, ShardReader, ShardWriter,
    Split, StatsBuilder,
};
use avwm_sim::Simulator;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hidden file holding the config of a run in progress; a restart must use the same config.
pub const RUN_CONFIG_FILE: &str = ".avwm-generate.json";

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// Invalid configuration.
    #[error("config: {0}")]
    Config(String),
    /// The folder holds a run with another configuration.
    #[error(
        "{0}: holds a dataset generated with another configuration; use an empty folder or the same config"
    )]
    ConfigMismatch(std::path::PathBuf),
    /// Scene generation failed.
    #[error("scene {seed}: {source}")]
    Scene {
        /// Scene seed.
        seed: u64,
        /// The error.
        source: avwm_scene::SceneError,
    },
    /// The simulator failed to build.
    #[error("scene {scene}: simulator: {source}")]
    Sim {
        /// Scene name.
        scene: String,
        /// The error.
        source: avwm_sim::SimError,
    },
    /// An episode failed.
    #[error("episode {episode}: {source}")]
    Walk {
        /// Episode id.
        episode: u64,
        /// The error.
        source: WalkError,
    },
    /// Writing or reading the dataset failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Reading or writing a file other than the dataset's.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A broken navigation episode file.
    #[error("{}{}: {msg}", path.display(), if *line > 0 { format!(" line {line}") } else { String::new() })]
    Episodes {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line (0: the file as a whole).
        line: usize,
        /// What is wrong.
        msg: String,
    },
}

/// One planned scene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenePlan {
    /// Scene index (0..scenes).
    pub index: usize,
    /// Procedural seed.
    pub seed: u64,
    /// Split.
    pub split: Split,
    /// Episode ids of this scene (dense, contiguous).
    pub episodes: std::ops::Range<u64>,
    /// Shards of this scene: (relative path, episode ids).
    pub shards: Vec<(String, std::ops::Range<u64>)>,
}

/// The full plan: which scene goes to which split, which episode to which shard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Scenes in split order (train, validation, test), then index order.
    pub scenes: Vec<ScenePlan>,
}

impl Plan {
    /// Builds the plan of `cfg`. Scenes are assigned to splits by a seeded shuffle, in the ratio
    /// `split_ratio` (each split gets ≥ 1 scene); episodes are spread evenly over scenes.
    ///
    /// # Errors
    /// [`GenError::Config`].
    pub fn new(cfg: &GenConfig) -> Result<Plan, GenError> {
        cfg.validate().map_err(GenError::Config)?;
        let n = cfg.scenes;
        let total: u32 = cfg.split_ratio.iter().sum();
        let mut counts = [0usize; 3];
        counts[1] =
            ((n as f64 * f64::from(cfg.split_ratio[1]) / f64::from(total)).round() as usize).max(1);
        counts[2] =
            ((n as f64 * f64::from(cfg.split_ratio[2]) / f64::from(total)).round() as usize).max(1);
        counts[0] = n - counts[1] - counts[2];
        if counts[0] == 0 {
            return Err(GenError::Config(format!(
                "{n} scenes leave none for training"
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        rand::seq::SliceRandom::shuffle(
            &mut order[..],
            &mut Seed(cfg.seed).derive("splits", 0).rng(),
        );
        let mut by_split: Vec<(Split, Vec<usize>)> = Vec::new();
        let mut k = 0;
        for (s, c) in Split::ALL.into_iter().zip(counts) {
            let mut v = order[k..k + c].to_vec();
            v.sort_unstable();
            by_split.push((s, v));
            k += c;
        }
        let mut scenes = Vec::new();
        let mut next_ep = 0u64;
        for (split, idx) in by_split {
            let mut shard_no = 0;
            let mut split_scenes = Vec::new();
            for i in idx {
                let eps = (cfg.episodes / n + usize::from(i < cfg.episodes % n)) as u64;
                let range = next_ep..next_ep + eps;
                next_ep += eps;
                let mut shards = Vec::new();
                let mut e = range.start;
                while e < range.end {
                    let end = (e + cfg.episodes_per_shard as u64).min(range.end);
                    shards.push((shard_no, e..end));
                    shard_no += 1;
                    e = end;
                }
                split_scenes.push((i, range, shards));
            }
            let of = shard_no;
            for (i, range, shards) in split_scenes {
                scenes.push(ScenePlan {
                    index: i,
                    seed: Seed(cfg.seed).derive("scene", i as u64).0 % 100_000,
                    split,
                    episodes: range,
                    shards: shards
                        .into_iter()
                        .map(|(k, r)| {
                            (
                                format!("data/{}-{k:05}-of-{of:05}.parquet", split.name()),
                                r,
                            )
                        })
                        .collect(),
                });
            }
        }
        Ok(Plan { scenes })
    }
}

/// The motion pattern of episode `id`: a low-discrepancy (golden-ratio) sequence cut by the
/// cumulative `pattern_weights`, so that every run of consecutive episodes, hence every scene and
/// split, holds the patterns in very nearly the configured shares.
pub fn pattern_of(cfg: &GenConfig, id: u64) -> MotionPattern {
    let w = cfg.pattern_weights;
    let offset = (Seed(cfg.seed).derive("pattern", 0).0 >> 11) as f64 / (1u64 << 53) as f64;
    let u = ((id as f64 * 0.618_033_988_749_894_9 + offset).fract()
        * f64::from(w.iter().sum::<f32>())) as f32;
    if u < w[0] {
        MotionPattern::SourceToGoal
    } else if u < w[0] + w[1] {
        MotionPattern::StartToSource
    } else {
        MotionPattern::RandomToRandom
    }
}

/// The seed of episode `id` ([`avwm_core::EpisodeSpec::seed`]).
pub fn episode_seed(cfg: &GenConfig, id: u64) -> Seed {
    Seed(cfg.seed).derive("episode", id)
}

/// Progress report: episodes and frames done so far (skipped, already complete shards count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Episodes finished.
    pub episodes_done: usize,
    /// Episodes in the plan.
    pub episodes_total: usize,
    /// Frames written (or found) so far.
    pub frames_done: usize,
}

/// Summary of a run.
#[derive(Debug, Clone)]
pub struct GenSummary {
    /// The written `info.json`.
    pub info: DatasetInfo,
    /// Shards that were already complete and skipped.
    pub shards_skipped: usize,
    /// Shards written by this run.
    pub shards_written: usize,
}

/// Checks that an existing shard is complete and matches the plan; returns its summary.
fn existing_shard(dir: &Path, rel: &str, eps: &std::ops::Range<u64>) -> Option<ShardInfo> {
    let path = dir.join(rel);
    if !path.exists() {
        return None;
    }
    let r = ShardReader::open(&path).ok()?;
    let rows = r.read_all(false).ok()?;
    let mut info = ShardInfo {
        file: rel.to_string(),
        rows: rows.len(),
        bytes: std::fs::metadata(&path).ok()?.len(),
        episodes: Vec::new(),
    };
    for row in &rows {
        if row.frame.step == 0 {
            info.episodes.push(avwm_data::EpisodeEntry {
                episode_id: row.header.episode_id,
                scene_id: row.header.scene_id.clone(),
                pattern: row.header.pattern,
                frames: 0,
                row_group: info.episodes.len(),
            });
        }
        if let Some(e) = info.episodes.last_mut() {
            e.frames += 1;
        }
    }
    let ids: Vec<u64> = info.episodes.iter().map(|e| e.episode_id).collect();
    (ids == eps.clone().collect::<Vec<_>>()).then_some(info)
}

/// Generates (or completes) the dataset of `cfg` in `dir`.
///
/// Work is parallel over scenes (rayon; one [`Simulator`] per scene at a time per worker). Each
/// episode is a pure function of `(cfg, episode id)`, each shard a pure function of its
/// episodes, so the files do not depend on scheduling. A shard that already exists under its
/// final name (complete by construction: written to a hidden temporary and renamed) is kept;
/// leftover temporaries are overwritten. Statistics and `info.json` are computed from the
/// shards at the end, so a resumed run ends with exactly the files of an uninterrupted one.
///
/// # Errors
/// Config, scene, simulator or I/O errors; [`GenError::ConfigMismatch`] if `dir` holds a run
/// with another config.
pub fn generate(
    cfg: &GenConfig,
    dir: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<GenSummary, GenError> {
    let plan = Plan::new(cfg)?;
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let run_cfg = serde_json::to_vec_pretty(cfg).map_err(|e| GenError::Config(e.to_string()))?;
    let run_path = dir.join(RUN_CONFIG_FILE);
    match std::fs::read(&run_path) {
        Ok(old) if old != run_cfg => return Err(GenError::ConfigMismatch(dir.to_path_buf())),
        Ok(_) => {}
        Err(_) => avwm_data::info::write_atomic(&run_path, &run_cfg)?,
    }
    let total = cfg.episodes;
    let (done_eps, done_frames) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let report = |eps: usize, frames: usize| {
        let e = done_eps.fetch_add(eps, Ordering::Relaxed) + eps;
        let f = done_frames.fetch_add(frames, Ordering::Relaxed) + frames;
        progress(Progress {
            episodes_done: e,
            episodes_total: total,
            frames_done: f,
        });
    };
    let results: Vec<Result<Vec<(ShardInfo, bool)>, GenError>> = plan
        .scenes
        .par_iter()
        .map(|sp| {
            let mut out: Vec<Option<(ShardInfo, bool)>> = Vec::new();
            for (rel, eps) in &sp.shards {
                let ex = existing_shard(dir, rel, eps);
                if let Some(s) = &ex {
                    report(s.episodes.len(), s.rows);
                }
                out.push(ex.map(|s| (s, false)));
            }
            if out.iter().all(Option::is_some) {
                return Ok(out.into_iter().flatten().collect());
            }
            let scene =
                avwm_scene::procedural::generate(sp.seed, &cfg.scene).map_err(|source| {
                    GenError::Scene {
                        seed: sp.seed,
                        source,
                    }
                })?;
            let name = scene.name.clone();
            let mut sim =
                Simulator::new(Arc::new(scene), &cfg.sim).map_err(|source| GenError::Sim {
                    scene: name.clone(),
                    source,
                })?;
            for (k, (rel, eps)) in sp.shards.iter().enumerate() {
                if out[k].is_some() {
                    continue;
                }
                let mut w = ShardWriter::create(dir, rel, SAMPLE_RATE_HZ)?;
                for id in eps.clone() {
                    let pattern = pattern_of(cfg, id);
                    let seed = episode_seed(cfg, id);
                    let wk =
                        walk(&mut sim, cfg, pattern, seed).map_err(|source| GenError::Walk {
                            episode: id,
                            source,
                        })?;
                    let header = EpisodeHeader {
                        episode_id: id,
                        scene_id: name.clone(),
                        scene_seed: sp.seed,
                        split: sp.split,
                        pattern,
                        episode_seed: seed.0,
                        goal_xy: [wk.goal.x, wk.goal.y],
                    };
                    w.write_episode(&header, &wk.frames)?;
                    report(1, wk.frames.len());
                }
                out[k] = Some((w.finish()?, true));
            }
            Ok(out.into_iter().flatten().collect())
        })
        .collect();
    let mut shards = Vec::new();
    let mut splits = Vec::new();
    let (mut skipped, mut written) = (0, 0);
    for (sp, r) in plan.scenes.iter().zip(results) {
        for (s, new) in r? {
            if new {
                written += 1
            } else {
                skipped += 1
            }
            shards.push(s);
            splits.push(sp.split);
        }
    }
    // Shards sorted by file name, so info.json lists them in split/file order.
    let mut order: Vec<usize> = (0..shards.len()).collect();
    order.sort_by(|&a, &b| shards[a].file.cmp(&shards[b].file));
    let shards: Vec<ShardInfo> = order.iter().map(|&i| shards[i].clone()).collect();
    let splits: Vec<Split> = order.iter().map(|&i| splits[i]).collect();
    let mut stats = StatsBuilder::new();
    for s in &shards {
        let rows = ShardReader::open(&dir.join(&s.file))?.read_all(false)?;
        stats.add_rows(&rows);
    }
    let statistics = stats.finish();
    let generator = serde_json::json!({
        "config": cfg,
        "plan": plan,
        "never_silent": format!(
            "every frame is within {} m geodesic distance of the source (starts and goals drawn within it; an episode ends if it is exceeded)",
            cfg.max_source_geodesic_m
        ),
        "resimulate": "scene = avwm_scene::procedural::generate(scene_seed, config.scene); sim = Simulator::new(scene, config.sim); \
            reset(EpisodeSpec { seed: episode_seed, start: pose of step 0 }); replay the `action` column; a STOP that is not the last \
            frame is a pause: set the snapshot's done = success = false and restore it",
    });
    let image = [cfg.sim.camera.width, cfg.sim.camera.height];
    let mut info = DatasetInfo::new(
        "AVW-4k-style audio-visual navigation trajectories generated by avwm",
        SAMPLE_RATE_HZ,
        image,
        generator,
        shards,
        &splits,
        statistics,
    );
    info.plots = avwm_data::plot::write_plots(dir, &info.statistics)?;
    info.write(dir)?;
    Ok(GenSummary {
        info,
        shards_skipped: skipped,
        shards_written: written,
    })
}
