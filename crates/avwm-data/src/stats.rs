//! Dataset statistics: the paper's Fig. 2 (share of motion patterns per split, trajectory-length
//! and geodesic-distance distributions) plus action shares.

use crate::schema::{MotionPattern, RawRow, Split};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A histogram with fixed, uniform bins; values beyond the last edge go into the last bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// What is counted, with its unit.
    pub quantity: String,
    /// Bin edges (`counts.len() + 1` values).
    pub edges: Vec<f64>,
    /// Counts per bin.
    pub counts: Vec<u64>,
    /// Number of values.
    pub n: u64,
    /// Mean (0 if empty).
    pub mean: f64,
    /// Smallest value (0 if empty).
    pub min: f64,
    /// Largest value (0 if empty).
    pub max: f64,
}

impl Histogram {
    /// An empty histogram of `bins` bins over `[lo, hi)`.
    pub fn new(quantity: &str, lo: f64, hi: f64, bins: usize) -> Histogram {
        let w = (hi - lo) / bins as f64;
        Histogram {
            quantity: quantity.to_string(),
            edges: (0..=bins).map(|i| lo + w * i as f64).collect(),
            counts: vec![0; bins],
            n: 0,
            mean: 0.0,
            min: 0.0,
            max: 0.0,
        }
    }

    /// Adds a value (non-finite values are ignored).
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let (lo, hi) = (self.edges[0], self.edges[self.edges.len() - 1]);
        let bins = self.counts.len();
        let k = (((v - lo) / (hi - lo)) * bins as f64)
            .floor()
            .clamp(0.0, (bins - 1) as f64) as usize;
        self.counts[k] += 1;
        if self.n == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.n += 1;
        self.mean += (v - self.mean) / self.n as f64;
    }
}

/// Statistics of one split (or of the whole dataset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitStats {
    /// Scenes.
    pub scenes: usize,
    /// Episodes (trajectories).
    pub episodes: usize,
    /// Frames (steps).
    pub frames: usize,
    /// Duration at 0.15 s per frame (h).
    pub hours: f64,
    /// Episodes per motion pattern.
    pub pattern_episodes: BTreeMap<String, usize>,
    /// Share of episodes per motion pattern (0–1).
    pub pattern_share: BTreeMap<String, f64>,
    /// Share of actions (frames after step 0) per action name (0–1).
    pub action_share: BTreeMap<String, f64>,
    /// Trajectory length (frames), bins of 25 frames up to 500.
    pub length_frames: Histogram,
    /// Geodesic distance to the source over all frames (m), bins of 0.5 m up to 25 m.
    pub geodesic_m: Histogram,
}

impl SplitStats {
    fn new() -> SplitStats {
        SplitStats {
            scenes: 0,
            episodes: 0,
            frames: 0,
            hours: 0.0,
            pattern_episodes: MotionPattern::ALL
                .iter()
                .map(|p| (p.name().to_string(), 0))
                .collect(),
            pattern_share: BTreeMap::new(),
            action_share: BTreeMap::new(),
            length_frames: Histogram::new("trajectory length (frames)", 0.0, 500.0, 20),
            geodesic_m: Histogram::new("geodesic distance to the source (m)", 0.0, 25.0, 50),
        }
    }
}

/// Statistics of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Per split (`train`, `validation`, `test`).
    pub splits: BTreeMap<String, SplitStats>,
    /// All splits together.
    pub all: SplitStats,
}

/// Per-split accumulator: stats, scene names, action counts, episode lengths.
type SplitAcc = (SplitStats, Vec<String>, [usize; 4], BTreeMap<u64, u32>);

/// Accumulates [`Statistics`] from rows (media not needed).
#[derive(Debug, Clone, Default)]
pub struct StatsBuilder {
    splits: BTreeMap<Split, SplitAcc>,
}

impl StatsBuilder {
    /// Empty statistics.
    pub fn new() -> StatsBuilder {
        StatsBuilder::default()
    }

    /// Adds rows, in any order.
    pub fn add_rows(&mut self, rows: &[RawRow]) {
        for r in rows {
            let (s, scenes, actions, lengths) = self
                .splits
                .entry(r.header.split)
                .or_insert_with(|| (SplitStats::new(), Vec::new(), [0; 4], BTreeMap::new()));
            if r.frame.step == 0 {
                *s.pattern_episodes
                    .entry(r.header.pattern.name().to_string())
                    .or_default() += 1;
                if !scenes.contains(&r.header.scene_id) {
                    scenes.push(r.header.scene_id.clone());
                }
            }
            let len = lengths.entry(r.header.episode_id).or_insert(0);
            *len = (*len).max(r.frame.step + 1);
            s.frames += 1;
            s.geodesic_m.add(f64::from(r.frame.geodesic_m));
            if let Some(a) = r.frame.action {
                actions[usize::from(a.id())] += 1;
            }
        }
    }

    /// The statistics.
    pub fn finish(self) -> Statistics {
        let mut all = SplitStats::new();
        let mut all_actions = [0usize; 4];
        let mut splits = BTreeMap::new();
        for (split, (mut s, scenes, actions, lengths)) in self.splits {
            s.scenes = scenes.len();
            s.episodes = lengths.len();
            for len in lengths.values() {
                s.length_frames.add(f64::from(*len));
            }
            finish_split(&mut s, &actions);
            all.scenes += s.scenes;
            merge(&mut all, &s);
            for k in 0..4 {
                all_actions[k] += actions[k];
            }
            splits.insert(split.name().to_string(), s);
        }
        finish_split(&mut all, &all_actions);
        Statistics { splits, all }
    }
}

fn finish_split(s: &mut SplitStats, actions: &[usize; 4]) {
    s.hours = s.frames as f64 * f64::from(avwm_core::STEP_S) / 3600.0;
    let eps = s.episodes.max(1) as f64;
    s.pattern_share = s
        .pattern_episodes
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64 / eps))
        .collect();
    let total: usize = actions.iter().sum();
    s.action_share = avwm_core::Action::ALL
        .iter()
        .map(|a| {
            (
                a.name().to_string(),
                actions[usize::from(a.id())] as f64 / total.max(1) as f64,
            )
        })
        .collect();
}

fn merge(all: &mut SplitStats, s: &SplitStats) {
    all.episodes += s.episodes;
    all.frames += s.frames;
    for (k, v) in &s.pattern_episodes {
        *all.pattern_episodes.entry(k.clone()).or_default() += v;
    }
    for (a, b) in [
        (&mut all.length_frames, &s.length_frames),
        (&mut all.geodesic_m, &s.geodesic_m),
    ] {
        for (x, y) in a.counts.iter_mut().zip(&b.counts) {
            *x += y;
        }
        if a.n == 0 {
            a.min = b.min;
            a.max = b.max;
        } else if b.n > 0 {
            a.min = a.min.min(b.min);
            a.max = a.max.max(b.max);
        }
        let n = a.n + b.n;
        if n > 0 {
            a.mean = (a.mean * a.n as f64 + b.mean * b.n as f64) / n as f64;
        }
        a.n = n;
    }
}
