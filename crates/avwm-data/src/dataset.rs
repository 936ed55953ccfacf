//! The training reader: random access to frames, context/target windows with aggregated
//! actions, split/pattern filters, seeded shuffling and background prefetch.

use crate::error::{DataError, Result};
use crate::info::DatasetInfo;
use crate::media::{decode_png, decode_wav};
use crate::schema::{MotionPattern, RawRow, Split};
use crate::shard::{EpisodeEntry, ShardReader};
use avwm_core::{Action, BinauralAudio, Pose, RgbImage, Seed, wrap_angle};
use rand::seq::SliceRandom;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Where one episode is.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRef {
    /// Episode description from `info.json`.
    pub entry: EpisodeEntry,
    /// Split.
    pub split: Split,
    /// Index of the shard in [`DatasetInfo::shards`].
    pub shard: usize,
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Episode id.
    pub episode_id: u64,
    /// Step (0 = reset observation).
    pub step: usize,
    /// Action that led here (`None` at step 0; `Stop` is a pause).
    pub action: Option<Action>,
    /// Pose.
    pub pose: Pose,
    /// RGB image.
    pub rgb: RgbImage,
    /// Binaural step audio.
    pub audio: BinauralAudio,
    /// Geodesic distance to the source (m).
    pub geodesic_m: f32,
    /// Simulator reward of the action.
    pub reward: f32,
    /// Geodesic reduction since the previous frame (m): the pseudo-reward.
    pub distance_reduction_m: f32,
}

impl Frame {
    /// Decodes a raw row.
    ///
    /// # Errors
    /// Bad PNG or WAV bytes.
    pub fn decode(row: &RawRow) -> Result<Frame> {
        Ok(Frame {
            episode_id: row.header.episode_id,
            step: row.frame.step as usize,
            action: row.frame.action,
            pose: row.frame.pose,
            rgb: decode_png(&row.frame.png)?,
            audio: decode_wav(&row.frame.wav)?,
            geodesic_m: row.frame.geodesic_m,
            reward: row.frame.reward,
            distance_reduction_m: row.frame.distance_reduction_m,
        })
    }
}

/// Which episodes to use (`None` = all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Keep these splits only.
    pub splits: Option<Vec<Split>>,
    /// Keep these motion patterns only.
    pub patterns: Option<Vec<MotionPattern>>,
}

impl Filter {
    /// Only `split`.
    pub fn split(split: Split) -> Filter {
        Filter {
            splits: Some(vec![split]),
            patterns: None,
        }
    }

    /// Whether an episode passes.
    pub fn accepts(&self, e: &EpisodeRef) -> bool {
        self.splits.as_ref().is_none_or(|s| s.contains(&e.split))
            && self
                .patterns
                .as_ref()
                .is_none_or(|p| p.contains(&e.entry.pattern))
    }
}

/// An opened dataset folder.
#[derive(Debug)]
pub struct Dataset {
    dir: PathBuf,
    info: DatasetInfo,
    shards: Vec<ShardReader>,
    episodes: Vec<EpisodeRef>,
    by_id: HashMap<u64, usize>,
}

impl Dataset {
    /// Opens `dir`: reads and checks `info.json`, opens every shard footer and checks it against
    /// `info.json` (row groups and row counts).
    ///
    /// # Errors
    /// Missing/invalid `info.json`, another format version, missing, corrupt or foreign shards.
    pub fn open(dir: &Path) -> Result<Dataset> {
        let info = DatasetInfo::read(dir)?;
        let mut shards = Vec::with_capacity(info.shards.len());
        let mut episodes = Vec::new();
        let split_of: HashMap<&str, Split> = info
            .splits
            .iter()
            .flat_map(|(name, s)| {
                s.shards
                    .iter()
                    .map(move |f| (f.as_str(), Split::parse(name)))
            })
            .filter_map(|(f, s)| s.map(|s| (f, s)))
            .collect();
        for (k, s) in info.shards.iter().enumerate() {
            let path = dir.join(&s.file);
            let reader = ShardReader::open(&path)?;
            let corrupt = |reason: String| DataError::Corrupt {
                path: path.clone(),
                reason,
            };
            if reader.num_row_groups() != s.episodes.len() {
                return Err(corrupt(format!(
                    "{} row groups, info.json lists {} episodes",
                    reader.num_row_groups(),
                    s.episodes.len()
                )));
            }
            let split = *split_of
                .get(s.file.as_str())
                .ok_or_else(|| corrupt("shard not in any split".into()))?;
            for e in &s.episodes {
                if reader.row_group_rows(e.row_group) != Some(e.frames) {
                    return Err(corrupt(format!(
                        "episode {} row count differs from info.json",
                        e.episode_id
                    )));
                }
                episodes.push(EpisodeRef {
                    entry: e.clone(),
                    split,
                    shard: k,
                });
            }
            shards.push(reader);
        }
        let by_id = episodes
            .iter()
            .enumerate()
            .map(|(i, e)| (e.entry.episode_id, i))
            .collect();
        Ok(Dataset {
            dir: dir.to_path_buf(),
            info,
            shards,
            episodes,
            by_id,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The description.
    pub fn info(&self) -> &DatasetInfo {
        &self.info
    }

    /// All episodes, in shard order.
    pub fn episodes(&self) -> &[EpisodeRef] {
        &self.episodes
    }

    /// The episode with this id.
    ///
    /// # Errors
    /// [`DataError::NoSuchEpisode`].
    pub fn episode(&self, id: u64) -> Result<&EpisodeRef> {
        self.by_id
            .get(&id)
            .map(|&i| &self.episodes[i])
            .ok_or(DataError::NoSuchEpisode(id))
    }

    /// Raw rows `steps` of an episode (media still encoded), reading only the pages needed.
    ///
    /// # Errors
    /// Unknown episode, steps out of range, corrupt shard.
    pub fn raw_rows(
        &self,
        id: u64,
        steps: std::ops::Range<usize>,
        media: bool,
    ) -> Result<Vec<RawRow>> {
        let e = self.episode(id)?;
        if steps.end > e.entry.frames || steps.start >= steps.end {
            return Err(DataError::NoSuchFrame {
                episode: id,
                step: steps.end.saturating_sub(1),
                frames: e.entry.frames,
            });
        }
        let shard = &self.shards[e.shard];
        let rows = shard.read_rows(e.entry.row_group, steps.clone(), media)?;
        let ok = rows.len() == steps.len()
            && rows
                .iter()
                .zip(steps.clone())
                .all(|(r, s)| r.header.episode_id == id && r.frame.step as usize == s);
        if !ok {
            return Err(DataError::Corrupt {
                path: shard.path().to_path_buf(),
                reason: format!(
                    "row group {} does not hold steps {steps:?} of episode {id}",
                    e.entry.row_group
                ),
            });
        }
        Ok(rows)
    }

    /// One decoded frame.
    ///
    /// # Errors
    /// As [`Dataset::raw_rows`], plus media decoding.
    pub fn frame(&self, id: u64, step: usize) -> Result<Frame> {
        let rows = self.raw_rows(id, step..step + 1, true)?;
        Frame::decode(&rows[0])
    }

    /// All frames of an episode, decoded.
    ///
    /// # Errors
    /// As [`Dataset::raw_rows`], plus media decoding.
    pub fn episode_frames(&self, id: u64) -> Result<Vec<Frame>> {
        let n = self.episode(id)?.entry.frames;
        self.raw_rows(id, 0..n, true)?
            .iter()
            .map(Frame::decode)
            .collect()
    }

    /// Poses of all frames of an episode (no media decoded).
    ///
    /// # Errors
    /// As [`Dataset::raw_rows`].
    pub fn episode_poses(&self, id: u64) -> Result<Vec<Pose>> {
        let n = self.episode(id)?.entry.frames;
        Ok(self
            .raw_rows(id, 0..n, false)?
            .iter()
            .map(|r| r.frame.pose)
            .collect())
    }
}

/// The paper's aggregated action `a_{t→t+Δt}`: the net motion from one pose to another,
/// expressed in the frame of the first pose (x forward, y left), plus the heading change.
/// It equals the sum of the per-step motions rotated into the first pose's frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggregatedAction {
    /// Displacement along the first pose's heading (m).
    pub forward_m: f32,
    /// Displacement to the first pose's left (m).
    pub left_m: f32,
    /// Heading change (rad, CCW positive), wrapped into (-π, π].
    pub yaw_rad: f32,
}

impl AggregatedAction {
    /// The motion from `from` to `to`.
    pub fn between(from: Pose, to: Pose) -> AggregatedAction {
        let (dx, dy) = (to.x - from.x, to.y - from.y);
        let (s, c) = from.yaw.sin_cos();
        AggregatedAction {
            forward_m: c * dx + s * dy,
            left_m: -s * dx + c * dy,
            yaw_rad: wrap_angle(to.yaw - from.yaw),
        }
    }
}

/// Shape of the training windows.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowConfig {
    /// Context frames ending at the current frame `t` (paper: 4).
    pub context: usize,
    /// Target frames per window (paper: 4).
    pub targets: usize,
    /// Largest |Δt| of a target (frames; paper: 16).
    pub max_offset: usize,
    /// Only future targets (Δt > 0); otherwise Δt ∈ [−max, max] \ {0}.
    pub future_only: bool,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            context: 4,
            targets: 4,
            max_offset: 16,
            future_only: false,
        }
    }
}

/// A target of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Offset from the current frame (frames).
    pub dt: i32,
    /// Offset as time (s): `dt × 0.15`.
    pub dt_s: f32,
    /// Aggregated action from the current pose to the target pose.
    pub action: AggregatedAction,
    /// The target frame.
    pub frame: Frame,
}

/// A training sample: context frames and targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Episode id.
    pub episode_id: u64,
    /// Current frame (the last context frame).
    pub t: usize,
    /// Frames `t − context + 1 ..= t`.
    pub context: Vec<Frame>,
    /// Targets, in increasing Δt.
    pub targets: Vec<Target>,
}

/// Enumerates, shuffles and builds windows.
#[derive(Debug, Clone)]
pub struct WindowSampler {
    anchors: Vec<(u64, u32)>,
    frames: HashMap<u64, usize>,
    cfg: WindowConfig,
    seed: Seed,
}

impl WindowSampler {
    /// All anchors `(episode, t)` of the filtered episodes with a full context and ≥ 1 target.
    ///
    /// # Errors
    /// [`DataError::Invalid`] for a zero context, zero targets or zero `max_offset`.
    pub fn new(
        ds: &Dataset,
        filter: &Filter,
        cfg: WindowConfig,
        seed: Seed,
    ) -> Result<WindowSampler> {
        if cfg.context == 0 || cfg.targets == 0 || cfg.max_offset == 0 {
            return Err(DataError::Invalid(format!(
                "window config {cfg:?}: context, targets and max_offset must be ≥ 1"
            )));
        }
        let mut anchors = Vec::new();
        let mut frames = HashMap::new();
        for e in ds.episodes().iter().filter(|e| filter.accepts(e)) {
            let n = e.entry.frames;
            frames.insert(e.entry.episode_id, n);
            let last = if cfg.future_only {
                n.saturating_sub(1)
            } else {
                n
            };
            for t in cfg.context - 1..last {
                if n >= 2 {
                    anchors.push((e.entry.episode_id, t as u32));
                }
            }
        }
        Ok(WindowSampler {
            anchors,
            frames,
            cfg,
            seed,
        })
    }

    /// Number of anchors (windows per epoch).
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// True if no window fits.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// The anchors, unshuffled.
    pub fn anchors(&self) -> &[(u64, u32)] {
        &self.anchors
    }

    /// The anchor order of `epoch`: a seeded permutation of `0..len()`.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.anchors.len()).collect();
        order.shuffle(&mut self.seed.derive("shuffle", epoch).rng());
        order
    }

    /// The target offsets of anchor `i` in `epoch` (sorted), a pure function of the seed.
    pub fn offsets(&self, i: usize, epoch: u64) -> Vec<i32> {
        let (id, t) = self.anchors[i];
        let n = self.frames.get(&id).copied().unwrap_or(0) as i64;
        let m = self.cfg.max_offset as i64;
        let lo = if self.cfg.future_only { 1 } else { -m };
        let mut valid: Vec<i32> = (lo..=m)
            .filter(|&d| d != 0 && (0..n).contains(&(i64::from(t) + d)))
            .map(|d| d as i32)
            .collect();
        let mut rng = self
            .seed
            .derive("targets", epoch)
            .derive("anchor", i as u64)
            .rng();
        valid.shuffle(&mut rng);
        valid.truncate(self.cfg.targets);
        valid.sort_unstable();
        valid
    }

    /// Builds window `i` of `epoch`, decoding only its frames.
    ///
    /// # Errors
    /// Reading or decoding errors.
    pub fn window(&self, ds: &Dataset, i: usize, epoch: u64) -> Result<Window> {
        let (id, t) = *self
            .anchors
            .get(i)
            .ok_or_else(|| DataError::Invalid(format!("window {i} of {}", self.len())))?;
        let t = t as usize;
        let offs = self.offsets(i, epoch);
        let lo = (t + 1 - self.cfg.context).min(
            offs.first()
                .map_or(t, |&d| (t as i64 + i64::from(d)) as usize),
        );
        let hi = (t + 1).max(
            offs.last()
                .map_or(0, |&d| (t as i64 + i64::from(d)) as usize + 1),
        );
        let raw = ds.raw_rows(id, lo..hi, true)?;
        let get = |s: usize| Frame::decode(&raw[s - lo]);
        let context = (t + 1 - self.cfg.context..=t)
            .map(get)
            .collect::<Result<Vec<_>>>()?;
        let now = raw[t - lo].frame.pose;
        let targets = offs
            .iter()
            .map(|&d| {
                let s = (t as i64 + i64::from(d)) as usize;
                let frame = get(s)?;
                Ok(Target {
                    dt: d,
                    dt_s: d as f32 * avwm_core::STEP_S,
                    action: AggregatedAction::between(now, frame.pose),
                    frame,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Window {
            episode_id: id,
            t,
            context,
            targets,
        })
    }
}

/// Windows of one epoch decoded by background threads, delivered in the epoch's order.
/// Dropping it stops the threads.
#[derive(Debug)]
pub struct Prefetch {
    rx: Vec<Receiver<Result<Window>>>,
    next: usize,
    len: usize,
}

impl Prefetch {
    /// Starts `workers` threads (≥ 1) that decode `epoch`'s windows ahead, each keeping up to
    /// `depth` finished windows. Worker `w` builds positions `w, w + workers, …`; the iterator
    /// reads them round-robin, so the order is the seeded order whatever the timing.
    pub fn spawn(
        ds: Arc<Dataset>,
        sampler: Arc<WindowSampler>,
        epoch: u64,
        workers: usize,
        depth: usize,
    ) -> Prefetch {
        let workers = workers.max(1);
        let order = Arc::new(sampler.epoch_order(epoch));
        let len = order.len();
        let mut rx = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, r): (SyncSender<Result<Window>>, _) = sync_channel(depth.max(1));
            let (ds, sampler, order) = (ds.clone(), sampler.clone(), order.clone());
            std::thread::spawn(move || {
                for p in (w..order.len()).step_by(workers) {
                    if tx.send(sampler.window(&ds, order[p], epoch)).is_err() {
                        return; // consumer dropped
                    }
                }
            });
            rx.push(r);
        }
        Prefetch { rx, next: 0, len }
    }
}

impl Iterator for Prefetch {
    type Item = Result<Window>;

    fn next(&mut self) -> Option<Result<Window>> {
        if self.next >= self.len {
            return None;
        }
        let k = self.next % self.rx.len();
        self.next += 1;
        Some(
            self.rx[k]
                .recv()
                .unwrap_or_else(|_| Err(DataError::Invalid("prefetch worker stopped".into()))),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let r = self.len - self.next;
        (r, Some(r))
    }
}
