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
    /// Parts of a dataset cannot be merged.
    #[error("{}: {msg}", path.display())]
    Merge {
        /// The folder or file concerned.
        path: std::path::PathBuf,
        /// What is missing or inconsistent.
        msg: String,
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

impl From<avwm_core::IoError> for GenError {
    fn from(e: avwm_core::IoError) -> Self {
        GenError::Io {
            path: e.path,
            source: e.source,
        }
    }
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

/// One machine's part of a dataset (`avwm data generate --shard I/N`): the plan's scenes
/// `index, index + count, index + 2·count, …` in plan order (train, validation, test), so every
/// part holds scenes of every split while there are enough of them.
///
/// A part's files depend only on the config and `I/N`; [`merge`] joins the `N` parts into the
/// dataset a single [`generate`] makes, byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Part {
    /// This part, `0..count`.
    pub index: usize,
    /// How many parts the plan is cut into.
    pub count: usize,
}

impl Part {
    /// Part `index` of `count`.
    ///
    /// # Errors
    /// [`GenError::Config`] unless `0 <= index < count`.
    pub fn new(index: usize, count: usize) -> Result<Part, GenError> {
        if count == 0 || index >= count {
            return Err(GenError::Config(format!(
                "shard {index}/{count}: expected I/N with 0 <= I < N"
            )));
        }
        Ok(Part { index, count })
    }

    /// Does this part generate the plan's `k`-th scene?
    pub fn holds(&self, k: usize) -> bool {
        k % self.count == self.index
    }

    /// The marker file a finished part leaves in its folder: `.avwm-part-I-of-N.json`.
    pub fn marker(&self) -> String {
        format!(".avwm-part-{}-of-{}.json", self.index, self.count)
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Part {
    type Err = GenError;

    /// Parses `I/N` with `0 ≤ I < N`.
    fn from_str(s: &str) -> Result<Part, GenError> {
        let bad = || GenError::Config(format!("shard `{s}`: expected I/N with 0 <= I < N"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        Part::new(index, count)
    }
}

/// What a finished part records in its marker file (`Part::marker`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
struct PartMarker {
    part: Part,
    /// The shard files this part wrote or found complete, with their summaries.
    shards: Vec<ShardInfo>,
}

/// Summary of one part's run ([`generate_part`]).
#[derive(Debug, Clone)]
pub struct PartSummary {
    /// The part.
    pub part: Part,
    /// Scenes of the plan in this part.
    pub scenes: usize,
    /// The part's shard files (relative paths) with their summaries.
    pub shards: Vec<ShardInfo>,
    /// Shards that were already complete and skipped.
    pub shards_skipped: usize,
    /// Shards written by this run.
    pub shards_written: usize,
}

/// Summary of [`merge`].
#[derive(Debug, Clone)]
pub struct MergeSummary {
    /// The written `info.json`.
    pub info: DatasetInfo,
    /// How many parts were joined.
    pub parts: usize,
    /// Shard files copied in from other folders (0 when every part wrote into the output folder).
    pub shards_copied: usize,
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
    claim(cfg, dir)?;
    let all: Vec<&ScenePlan> = plan.scenes.iter().collect();
    let written = write_scenes(cfg, dir, &all, progress)?;
    let (skipped, new) = written.counts();
    let info = finish(cfg, &plan, dir, written.shards)?;
    Ok(GenSummary {
        info,
        shards_skipped: skipped,
        shards_written: new,
    })
}

/// Generates (or completes) one part of the dataset of `cfg` in `dir` ([`Part`]), for data
/// generation across machines: every part may write into the same (shared) folder or into a
/// folder of its own. Resumable like [`generate`]. At the end the part leaves its marker file;
/// [`merge`] then writes the statistics, plots and `info.json` of the whole dataset.
///
/// # Errors
/// As [`generate`].
pub fn generate_part(
    cfg: &GenConfig,
    dir: &Path,
    part: Part,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<PartSummary, GenError> {
    let plan = Plan::new(cfg)?;
    // The fields are public: a part built by hand is checked as a parsed one is.
    let part = Part::new(part.index, part.count)?;
    claim(cfg, dir)?;
    let mine: Vec<&ScenePlan> = plan
        .scenes
        .iter()
        .enumerate()
        .filter(|(k, _)| part.holds(*k))
        .map(|(_, sp)| sp)
        .collect();
    let written = write_scenes(cfg, dir, &mine, progress)?;
    let (skipped, new) = written.counts();
    let shards: Vec<ShardInfo> = written.shards.into_iter().map(|(s, _)| s).collect();
    let marker = PartMarker {
        part,
        shards: shards.clone(),
    };
    let json = serde_json::to_vec_pretty(&marker).map_err(|e| GenError::Config(e.to_string()))?;
    avwm_core::write_atomic(&dir.join(part.marker()), &json)?;
    Ok(PartSummary {
        part,
        scenes: mine.len(),
        shards,
        shards_skipped: skipped,
        shards_written: new,
    })
}

/// Joins the parts of a dataset generated with [`generate_part`] into `dir` and writes its
/// statistics, plots and `info.json`: the files are byte-identical to one [`generate`] run.
///
/// `inputs` are the folders the parts were generated in; their shard files are copied into
/// `dir` (atomically; a file already there and complete is kept). With no `inputs` the parts are
/// expected in `dir` itself (every machine wrote into one shared folder). Every input must hold
/// the same config, and the markers must cover every part `0..N` of one `N` exactly once. The
/// part markers in `dir` are removed once `info.json` is written.
///
/// # Errors
/// [`GenError::Merge`] naming the folder and what is missing or inconsistent;
/// [`GenError::ConfigMismatch`]; I/O and data errors naming the file.
pub fn merge(
    dir: &Path,
    inputs: &[std::path::PathBuf],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<MergeSummary, GenError> {
    let merge_err = |path: &Path, msg: String| GenError::Merge {
        path: path.to_path_buf(),
        msg,
    };
    let sources: Vec<&Path> = if inputs.is_empty() {
        vec![dir]
    } else {
        inputs.iter().map(|p| p.as_path()).collect()
    };
    // One config for every source.
    let mut config: Option<Vec<u8>> = None;
    for src in &sources {
        let path = src.join(RUN_CONFIG_FILE);
        let bytes = std::fs::read(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => merge_err(
                src,
                format!("no {RUN_CONFIG_FILE}: not a folder made by `avwm data generate --shard`"),
            ),
            _ => GenError::Io {
                path: path.clone(),
                source,
            },
        })?;
        match &config {
            Some(c) if *c != bytes => return Err(GenError::ConfigMismatch(src.to_path_buf())),
            Some(_) => {}
            None => config = Some(bytes),
        }
    }
    let config = config.unwrap_or_default();
    let cfg: GenConfig = serde_json::from_slice(&config).map_err(|e| {
        merge_err(
            &sources[0].join(RUN_CONFIG_FILE),
            format!("not a generator config: {e}"),
        )
    })?;
    let plan = Plan::new(&cfg)?;
    // The parts' markers: one N, every index once.
    let mut markers: Vec<(std::path::PathBuf, PartMarker)> = Vec::new();
    for src in &sources {
        let entries = std::fs::read_dir(src).map_err(|source| GenError::Io {
            path: src.to_path_buf(),
            source,
        })?;
        for e in entries {
            let e = e.map_err(|source| GenError::Io {
                path: src.to_path_buf(),
                source,
            })?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !(name.starts_with(".avwm-part-") && name.ends_with(".json")) {
                continue;
            }
            let path = e.path();
            let bytes = std::fs::read(&path).map_err(|source| GenError::Io {
                path: path.clone(),
                source,
            })?;
            let m: PartMarker = serde_json::from_slice(&bytes)
                .map_err(|e| merge_err(&path, format!("not a part marker: {e}")))?;
            if name != m.part.marker() {
                return Err(merge_err(
                    &path,
                    format!("holds the marker of part {}", m.part),
                ));
            }
            markers.push((src.to_path_buf(), m));
        }
    }
    let Some(count) = markers.first().map(|(_, m)| m.part.count) else {
        return Err(merge_err(
            sources[0],
            "no finished part here (no .avwm-part-I-of-N.json): run `avwm data generate --shard I/N` first"
                .into(),
        ));
    };
    let mut seen = vec![None; count];
    for (src, m) in &markers {
        if m.part.count != count {
            return Err(merge_err(
                src,
                format!(
                    "part {} was cut into {} parts, another into {count}",
                    m.part, m.part.count
                ),
            ));
        }
        if let Some(other) = seen[m.part.index].replace(src.clone()) {
            return Err(merge_err(
                src,
                format!("part {} is also in {}", m.part, other.display()),
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| seen[i].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(merge_err(
            sources[0],
            format!("parts not finished (or not given): {}", missing.join(", ")),
        ));
    }
    // Copy the shards into `dir`, then check every shard of the plan.
    std::fs::create_dir_all(dir).map_err(|source| GenError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut copied = 0;
    if !inputs.is_empty() {
        claim(&cfg, dir)?;
        for (src, m) in &markers {
            for s in &m.shards {
                let (from, to) = (src.join(&s.file), dir.join(&s.file));
                if from == to {
                    continue;
                }
                let same = std::fs::metadata(&to).is_ok_and(|t| t.len() == s.bytes);
                if !same {
                    avwm_core::fs::copy_atomic(&from, &to)?;
                    copied += 1;
                }
            }
        }
    }
    let total: usize = plan.scenes.iter().map(|sp| sp.shards.len()).sum();
    let mut shards = Vec::with_capacity(total);
    let mut episodes = 0;
    let mut frames = 0;
    for (k, sp) in plan.scenes.iter().enumerate() {
        for (rel, eps) in &sp.shards {
            let s = existing_shard(dir, rel, eps).ok_or_else(|| {
                merge_err(
                    &dir.join(rel),
                    format!(
                        "missing or incomplete (episodes {}..{} of part {}/{count})",
                        eps.start,
                        eps.end,
                        k % count
                    ),
                )
            })?;
            episodes += s.episodes.len();
            frames += s.rows;
            progress(Progress {
                episodes_done: episodes,
                episodes_total: cfg.episodes,
                frames_done: frames,
            });
            shards.push((s, sp.split));
        }
    }
    let info = finish(&cfg, &plan, dir, shards)?;
    for i in 0..count {
        let marker = dir.join(Part { index: i, count }.marker());
        if marker.exists() {
            std::fs::remove_file(&marker).map_err(|source| GenError::Io {
                path: marker,
                source,
            })?;
        }
    }
    Ok(MergeSummary {
        info,
        parts: count,
        shards_copied: copied,
    })
}

/// Records `cfg` as the config of the run in `dir` (creating it), or checks that the run there
/// has the same one.
fn claim(cfg: &GenConfig, dir: &Path) -> Result<(), GenError> {
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let run_cfg = serde_json::to_vec_pretty(cfg).map_err(|e| GenError::Config(e.to_string()))?;
    let run_path = dir.join(RUN_CONFIG_FILE);
    match std::fs::read(&run_path) {
        Ok(old) if old != run_cfg => Err(GenError::ConfigMismatch(dir.to_path_buf())),
        Ok(_) => Ok(()),
        Err(_) => Ok(avwm_core::write_atomic(&run_path, &run_cfg)?),
    }
}

/// The shards of some scenes, each with its split and whether this run wrote it.
struct Written {
    shards: Vec<(ShardInfo, Split)>,
    new: Vec<bool>,
}

impl Written {
    /// (skipped, written).
    fn counts(&self) -> (usize, usize) {
        let new = self.new.iter().filter(|&&n| n).count();
        (self.new.len() - new, new)
    }
}

/// Writes (or finds complete) every shard of `scenes`, in parallel over scenes.
fn write_scenes(
    cfg: &GenConfig,
    dir: &Path,
    scenes: &[&ScenePlan],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Written, GenError> {
    let total = scenes.iter().map(|sp| sp.episodes.clone().count()).sum();
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
    let results: Vec<Result<Vec<(ShardInfo, bool)>, GenError>> = scenes
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
    let mut written = Written {
        shards: Vec::new(),
        new: Vec::new(),
    };
    for (sp, r) in scenes.iter().zip(results) {
        for (s, new) in r? {
            written.shards.push((s, sp.split));
            written.new.push(new);
        }
    }
    Ok(written)
}

/// Statistics, plots and `info.json` of the dataset in `dir`, from its shards.
fn finish(
    cfg: &GenConfig,
    plan: &Plan,
    dir: &Path,
    shards: Vec<(ShardInfo, Split)>,
) -> Result<DatasetInfo, GenError> {
    let mut shards = shards;
    // Shards sorted by file name, so info.json lists them in split/file order.
    shards.sort_by(|a, b| a.0.file.cmp(&b.0.file));
    let (shards, splits): (Vec<ShardInfo>, Vec<Split>) = shards.into_iter().unzip();
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
    Ok(info)
}
