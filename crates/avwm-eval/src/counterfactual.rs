//! Counterfactual evaluation (beyond the paper): from the same true context, predict the outcome
//! of every action and of multi-step action sequences, re-simulate each exactly from the saved
//! simulator state ([`avwm_datagen::resim`]), and score:
//!
//! - **reward ranking**: Spearman's rank correlation between predicted and true rewards across
//!   the alternatives of one context (averaged over contexts whose true rewards are not all
//!   equal), and top-1 agreement (the predicted best alternative is a true best);
//! - **separation of futures**: for each ordered pair of alternatives `(a, b)` with different true
//!   outcomes, whether the prediction for `a` is closer to the true outcome of `a` than to that
//!   of `b` (images: pixel MSE; audio: log-spectral distance); reported over all pairs and for the
//!   pair (turn left, turn right) alone.
//!
//! The model is given the *commanded* motion of a sequence (forward 0.15 m, turns ±10°, no
//! collision knowledge) as its aggregated action, with Δt = the sequence length: what a planner
//! would feed it. Rewards are geodesic-distance reductions from the anchor to the end.

use crate::evaluate::EvalInputs;
use crate::protocol::{EvalConfig, Output, TrueFrame, mean_std, outputs_of};
use crate::sheet::{SheetCell, SheetRow, write_sheet};
use crate::{EvalError, Result};
use avwm_core::{Action, Pose, Seed};
use avwm_datagen::resim::Resimulator;
use avwm_metrics::audio::{AudioAnalyzer, StftConfig};
use avwm_model::data::action_units;
use avwm_model::predict::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use tch::Tensor;

/// A named alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// Name (`forward`, `left`, …, `FFFF`).
    pub name: &'static str,
    /// Actions.
    pub actions: Vec<Action>,
}

/// The single actions (group 0) and the 4-step sequences (group 1) that are compared.
pub fn alternatives() -> [Vec<Alternative>; 2] {
    use Action::{Forward as F, Stop as S, TurnLeft as L, TurnRight as R};
    let alt = |name, actions: &[Action]| Alternative {
        name,
        actions: actions.to_vec(),
    };
    [
        vec![
            alt("forward", &[F]),
            alt("left", &[L]),
            alt("right", &[R]),
            alt("stop", &[S]),
        ],
        vec![
            alt("FFFF", &[F, F, F, F]),
            alt("LLLL", &[L, L, L, L]),
            alt("RRRR", &[R, R, R, R]),
            alt("LLFF", &[L, L, F, F]),
            alt("RRFF", &[R, R, F, F]),
        ],
    ]
}

/// The pose a sequence commands from `p` (no collisions): [`Action::nominal`] applied in turn.
pub fn commanded_pose(p: Pose, actions: &[Action]) -> Pose {
    actions.iter().fold(p, |q, a| a.nominal(q))
}

/// Ranks with ties averaged (1-based).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (Pearson correlation of the tie-averaged ranks); `None` when either
/// side has no spread.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&ranks(a), &ranks(b))
}

/// Pearson's correlation coefficient; `None` for unequal lengths, fewer than two values or a side
/// without spread.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let (ma, _) = mean_std(a);
    let (mb, _) = mean_std(b);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Mean ± std over runs of one counterfactual score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Mean over runs.
    pub mean: f64,
    /// Standard deviation over runs.
    pub std: f64,
    /// Items per run the score averages (contexts or pairs).
    pub count: usize,
}

impl Score {
    fn of(per_run: &[(f64, usize)]) -> Option<Score> {
        let v: Vec<f64> = per_run
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(v, _)| *v)
            .collect();
        if v.is_empty() {
            return None;
        }
        let (mean, std) = mean_std(&v);
        Some(Score {
            mean,
            std,
            count: per_run.first().map_or(0, |p| p.1),
        })
    }
}

/// Scores of one group of alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Alternative names.
    pub alternatives: Vec<String>,
    /// Spearman correlation of predicted and true rewards, per context, averaged.
    pub reward_spearman: Option<Score>,
    /// Fraction of contexts whose predicted best alternative is a true best.
    pub reward_top1: Option<Score>,
    /// Chance level of `reward_top1` (mean over contexts of #true-best / #alternatives).
    pub reward_top1_chance: f64,
    /// `reward_spearman` of the reward head's expected reward (models with a head; `None` otherwise).
    #[serde(default)]
    pub reward_expected_spearman: Option<Score>,
    /// `reward_top1` of the reward head's expected reward.
    #[serde(default)]
    pub reward_expected_top1: Option<Score>,
    /// Fraction of ordered pairs whose image prediction is closer to its own true outcome.
    pub separation_visual: Option<Score>,
    /// The same with audio (log-spectral distance).
    pub separation_audio: Option<Score>,
    /// Per alternative: mean true and predicted reward (m), mean image PSNR and audio LSD of the
    /// prediction against its own true outcome (over contexts and runs).
    pub per_alternative: BTreeMap<String, BTreeMap<String, f64>>,
}

/// `eval.json`'s counterfactual section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterfactualSummary {
    /// Contexts evaluated.
    pub contexts: usize,
    /// Single actions.
    pub single: GroupSummary,
    /// 4-step sequences.
    pub sequences: GroupSummary,
    /// Turn left vs turn right: fraction of contexts (both orders) whose image prediction is closer to its own outcome.
    pub left_right_visual: Option<Score>,
    /// The same with audio.
    pub left_right_audio: Option<Score>,
    /// Re-simulation wall time (s).
    pub resim_s: f64,
}

fn mse(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// One context × alternative: true outcome and per-run predictions.
struct Case {
    truth: TrueFrame,
    reward_true: f64,
    preds: Vec<Output>,
}

/// Runs the counterfactual protocol; returns the summary and the sheets written.
///
/// # Errors
/// Re-simulation, model or metric failures.
pub fn run(
    inp: &EvalInputs<'_>,
    cfg: &EvalConfig,
    anchors: &[usize],
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(CounterfactualSummary, Vec<String>)> {
    let t = inp.transitions;
    let model = inp.model;
    let groups = alternatives();
    let all: Vec<&Alternative> = groups.iter().flatten().collect();
    let seqs: Vec<Vec<Action>> = all.iter().map(|a| a.actions.clone()).collect();
    // Re-simulate every alternative at every anchor, one replay per episode.
    let tr = std::time::Instant::now();
    let mut resim = Resimulator::new(inp.dataset)?;
    let mut by_ep: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for &a in anchors {
        by_ep.entry(t.episode[a]).or_default().push(a);
    }
    let mut outcomes: BTreeMap<usize, Vec<TrueFrame>> = BTreeMap::new();
    let mut rewards: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let total = (anchors.len() * (1 + all.len() * cfg.runs)) as u64;
    let mut done = 0;
    for (ep, idx) in &by_ep {
        let steps: Vec<usize> = idx.iter().map(|&a| t.step[a] as usize).collect();
        let res = resim.branch_episode(inp.dataset, *ep as u64, &steps, &seqs)?;
        for (&a, per_seq) in idx.iter().zip(res) {
            let mut fr = Vec::new();
            let mut rw = Vec::new();
            for o in per_seq {
                let last = o
                    .last()
                    .ok_or_else(|| EvalError::Input("an alternative has no actions".to_string()))?;
                rw.push(t.geodesic_m[a] - f64::from(last.geodesic_m));
                fr.push(TrueFrame {
                    rgb: last.rgb.clone(),
                    audio: last.audio.clone(),
                });
            }
            outcomes.insert(a, fr);
            rewards.insert(a, rw);
            done += 1;
            progress(done, total);
        }
    }
    let resim_s = tr.elapsed().as_secs_f64();
    // Predict every (anchor, alternative) in batches, per run.
    let streams = model.streams();
    let jobs: Vec<(usize, usize)> = anchors
        .iter()
        .flat_map(|&a| (0..all.len()).map(move |s| (a, s)))
        .collect();
    let unit = model.config().action_unit_m;
    let mut preds: BTreeMap<(usize, usize), Vec<Output>> = BTreeMap::new();
    for run in 0..cfg.runs {
        let mut rng = Seed(cfg.seed).derive("run", run as u64).rng();
        for chunk in jobs.chunks(cfg.batch.max(1)) {
            let pairs: Vec<(usize, usize)> = chunk.iter().map(|&(a, _)| (a, a + 1)).collect();
            let b = t.batch(&pairs, streams, model.config(), inp.device);
            let ctx = Context::of(&b);
            let mut act = Vec::new();
            let mut dts = Vec::new();
            for &(a, s) in chunk {
                let p = t.pose[a];
                let g = action_units(p, commanded_pose(p, &all[s].actions), unit);
                act.extend(g.map(|x| x as f32));
                dts.push(all[s].actions.len() as f32);
            }
            let action = Tensor::from_slice(&act)
                .view([chunk.len() as i64, 3])
                .to_device(inp.device);
            let dt = Tensor::from_slice(&dts).to_device(inp.device);
            let p = model.predict(&ctx, &action, &dt, cfg.sampler, &mut rng);
            for (&key, o) in chunk.iter().zip(outputs_of(model, inp.tok, &p)) {
                preds.entry(key).or_default().push(o);
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
    }
    let mut case = |a: usize, s: usize| Case {
        truth: outcomes[&a][s].clone(),
        reward_true: rewards[&a][s],
        preds: preds.remove(&(a, s)).unwrap_or_default(),
    };
    let mut cases: BTreeMap<(usize, usize), Case> = BTreeMap::new();
    for &a in anchors {
        for s in 0..all.len() {
            cases.insert((a, s), case(a, s));
        }
    }
    let mut an = AudioAnalyzer::new(StftConfig::default())?;
    let mut offset = 0;
    let mut summaries = Vec::new();
    for g in &groups {
        let ids: Vec<usize> = (offset..offset + g.len()).collect();
        offset += g.len();
        summaries.push(score_group(&cases, anchors, &ids, &all, cfg.runs, &mut an)?);
    }
    let left = all.iter().position(|a| a.name == "left").unwrap_or(1);
    let right = all.iter().position(|a| a.name == "right").unwrap_or(2);
    let (lr_v, lr_a) = separation(&cases, anchors, &[left, right], cfg.runs, &mut an)?;
    let sequences = summaries.pop().expect("two groups");
    let single = summaries.pop().expect("two groups");
    // Sheets: context, true outcomes, predictions (run 0) of the single actions and sequences.
    let mut sheets = Vec::new();
    let m = model.config().context as usize;
    let dir = out.join("sheets");
    std::fs::create_dir_all(&dir).map_err(|source| EvalError::Io {
        path: dir.clone(),
        source,
    })?;
    let ctx_frames = crate::protocol::load_frames(
        inp.dataset,
        t,
        &anchors
            .iter()
            .take(cfg.sheets)
            .flat_map(|&a| (a + 1 - m..=a).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    )?;
    for &a in anchors.iter().take(cfg.sheets) {
        let cell = |cap: String, f: &TrueFrame| SheetCell {
            caption: cap,
            image: Some(f.rgb.clone()),
            audio: Some(f.audio.clone()),
        };
        let like = &outcomes[&a][0].rgb;
        let rows = vec![
            SheetRow {
                label: "context".into(),
                cells: (a + 1 - m..=a)
                    .map(|i| {
                        let cap = if i == a {
                            "t".into()
                        } else {
                            format!("t-{}", a - i)
                        };
                        cell(cap, &ctx_frames[&i])
                    })
                    .collect(),
            },
            SheetRow {
                label: "true outcome".into(),
                cells: all
                    .iter()
                    .enumerate()
                    .map(|(s, alt)| cell(alt.name.to_string(), &cases[&(a, s)].truth))
                    .collect(),
            },
            SheetRow {
                label: "predicted".into(),
                cells: all
                    .iter()
                    .enumerate()
                    .map(|(s, alt)| {
                        let o = cases[&(a, s)].preds.first();
                        SheetCell {
                            caption: alt.name.to_string(),
                            image: o
                                .and_then(|o| o.image.as_ref())
                                .map(|d| avwm_core::RgbImage {
                                    width: like.width,
                                    height: like.height,
                                    data: d.clone(),
                                }),
                            audio: o.and_then(|o| o.audio.as_ref()).map(|(l, r)| {
                                avwm_core::BinauralAudio {
                                    sample_rate_hz: avwm_core::SAMPLE_RATE_HZ,
                                    left: l.clone(),
                                    right: r.clone(),
                                }
                            }),
                        }
                    })
                    .collect(),
            },
        ];
        let rel = format!("sheets/counterfactual-{}-{}.png", t.episode[a], t.step[a]);
        write_sheet(
            &out.join(&rel),
            &format!(
                "counterfactual: episode {} step {}",
                t.episode[a], t.step[a]
            ),
            &rows,
        )?;
        sheets.push(rel);
    }
    Ok((
        CounterfactualSummary {
            contexts: anchors.len(),
            single,
            sequences,
            left_right_visual: lr_v,
            left_right_audio: lr_a,
            resim_s,
        },
        sheets,
    ))
}

/// Separation over ordered pairs of `ids` with different true outcomes, per run.
fn separation(
    cases: &BTreeMap<(usize, usize), Case>,
    anchors: &[usize],
    ids: &[usize],
    runs: usize,
    an: &mut AudioAnalyzer,
) -> Result<(Option<Score>, Option<Score>)> {
    let mut vis = Vec::new();
    let mut aud = Vec::new();
    for r in 0..runs {
        let (mut vh, mut vn, mut ah, mut anum) = (0usize, 0usize, 0usize, 0usize);
        for &a in anchors {
            for &x in ids {
                for &y in ids {
                    if x == y {
                        continue;
                    }
                    let (cx, cy) = (&cases[&(a, x)], &cases[&(a, y)]);
                    let Some(p) = cx.preds.get(r) else { continue };
                    if cx.truth.rgb.data == cy.truth.rgb.data {
                        continue;
                    }
                    if let Some(img) = &p.image {
                        vn += 1;
                        if mse(img, &cx.truth.rgb.data) < mse(img, &cy.truth.rgb.data) {
                            vh += 1;
                        }
                    }
                    if let Some((l, rr)) = &p.audio {
                        let own =
                            an.binaural_lsd(&cx.truth.audio.left, &cx.truth.audio.right, l, rr)?;
                        let other =
                            an.binaural_lsd(&cy.truth.audio.left, &cy.truth.audio.right, l, rr)?;
                        anum += 1;
                        if own < other {
                            ah += 1;
                        }
                    }
                }
            }
        }
        vis.push((vh as f64 / vn.max(1) as f64, vn));
        aud.push((ah as f64 / anum.max(1) as f64, anum));
    }
    Ok((Score::of(&vis), Score::of(&aud)))
}

/// Per-context Spearman ρ and top-1 hits of one predicted reward (`pick` reads it from an
/// output; contexts where some alternative lacks it are skipped), per run, and the top-1 chance.
#[allow(clippy::type_complexity)]
fn rank_scores(
    cases: &BTreeMap<(usize, usize), Case>,
    anchors: &[usize],
    ids: &[usize],
    runs: usize,
    pick: fn(&Output) -> Option<f64>,
) -> (Vec<(f64, usize)>, Vec<(f64, usize)>, Vec<f64>) {
    let mut sp = Vec::new();
    let mut top = Vec::new();
    let mut chance = Vec::new();
    for r in 0..runs {
        let (mut s_sum, mut s_n, mut t_hit, mut t_n) = (0.0, 0usize, 0usize, 0usize);
        for &a in anchors {
            let truth: Vec<f64> = ids.iter().map(|&s| cases[&(a, s)].reward_true).collect();
            let pred: Option<Vec<f64>> = ids
                .iter()
                .map(|&s| cases[&(a, s)].preds.get(r).and_then(pick))
                .collect();
            let Some(pred) = pred else { continue };
            if let Some(c) = spearman(&pred, &truth) {
                s_sum += c;
                s_n += 1;
            }
            let best = truth.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let n_best = truth.iter().filter(|&&v| v >= best - 1e-6).count();
            if n_best < truth.len() {
                let pb = (0..pred.len())
                    .max_by(|&i, &j| pred[i].total_cmp(&pred[j]))
                    .unwrap_or(0);
                t_n += 1;
                if truth[pb] >= best - 1e-6 {
                    t_hit += 1;
                }
                if r == 0 {
                    chance.push(n_best as f64 / truth.len() as f64);
                }
            }
        }
        sp.push((s_sum / s_n.max(1) as f64, s_n));
        top.push((t_hit as f64 / t_n.max(1) as f64, t_n));
    }
    (sp, top, chance)
}

fn score_group(
    cases: &BTreeMap<(usize, usize), Case>,
    anchors: &[usize],
    ids: &[usize],
    all: &[&Alternative],
    runs: usize,
    an: &mut AudioAnalyzer,
) -> Result<GroupSummary> {
    let (sp, top, chance) = rank_scores(cases, anchors, ids, runs, |p| p.reward);
    let (esp, etop, _) = rank_scores(cases, anchors, ids, runs, |p| p.reward_expected);
    let (sv, sa) = separation(cases, anchors, ids, runs, an)?;
    let mut per = BTreeMap::new();
    for &s in ids {
        let mut m: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for &a in anchors {
            let c = &cases[&(a, s)];
            m.entry("reward_true".into())
                .or_default()
                .push(c.reward_true);
            for p in &c.preds {
                if let Some(rw) = p.reward {
                    m.entry("reward_pred".into()).or_default().push(rw);
                }
                if let Some(rw) = p.reward_expected {
                    m.entry("reward_expected".into()).or_default().push(rw);
                }
                if let Some(img) = &p.image {
                    let v = avwm_metrics::image::psnr(&c.truth.rgb.data, img)?.min(100.0);
                    m.entry("psnr".into()).or_default().push(v);
                }
                if let Some((l, r)) = &p.audio {
                    let v = an.binaural_lsd(&c.truth.audio.left, &c.truth.audio.right, l, r)?;
                    m.entry("lsd".into()).or_default().push(v);
                }
            }
        }
        per.insert(
            all[s].name.to_string(),
            m.into_iter().map(|(k, v)| (k, mean_std(&v).0)).collect(),
        );
    }
    Ok(GroupSummary {
        alternatives: ids.iter().map(|&s| all[s].name.to_string()).collect(),
        reward_spearman: Score::of(&sp),
        reward_top1: Score::of(&top),
        reward_top1_chance: mean_std(&chance).0,
        reward_expected_spearman: Score::of(&esp),
        reward_expected_top1: Score::of(&etop),
        separation_visual: sv,
        separation_audio: sa,
        per_alternative: per,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `numpy.corrcoef([1, 2, 3, 4, 5], [2, 4, 5, 9, 7])[0, 1]` = 0.8778086039709793.
    #[test]
    fn pearson_matches_numpy() {
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 9.0, 7.0]).unwrap();
        assert!((r - 0.8778086039709793).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0], &[2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0], &[2.0]), None);
    }

    /// Reference values from SciPy 1.17.1, `scipy.stats.spearmanr(a, b).statistic`.
    #[test]
    fn spearman_matches_scipy_with_ties() {
        let close =
            |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-12, "{a:?} vs {b}");
        close(
            spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]),
            0.8207826816681233,
        );
        close(
            spearman(&[0.074, -0.011, 0.01, -0.031], &[0.088, 0.0, 0.0, 0.0]),
            0.7745966692414834,
        );
        close(spearman(&[3.0, 1.0, 2.0], &[1.0, 2.0, 3.0]), -0.5);
        // No spread on one side: undefined (SciPy returns NaN).
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[0.0, 0.0, 0.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }

    #[test]
    fn commanded_motion_is_the_nominal_action() {
        let p = Pose::new(1.0, 2.0, 0.5);
        let f = commanded_pose(p, &[Action::Forward]);
        assert!((f.x - (1.0 + 0.15 * 0.5f32.cos())).abs() < 1e-6);
        assert!((f.y - (2.0 + 0.15 * 0.5f32.sin())).abs() < 1e-6);
        let l = commanded_pose(p, &[Action::TurnLeft, Action::Stop]);
        assert!((l.yaw - (0.5 + 10f32.to_radians())).abs() < 1e-6);
        assert_eq!((l.x, l.y), (p.x, p.y));
        let r = commanded_pose(p, &[Action::TurnRight; 4]);
        assert!((r.yaw - (0.5 - 40f32.to_radians())).abs() < 1e-5);
        // Turning then walking goes along the new heading.
        let lf = commanded_pose(p, &[Action::TurnLeft, Action::TurnLeft, Action::Forward]);
        let yaw = 0.5 + 20f32.to_radians();
        assert!((lf.x - (1.0 + 0.15 * yaw.cos())).abs() < 1e-6);
        let a = avwm_data::AggregatedAction::between(p, lf);
        assert!((a.forward_m - 0.15 * 20f32.to_radians().cos()).abs() < 1e-5);
        assert!((a.left_m - 0.15 * 20f32.to_radians().sin()).abs() < 1e-5);
    }

    #[test]
    fn alternatives_are_distinct_and_named() {
        let [single, seqs] = alternatives();
        assert_eq!(single.len(), 4);
        assert!(single.iter().all(|a| a.actions.len() == 1));
        assert!(seqs.iter().all(|a| a.actions.len() == 4));
        let mut names: Vec<&str> = single.iter().chain(&seqs).map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 9);
    }
}
