//! One evaluation end to end: anchors, targets, the protocol, references, aggregation, and the
//! output folder (`eval.json`, `samples.jsonl`, per-horizon plots, qualitative sheets).
//!
//! ```text
//! OUT/
//!   eval.json        configuration, model, data, metrics (mean ± std over runs, per horizon), timing
//!   samples.jsonl    one line per scored prediction (run, anchor, episode, step, k, metric values)
//!   plots/<metric>.png   per-horizon curve of the model (and the references), mean ± std over runs,
//!                        with the same chart as SVG beside it (plots/<metric>.svg)
//!   sheets/<episode>-<step>.png   context, truth and prediction (images + binaural spectrograms)
//! ```

use crate::counterfactual::{self, CounterfactualSummary};
use crate::nets::FeatureNets;
use crate::plot::{Series, write_line_chart};
use crate::protocol::{
    EvalConfig, MetricResult, Mode, Output, SAMPLE_METRICS, Scorer, Target, TrueFrame, load_frames,
    reference_outputs, run_fixed, run_rollout, select_anchors,
};
use crate::sheet::{SheetCell, SheetRow, write_sheet};
use crate::{EvalError, Result};
use avwm_core::{BinauralAudio, RgbImage, SAMPLE_RATE_HZ, Seed};
use avwm_data::Dataset;
use avwm_model::WorldModel;
use avwm_model::config::Streams;
use avwm_model::data::Transitions;
use avwm_model::predict::Tokenizers;
use avwm_nn::ckpt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::Device;

/// Format tag of `eval.json`.
pub const EVAL_FORMAT: &str = "avwm-eval";

/// Which model was evaluated (from its `model.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The `--model` path.
    pub path: String,
    /// `full`, `vision-only` or `audio-only`.
    pub variant: String,
    /// Training stage of the weights (`one`, `two`, `three`, `joint`).
    pub stage: String,
    /// Modality experts (false: one shared feed-forward network).
    pub experts: bool,
    /// Steps of that stage.
    pub steps: u64,
    /// Parameters.
    pub parameters: i64,
    /// Streams it predicts.
    pub visual: bool,
    /// Audio and reward.
    pub audio: bool,
    /// `ModelConfig::design_name`: `paper` (evaluations written before this field), `avwm` or
    /// one of its ablations.
    #[serde(default = "paper_design")]
    pub design: String,
}

fn paper_design() -> String {
    "paper".into()
}

impl ModelInfo {
    /// The row this model fills in the tables: `av-cdit`, `stage1`, `stage1+2`, `no-experts`,
    /// `no-stagewise`, `vision-only`, `audio-only` (the paper's), `avwm`, `avwm-no-memory`,
    /// `avwm-no-residual`, `avwm-no-reward-head`, `avwm-direct-reward` (avwm's design and its
    /// ablations), or `other`.
    pub fn kind(&self) -> &'static str {
        match self.design.as_str() {
            "paper" => {}
            "avwm" => return "avwm",
            "avwm-no-memory" => return "avwm-no-memory",
            "avwm-no-residual" => return "avwm-no-residual",
            "avwm-no-reward-head" => return "avwm-no-reward-head",
            "avwm-direct-reward" => return "avwm-direct-reward",
            _ => return "other",
        }
        match (self.variant.as_str(), self.stage.as_str(), self.experts) {
            ("vision-only", _, _) => "vision-only",
            ("audio-only", _, _) => "audio-only",
            ("full", "one", true) => "stage1",
            ("full", "two", true) => "stage1+2",
            ("full", "three", true) => "av-cdit",
            ("full", "three", false) => "no-experts",
            ("full", "joint", true) => "no-stagewise",
            _ => "other",
        }
    }
}

/// Wall time of the parts of an evaluation (s).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timing {
    /// Loading anchors' target frames from the dataset.
    pub load_s: f64,
    /// Model predictions, decoding and scoring.
    pub model_s: f64,
    /// Reference systems.
    pub references_s: f64,
    /// Aggregation, plots, sheets, files.
    pub report_s: f64,
    /// Everything.
    pub total_s: f64,
}

/// `eval.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    /// Always [`EVAL_FORMAT`].
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// Settings.
    pub config: EvalConfig,
    /// Model.
    pub model: ModelInfo,
    /// Latent cache (`--data`).
    pub data: String,
    /// Dataset the targets come from.
    pub dataset: String,
    /// Split evaluated.
    pub split: String,
    /// Anchors evaluated.
    pub anchors: usize,
    /// Feature-network folder, if any.
    pub feature_nets: Option<String>,
    /// Fixed-step / rollout metrics (empty for counterfactual).
    pub metrics: BTreeMap<String, MetricResult>,
    /// Predictions that held non-finite values (NaN/∞ samples, replaced by 0 and scored as such).
    #[serde(default)]
    pub non_finite_predictions: usize,
    /// Reference systems' metrics (`copy-frame-t`, `tokenizer`), if scored.
    pub references: BTreeMap<String, BTreeMap<String, MetricResult>>,
    /// Counterfactual results.
    pub counterfactual: Option<CounterfactualSummary>,
    /// Plots written (relative paths).
    pub plots: Vec<String>,
    /// Sheets written (relative paths).
    pub sheets: Vec<String>,
    /// Timing.
    pub timing: Timing,
    /// The command line that produced this file.
    pub command: String,
}

/// What an evaluation reads.
pub struct EvalInputs<'a> {
    /// The model.
    pub model: &'a WorldModel,
    /// Its `--model` path.
    pub model_path: &'a Path,
    /// Tokenizers.
    pub tok: &'a Tokenizers,
    /// Latent-cache split.
    pub transitions: &'a Transitions,
    /// Latent cache folder.
    pub cache: &'a Path,
    /// Dataset.
    pub dataset: &'a Dataset,
    /// Split name.
    pub split: &'a str,
    /// Feature networks (possibly none).
    pub nets: &'a FeatureNets,
    /// Their folder.
    pub nets_dir: Option<&'a Path>,
    /// Device.
    pub device: Device,
    /// The command line, recorded in `eval.json`.
    pub command: String,
}

/// Horizons shown on qualitative sheets.
const SHEET_KS: [usize; 4] = [1, 4, 8, 16];

fn frame_of(img: &[u8], like: &RgbImage) -> RgbImage {
    RgbImage {
        width: like.width,
        height: like.height,
        data: img.to_vec(),
    }
}

fn audio_of((l, r): &(Vec<f32>, Vec<f32>)) -> BinauralAudio {
    BinauralAudio {
        sample_rate_hz: SAMPLE_RATE_HZ,
        left: l.clone(),
        right: r.clone(),
    }
}

fn true_cell(caption: String, f: &TrueFrame) -> SheetCell {
    SheetCell {
        caption,
        image: Some(f.rgb.clone()),
        audio: Some(f.audio.clone()),
    }
}

/// Runs one evaluation and writes `out/`.
///
/// # Errors
/// Bad configuration, unreadable data, model or metric failures, I/O.
pub fn evaluate(
    inp: &EvalInputs<'_>,
    cfg: &EvalConfig,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<EvalSummary> {
    let t0 = Instant::now();
    if cfg.runs == 0 || cfg.anchors == 0 || cfg.horizon == 0 {
        return Err(EvalError::Input(
            "runs, anchors and horizon must be positive".into(),
        ));
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EvalError::Io { path: p, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let model = inp.model;
    model.check_tokenizers(inp.tok)?;
    let t = inp.transitions;
    let m = model.config().context as usize;
    let history = cfg.history.max(model.config().history() as usize).max(m);
    let anchors = select_anchors(t, history, cfg.horizon, cfg.anchors, Seed(cfg.seed));
    if anchors.is_empty() {
        return Err(EvalError::Input(format!(
            "{}: the {} split has no frame with {history} frames of history and {} future frames",
            inp.cache.display(),
            inp.split,
            cfg.horizon
        )));
    }
    let info = ModelInfo {
        path: inp.model_path.display().to_string(),
        variant: model.config().variant.name().to_string(),
        stage: serde_json::to_value(model.meta.stage)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        experts: model.config().experts,
        steps: model.meta.steps,
        parameters: model
            .vs
            .variables()
            .values()
            .map(tch::Tensor::numel)
            .sum::<usize>() as i64,
        visual: model.streams().visual,
        audio: model.streams().audio,
        design: model.config().design_name().to_string(),
    };
    let mut timing = Timing::default();
    let mut summary = EvalSummary {
        format: EVAL_FORMAT.into(),
        version: 1,
        config: *cfg,
        model: info,
        data: inp.cache.display().to_string(),
        dataset: inp.dataset.dir().display().to_string(),
        split: inp.split.to_string(),
        anchors: anchors.len(),
        feature_nets: inp.nets_dir.map(|p| p.display().to_string()),
        metrics: BTreeMap::new(),
        non_finite_predictions: 0,
        references: BTreeMap::new(),
        counterfactual: None,
        plots: vec![],
        sheets: vec![],
        timing,
        command: inp.command.clone(),
    };
    if cfg.mode == Mode::Counterfactual {
        let (cf, sheets) = counterfactual::run(inp, cfg, &anchors, out, progress)?;
        summary.counterfactual = Some(cf);
        summary.sheets = sheets;
        timing.total_s = t0.elapsed().as_secs_f64();
        timing.model_s = timing.total_s;
        summary.timing = timing;
        ckpt::write_json(&out.join("eval.json"), &summary)?;
        return Ok(summary);
    }
    // Targets and the context frames shown on sheets.
    let sheet_anchors: Vec<usize> = anchors.iter().copied().take(cfg.sheets).collect();
    let mut needed: Vec<usize> = anchors
        .iter()
        .flat_map(|&a| (0..=cfg.horizon).map(move |k| a + k))
        .collect();
    needed.extend(
        sheet_anchors
            .iter()
            .flat_map(|&a| (a + 1 - m..a).collect::<Vec<_>>()),
    );
    // The audio of the copy-aligned reference.
    if cfg.references {
        needed.extend(anchors.iter().flat_map(|&a| {
            let first = t.episode_bounds(a).0;
            (1..=cfg.horizon).map(move |k| crate::protocol::aligned_frame(a, k, first))
        }));
    }
    needed.sort_unstable();
    needed.dedup();
    let tl = Instant::now();
    let truth = load_frames(inp.dataset, t, &needed)?;
    timing.load_s = tl.elapsed().as_secs_f64();

    let streams = model.streams();
    let mut scorer = Scorer::new(&truth, inp.nets, streams, cfg.runs, SAMPLE_RATE_HZ);
    let mut kept: HashMap<(usize, usize), Output> = HashMap::new();
    let mut keep = |run: usize, a: usize, k: usize, o: &Output| {
        if run == 0 && sheet_anchors.contains(&a) && SHEET_KS.contains(&k) {
            kept.insert((a, k), o.clone());
        }
    };
    let tm = Instant::now();
    match cfg.mode {
        Mode::Fixed => run_fixed(
            model,
            inp.tok,
            t,
            &anchors,
            cfg,
            &mut scorer,
            &mut keep,
            progress,
            inp.device,
        )?,
        _ => run_rollout(
            model,
            inp.tok,
            t,
            &anchors,
            cfg,
            &mut scorer,
            &mut keep,
            progress,
            inp.device,
        )?,
    }
    timing.model_s = tm.elapsed().as_secs_f64();
    summary.metrics = scorer.finish(cfg.runs, cfg.horizon)?;
    summary.non_finite_predictions = scorer.non_finite;

    let tr = Instant::now();
    if cfg.references {
        let jobs: Vec<(usize, usize)> = anchors
            .iter()
            .flat_map(|&a| (1..=cfg.horizon).map(move |k| (a, k)))
            .collect();
        let mut copy = Scorer::new(&truth, inp.nets, Streams::BOTH, 1, SAMPLE_RATE_HZ);
        let mut aligned = Scorer::new(&truth, inp.nets, Streams::BOTH, 1, SAMPLE_RATE_HZ);
        let mut ceil = Scorer::new(&truth, inp.nets, Streams::BOTH, 1, SAMPLE_RATE_HZ);
        for chunk in jobs.chunks(cfg.batch.max(1)) {
            let targets: Vec<Target> = chunk
                .iter()
                .map(|&(a, k)| Target {
                    run: 0,
                    anchor: a,
                    k,
                    frame: a + k,
                    reward_true: if cfg.mode == Mode::Fixed {
                        t.reward_between(a, a + k)
                    } else {
                        t.reward_between(a + k - 1, a + k)
                    },
                })
                .collect();
            let [c, al, z] = reference_outputs(inp.tok, t, &truth, model, chunk, inp.device);
            copy.add(t, &targets, &c)?;
            aligned.add(t, &targets, &al)?;
            ceil.add(t, &targets, &z)?;
        }
        summary
            .references
            .insert("copy-frame-t".into(), copy.finish(1, cfg.horizon)?);
        summary
            .references
            .insert("copy-aligned".into(), aligned.finish(1, cfg.horizon)?);
        let mut c = ceil.finish(1, cfg.horizon)?;
        c.insert("reward_mse".into(), MetricResult::NotProduced);
        summary.references.insert("tokenizer".into(), c);
    }
    timing.references_s = tr.elapsed().as_secs_f64();

    let tw = Instant::now();
    // Samples.
    let mut lines = Vec::new();
    for r in &scorer.records {
        serde_json::to_writer(&mut lines, r)
            .map_err(|e| EvalError::Input(format!("serialising a sample: {e}")))?;
        lines.write_all(b"\n").map_err(io(out))?;
    }
    avwm_core::write_atomic(&out.join("samples.jsonl"), &lines)?;
    // Plots.
    let plots = out.join("plots");
    std::fs::create_dir_all(&plots).map_err(io(&plots))?;
    let x_label = match cfg.mode {
        Mode::Fixed => "Δt (frames)",
        _ => "rollout step",
    };
    for name in SAMPLE_METRICS {
        let mut series = Vec::new();
        let mut add = |label: &str, res: Option<&MetricResult>| {
            if let Some(MetricResult::Computed { per_horizon, .. }) = res
                && !per_horizon.is_empty()
            {
                series.push(Series {
                    label: label.to_string(),
                    points: per_horizon
                        .iter()
                        .enumerate()
                        .map(|(k, [m, s])| ((k + 1) as f64, *m, *s))
                        .collect(),
                });
            }
        };
        add("model", summary.metrics.get(name));
        for (rname, r) in &summary.references {
            add(rname, r.get(name));
        }
        if series.is_empty()
            || summary
                .metrics
                .get(name)
                .is_none_or(|r| r.mean_std().is_none())
        {
            continue;
        }
        let rel = format!("plots/{name}.png");
        write_line_chart(
            &out.join(&rel),
            &format!(
                "{} ({}), {}",
                metric_label(name),
                cfg.mode.name(),
                summary.model.kind()
            ),
            x_label,
            metric_label(name),
            &series,
        )?;
        summary.plots.push(rel);
    }
    // Sheets.
    let sheets = out.join("sheets");
    std::fs::create_dir_all(&sheets).map_err(io(&sheets))?;
    for &a in &sheet_anchors {
        let like = &truth[&a].rgb;
        let context = SheetRow {
            label: "context".into(),
            cells: (0..m)
                .map(|j| {
                    let i = a + 1 + j - m;
                    let cap = if i == a {
                        "t".to_string()
                    } else {
                        format!("t-{}", a - i)
                    };
                    true_cell(cap, &truth[&i])
                })
                .collect(),
        };
        let truth_row = SheetRow {
            label: "truth".into(),
            cells: SHEET_KS
                .iter()
                .filter(|&&k| k <= cfg.horizon)
                .map(|&k| true_cell(format!("t+{k}"), &truth[&(a + k)]))
                .collect(),
        };
        let pred_row = SheetRow {
            label: "predicted".into(),
            cells: SHEET_KS
                .iter()
                .filter(|&&k| k <= cfg.horizon)
                .map(|&k| {
                    let o = kept.get(&(a, k));
                    SheetCell {
                        caption: format!("t+{k}"),
                        image: o.and_then(|o| o.image.as_ref()).map(|i| frame_of(i, like)),
                        audio: o.and_then(|o| o.audio.as_ref()).map(audio_of),
                    }
                })
                .collect(),
        };
        let rel = format!("sheets/{}-{}.png", t.episode[a], t.step[a]);
        write_sheet(
            &out.join(&rel),
            &format!(
                "{} {}: episode {} step {}",
                summary.model.kind(),
                cfg.mode.name(),
                t.episode[a],
                t.step[a]
            ),
            &[context, truth_row, pred_row],
        )?;
        summary.sheets.push(rel);
    }
    timing.report_s = tw.elapsed().as_secs_f64();
    timing.total_s = t0.elapsed().as_secs_f64();
    summary.timing = timing;
    ckpt::write_json(&out.join("eval.json"), &summary)?;
    Ok(summary)
}

/// A metric's display name.
pub fn metric_label(name: &str) -> &'static str {
    match name {
        "psnr" => "PSNR (dB)",
        "ssim" => "SSIM",
        "lpips" => "LPIPS",
        "dreamsim" => "DreamSim",
        "fid" => "FID",
        "lsd" => "LSD",
        "spec_ssim" => "spectrogram SSIM",
        "fad" => "FAD",
        "ild_db" => "ILD error (dB)",
        "itd_us" => "ITD error (us)",
        "doa_deg" => "DOA error (deg)",
        "reward_mse" => "reward MSE (m^2)",
        _ => "?",
    }
}

/// Reads an `eval.json`.
///
/// # Errors
/// Missing, unreadable or foreign files.
pub fn read_summary(path: &Path) -> Result<EvalSummary> {
    let s: EvalSummary = ckpt::read_json(path)?;
    if s.format != EVAL_FORMAT {
        return Err(EvalError::Input(format!(
            "{}: not an {EVAL_FORMAT} file",
            path.display()
        )));
    }
    Ok(s)
}

/// `eval.json` of every sub-folder of `root` (sorted), or of `root` itself.
///
/// # Errors
/// Unreadable folders or files.
pub fn find_summaries(root: &Path) -> Result<Vec<(PathBuf, EvalSummary)>> {
    let mut out = Vec::new();
    let direct = root.join("eval.json");
    if direct.is_file() {
        out.push((root.to_path_buf(), read_summary(&direct)?));
        return Ok(out);
    }
    let rd = std::fs::read_dir(root).map_err(|source| EvalError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    for d in dirs {
        let f = d.join("eval.json");
        if f.is_file() {
            out.push((d, read_summary(&f)?));
        }
    }
    Ok(out)
}
