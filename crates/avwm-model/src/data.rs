//! Training and evaluation transitions read from the latent cache (`avwm tokenizer encode`).
//!
//! A transition is an **anchor** frame t with its 4 context frames t−3..t (same episode) and a
//! **target** frame t+Δt of the same episode. Its conditioning is the aggregated action
//! a_{t→t+Δt}, i.e. the target pose in the anchor pose's frame (forward and left displacement in
//! units of `action_unit_m`, yaw difference in radians, wrapped), and Δt in frames. Its reward is
//! the paper's pseudo-reward, the reduction of the geodesic distance to the source from t to t+Δt
//! (metres), divided by `reward_scale_m` and broadcast to `reward_dim` values.
//!
//! Training batches hold `contexts × goals` transitions: each sampled anchor is paired with
//! `goals` offsets drawn uniformly (with replacement) from `[min_offset, max_offset]`, clipped to
//! the episode, as NWM does (`reference/cdit.md` §4). Visual targets and contexts are drawn from
//! the tokenizer's posterior (mean + σ·ε), as NWM samples the SD-VAE posterior.

use crate::config::{ModelConfig, Streams};
use crate::noise::randn;
use crate::{CacheProblem, ModelError, Result};
use avwm_core::{Pose, SUCCESS_DISTANCE_M};
use avwm_data::{AggregatedAction, Split};
use avwm_tokenizer::cache::open_split;
use rand::Rng;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The pose `to` seen from the pose `from`, as the model reads actions and context poses:
/// forward and left displacement in units of `unit_m` (the config's `action_unit_m`) and the
/// wrapped yaw difference in radians. The one conversion from poses to model inputs, shared by
/// the training data, the evaluation, the viewer and the planners.
pub fn action_units(from: Pose, to: Pose, unit_m: f64) -> [f64; 3] {
    let a = AggregatedAction::between(from, to);
    [
        f64::from(a.forward_m) / unit_m,
        f64::from(a.left_m) / unit_m,
        f64::from(a.yaw_rad),
    ]
}

/// All frames of one cache split, with episode bounds.
pub struct Transitions {
    visual_mean: Tensor,
    visual_logvar: Tensor,
    audio: Tensor,
    /// Pose per frame.
    pub pose: Vec<Pose>,
    /// Geodesic distance to the source per frame (m).
    pub geodesic_m: Vec<f64>,
    /// Episode id per frame.
    pub episode: Vec<i64>,
    /// Step within the episode per frame.
    pub step: Vec<i64>,
    /// Action that led to each frame (−1 at step 0; `avwm_core::Action` index otherwise).
    pub action: Vec<i64>,
    ep_start: Vec<usize>,
    ep_end: Vec<usize>,
    /// Visual latent scale factor of the cache.
    pub visual_scale: f64,
    /// Audio latent scale factor of the cache.
    pub audio_scale: f64,
}

/// One batch, scaled for diffusion (a stream the batch was not asked for is `None`).
#[derive(Debug)]
pub struct Batch {
    /// Context visual latents `[B, m, C, H, W]`.
    pub ctx_visual: Option<Tensor>,
    /// Context audio latents `[B, M, A, T]`, the audio memory (`M = memory ≥ m` frames, oldest
    /// first).
    pub ctx_audio: Option<Tensor>,
    /// Pose of every audio-memory frame relative to the anchor `[B, M, 3]` (forward, left in
    /// action units; yaw in radians).
    pub ctx_pose: Option<Tensor>,
    /// Target visual latent `[B, C, H, W]`.
    pub visual: Option<Tensor>,
    /// Target audio latent `[B, A, T]`.
    pub audio: Option<Tensor>,
    /// Target reward, normalised and broadcast `[B, R]`.
    pub reward: Option<Tensor>,
    /// Target reward, normalised `[B]` (the reward head's target).
    pub reward_value: Option<Tensor>,
    /// 1 where the target frame is within the success radius of the source, else 0 `[B]`.
    pub success: Option<Tensor>,
    /// Aggregated action `[B, 3]`.
    pub action: Tensor,
    /// Offset Δt in frames `[B]`.
    pub dt: Tensor,
    /// Anchor frame index of each row.
    pub anchors: Vec<usize>,
    /// Target frame index of each row.
    pub targets: Vec<usize>,
}

fn to_vec_f64(t: &Tensor, what: &str) -> std::result::Result<Vec<f64>, CacheProblem> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).map_err(|source| {
        CacheProblem::Column {
            column: what.to_string(),
            source,
        }
    })
}

fn to_vec_i64(t: &Tensor, what: &str) -> std::result::Result<Vec<i64>, CacheProblem> {
    Vec::<i64>::try_from(t.to_kind(Kind::Int64).flatten(0, -1)).map_err(|source| {
        CacheProblem::Column {
            column: what.to_string(),
            source,
        }
    })
}

impl Transitions {
    /// Opens one split of a latent cache.
    ///
    /// # Errors
    /// A missing or broken cache (named), or inconsistent columns.
    pub fn open(cache: &Path, split: Split) -> Result<Transitions> {
        let (meta, data) = open_split(cache, split)?;
        let t = &data.tensors;
        let col = |n: &str| t[n].shallow_clone();
        let columns = || -> Result<Transitions> {
            let pose_flat = to_vec_f64(&col("pose"), "pose")?;
            let pose = pose_flat
                .chunks_exact(3)
                .map(|c| Pose::new(c[0] as f32, c[1] as f32, c[2] as f32))
                .collect();
            Transitions::new(
                col("visual_mean").to_kind(Kind::Float),
                col("visual_logvar").to_kind(Kind::Float),
                col("audio").to_kind(Kind::Float),
                pose,
                to_vec_f64(&col("geodesic_m"), "geodesic_m")?,
                to_vec_i64(&col("episode_id"), "episode_id")?,
                to_vec_i64(&col("step"), "step")?,
                to_vec_i64(&col("action"), "action")?,
                meta.visual_scale,
                meta.audio_scale,
            )
        };
        columns().map_err(|e| match e {
            ModelError::Columns(problem) => ModelError::Cache {
                path: cache.to_path_buf(),
                problem,
            },
            other => other,
        })
    }

    /// Checks that a model (`model`, trained with `cfg`) can read this cache (`cache`): the
    /// same visual latent shape `[C, H, W]`, audio latent shape `[A, T]` and scale factors.
    ///
    /// # Errors
    /// [`ModelError::Mismatch`] naming both files and both shapes or scales.
    pub fn check_model(&self, cfg: &ModelConfig, model: &Path, cache: &Path) -> Result<()> {
        let mismatch = |what, expected: String, found: String| ModelError::Mismatch {
            model: model.to_path_buf(),
            cache: cache.to_path_buf(),
            what,
            expected,
            found,
        };
        let v = self.visual_mean.size();
        let want_v = [cfg.visual_channels, cfg.visual_size, cfg.visual_size];
        if cfg.variant.has_visual() && v[1..] != want_v {
            return Err(mismatch(
                "visual latents",
                format!("{want_v:?}"),
                format!("{:?}", &v[1..]),
            ));
        }
        let a = self.audio.size();
        let want_a = [cfg.audio_latent(), cfg.audio_frames];
        if cfg.variant.has_audio() && a[1..] != want_a {
            return Err(mismatch(
                "audio latents",
                format!("{want_a:?}"),
                format!("{:?}", &a[1..]),
            ));
        }
        for (what, want, got) in [
            (
                "the visual scale factor",
                cfg.visual_scale,
                self.visual_scale,
            ),
            ("the audio scale factor", cfg.audio_scale, self.audio_scale),
        ] {
            if (want - got).abs() > 1e-6 * want.abs().max(1.0) {
                return Err(mismatch(what, format!("{want}"), format!("{got}")));
            }
        }
        Ok(())
    }

    /// Builds the transitions from columns (frames in episode order, episodes contiguous).
    ///
    /// # Errors
    /// Columns of different lengths, non-contiguous episodes or non-finite values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        visual_mean: Tensor,
        visual_logvar: Tensor,
        audio: Tensor,
        pose: Vec<Pose>,
        geodesic_m: Vec<f64>,
        episode: Vec<i64>,
        step: Vec<i64>,
        action: Vec<i64>,
        visual_scale: f64,
        audio_scale: f64,
    ) -> Result<Transitions> {
        let n = episode.len();
        let rows = [
            visual_mean.size()[0],
            visual_logvar.size()[0],
            audio.size()[0],
        ];
        if rows.iter().any(|&r| r as usize != n)
            || pose.len() != n
            || geodesic_m.len() != n
            || step.len() != n
            || action.len() != n
        {
            return Err(CacheProblem::Lengths {
                episodes: n,
                latents: rows.to_vec(),
                poses: pose.len(),
            }
            .into());
        }
        let pose_finite = pose
            .iter()
            .all(|p| p.x.is_finite() && p.y.is_finite() && p.yaw.is_finite());
        if !pose_finite || geodesic_m.iter().any(|v| !v.is_finite()) {
            return Err(CacheProblem::NonFinite.into());
        }
        let mut ep_start = vec![0; n];
        let mut ep_end = vec![n; n];
        let mut seen = std::collections::HashSet::new();
        let mut i = 0;
        while i < n {
            let e = episode[i];
            if !seen.insert(e) {
                return Err(CacheProblem::NotContiguous { episode: e }.into());
            }
            let mut j = i;
            while j < n && episode[j] == e {
                j += 1;
            }
            for k in i..j {
                ep_start[k] = i;
                ep_end[k] = j;
            }
            i = j;
        }
        Ok(Transitions {
            visual_mean,
            visual_logvar,
            audio,
            pose,
            geodesic_m,
            episode,
            step,
            action,
            ep_start,
            ep_end,
            visual_scale,
            audio_scale,
        })
    }

    /// Frames.
    pub fn len(&self) -> usize {
        self.episode.len()
    }

    /// True without frames.
    pub fn is_empty(&self) -> bool {
        self.episode.is_empty()
    }

    /// First and one-past-last frame index of the episode of frame `i`.
    pub fn episode_bounds(&self, i: usize) -> (usize, usize) {
        (self.ep_start[i], self.ep_end[i])
    }

    /// Frames that have `history` frames of history (themselves included) in their episode:
    /// the valid anchors of a model whose [`ModelConfig::history`] is `history`.
    pub fn anchors(&self, history: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| i - self.ep_start[i] + 1 >= history)
            .collect()
    }

    /// Poses of frames `t − n + 1 ..= t` relative to frame `t`'s pose, in action units.
    pub fn history_poses(&self, t: usize, n: usize, unit_m: f64) -> Vec<[f64; 3]> {
        (0..n)
            .map(|j| self.action_between(t, t + 1 + j - n, unit_m))
            .collect()
    }

    /// Aggregated action from frame `from` to frame `to` in action units.
    pub fn action_between(&self, from: usize, to: usize, unit_m: f64) -> [f64; 3] {
        action_units(self.pose[from], self.pose[to], unit_m)
    }

    /// Reward (geodesic-distance reduction, m) from frame `from` to frame `to`.
    pub fn reward_between(&self, from: usize, to: usize) -> f64 {
        self.geodesic_m[from] - self.geodesic_m[to]
    }

    /// Draws `contexts` anchors and `goals` offsets each from `[min_offset, max_offset]`.
    pub fn sample_pairs(
        &self,
        rng: &mut impl Rng,
        anchors: &[usize],
        contexts: usize,
        goals: usize,
        (min_offset, max_offset): (i64, i64),
    ) -> Vec<(usize, usize)> {
        let mut pairs = Vec::with_capacity(contexts * goals);
        for _ in 0..contexts {
            let t = anchors[rng.random_range(0..anchors.len())];
            let (s, e) = self.episode_bounds(t);
            let lo = min_offset.max(s as i64 - t as i64);
            let hi = max_offset.min(e as i64 - 1 - t as i64);
            for _ in 0..goals {
                let o = if lo <= hi {
                    rng.random_range(lo..=hi)
                } else {
                    0
                };
                pairs.push((t, (t as i64 + o) as usize));
            }
        }
        pairs
    }

    fn visual_mean(&self, idx: &Tensor, cfg: &ModelConfig, device: Device) -> Tensor {
        self.visual_mean.index_select(0, idx).to_device(device) * cfg.visual_scale
    }

    fn visual_sample(
        &self,
        idx: &Tensor,
        rng: &mut impl Rng,
        cfg: &ModelConfig,
        device: Device,
    ) -> Tensor {
        let mean = self.visual_mean.index_select(0, idx).to_device(device);
        let lv = self.visual_logvar.index_select(0, idx).to_device(device);
        let eps = randn(rng, &mean.size(), device);
        (mean + (lv * 0.5).exp() * eps) * cfg.visual_scale
    }

    /// The batch of `(anchor, target)` pairs for `streams`, visual latents drawn from the
    /// tokenizer's posterior with `rng` (training).
    pub fn batch_sampled(
        &self,
        pairs: &[(usize, usize)],
        streams: Streams,
        cfg: &ModelConfig,
        rng: &mut impl Rng,
        device: Device,
    ) -> Batch {
        self.assemble(pairs, streams, cfg, device, &mut |idx| {
            self.visual_sample(idx, rng, cfg, device)
        })
    }

    /// The batch of `(anchor, target)` pairs for `streams` with the posterior mean of the visual
    /// latents (deterministic; evaluation and validation).
    pub fn batch(
        &self,
        pairs: &[(usize, usize)],
        streams: Streams,
        cfg: &ModelConfig,
        device: Device,
    ) -> Batch {
        self.assemble(pairs, streams, cfg, device, &mut |idx| {
            self.visual_mean(idx, cfg, device)
        })
    }

    fn assemble(
        &self,
        pairs: &[(usize, usize)],
        streams: Streams,
        cfg: &ModelConfig,
        device: Device,
        visual_latents: &mut dyn FnMut(&Tensor) -> Tensor,
    ) -> Batch {
        let b = pairs.len() as i64;
        let m = cfg.context;
        let window = |m: i64| {
            let idx: Vec<i64> = pairs
                .iter()
                .flat_map(|&(t, _)| (0..m).map(move |j| t as i64 - (m - 1) + j))
                .collect();
            Tensor::from_slice(&idx)
        };
        let ctx_idx = window(m);
        let tgt_idx: Vec<i64> = pairs.iter().map(|&(_, g)| g as i64).collect();
        let tgt_idx = Tensor::from_slice(&tgt_idx);
        let (mut ctx_visual, mut visual) = (None, None);
        if streams.visual {
            let c = visual_latents(&ctx_idx);
            let s = c.size();
            ctx_visual = Some(c.view([b, m, s[1], s[2], s[3]]));
            visual = Some(visual_latents(&tgt_idx));
        }
        let (mut ctx_audio, mut ctx_pose, mut audio, mut reward) = (None, None, None, None);
        let (mut reward_value, mut success) = (None, None);
        if streams.audio {
            let mm = cfg.memory();
            let c = self.audio.index_select(0, &window(mm)).to_device(device) * cfg.audio_scale;
            let s = c.size();
            ctx_audio = Some(c.view([b, mm, s[1], s[2]]));
            let poses: Vec<f32> = pairs
                .iter()
                .flat_map(|&(t, _)| self.history_poses(t, mm as usize, cfg.action_unit_m))
                .flat_map(|p| p.map(|v| v as f32))
                .collect();
            ctx_pose = Some(
                Tensor::from_slice(&poses)
                    .view([b, mm, 3])
                    .to_device(device),
            );
            audio = Some(self.audio.index_select(0, &tgt_idx).to_device(device) * cfg.audio_scale);
            let r: Vec<f32> = pairs
                .iter()
                .map(|&(t, g)| (self.reward_between(t, g) / cfg.reward_scale_m) as f32)
                .collect();
            let r = Tensor::from_slice(&r).to_device(device);
            reward = Some(
                r.unsqueeze(1)
                    .expand([b, cfg.reward_dim], false)
                    .contiguous(),
            );
            reward_value = Some(r);
            let near: Vec<f32> = pairs
                .iter()
                .map(|&(_, g)| {
                    f32::from(u8::from(self.geodesic_m[g] < f64::from(SUCCESS_DISTANCE_M)))
                })
                .collect();
            success = Some(Tensor::from_slice(&near).to_device(device));
        }
        let action: Vec<f32> = pairs
            .iter()
            .flat_map(|&(t, g)| {
                self.action_between(t, g, cfg.action_unit_m)
                    .map(|v| v as f32)
            })
            .collect();
        let dt: Vec<f32> = pairs
            .iter()
            .map(|&(t, g)| (g as f64 - t as f64) as f32)
            .collect();
        Batch {
            ctx_visual,
            ctx_audio,
            ctx_pose,
            visual,
            audio,
            reward,
            reward_value,
            success,
            action: Tensor::from_slice(&action).view([b, 3]).to_device(device),
            dt: Tensor::from_slice(&dt).to_device(device),
            anchors: pairs.iter().map(|p| p.0).collect(),
            targets: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// Latent shapes `(visual [C, H, W], audio [A, T])`.
    pub fn latent_shapes(&self) -> (Vec<i64>, Vec<i64>) {
        (
            self.visual_mean.size()[1..].to_vec(),
            self.audio.size()[1..].to_vec(),
        )
    }
}
