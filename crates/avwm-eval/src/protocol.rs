//! The paper's evaluation protocols (§5.3): **fixed-step** prediction of `t + Δt`, Δt = 1 … H,
//! from the ground-truth context, and **rollout**, autoregressive to `t + H` with each prediction
//! fed back as context; per-sample metrics against the recorded frames; aggregation over sampling
//! runs (mean ± std of the per-run means, as the paper's tables) and per horizon (Fig. 6).
//!
//! Contexts come from the latent cache (encoded once by `avwm tokenizer encode`), targets from the
//! dataset's recorded PNG/WAV frames. Predictions are batched ([`EvalConfig::batch`] rows per call).
//!
//! Two reference systems can be scored on the same targets (deterministic, computed once):
//! *copy frame t* (the last context frame and its audio repeated, reward 0) and the *tokenizer
//! ceiling* (the targets' own latents decoded: the best a model predicting latents can score).

use crate::audio::StereoClip;
use crate::metric::Metric;
use crate::nets::{FeatureNets, images_from_rgb};
use crate::{EvalError, Result};
use avwm_core::{BinauralAudio, RgbImage, Seed};
use avwm_data::Dataset;
use avwm_metrics::audio::{AudioAnalyzer, StftConfig};
use avwm_model::WorldModel;
use avwm_model::config::Streams;
use avwm_model::data::Transitions;
use avwm_model::predict::{Context, Prediction, RolloutContext, Sampler, Tokenizers};
use avwm_tokenizer::data::{tensor_to_audio, tensor_to_images};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use tch::{Device, Kind, Tensor};

/// The paper's horizon: Δt = 1 … 16 (fixed-step) and rollouts to `t + 16`.
pub const HORIZON: usize = 16;

/// Which protocol to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Predict `t + Δt` directly from the true context, Δt = 1 … H.
    Fixed,
    /// Predict `t + 1`, feed it back, … up to `t + H`.
    Rollout,
    /// Predict the outcome of every action from the same context; score against re-simulation.
    Counterfactual,
}

impl Mode {
    /// Parses `fixed`, `rollout` or `counterfactual`.
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(s: &str) -> Result<Mode> {
        match s {
            "fixed" => Ok(Mode::Fixed),
            "rollout" => Ok(Mode::Rollout),
            "counterfactual" => Ok(Mode::Counterfactual),
            _ => Err(EvalError::Input(format!(
                "unknown mode `{s}` (fixed, rollout, counterfactual)"
            ))),
        }
    }

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Fixed => "fixed",
            Mode::Rollout => "rollout",
            Mode::Counterfactual => "counterfactual",
        }
    }
}

/// Settings of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Protocol.
    pub mode: Mode,
    /// Sampling runs (seeds `seed.derive("run", r)`).
    pub runs: usize,
    /// Evaluation seed (anchor choice and sampling noise).
    pub seed: u64,
    /// Anchors (current frames t) drawn from the split.
    pub anchors: usize,
    /// Horizon H.
    pub horizon: usize,
    /// Sampler.
    pub sampler: Sampler,
    /// How rollouts feed predictions back.
    pub rollout_context: RolloutContext,
    /// Rows per model call.
    pub batch: usize,
    /// Anchors shown on qualitative sheets.
    pub sheets: usize,
    /// Also score the reference systems (copy frame t, copy aligned, tokenizer ceiling).
    pub references: bool,
    /// Frames of history every anchor has (itself included), at least the model's own: the
    /// same anchors for every compared model (16, the audio memory of the avwm design).
    /// Evaluations written before this field used the context, 4.
    #[serde(default = "paper_history")]
    pub history: usize,
}

fn paper_history() -> usize {
    4
}

/// The ringtone's period in frames (1.2 s = 8 steps of 0.15 s): the *copy aligned* reference
/// takes the audio of the latest context frame a whole number of periods before the target.
pub const RINGTONE_PERIOD_FRAMES: usize = 8;

/// The frame whose audio the *copy aligned* reference plays for target `a + k`: `a + k − 8·⌈k/8⌉`
/// (never after the anchor `a`, at most 7 frames before it), or `a` itself when that frame is
/// before `first`, the first frame of the anchor's episode.
pub fn aligned_frame(a: usize, k: usize, first: usize) -> usize {
    let p = RINGTONE_PERIOD_FRAMES;
    (a + k)
        .checked_sub(p * k.div_ceil(p).max(1))
        .filter(|&f| f >= first)
        .unwrap_or(a)
}

/// Per-sample metric names, in table order.
pub const SAMPLE_METRICS: [&str; 11] = [
    "psnr",
    "ssim",
    "lpips",
    "dreamsim",
    "lsd",
    "spec_ssim",
    "ild_db",
    "itd_us",
    "doa_deg",
    "reward_mse",
    "reward_head_mse",
];

/// Set-level metrics (Fréchet distances over all predictions of a run).
pub const SET_METRICS: [&str; 2] = ["fid", "fad"];

/// Whether a metric is about images, audio or reward.
pub fn metric_stream(name: &str) -> Option<&'static str> {
    match name {
        "psnr" | "ssim" | "lpips" | "dreamsim" | "fid" => Some("visual"),
        "lsd" | "spec_ssim" | "fad" | "ild_db" | "itd_us" | "doa_deg" => Some("audio"),
        "reward_mse" | "reward_head_mse" => Some("reward"),
        _ => None,
    }
}

/// Whether larger values of a metric are better.
pub fn higher_is_better(name: &str) -> bool {
    matches!(name, "psnr" | "ssim" | "spec_ssim")
}

/// Aggregated value of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum MetricResult {
    /// Computed: mean ± std over runs of the per-run means, and per horizon.
    Computed {
        /// Mean over runs.
        mean: f64,
        /// Standard deviation over runs (population, as `numpy.std`; 0 for one run).
        std: f64,
        /// Per-run means.
        runs: Vec<f64>,
        /// Per horizon `k = 1 … H`: `[mean, std]` over runs (empty for set-level metrics).
        per_horizon: Vec<[f64; 2]>,
    },
    /// Its feature network was not supplied.
    NotComputed,
    /// The model does not produce this modality (the paper's ∅).
    NotProduced,
}

impl MetricResult {
    /// `(mean, std)` if computed.
    pub fn mean_std(&self) -> Option<(f64, f64)> {
        match self {
            MetricResult::Computed { mean, std, .. } => Some((*mean, *std)),
            _ => None,
        }
    }
}

/// Mean and population standard deviation.
pub fn mean_std(x: &[f64]) -> (f64, f64) {
    if x.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
    (m, v.sqrt())
}

/// One scored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// Sampling run (0 for references).
    pub run: usize,
    /// Cache index of the anchor frame t.
    pub anchor: usize,
    /// Episode id.
    pub episode: i64,
    /// Step of the anchor in its episode.
    pub step: i64,
    /// Horizon k (Δt in fixed-step mode, rollout step in rollout mode).
    pub k: usize,
    /// Metric values (`SAMPLE_METRICS` names; reward as squared error).
    pub values: BTreeMap<String, f64>,
    /// Predicted reward (m), if the model predicts it.
    pub reward_pred: Option<f64>,
    /// Expected reward (m) from the model's reward head, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_head: Option<f64>,
    /// True reward (m).
    pub reward_true: f64,
}

/// One recorded frame (a target).
#[derive(Debug, Clone)]
pub struct TrueFrame {
    /// Image.
    pub rgb: RgbImage,
    /// Binaural audio.
    pub audio: BinauralAudio,
}

/// A system's output for one target.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// RGB bytes (HWC), if images are produced.
    pub image: Option<Vec<u8>>,
    /// `(left, right)` audio, if produced.
    pub audio: Option<(Vec<f32>, Vec<f32>)>,
    /// Reward (m), if produced (the paper's diffused reward token).
    pub reward: Option<f64>,
    /// Expected reward (m) from a deterministic reward head, if the model has one.
    pub reward_expected: Option<f64>,
    /// The model produced non-finite values here (replaced by 0 before scoring, and counted).
    pub non_finite: bool,
}

/// Anchors with `context` frames of history and `horizon` future frames in their episode, drawn
/// without replacement (`n` at most; fewer if the split has fewer) and sorted.
pub fn select_anchors(
    t: &Transitions,
    context: usize,
    horizon: usize,
    n: usize,
    seed: Seed,
) -> Vec<usize> {
    let mut cand: Vec<usize> = t
        .anchors(context)
        .into_iter()
        .filter(|&i| i + horizon < t.episode_bounds(i).1)
        .collect();
    cand.shuffle(&mut seed.derive("anchors", 0).rng());
    cand.truncate(n);
    cand.sort_unstable();
    cand
}

/// Loads the recorded frames `indices` (cache indices of `t`) from the dataset, one episode read
/// per episode.
///
/// # Errors
/// A frame the dataset does not hold (the cache and the dataset disagree), or unreadable media.
pub fn load_frames(
    ds: &Dataset,
    t: &Transitions,
    indices: &[usize],
) -> Result<HashMap<usize, TrueFrame>> {
    let mut by_ep: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for &i in indices {
        by_ep.entry(t.episode[i]).or_default().push(i);
    }
    let mut out = HashMap::new();
    for (ep, idx) in by_ep {
        let frames = ds.episode_frames(ep as u64)?;
        for i in idx {
            let s = t.step[i] as usize;
            let f = frames.get(s).ok_or_else(|| {
                EvalError::Input(format!(
                    "{}: episode {ep} has no step {s} (the latent cache was made from another dataset?)",
                    ds.dir().display()
                ))
            })?;
            if f.pose != t.pose[i] {
                return Err(EvalError::Input(format!(
                    "{}: episode {ep} step {s}: the dataset's pose differs from the latent cache's",
                    ds.dir().display()
                )));
            }
            out.insert(
                i,
                TrueFrame {
                    rgb: f.rgb.clone(),
                    audio: f.audio.clone(),
                },
            );
        }
    }
    Ok(out)
}

/// Per-sample metrics of one output against its target (`None` entries for what the output lacks).
///
/// # Errors
/// Mismatched sizes or non-finite values.
pub fn score(
    out: &Output,
    truth: &TrueFrame,
    reward_true: f64,
    an: &mut AudioAnalyzer,
) -> Result<BTreeMap<String, f64>> {
    let mut v = BTreeMap::new();
    if let Some(img) = &out.image {
        let (w, h) = (truth.rgb.width as usize, truth.rgb.height as usize);
        v.insert(
            "psnr".into(),
            avwm_metrics::image::psnr(&truth.rgb.data, img)?.min(100.0),
        );
        v.insert(
            "ssim".into(),
            avwm_metrics::image::ssim(&truth.rgb.data, img, w, h, 3)?,
        );
    }
    if let Some((l, r)) = &out.audio {
        let b = an.binaural_metrics(&truth.audio.left, &truth.audio.right, l, r)?;
        v.insert("lsd".into(), b.lsd);
        v.insert("spec_ssim".into(), b.spec_ssim);
        v.insert("ild_db".into(), b.ild.mean);
        v.insert("itd_us".into(), b.itd.micros);
        v.insert("doa_deg".into(), b.doa_deg);
    }
    if let Some(r) = out.reward {
        v.insert("reward_mse".into(), (r - reward_true).powi(2));
    }
    if let Some(r) = out.reward_expected {
        v.insert("reward_head_mse".into(), (r - reward_true).powi(2));
    }
    Ok(v)
}

/// Predicted and true RGB images of one run, in the same order.
type ImagePairs = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Collects one system's outputs and scores, then aggregates them.
pub struct Scorer<'a> {
    truth: &'a HashMap<usize, TrueFrame>,
    nets: &'a FeatureNets,
    sample_rate_hz: u32,
    /// Every scored sample.
    pub records: Vec<SampleRecord>,
    /// Outputs that held non-finite values (replaced by 0 before scoring).
    pub non_finite: usize,
    /// Per run: predicted and true images (kept only when FID is computable).
    set_images: Vec<ImagePairs>,
    /// Per run: predicted and true audio (kept only when FAD is computable).
    set_audio: Vec<(Vec<StereoClip>, Vec<StereoClip>)>,
    streams: Streams,
}

/// A target to score: run, anchor, horizon k, target index, true reward.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Run.
    pub run: usize,
    /// Anchor (cache index).
    pub anchor: usize,
    /// Horizon.
    pub k: usize,
    /// Target frame (cache index).
    pub frame: usize,
    /// True reward (m).
    pub reward_true: f64,
}

impl<'a> Scorer<'a> {
    /// A scorer for a system producing `streams`, over `runs` runs.
    pub fn new(
        truth: &'a HashMap<usize, TrueFrame>,
        nets: &'a FeatureNets,
        streams: Streams,
        runs: usize,
        sample_rate_hz: u32,
    ) -> Scorer<'a> {
        Scorer {
            truth,
            nets,
            sample_rate_hz,
            records: Vec::new(),
            non_finite: 0,
            set_images: (0..runs).map(|_| Default::default()).collect(),
            set_audio: (0..runs).map(|_| Default::default()).collect(),
            streams,
        }
    }

    /// Scores a batch of outputs (`targets[i]` ↔ `outputs[i]`), in parallel.
    ///
    /// # Errors
    /// A metric failed, or a target frame was not loaded.
    pub fn add(&mut self, t: &Transitions, targets: &[Target], outputs: &[Output]) -> Result<()> {
        let truths: Vec<&TrueFrame> = targets
            .iter()
            .map(|g| {
                self.truth.get(&g.frame).ok_or_else(|| {
                    EvalError::Input(format!("target frame {} was not loaded", g.frame))
                })
            })
            .collect::<Result<_>>()?;
        let scored: Vec<BTreeMap<String, f64>> = outputs
            .par_iter()
            .zip(truths.par_iter())
            .zip(targets.par_iter())
            .map_init(
                || AudioAnalyzer::new(StftConfig::default()).expect("default STFT config"),
                |an, ((o, tr), g)| score(o, tr, g.reward_true, an),
            )
            .collect::<Result<_>>()?;
        let mut lp = vec![None; outputs.len()];
        let mut ds = vec![None; outputs.len()];
        if self.streams.visual && (self.nets.has_lpips() || self.nets.has_dreamsim()) {
            let (w, h) = (truths[0].rgb.width as usize, truths[0].rgb.height as usize);
            let pred: Vec<&[u8]> = outputs
                .iter()
                .map(|o| o.image.as_deref().unwrap_or(&[]))
                .collect();
            let real: Vec<&[u8]> = truths.iter().map(|t| t.rgb.data.as_slice()).collect();
            let (a, b) = (images_from_rgb(&pred, w, h)?, images_from_rgb(&real, w, h)?);
            if let Some(d) = self.nets.lpips(&a, &b)? {
                lp = Vec::<f64>::try_from(d)?.into_iter().map(Some).collect();
            }
            if let Some(d) = self.nets.dreamsim(&a, &b)? {
                ds = Vec::<f64>::try_from(d)?.into_iter().map(Some).collect();
            }
        }
        self.non_finite += outputs.iter().filter(|o| o.non_finite).count();
        for (i, ((g, o), mut values)) in targets.iter().zip(outputs).zip(scored).enumerate() {
            if let Some(v) = lp[i] {
                values.insert("lpips".into(), v);
            }
            if let Some(v) = ds[i] {
                values.insert("dreamsim".into(), v);
            }
            if self.nets.has_inception()
                && let Some(img) = &o.image
            {
                let s = &mut self.set_images[g.run];
                s.0.push(img.clone());
                s.1.push(truths[i].rgb.data.clone());
            }
            if self.nets.has_vggish()
                && let Some((l, r)) = &o.audio
            {
                let clip = |l: &[f32], r: &[f32]| StereoClip {
                    sample_rate_hz: self.sample_rate_hz,
                    left: l.to_vec(),
                    right: r.to_vec(),
                };
                let s = &mut self.set_audio[g.run];
                s.0.push(clip(l, r));
                s.1.push(clip(&truths[i].audio.left, &truths[i].audio.right));
            }
            self.records.push(SampleRecord {
                run: g.run,
                anchor: g.anchor,
                episode: t.episode[g.anchor],
                step: t.step[g.anchor],
                k: g.k,
                values,
                reward_pred: o.reward,
                reward_head: o.reward_expected,
                reward_true: g.reward_true,
            });
        }
        Ok(())
    }

    /// Aggregates: per metric, mean ± std over runs of the per-run means, and per horizon.
    ///
    /// # Errors
    /// A Fréchet distance failed.
    pub fn finish(&self, runs: usize, horizon: usize) -> Result<BTreeMap<String, MetricResult>> {
        let mut out = BTreeMap::new();
        let w = self.truth.values().next().map(|f| f.rgb.width as usize);
        let h = self.truth.values().next().map(|f| f.rgb.height as usize);
        for name in SAMPLE_METRICS.iter().chain(SET_METRICS.iter()) {
            let stream = metric_stream(name).unwrap_or("visual");
            let produced = match stream {
                "visual" => self.streams.visual,
                _ => self.streams.audio,
            };
            if !produced {
                out.insert(name.to_string(), MetricResult::NotProduced);
                continue;
            }
            let computable = match *name {
                "lpips" => self.nets.has_lpips(),
                "dreamsim" => self.nets.has_dreamsim(),
                "fid" => self.nets.has_inception(),
                "fad" => self.nets.has_vggish(),
                _ => true,
            };
            if !computable {
                out.insert(name.to_string(), MetricResult::NotComputed);
                continue;
            }
            let mut per_run = Vec::with_capacity(runs);
            let mut per_hk: Vec<Vec<f64>> = vec![Vec::new(); horizon];
            for r in 0..runs {
                if *name == "fid" {
                    let (p, t) = &self.set_images[r];
                    let (w, h) = (w.unwrap_or(0), h.unwrap_or(0));
                    let pr: Vec<&[u8]> = p.iter().map(Vec::as_slice).collect();
                    let tr: Vec<&[u8]> = t.iter().map(Vec::as_slice).collect();
                    let m = self
                        .nets
                        .fid(&images_from_rgb(&tr, w, h)?, &images_from_rgb(&pr, w, h)?)?;
                    per_run.push(m.value().unwrap_or(f64::NAN));
                    continue;
                }
                if *name == "fad" {
                    let (p, t) = &self.set_audio[r];
                    let m: Metric = self.nets.fad(t, p)?;
                    per_run.push(m.value().unwrap_or(f64::NAN));
                    continue;
                }
                let mut all = Vec::new();
                let mut by_k: Vec<Vec<f64>> = vec![Vec::new(); horizon];
                for rec in self.records.iter().filter(|s| s.run == r) {
                    if let Some(v) = rec.values.get(*name) {
                        all.push(*v);
                        if (1..=horizon).contains(&rec.k) {
                            by_k[rec.k - 1].push(*v);
                        }
                    }
                }
                if all.is_empty() {
                    continue;
                }
                per_run.push(mean_std(&all).0);
                for (k, v) in by_k.iter().enumerate() {
                    if !v.is_empty() {
                        per_hk[k].push(mean_std(v).0);
                    }
                }
            }
            if per_run.is_empty() {
                out.insert(name.to_string(), MetricResult::NotProduced);
                continue;
            }
            let (mean, std) = mean_std(&per_run);
            out.insert(
                name.to_string(),
                MetricResult::Computed {
                    mean,
                    std,
                    runs: per_run,
                    per_horizon: per_hk
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(|v| {
                            let (m, s) = mean_std(v);
                            [m, s]
                        })
                        .collect(),
                },
            );
        }
        Ok(out)
    }
}

/// Decodes a model prediction into per-row outputs.
pub fn outputs_of(model: &WorldModel, tok: &Tokenizers, p: &Prediction) -> Vec<Output> {
    let (img, wav) = model.decode(tok, p);
    decoded_outputs(p, img, wav)
}

/// Per-row outputs of a prediction already decoded (`img` in [-1, 1], `wav` binaural).
fn decoded_outputs(p: &Prediction, img: Option<Tensor>, wav: Option<Tensor>) -> Vec<Output> {
    // Images: NaN becomes 0 in the u8 conversion; remember which rows had any.
    let image_nan: Vec<bool> = match &img {
        Some(x) => {
            let bad = x.isfinite().logical_not().flatten(1, -1).any_dim(1, false);
            Vec::<bool>::try_from(bad).unwrap_or_default()
        }
        None => Vec::new(),
    };
    let image_nan = |i: usize| image_nan.get(i).copied().unwrap_or(false);
    let imgs = img.as_ref().map(tensor_to_images);
    let wavs = wav.as_ref().map(tensor_to_audio);
    let values = |r: &Option<Tensor>| {
        r.as_ref()
            .and_then(|r| Vec::<f64>::try_from(r.to_kind(Kind::Double)).ok())
    };
    let (rew, head) = (values(&p.reward_m), values(&p.expected_reward_m));
    let b = imgs
        .as_ref()
        .map(Vec::len)
        .or(wavs.as_ref().map(Vec::len))
        .unwrap_or(0);
    (0..b)
        .map(|i| {
            let mut bad = false;
            let mut clean = |x: &mut f32| {
                if !x.is_finite() {
                    *x = 0.0;
                    bad = true;
                }
            };
            let audio = wavs.as_ref().map(|v| {
                let (mut l, mut r) = v[i].clone();
                l.iter_mut().chain(r.iter_mut()).for_each(&mut clean);
                (l, r)
            });
            let mut finite = |v: &Vec<f64>| {
                if v[i].is_finite() {
                    v[i]
                } else {
                    bad = true;
                    0.0
                }
            };
            let reward = rew.as_ref().map(&mut finite);
            let reward_expected = head.as_ref().map(&mut finite);
            Output {
                image: imgs.as_ref().map(|v| v[i].clone()),
                audio,
                reward,
                reward_expected,
                non_finite: bad || image_nan(i),
            }
        })
        .collect()
}

/// The context of `anchors` (the `m` frames ending at each anchor) for `streams`, scaled latents.
pub fn context_of(
    t: &Transitions,
    model: &WorldModel,
    anchors: &[usize],
    streams: Streams,
    device: Device,
) -> Context {
    let pairs: Vec<(usize, usize)> = anchors.iter().map(|&a| (a, a + 1)).collect();
    let b = t.batch(&pairs, streams, model.config(), device);
    Context::of(&b)
}

/// Progress callback: `(done, total)` predictions.
pub type Progress<'p> = &'p mut dyn FnMut(u64, u64);

/// Runs the fixed-step protocol for `runs` runs; returns the model's scorer records.
///
/// # Errors
/// Metric or model failures.
#[allow(clippy::too_many_arguments)]
pub fn run_fixed(
    model: &WorldModel,
    tok: &Tokenizers,
    t: &Transitions,
    anchors: &[usize],
    cfg: &EvalConfig,
    scorer: &mut Scorer<'_>,
    keep: &mut dyn FnMut(usize, usize, usize, &Output),
    progress: Progress<'_>,
    device: Device,
) -> Result<()> {
    let streams = model.streams();
    let jobs: Vec<(usize, usize)> = anchors
        .iter()
        .flat_map(|&a| (1..=cfg.horizon).map(move |k| (a, k)))
        .collect();
    let total = (jobs.len() * cfg.runs) as u64;
    let mut done = 0;
    for run in 0..cfg.runs {
        let mut rng = Seed(cfg.seed).derive("run", run as u64).rng();
        for chunk in jobs.chunks(cfg.batch.max(1)) {
            let pairs: Vec<(usize, usize)> = chunk.iter().map(|&(a, k)| (a, a + k)).collect();
            let b = t.batch(&pairs, streams, model.config(), device);
            let ctx = Context::of(&b);
            let p = model.predict(&ctx, &b.action, &b.dt, cfg.sampler, &mut rng);
            let outs = outputs_of(model, tok, &p);
            let targets: Vec<Target> = chunk
                .iter()
                .map(|&(a, k)| Target {
                    run,
                    anchor: a,
                    k,
                    frame: a + k,
                    reward_true: t.reward_between(a, a + k),
                })
                .collect();
            record(t, &targets, &outs, scorer, keep)?;
            done += chunk.len() as u64;
            progress(done, total);
        }
    }
    Ok(())
}

/// Hands a batch's outputs to `keep` and scores them against their targets.
fn record(
    t: &Transitions,
    targets: &[Target],
    outs: &[Output],
    scorer: &mut Scorer<'_>,
    keep: &mut dyn FnMut(usize, usize, usize, &Output),
) -> Result<()> {
    for (g, o) in targets.iter().zip(outs) {
        keep(g.run, g.anchor, g.k, o);
    }
    scorer.add(t, targets, outs)
}

/// Runs the rollout protocol (recorded actions, one frame each) for `runs` runs.
///
/// # Errors
/// Metric or model failures.
#[allow(clippy::too_many_arguments)]
pub fn run_rollout(
    model: &WorldModel,
    tok: &Tokenizers,
    t: &Transitions,
    anchors: &[usize],
    cfg: &EvalConfig,
    scorer: &mut Scorer<'_>,
    keep: &mut dyn FnMut(usize, usize, usize, &Output),
    progress: Progress<'_>,
    device: Device,
) -> Result<()> {
    let streams = model.streams();
    let unit = model.config().action_unit_m;
    let total = (anchors.len() * cfg.horizon * cfg.runs) as u64;
    let mut done = 0;
    for run in 0..cfg.runs {
        let mut rng = Seed(cfg.seed).derive("run", run as u64).rng();
        for chunk in anchors.chunks(cfg.batch.max(1)) {
            let ctx = context_of(t, model, chunk, streams, device);
            let actions: Vec<Tensor> = (1..=cfg.horizon)
                .map(|k| {
                    let v: Vec<f32> = chunk
                        .iter()
                        .flat_map(|&a| t.action_between(a + k - 1, a + k, unit).map(|x| x as f32))
                        .collect();
                    Tensor::from_slice(&v)
                        .view([chunk.len() as i64, 3])
                        .to_device(device)
                })
                .collect();
            let steps = tch::no_grad(|| {
                model.rollout_decoded(
                    &ctx,
                    &actions,
                    cfg.sampler,
                    cfg.rollout_context,
                    tok,
                    &mut rng,
                )
            })?;
            for (k0, s) in steps.into_iter().enumerate() {
                let k = k0 + 1;
                let outs = decoded_outputs(&s.prediction, s.image, s.audio);
                let targets: Vec<Target> = chunk
                    .iter()
                    .map(|&a| Target {
                        run,
                        anchor: a,
                        k,
                        frame: a + k,
                        reward_true: t.reward_between(a + k - 1, a + k),
                    })
                    .collect();
                record(t, &targets, &outs, scorer, keep)?;
                done += chunk.len() as u64;
                progress(done, total);
            }
        }
    }
    Ok(())
}

/// The reference systems' outputs for `(anchor, k)` targets: `copy frame t`, `copy aligned`
/// (the image of frame t with the audio of [`aligned_frame`]: the ringtone's phase, known from
/// the history) and the tokenizer ceiling (the target's cached latents decoded). Rewards: the
/// copies predict 0; the ceiling has none. `truth` must hold the anchors and aligned frames.
pub fn reference_outputs(
    tok: &Tokenizers,
    t: &Transitions,
    truth: &HashMap<usize, TrueFrame>,
    model: &WorldModel,
    jobs: &[(usize, usize)],
    device: Device,
) -> [Vec<Output>; 3] {
    let copy_of = |image: usize, audio: usize| {
        let (fi, fa) = (&truth[&image], &truth[&audio]);
        Output {
            image: Some(fi.rgb.data.clone()),
            audio: Some((fa.audio.left.clone(), fa.audio.right.clone())),
            reward: Some(0.0),
            reward_expected: None,
            non_finite: false,
        }
    };
    let copy = jobs.iter().map(|&(a, _)| copy_of(a, a)).collect();
    let aligned = jobs
        .iter()
        .map(|&(a, k)| copy_of(a, aligned_frame(a, k, t.episode_bounds(a).0)))
        .collect();
    let pairs: Vec<(usize, usize)> = jobs.iter().map(|&(a, k)| (a, a + k)).collect();
    let b = t.batch(&pairs, Streams::BOTH, model.config(), device);
    let p = Prediction {
        visual: b.visual,
        audio: b.audio,
        reward_m: None,
        expected_reward_m: None,
        p_success: None,
    };
    let ceiling = outputs_of(model, tok, &p);
    [copy, aligned, ceiling]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `numpy.mean` / `numpy.std` (population) of the same numbers: 2.5 and 1.118033988749895.
    #[test]
    fn mean_std_is_numpy_population() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        assert!((s - 1.118033988749895).abs() < 1e-15);
        assert_eq!(mean_std(&[7.0]), (7.0, 0.0));
        assert!(mean_std(&[]).0.is_nan());
    }

    #[test]
    fn aligned_frame_is_the_ringtone_phase_within_the_last_eight_frames() {
        // Δt = 1…8 one period back, 9…16 two: frame t−7 … t.
        let got: Vec<usize> = (1..=16).map(|k| aligned_frame(100, k, 0)).collect();
        let want: Vec<usize> = (93..=100).chain(93..=100).collect();
        assert_eq!(got, want);
        // Without that much history in the episode: the anchor's own audio.
        assert_eq!(aligned_frame(3, 1, 0), 3);
        assert_eq!(aligned_frame(100, 1, 95), 100);
        assert_eq!(aligned_frame(100, 4, 95), 96);
    }

    #[test]
    fn metric_directions_and_streams() {
        for m in SAMPLE_METRICS.iter().chain(SET_METRICS.iter()) {
            assert!(metric_stream(m).is_some(), "{m}");
        }
        assert!(higher_is_better("psnr") && higher_is_better("spec_ssim"));
        assert!(!higher_is_better("lsd") && !higher_is_better("reward_mse"));
        assert_eq!(Mode::parse("rollout").unwrap(), Mode::Rollout);
        assert!(Mode::parse("sideways").is_err());
    }

    #[test]
    fn score_of_identical_output_is_perfect() {
        let mut an = AudioAnalyzer::new(StftConfig::default()).unwrap();
        let rgb = RgbImage {
            width: 16,
            height: 16,
            data: (0..16 * 16 * 3).map(|i| (i * 7 % 251) as u8).collect(),
        };
        let tone: Vec<f32> = (0..2400).map(|i| (i as f32 * 0.07).sin() * 0.3).collect();
        let late: Vec<f32> = std::iter::repeat_n(0.0, 5)
            .chain(tone.iter().copied())
            .take(2400)
            .collect();
        let truth = TrueFrame {
            rgb: rgb.clone(),
            audio: BinauralAudio {
                sample_rate_hz: 16_000,
                left: tone.clone(),
                right: late.clone(),
            },
        };
        let out = Output {
            image: Some(rgb.data.clone()),
            audio: Some((tone, late)),
            reward: Some(0.25),
            reward_expected: Some(0.75),
            non_finite: false,
        };
        let v = score(&out, &truth, 0.5, &mut an).unwrap();
        assert_eq!(v["reward_head_mse"], 0.0625);
        assert_eq!(v["psnr"], 100.0);
        assert!((v["ssim"] - 1.0).abs() < 1e-9);
        assert!(v["lsd"].abs() < 1e-9);
        assert!((v["spec_ssim"] - 1.0).abs() < 1e-9);
        assert!(v["itd_us"].abs() < 1e-9 && v["ild_db"].abs() < 1e-9);
        assert!((v["reward_mse"] - 0.0625).abs() < 1e-12);
        // No image, no audio: only the reward is scored.
        let v = score(
            &Output {
                reward: Some(0.5),
                ..Output::default()
            },
            &truth,
            0.5,
            &mut an,
        )
        .unwrap();
        assert_eq!(v.keys().collect::<Vec<_>>(), ["reward_mse"]);
    }
}
