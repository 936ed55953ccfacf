//! `avwm report`: the paper's tables (3–7) filled with avwm's numbers, the checks beyond the
//! paper (spatial audio, counterfactuals), per-horizon comparison charts (Fig. 6), qualitative
//! sheets (Fig. 5), and the paper's claims stated as confirmed or not — from a folder of
//! evaluation folders (`eval.json` each), as Markdown, JSON and one self-contained HTML page.

use crate::counterfactual::{CounterfactualSummary, Score, pearson};
use crate::evaluate::{EvalSummary, find_summaries, metric_label};
use crate::plot::{Series, write_line_chart};
use crate::protocol::{MetricResult, SampleRecord, higher_is_better};
use crate::render::{Better, Block, Cell, Column, Group, Page, Row, Section, Table};
use crate::{EvalError, Result};
use avwm_nn::ckpt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Row labels of the model kinds ([`crate::evaluate::ModelInfo::kind`]).
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "av-cdit" => "AV-CDiT (stage 1+2+3)",
        "stage1" => "Training stage 1",
        "stage1+2" => "Training stage 1+2",
        "no-experts" => "w/o modality experts",
        "no-stagewise" => "w/o stagewise training",
        "vision-only" => "CDiT (vision only)",
        "audio-only" => "LDM (audio only)",
        "avwm" => "avwm (residual, audio memory, reward head)",
        "avwm-no-memory" => "avwm w/o audio memory",
        "avwm-no-residual" => "avwm w/o residual bases",
        "avwm-no-reward-head" => "avwm w/o reward head",
        "avwm-direct-reward" => "avwm, reward head not per metre",
        _ => "other",
    }
}

/// Every model kind the report knows, in the order of its figures and lists (the full model first).
const MODEL_KINDS: [&str; 12] = [
    "av-cdit",
    "stage1",
    "stage1+2",
    "no-experts",
    "no-stagewise",
    "vision-only",
    "audio-only",
    "avwm",
    "avwm-no-memory",
    "avwm-no-residual",
    "avwm-no-reward-head",
    "avwm-direct-reward",
];

/// avwm's model and its ablations, in the order of its table.
const AVWM_KINDS: [&str; 5] = [
    "avwm",
    "avwm-direct-reward",
    "avwm-no-memory",
    "avwm-no-residual",
    "avwm-no-reward-head",
];

/// A table column group: `name` over the metrics `ms`, each column named by [`short_label`] and
/// marked better-higher or better-lower by [`higher_is_better`].
fn metric_group(name: &str, ms: Vec<&'static str>) -> (Group, Vec<&'static str>) {
    let columns = ms
        .iter()
        .map(|m| Column {
            name: short_label(m).to_string(),
            better: if higher_is_better(m) {
                Better::Higher
            } else {
                Better::Lower
            },
        })
        .collect();
    (
        Group {
            name: name.to_string(),
            columns,
        },
        ms,
    )
}

/// The paper's metric columns (plus SSIM for images, which the paper omits).
fn paper_groups() -> Vec<(Group, Vec<&'static str>)> {
    vec![
        metric_group("Vision", vec!["lpips", "dreamsim", "psnr", "ssim", "fid"]),
        metric_group("Audio", vec!["lsd", "spec_ssim", "fad"]),
        metric_group("Reward", vec!["reward_mse"]),
    ]
}

fn spatial_groups() -> Vec<(Group, Vec<&'static str>)> {
    vec![metric_group(
        "Binaural cues (error to the truth)",
        vec!["ild_db", "itd_us", "doa_deg"],
    )]
}

/// The columns of avwm's table: what the improved model was built to beat copying on.
fn avwm_groups() -> Vec<(Group, Vec<&'static str>)> {
    vec![
        metric_group("Vision", vec!["psnr", "ssim"]),
        metric_group("Audio", vec!["lsd", "spec_ssim"]),
        metric_group("Binaural cues (error)", vec!["ild_db", "itd_us"]),
        metric_group("Reward", vec!["reward_head_mse", "reward_mse"]),
    ]
}

fn short_label(m: &str) -> &'static str {
    match m {
        "lpips" => "LPIPS",
        "dreamsim" => "DreamSim",
        "psnr" => "PSNR",
        "ssim" => "SSIM",
        "fid" => "FID",
        "lsd" => "LSD",
        "spec_ssim" => "SSIM",
        "fad" => "FAD",
        "reward_mse" => "MSE",
        "reward_head_mse" => "head MSE",
        "ild_db" => "ILD dB",
        "itd_us" => "ITD µs",
        "doa_deg" => "DOA °",
        _ => "?",
    }
}

fn cell(r: Option<&MetricResult>) -> Cell {
    match r {
        Some(MetricResult::Computed { mean, std, .. }) => Cell::Value {
            mean: *mean,
            std: *std,
        },
        Some(MetricResult::NotComputed) => Cell::NotComputed,
        Some(MetricResult::NotProduced) => Cell::NotProduced,
        None => Cell::Missing("not evaluated".into()),
    }
}

/// The evaluations found, keyed by `(kind, mode)`.
pub struct Evals {
    /// `(kind, mode)` → (folder, summary).
    pub by_key: BTreeMap<(String, String), (PathBuf, EvalSummary)>,
}

impl Evals {
    /// Reads every `eval.json` under `root` (one level deep).
    ///
    /// # Errors
    /// Unreadable files; two evaluations of the same model kind and mode.
    pub fn load(root: &Path) -> Result<Evals> {
        let mut by_key: BTreeMap<(String, String), (PathBuf, EvalSummary)> = BTreeMap::new();
        for (dir, s) in find_summaries(root)? {
            let key = (s.model.kind().to_string(), s.config.mode.name().to_string());
            if let Some((other, _)) = by_key.get(&key) {
                return Err(EvalError::Input(format!(
                    "{} and {} both evaluate {} in {} mode",
                    other.display(),
                    dir.display(),
                    key.0,
                    key.1
                )));
            }
            by_key.insert(key, (dir, s));
        }
        Ok(Evals { by_key })
    }

    /// The evaluation of `kind` in `mode`.
    pub fn get(&self, kind: &str, mode: &str) -> Option<&EvalSummary> {
        self.by_key
            .get(&(kind.to_string(), mode.to_string()))
            .map(|(_, s)| s)
    }

    fn dir(&self, kind: &str, mode: &str) -> Option<&Path> {
        self.by_key
            .get(&(kind.to_string(), mode.to_string()))
            .map(|(d, _)| d.as_path())
    }
}

fn model_row(ev: &Evals, kind: &str, mode: &str, groups: &[(Group, Vec<&'static str>)]) -> Row {
    let s = ev.get(kind, mode);
    if s.is_none() {
        return Row {
            label: format!(
                "{}: not evaluated yet (model not trained)",
                kind_label(kind)
            ),
            cells: vec![],
            reference: false,
        };
    }
    Row {
        label: kind_label(kind).to_string(),
        cells: groups
            .iter()
            .flat_map(|(_, ms)| ms.iter())
            .map(|m| match s {
                Some(s) => cell(s.metrics.get(*m)),
                None => Cell::Missing("not evaluated (model not trained)".into()),
            })
            .collect(),
        reference: false,
    }
}

/// The reference rows (copying, the tokenizer ceiling) of the evaluation of `kind` in `mode`.
fn reference_rows(
    ev: &Evals,
    kind: &str,
    mode: &str,
    groups: &[(Group, Vec<&'static str>)],
) -> Vec<Row> {
    let Some(s) = ev.get(kind, mode) else {
        return vec![];
    };
    s.references
        .iter()
        .map(|(name, m)| Row {
            label: match name.as_str() {
                "copy-frame-t" => "reference: copy frame t".to_string(),
                "copy-aligned" => {
                    "reference: copy aligned (frame t, audio a ringtone period back)".to_string()
                }
                "tokenizer" => "reference: tokenizer ceiling".to_string(),
                n => format!("reference: {n}"),
            },
            cells: groups
                .iter()
                .flat_map(|(_, ms)| ms.iter())
                .map(|k| cell(m.get(*k)))
                .collect(),
            reference: true,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn table(
    ev: &Evals,
    id: &str,
    title: &str,
    caption: &str,
    mode: &str,
    kinds: &[&str],
    groups: &[(Group, Vec<&'static str>)],
    references: Option<&str>,
) -> Table {
    let mut rows: Vec<Row> = kinds
        .iter()
        .map(|k| model_row(ev, k, mode, groups))
        .collect();
    if let Some(kind) = references {
        rows.extend(reference_rows(ev, kind, mode, groups));
    }
    Table {
        id: id.into(),
        title: title.into(),
        caption: caption.into(),
        groups: groups.iter().map(|(g, _)| g.clone()).collect(),
        rows,
    }
}

/// A comparison of two models on one metric.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Metric.
    pub metric: String,
    /// Mode.
    pub mode: String,
    /// Value of the first model.
    pub a: Option<(f64, f64)>,
    /// Value of the second model.
    pub b: Option<(f64, f64)>,
    /// `better`, `same`, `worse` (first model relative to the second), or `n/a`.
    pub verdict: String,
}

fn compare(ev: &Evals, a: &str, b: &str, metric: &str, mode: &str) -> Comparison {
    let get = |k: &str| {
        ev.get(k, mode)
            .and_then(|s| s.metrics.get(metric))
            .and_then(MetricResult::mean_std)
    };
    let (va, vb) = (get(a), get(b));
    let verdict = match (va, vb) {
        (Some((ma, sa)), Some((mb, sb))) => {
            // A difference counts when it exceeds the runs' combined spread and 1 % of the value.
            let tol = (sa * sa + sb * sb).sqrt().max(0.01 * mb.abs());
            let d = if higher_is_better(metric) {
                ma - mb
            } else {
                mb - ma
            };
            if d > tol {
                "better"
            } else if d < -tol {
                "worse"
            } else {
                "same"
            }
        }
        _ => "n/a",
    };
    Comparison {
        metric: metric.into(),
        mode: mode.into(),
        a: va,
        b: vb,
        verdict: verdict.into(),
    }
}

/// One of the paper's claims, tested on our data.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// The claim.
    pub claim: String,
    /// How it is decided.
    pub rule: String,
    /// `confirmed`, `not confirmed`, or `not testable` (a model was not evaluated).
    pub verdict: String,
    /// The comparisons it rests on.
    pub evidence: Vec<Comparison>,
}

fn verdict_of(
    cmp: &[Comparison],
    ok: impl Fn(&Comparison) -> bool,
    required: usize,
) -> &'static str {
    let usable: Vec<&Comparison> = cmp.iter().filter(|c| c.verdict != "n/a").collect();
    if usable.len() < required {
        "not testable"
    } else if usable.iter().all(|c| ok(c)) {
        "confirmed"
    } else {
        "not confirmed"
    }
}

/// The rule every claim uses to compare two models on one metric.
const CLAIM_RULE: &str = "A difference counts when it exceeds both the combined standard deviation \
    over the 3 sampling runs and 1 % of the value; otherwise the two are the same. Metrics that \
    were not computed are left out. Fixed-step and rollout both count.";

const VISION: [&str; 5] = ["psnr", "ssim", "lpips", "dreamsim", "fid"];
const AUDIO: [&str; 3] = ["lsd", "spec_ssim", "fad"];

fn claims(ev: &Evals) -> Vec<Claim> {
    let modes = ["fixed", "rollout"];
    let cmp_all = |a: &str, b: &str, ms: &[&str]| -> Vec<Comparison> {
        modes
            .iter()
            .flat_map(|mode| ms.iter().map(move |m| compare(ev, a, b, m, mode)))
            .collect()
    };
    let rule = CLAIM_RULE;
    let mut out = Vec::new();
    // 1. Baselines.
    let mut e = cmp_all("av-cdit", "vision-only", &VISION);
    out.push(Claim {
        claim: "The full model is at least as good as the vision-only baseline on vision.".into(),
        rule: format!("{rule} Confirmed if no vision metric is worse."),
        verdict: verdict_of(&e, |c| c.verdict != "worse", 2).into(),
        evidence: std::mem::take(&mut e),
    });
    let e = cmp_all("av-cdit", "audio-only", &AUDIO);
    out.push(Claim {
        claim: "The full model is better than the audio-only baseline on audio.".into(),
        rule: format!("{rule} Confirmed if no audio metric is worse and at least one is better."),
        verdict: match verdict_of(&e, |c| c.verdict != "worse", 2) {
            "confirmed" if e.iter().any(|c| c.verdict == "better") => "confirmed",
            "confirmed" => "not confirmed",
            v => v,
        }
        .into(),
        evidence: e,
    });
    // 2. Stage 3.
    let mut e = cmp_all("av-cdit", "stage1+2", &AUDIO);
    let audio_better = e.iter().any(|c| c.verdict == "better")
        && e.iter().all(|c| c.verdict != "worse" || c.verdict == "n/a");
    let v = cmp_all("av-cdit", "stage1", &VISION);
    let vision_kept = v.iter().all(|c| c.verdict != "worse");
    let testable = e.iter().filter(|c| c.verdict != "n/a").count() >= 2
        && v.iter().filter(|c| c.verdict != "n/a").count() >= 2;
    e.extend(v);
    out.push(Claim {
        claim: "Stage 3 improves audio over stage 1+2 without losing vision (against stage 1)."
            .into(),
        rule: format!(
            "{rule} Confirmed if no audio metric is worse than after stage 1+2, one is better, and \
             no vision metric is worse than after stage 1."
        ),
        verdict: if !testable {
            "not testable"
        } else if audio_better && vision_kept {
            "confirmed"
        } else {
            "not confirmed"
        }
        .into(),
        evidence: e,
    });
    // 3. Ablations.
    for (kind, what) in [
        ("no-experts", "Modality experts improve"),
        ("no-stagewise", "Stagewise training improves"),
    ] {
        let e = cmp_all("av-cdit", kind, &["lsd", "spec_ssim", "fad", "reward_mse"]);
        let testable = e.iter().filter(|c| c.verdict != "n/a").count() >= 2;
        let reward_better = e
            .iter()
            .filter(|c| c.metric == "reward_mse")
            .all(|c| c.verdict == "better");
        let audio_better = e
            .iter()
            .filter(|c| c.metric != "reward_mse" && c.verdict != "n/a")
            .all(|c| c.verdict == "better");
        out.push(Claim {
            claim: format!("{what} audio and reward prediction."),
            rule: format!(
                "{rule} Confirmed if every computed audio metric and the reward MSE are better \
                 with them than without, in both modes."
            ),
            verdict: if !testable {
                "not testable"
            } else if reward_better && audio_better {
                "confirmed"
            } else {
                "not confirmed"
            }
            .into(),
            evidence: e,
        });
    }
    out
}

fn fmt_score(s: &Option<Score>) -> Cell {
    match s {
        Some(s) => Cell::Value {
            mean: s.mean,
            std: s.std,
        },
        None => Cell::Missing("no usable pairs".into()),
    }
}

fn counterfactual_table(cf: &CounterfactualSummary, id: &str, title: &str) -> Table {
    let col = |n: &str| Column {
        name: n.into(),
        better: Better::Higher,
    };
    let groups = vec![
        Group {
            name: "Reward ranking".into(),
            columns: vec![
                col("Spearman ρ"),
                col("top-1"),
                col("head ρ"),
                col("head top-1"),
            ],
        },
        Group {
            name: "Separation of futures".into(),
            columns: vec![col("image"), col("audio")],
        },
    ];
    let head = |s: &Option<Score>| match s {
        Some(_) => fmt_score(s),
        None => Cell::Missing("no reward head".into()),
    };
    let row = |label: &str, g: &crate::counterfactual::GroupSummary| Row {
        label: label.into(),
        cells: vec![
            fmt_score(&g.reward_spearman),
            fmt_score(&g.reward_top1),
            head(&g.reward_expected_spearman),
            head(&g.reward_expected_top1),
            fmt_score(&g.separation_visual),
            fmt_score(&g.separation_audio),
        ],
        reference: false,
    };
    let mut rows = vec![
        row(
            &format!(
                "single actions ({}; top-1 chance {:.2})",
                cf.single.alternatives.join(", "),
                cf.single.reward_top1_chance
            ),
            &cf.single,
        ),
        row(
            &format!(
                "4-step sequences ({}; top-1 chance {:.2})",
                cf.sequences.alternatives.join(", "),
                cf.sequences.reward_top1_chance
            ),
            &cf.sequences,
        ),
    ];
    rows.push(Row {
        label: "turn left vs turn right".into(),
        cells: vec![
            Cell::Missing(String::new()),
            Cell::Missing(String::new()),
            Cell::Missing(String::new()),
            Cell::Missing(String::new()),
            fmt_score(&cf.left_right_visual),
            fmt_score(&cf.left_right_audio),
        ],
        reference: false,
    });
    Table {
        id: id.into(),
        title: title.into(),
        caption: format!(
            "{} test contexts; every alternative re-simulated exactly from the saved simulator \
             state. Spearman ρ between predicted and true rewards per context (contexts with tied \
             true rewards only count where the ranks differ); top-1: the predicted best \
             alternative is a true best (chance: share of true-best alternatives); the reward \
             ranking of the diffused reward token, and (head ρ, head top-1) of the deterministic \
             reward head's expected reward where the model has one. Separation: \
             share of ordered pairs (a, b) with different true outcomes whose prediction for a is \
             closer to a's true outcome than to b's (images: pixel MSE, audio: log-spectral \
             distance); 0.5 is chance. Mean ± std over 3 sampling runs.",
            cf.contexts
        ),
        groups,
        rows,
    }
}

/// Plain statements about the full model against the reference rows, computed from the numbers.
fn reading(ev: &Evals) -> Vec<String> {
    let mut out = Vec::new();
    for mode in ["fixed", "rollout"] {
        let Some(s) = ev.get("av-cdit", mode) else {
            continue;
        };
        let get =
            |m: &BTreeMap<String, MetricResult>, k: &str| m.get(k).and_then(MetricResult::mean_std);
        if let Some(copy) = s.references.get("copy-frame-t") {
            let mut better = Vec::new();
            let mut worse = Vec::new();
            for k in ["psnr", "ssim", "lsd", "spec_ssim", "itd_us", "reward_mse"] {
                if let (Some((a, _)), Some((b, _))) = (get(&s.metrics, k), get(copy, k)) {
                    let wins = if higher_is_better(k) { a > b } else { a < b };
                    let text = format!("{} {a:.3} vs {b:.3}", metric_label(k));
                    if wins {
                        better.push(text)
                    } else {
                        worse.push(text)
                    }
                }
            }
            out.push(format!(
                "{mode}: against copying frame t, AV-CDiT is better on {} and worse on {}.",
                if better.is_empty() {
                    "nothing".into()
                } else {
                    better.join(", ")
                },
                if worse.is_empty() {
                    "nothing".into()
                } else {
                    worse.join(", ")
                }
            ));
        }
        if let Some(tok) = s.references.get("tokenizer") {
            for k in ["psnr", "lsd", "spec_ssim", "itd_us"] {
                if let (Some((a, _)), Some((b, _))) = (get(&s.metrics, k), get(tok, k)) {
                    out.push(format!(
                        "{mode}: {} of AV-CDiT {a:.3}, of the tokenizers' own reconstruction of the targets {b:.3} (the ceiling of a latent model).",
                        metric_label(k)
                    ));
                }
            }
        }
        // The ablation claims concern audio and reward; what the ablations do to vision is
        // stated here.
        for kind in ["no-experts", "no-stagewise"] {
            let Some(o) = ev.get(kind, mode) else {
                continue;
            };
            let pairs: Vec<String> = ["psnr", "ssim"]
                .iter()
                .filter_map(|&k| {
                    let (a, _) = get(&o.metrics, k)?;
                    let (b, _) = get(&s.metrics, k)?;
                    Some(format!("{} {a:.3} vs {b:.3}", metric_label(k)))
                })
                .collect();
            if !pairs.is_empty() {
                out.push(format!(
                    "{mode}: vision {} against AV-CDiT: {}.",
                    kind_label(kind),
                    pairs.join(", ")
                ));
            }
        }
    }
    if let (Some(s), Some(copy)) = (
        ev.get("av-cdit", "fixed"),
        ev.get("av-cdit", "fixed")
            .and_then(|s| s.references.get("copy-frame-t")),
    ) && let (Some((m, _)), Some((z, _))) = (
        s.metrics.get("reward_mse").and_then(MetricResult::mean_std),
        copy.get("reward_mse").and_then(MetricResult::mean_std),
    ) {
        out.push(format!(
            "Reward: the predicted reward is one diffusion sample. A sample from a perfectly \
             calibrated predictive distribution has an MSE of twice the conditional variance, so \
             a model that learned little about the reward scores about twice the MSE of \
             predicting 0 (here {z:.3} m², the mean squared true reward); AV-CDiT scores {m:.3} m² \
             in fixed-step mode. The paper does not say whether its reward MSEs (0.75–0.89 fixed-step) \
             score one sample or an average."
        ));
    }
    out
}

/// True rewards at least this large (m) count for the sign agreement: a third of a forward step.
/// Turning in place gives exactly 0.
pub const REWARD_SIGN_MIN_M: f64 = 0.05;

/// How a model's predicted rewards (one diffusion sample each) relate to the true rewards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RewardAgreement {
    /// Pearson's r between predicted and true rewards.
    pub pearson: Option<f64>,
    /// Pearson's r between their magnitudes: does the model know how far the agent moves?
    pub magnitude_pearson: Option<f64>,
    /// Share of the true rewards of at least [`REWARD_SIGN_MIN_M`] whose sign the prediction
    /// shares: does it know whether the move brings the agent closer? 0.5 is chance.
    pub sign_agreement: Option<f64>,
    /// How many true rewards count for the sign agreement.
    pub signed: usize,
    /// Predictions with a reward.
    pub samples: usize,
}

/// The agreement of predicted (the diffused reward token) and true rewards over `records`;
/// `None` when none has a predicted reward.
pub fn reward_agreement(records: &[SampleRecord]) -> Option<RewardAgreement> {
    agreement(records, |r| r.reward_pred)
}

/// The agreement of the reward head's expected and the true rewards over `records`; `None`
/// when the model has no reward head.
pub fn head_reward_agreement(records: &[SampleRecord]) -> Option<RewardAgreement> {
    agreement(records, |r| r.reward_head)
}

fn agreement(
    records: &[SampleRecord],
    predicted: impl Fn(&SampleRecord) -> Option<f64>,
) -> Option<RewardAgreement> {
    let (p, t): (Vec<f64>, Vec<f64>) = records
        .iter()
        .filter_map(|r| Some((predicted(r)?, r.reward_true)))
        .unzip();
    if p.is_empty() {
        return None;
    }
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<f64>>();
    let agree: Vec<bool> = p
        .iter()
        .zip(&t)
        .filter(|(_, t)| t.abs() >= REWARD_SIGN_MIN_M)
        .map(|(p, t)| p * t > 0.0)
        .collect();
    Some(RewardAgreement {
        pearson: pearson(&p, &t),
        magnitude_pearson: pearson(&abs(&p), &abs(&t)),
        sign_agreement: (!agree.is_empty())
            .then(|| agree.iter().filter(|&&a| a).count() as f64 / agree.len() as f64),
        signed: agree.len(),
        samples: p.len(),
    })
}

/// Reads the `samples.jsonl` of the evaluation folder `dir`; none when a folder holds only its
/// `eval.json` (a shared summary).
fn read_samples(dir: &Path) -> Result<Vec<SampleRecord>> {
    let path = dir.join("samples.jsonl");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).map_err(|source| EvalError::Io {
        path: path.clone(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| EvalError::Input(format!("{} line {}: {e}", path.display(), i + 1)))
        })
        .collect()
}

/// The reward agreement of every evaluation whose model predicts rewards, keyed `kind-mode`
/// (the reward token) and `kind-mode-head` (the reward head's expectation).
fn reward_agreements(ev: &Evals) -> Result<BTreeMap<String, RewardAgreement>> {
    let mut out = BTreeMap::new();
    for ((kind, mode), (dir, _)) in &ev.by_key {
        if mode == "counterfactual" {
            continue;
        }
        let records = read_samples(dir)?;
        if let Some(a) = reward_agreement(&records) {
            out.insert(format!("{kind}-{mode}"), a);
        }
        if let Some(a) = head_reward_agreement(&records) {
            out.insert(format!("{kind}-{mode}-head"), a);
        }
    }
    Ok(out)
}

/// One reading line per mode: how each model's predicted rewards relate to the true ones.
fn reward_reading(ev: &Evals, agreements: &BTreeMap<String, RewardAgreement>) -> Vec<String> {
    let f = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mut out = Vec::new();
    for mode in ["fixed", "rollout"] {
        let parts: Vec<String> = ev
            .by_key
            .keys()
            .filter(|(_, m)| m == mode)
            .flat_map(|(kind, _)| {
                [("", ""), ("-head", "'s reward head")].map(|(key, whose)| {
                    let a = agreements.get(&format!("{kind}-{mode}{key}"))?;
                    Some(format!(
                        "{}{whose} r = {}, magnitudes r = {}, signs agree {} of {}",
                        kind_label(kind),
                        f(a.pearson),
                        f(a.magnitude_pearson),
                        f(a.sign_agreement),
                        a.signed
                    ))
                })
            })
            .flatten()
            .collect();
        if !parts.is_empty() {
            out.push(format!(
                "{mode}: predicted against true reward (Pearson r; r of their magnitudes, i.e. how \
                 far the agent moves; the share of true rewards of at least {REWARD_SIGN_MIN_M} m \
                 whose sign the prediction shares, i.e. whether the move brings it closer, 0.5 \
                 being chance): {}.",
                parts.join("; ")
            ));
        }
    }
    out
}

/// What `avwm report` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    /// Evaluations used: `kind-mode` → folder.
    pub evaluations: BTreeMap<String, String>,
    /// Tables.
    pub tables: Vec<Table>,
    /// Claims.
    pub claims: Vec<Claim>,
    /// How each model's predicted rewards relate to the true ones, keyed `kind-mode` (the
    /// reward token) and `kind-mode-head` (the reward head, where the model has one).
    pub reward_agreement: BTreeMap<String, RewardAgreement>,
    /// Files written (relative to the output folder).
    pub files: Vec<String>,
}

fn copy_into(src: &Path, out: &Path, rel: &str) -> Result<PathBuf> {
    let dst = out.join(rel);
    if let Some(p) = dst.parent() {
        std::fs::create_dir_all(p).map_err(|source| EvalError::Io {
            path: p.to_path_buf(),
            source,
        })?;
    }
    let bytes = std::fs::read(src).map_err(|source| EvalError::Io {
        path: src.to_path_buf(),
        source,
    })?;
    avwm_core::write_atomic(&dst, &bytes)?;
    Ok(dst)
}

/// Writes `report.md`, `report.json`, `report.html` and `figures/` into `out` from the evaluation
/// folders under `root`. `commands` are shown as the way the numbers were made.
///
/// # Errors
/// No evaluation found, unreadable files, I/O.
pub fn write_report(root: &Path, out: &Path, commands: &[String]) -> Result<ReportSummary> {
    let ev = Evals::load(root)?;
    if ev.by_key.is_empty() {
        return Err(EvalError::Input(format!(
            "{}: no evaluation folder (eval.json) found",
            root.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|source| EvalError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let agreements = reward_agreements(&ev)?;
    let pg = paper_groups();
    let sp = spatial_groups();
    let mode_name = |m: &str| {
        if m == "fixed" {
            "fixed-step"
        } else {
            "rollout"
        }
    };
    let mut tables = Vec::new();
    for mode in ["fixed", "rollout"] {
        tables.push(table(
            &ev,
            &format!("table3-{mode}"),
            &format!(
                "Table 3 ({}): AV-CDiT against modality-factorized baselines",
                mode_name(mode)
            ),
            "The baselines are our own vision-only CDiT and audio-only latent diffusion model \
             (same architecture with one modality, each trained on as many batches of its modality \
             as the stagewise model saw); the paper used DIAMOND / NWM + AudioLDM. \
             `scripts/train_small_suite.sh` starts the vision-only CDiT from AV-CDiT's stage 1, \
             which trains exactly that network on the same batches, and continues it to 4,500 \
             steps. Mean ± std over 3 sampling runs.",
            mode,
            &["vision-only", "audio-only", "av-cdit"],
            &pg,
            None,
        ));
    }
    for (mode, n) in [("fixed", 4), ("rollout", 5)] {
        tables.push(table(
            &ev,
            &format!("table{n}"),
            &format!(
                "Table {n}: performance under {} generation during training stages",
                mode_name(mode)
            ),
            "∅: the model does not produce this modality after that stage. Reference rows (not \
             models): copying frame t (audio too; reward 0), and the tokenizers' own \
             reconstruction of the target (the best a latent model can score).",
            mode,
            &["stage1", "stage1+2", "av-cdit"],
            &pg,
            Some("av-cdit"),
        ));
    }
    for (mode, n) in [("fixed", 6), ("rollout", 7)] {
        tables.push(table(
            &ev,
            &format!("table{n}"),
            &format!("Table {n}: ablations under {} generation", mode_name(mode)),
            "w/o modality experts: one shared feed-forward network (its stage 1 is the full \
             model's, which is the same function: stage 1 sees only visual tokens). w/o stagewise \
             training: all parameters trained jointly from the start for as many batches as stages \
             1 and 3 together.",
            mode,
            &["no-experts", "no-stagewise", "av-cdit"],
            &pg,
            None,
        ));
    }
    for mode in ["fixed", "rollout"] {
        tables.push(table(
            &ev,
            &format!("spatial-{mode}"),
            &format!(
                "Binaural spatial fidelity ({}), beyond the paper",
                mode_name(mode)
            ),
            "Mean absolute error of the octave-band interaural level difference (dB, 6 bands \
             125 Hz–4 kHz), the GCC-PHAT interaural time difference (µs) and the lateral angle \
             those ITDs imply (Woodworth, degrees), prediction against the recorded audio.",
            mode,
            &[
                "av-cdit",
                "stage1+2",
                "audio-only",
                "no-experts",
                "no-stagewise",
            ],
            &sp,
            Some("av-cdit"),
        ));
    }
    if let Some(cf) = ev
        .get("av-cdit", "counterfactual")
        .and_then(|s| s.counterfactual.as_ref())
    {
        tables.push(counterfactual_table(
            cf,
            "counterfactual",
            "Counterfactual prediction (beyond the paper)",
        ));
    }
    for mode in ["fixed", "rollout"] {
        if ev.get("avwm", mode).is_none() {
            continue;
        }
        let kinds: Vec<&str> = AVWM_KINDS
            .into_iter()
            .filter(|k| *k == "avwm" || ev.get(k, mode).is_some())
            .chain(ev.get("av-cdit", mode).map(|_| "av-cdit"))
            .collect();
        tables.push(table(
            &ev,
            &format!("avwm-{mode}"),
            &format!(
                "avwm's model and its ablations ({}), beyond the paper",
                mode_name(mode)
            ),
            "avwm's design (`avwm train --design avwm`): residual v-prediction against bases from \
             the context, 16 frames of audio memory, the deterministic reward head (its expected \
             reward: head MSE) beside the paper's diffused reward token (MSE), and the band levels \
             of the spectral tokenizer modelled. Each ablation row removes one change; AV-CDiT is \
             the paper's model on its own tokenizers. The reference rows are those of avwm's \
             evaluation (its tokenizers' ceiling; copying frame t; copying frame t with the audio \
             a ringtone period back, which is avwm's audio base). avwm's rows are sampled with one \
             DDIM step (the posterior mean; ten steps score worse) from the spectral tokenizer's \
             latent cache, on the same test anchors. Mean ± std over 3 sampling runs.",
            mode,
            &kinds,
            &avwm_groups(),
            Some("avwm"),
        ));
    }
    if let Some(cf) = ev
        .get("avwm", "counterfactual")
        .and_then(|s| s.counterfactual.as_ref())
    {
        tables.push(counterfactual_table(
            cf,
            "counterfactual-avwm",
            "Counterfactual prediction of avwm's model (beyond the paper)",
        ));
    }
    let claims = claims(&ev);
    // Figures: per-horizon comparisons (Fig. 6) and the full model's sheets (Fig. 5).
    let mut files = Vec::new();
    let figs = out.join("figures");
    let mut figure_blocks = Vec::new();
    for mode in ["fixed", "rollout"] {
        for metric in ["psnr", "lsd", "spec_ssim", "itd_us", "reward_mse"] {
            let series: Vec<Series> = MODEL_KINDS
                .iter()
                .filter_map(|k| {
                    let s = ev.get(k, mode)?;
                    match s.metrics.get(metric)? {
                        MetricResult::Computed { per_horizon, .. } if !per_horizon.is_empty() => {
                            Some(Series {
                                label: kind_label(k).to_string(),
                                points: per_horizon
                                    .iter()
                                    .enumerate()
                                    .map(|(i, [m, sd])| ((i + 1) as f64, *m, *sd))
                                    .collect(),
                            })
                        }
                        _ => None,
                    }
                })
                .collect();
            if series.is_empty() {
                continue;
            }
            let rel = format!("figures/{mode}-{metric}.png");
            write_line_chart(
                &out.join(&rel),
                &format!("{} per horizon ({})", metric_label(metric), mode_name(mode)),
                if mode == "fixed" {
                    "Δt (frames)"
                } else {
                    "rollout step"
                },
                metric_label(metric),
                &series,
            )?;
            figure_blocks.push(Block::Image {
                caption: format!(
                    "{} per horizon, {} mode, mean ± std over 3 runs",
                    metric_label(metric),
                    mode_name(mode)
                ),
                path: out.join(&rel),
            });
            files.push(rel);
        }
    }
    std::fs::create_dir_all(&figs).map_err(|source| EvalError::Io {
        path: figs.clone(),
        source,
    })?;
    // The full model's first two sheets per mode; then, for its first anchor, the same sheet of
    // every other model (same evaluation seed and anchor count give the same anchors), as Fig. 5.
    let mut sheet_blocks = Vec::new();
    for mode in ["fixed", "rollout", "counterfactual"] {
        let Some(main) = ev.get("av-cdit", mode) else {
            continue;
        };
        let mut picks: Vec<(&str, String)> = main
            .sheets
            .iter()
            .take(2)
            .map(|r| ("av-cdit", r.clone()))
            .collect();
        if let Some(first) = main.sheets.first() {
            for kind in MODEL_KINDS.into_iter().filter(|&k| k != "av-cdit") {
                if ev
                    .get(kind, mode)
                    .is_some_and(|s| s.anchors == main.anchors && s.sheets.contains(first))
                {
                    picks.push((kind, first.clone()));
                }
            }
        }
        for (kind, rel) in picks {
            let Some(dir) = ev.dir(kind, mode) else {
                continue;
            };
            let name = format!(
                "figures/sheet-{mode}-{kind}-{}",
                Path::new(&rel)
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default()
            );
            let dst = copy_into(&dir.join(&rel), out, &name)?;
            sheet_blocks.push(Block::Image {
                caption: format!("{}, {mode}: {rel}", kind_label(kind)),
                path: dst,
            });
            files.push(name);
        }
    }
    // Page.
    let mut intro = vec![Block::Paragraph(
        "avwm's numbers for the paper's evaluation (§5.2–5.4, Tables 3–7, Figures 5–6) on the \
         test split of the `small` dataset (scenes unseen in training), with the `small` models. \
         Every number is the mean ± standard deviation over 3 sampling runs (different diffusion \
         noise) of the mean over all test anchors and horizons. LPIPS, DreamSim, FID and FAD need \
         pretrained networks supplied with `--feature-nets`; where they were not supplied the \
         table says \"not computed\"."
            .into(),
    )];
    if let Some(s) = ev.get("av-cdit", "fixed") {
        intro.push(Block::List(vec![
            format!(
                "test anchors: {} (context 4 frames, horizon {}), sampler {:?}, rollout context {:?}",
                s.anchors, s.config.horizon, s.config.sampler, s.config.rollout_context
            ),
            format!("latent cache: `{}`, dataset: `{}`", s.data, s.dataset),
            format!(
                "feature networks: {}",
                s.feature_nets.clone().unwrap_or_else(|| "none supplied".into())
            ),
        ]));
    }
    let mut timing = Vec::new();
    for kind in MODEL_KINDS {
        let label = kind_label(kind);
        for mode in ["fixed", "rollout", "counterfactual"] {
            if let Some(s) = ev.get(kind, mode) {
                timing.push(format!(
                    "{label} {mode}: {:.1} min ({} anchors × {} runs; model {:.0} s, references {:.0} s)",
                    s.timing.total_s / 60.0,
                    s.anchors,
                    s.config.runs,
                    s.timing.model_s,
                    s.timing.references_s
                ));
            }
        }
        if let (Some(a), Some(b)) = (ev.get(kind, "fixed"), ev.get(kind, "rollout")) {
            timing.push(format!(
                "{label}, fixed-step + rollout together: {:.1} min on this machine{}",
                (a.timing.total_s + b.timing.total_s) / 60.0,
                if kind == "av-cdit" {
                    " (target: under 30 min)"
                } else {
                    ""
                }
            ));
        }
    }
    let mut claim_blocks = vec![Block::Paragraph(
        "Each claim of the paper, decided on our numbers by the condition given with it and the \
         comparison rule below."
            .into(),
    )];
    claim_blocks.push(Block::List(
        claims
            .iter()
            .map(|c| {
                let ev: Vec<String> = c
                    .evidence
                    .iter()
                    .filter(|e| e.verdict != "n/a")
                    .map(|e| format!("{} {}: {}", e.mode, metric_label(&e.metric), e.verdict))
                    .collect();
                format!(
                    "{}: {} {} Evidence: {}.",
                    c.verdict.to_uppercase(),
                    c.claim,
                    c.rule.trim_start_matches(CLAIM_RULE).trim(),
                    if ev.is_empty() {
                        "none (a model was not evaluated)".to_string()
                    } else {
                        ev.join(", ")
                    }
                )
            })
            .collect(),
    ));
    claim_blocks.push(Block::Paragraph(CLAIM_RULE.into()));
    let mut sections = vec![
        Section {
            heading: "What this is".into(),
            blocks: intro,
        },
        Section {
            heading: "Reading the numbers".into(),
            blocks: vec![Block::List(
                reading(&ev)
                    .into_iter()
                    .chain(reward_reading(&ev, &agreements))
                    .collect(),
            )],
        },
        Section {
            heading: "The paper's claims on our data".into(),
            blocks: claim_blocks,
        },
    ];
    sections.push(Section {
        heading: "Tables".into(),
        blocks: tables.iter().cloned().map(Block::Table).collect(),
    });
    sections.push(Section {
        heading: "Per-horizon curves (Fig. 6)".into(),
        blocks: figure_blocks,
    });
    sections.push(Section {
        heading: "Qualitative sheets (Fig. 5)".into(),
        blocks: sheet_blocks,
    });
    sections.push(Section {
        heading: "Time".into(),
        blocks: vec![
            Block::Paragraph(
                "Wall-clock time of each evaluation on the machine that ran it, including whatever \
                 else shared the machine at the time."
                    .into(),
            ),
            Block::List(timing),
        ],
    });
    sections.push(Section {
        heading: "How these numbers were made".into(),
        blocks: vec![Block::Code(commands.join("\n"))],
    });
    let page = Page {
        title: "avwm results: the paper's evaluation on avwm data".into(),
        sections,
    };
    page.write_markdown(&out.join("report.md"))?;
    page.write_html(&out.join("report.html"))?;
    files.extend([
        "report.md".into(),
        "report.html".into(),
        "report.json".into(),
    ]);
    let summary = ReportSummary {
        evaluations: ev
            .by_key
            .iter()
            .map(|((k, m), (d, _))| (format!("{k}-{m}"), d.display().to_string()))
            .collect(),
        tables,
        claims,
        reward_agreement: agreements,
        files,
    };
    ckpt::write_json(&out.join("report.json"), &summary)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pred: Option<f64>, truth: f64) -> SampleRecord {
        SampleRecord {
            run: 0,
            anchor: 0,
            episode: 0,
            step: 0,
            k: 1,
            values: BTreeMap::new(),
            reward_pred: pred,
            reward_head: None,
            reward_true: truth,
        }
    }

    /// Reference values: `numpy.corrcoef(p, t)[0, 1]` = 0.3947171994311867 and
    /// `numpy.corrcoef(abs(p), abs(t))[0, 1]` = -0.2249850442179144 for the six rewards below;
    /// four true rewards reach 0.05 m and three of their predictions share the sign.
    #[test]
    fn reward_agreement_matches_numpy() {
        let p = [0.3, -0.2, -0.1, 0.0, -0.5, 0.25];
        let t = [0.15, 0.15, -0.3, 0.0, -0.01, 0.2];
        let mut recs: Vec<SampleRecord> = p
            .iter()
            .zip(&t)
            .map(|(&p, &t)| record(Some(p), t))
            .collect();
        recs.push(record(None, 1.0));
        let a = reward_agreement(&recs).unwrap();
        assert!((a.pearson.unwrap() - 0.3947171994311867).abs() < 1e-12);
        assert!((a.magnitude_pearson.unwrap() + 0.2249850442179144).abs() < 1e-12);
        assert_eq!(a.sign_agreement, Some(0.75));
        assert_eq!((a.signed, a.samples), (4, 6));
        assert_eq!(reward_agreement(&[record(None, 0.3)]), None);
        // The reward head's expectations are read from their own field, the same way.
        assert_eq!(head_reward_agreement(&recs), None);
        let heads: Vec<SampleRecord> = recs
            .iter()
            .map(|r| SampleRecord {
                reward_pred: Some(0.0),
                reward_head: r.reward_pred,
                ..r.clone()
            })
            .collect();
        assert_eq!(head_reward_agreement(&heads), Some(a));
        assert_ne!(reward_agreement(&heads), Some(a));
    }
}
