//! `avwm demo`: a short drive with the world model imagining every step beside the truth,
//! written as one self-contained HTML page (frames, spectrograms, audio players, reward curves)
//! and a JSON summary scored against copying the last frame.

use crate::media::{png_uri, spectrogram_uri, wav_uri};
use crate::session::{Session, SessionConfig, StepRecord};
use crate::{Result, ViewError};
use avwm_core::{Action, BinauralAudio, Pose};
use avwm_metrics::audio::{AudioAnalyzer, StftConfig};
use avwm_sim::policy::{Policy, PolicyKind};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to drive.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Scene, simulator and model.
    pub session: SessionConfig,
    /// Episode seed (start pose, audio offset, the random policy).
    pub seed: u64,
    /// Start pose instead of the seed's random one.
    pub start: Option<Pose>,
    /// The driver.
    pub policy: PolicyKind,
    /// Actions to take (fewer if the episode ends).
    pub steps: usize,
    /// The HTML page to write (`summary.json` goes beside it).
    pub out: PathBuf,
}

/// Mean scores of the drive, the model beside copying the last frame.
#[derive(Debug, Clone, Serialize)]
pub struct DemoScores {
    /// Image PSNR (dB) of the imagined frame.
    pub psnr_model: f64,
    /// Image PSNR (dB) of the frame before the action.
    pub psnr_copy: f64,
    /// Log-spectral distance of the imagined audio.
    pub lsd_model: f64,
    /// Log-spectral distance of the audio before the action.
    pub lsd_copy: f64,
    /// Pearson r between the reward head's expected reward and the true distance reduction
    /// (`null` without a head or with a constant series).
    pub reward_head_r: Option<f64>,
    /// Sign agreement of the head's reward with true reductions of at least 0.05 m.
    pub reward_head_sign: Option<f64>,
}

/// The machine-readable summary of a demo.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// The page.
    pub page: PathBuf,
    /// Scene name.
    pub scene: String,
    /// Episode seed.
    pub seed: u64,
    /// Actions taken.
    pub steps: usize,
    /// The episode ended in success.
    pub success: bool,
    /// Scores over the drive.
    pub scores: DemoScores,
    /// Mean wall time of one imagined step (ms).
    pub imagine_ms_mean: f64,
    /// Wall time of the whole demo, model loading included (s).
    pub wall_s: f64,
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

fn metric_err(e: avwm_metrics::MetricsError) -> ViewError {
    ViewError::Encode(format!("scoring: {e}"))
}

fn lsd(an: &mut AudioAnalyzer, truth: &BinauralAudio, est: &BinauralAudio) -> Result<f64> {
    an.binaural_lsd(&truth.left, &truth.right, &est.left, &est.right)
        .map_err(metric_err)
}

fn score(records: &[StepRecord]) -> Result<DemoScores> {
    let mut an = AudioAnalyzer::new(StftConfig::default()).map_err(metric_err)?;
    let (mut pm, mut pc, mut lm, mut lc) = (vec![], vec![], vec![], vec![]);
    let (mut head, mut truth) = (vec![], vec![]);
    for r in records {
        let im = &r.imagined[0];
        pm.push(avwm_metrics::image::psnr(&r.truth.rgb.data, &im.rgb.data).map_err(metric_err)?);
        pc.push(
            avwm_metrics::image::psnr(&r.truth.rgb.data, &r.before.rgb.data).map_err(metric_err)?,
        );
        lm.push(lsd(&mut an, &r.truth.audio, &im.audio)?);
        lc.push(lsd(&mut an, &r.truth.audio, &r.before.audio)?);
        if let Some(e) = im.expected_reward_m {
            head.push(f64::from(e));
            truth.push(f64::from(r.distance_reduction_m));
        }
    }
    let signs: Vec<bool> = head
        .iter()
        .zip(&truth)
        .filter(|(_, t)| t.abs() >= 0.05)
        .map(|(h, t)| (h > &0.0) == (t > &0.0))
        .collect();
    Ok(DemoScores {
        psnr_model: mean(&pm),
        psnr_copy: mean(&pc),
        lsd_model: mean(&lm),
        lsd_copy: mean(&lc),
        reward_head_r: avwm_eval::counterfactual::pearson(&head, &truth),
        reward_head_sign: (!signs.is_empty())
            .then(|| signs.iter().filter(|&&s| s).count() as f64 / signs.len() as f64),
    })
}

/// Drives the episode, imagining each action before taking it, and writes the page and
/// `summary.json` beside it. `progress(done, total)` after every step.
///
/// # Errors
/// Simulator, model or file failures.
pub fn run_demo(
    cfg: &DemoConfig,
    device: tch::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DemoSummary> {
    let t0 = Instant::now();
    if cfg.steps == 0 {
        return Err(ViewError::Invalid("a demo needs at least one step".into()));
    }
    let dir = cfg
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| ViewError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut session = Session::new(&cfg.session, device)?;
    session.reset(cfg.seed, cfg.start)?;
    let first = session.current().cloned().ok_or(ViewError::NoObservation)?;
    let mut policy = Policy::new(cfg.policy.clone(), avwm_core::Seed(cfg.seed));
    let mut records = Vec::new();
    for i in 0..cfg.steps {
        let pose = *session.path().last().ok_or(ViewError::NoObservation)?;
        let mut action = policy.act(session.sim(), pose);
        // A demo shows movement: the shortest-path driver's STOP comes only at the very end.
        if action == Action::Stop && i + 1 < cfg.steps && cfg.policy != PolicyKind::ShortestPath {
            action = Action::Forward;
        }
        let r = session.step(action, 1)?;
        let done = r.done;
        records.push(r);
        progress(i + 1, cfg.steps);
        if done {
            break;
        }
    }
    let scores = score(&records)?;
    let map = session.map();
    let html = page(cfg, &session, &first, &records, &scores, &map)?;
    avwm_core::write_atomic(&cfg.out, html.as_bytes())?;
    let summary = DemoSummary {
        page: cfg.out.clone(),
        scene: session.sim().scene().name.clone(),
        seed: cfg.seed,
        steps: records.len(),
        success: records.last().is_some_and(|r| r.success),
        scores,
        imagine_ms_mean: mean(&records.iter().map(|r| r.imagine_ms).collect::<Vec<_>>()),
        wall_s: t0.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| ViewError::Encode(format!("summary: {e}")))?;
    avwm_core::write_atomic(&dir.join("summary.json"), &json)?;
    Ok(summary)
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt_opt(x: Option<f32>, digits: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:+.digits$}"))
}

/// An SVG line chart of named series over the steps (inline, no script).
pub fn svg_chart(title: &str, series: &[(&str, &str, Vec<Option<f64>>)], y_label: &str) -> String {
    let (w, h, l, r, t, b) = (720.0, 220.0, 56.0, 12.0, 24.0, 30.0);
    let vals: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .collect();
    let n = series.iter().map(|s| s.2.len()).max().unwrap_or(0).max(2);
    let (mut lo, mut hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (-1.0, 1.0);
    }
    if hi - lo < 1e-6 {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let pad = 0.08 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |i: usize| l + (w - l - r) * i as f64 / (n - 1) as f64;
    let y = |v: f64| t + (h - t - b) * (hi - v) / (hi - lo);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><rect width="100%" height="100%" fill="#fff"/><text x="{l}" y="16" font-size="13" font-family="sans-serif">{t}</text>"##,
        t = esc(title)
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" font-family="sans-serif">{v:.2}</text>"##,
            w - r,
            l - 4.0,
            y(v) + 3.0,
            y0 = y(v)
        );
    }
    if lo < 0.0 && hi > 0.0 {
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#888"/>"##,
            w - r,
            y0 = y(0.0)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" font-size="11" text-anchor="middle" font-family="sans-serif">step</text><text x="12" y="{}" font-size="11" font-family="sans-serif" transform="rotate(-90 12 {})" text-anchor="middle">{}</text>"##,
        (l + w - r) / 2.0,
        h - 6.0,
        (t + h - b) / 2.0,
        (t + h - b) / 2.0,
        esc(y_label)
    );
    for (k, (name, colour, v)) in series.iter().enumerate() {
        let pts: Vec<String> = v
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.filter(|v| v.is_finite())
                    .map(|v| format!("{:.1},{:.1}", x(i), y(v)))
            })
            .collect();
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/><rect x="{}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="11" font-family="sans-serif">{}</text>"##,
            pts.join(" "),
            w - r - 170.0,
            t + 4.0 + 14.0 * k as f64,
            w - r - 156.0,
            t + 13.0 + 14.0 * k as f64,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

fn page(
    cfg: &DemoConfig,
    session: &Session,
    first: &avwm_core::Observation,
    records: &[StepRecord],
    scores: &DemoScores,
    map: &avwm_core::RgbImage,
) -> Result<String> {
    let im = &cfg.session.imaginer;
    let opt = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.2}"));
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>avwm demo — {scene}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}}
table{{border-collapse:collapse}} td,th{{border-bottom:1px solid #eee;padding:4px 8px;text-align:center;vertical-align:middle}}
img.frame{{width:128px;height:128px;image-rendering:pixelated}} img.spec{{width:128px}} audio{{width:150px;height:28px}}
.num{{font-variant-numeric:tabular-nums}} .muted{{color:#777;font-size:13px}}
</style></head><body>
<h1>avwm demo</h1>
<p>A {policy} drive of {n} steps in scene <b>{scene}</b> (episode seed {seed}). Before each step the world model
<code>{model}</code> imagines the action from the true past ({hist} frames of history; sampler {sampler:?});
then the simulator takes it. Truth left, imagination right, the frame before the action (what copying predicts)
first. Audio players play 0.15 s of binaural sound (headphones).</p>
<table class="num"><tr><th></th><th>model</th><th>copy last frame</th></tr>
<tr><td>image PSNR (dB, mean)</td><td>{pm:.2}</td><td>{pc:.2}</td></tr>
<tr><td>audio LSD (mean, lower is better)</td><td>{lm:.3}</td><td>{lc:.3}</td></tr>
<tr><td>reward head: Pearson r / sign agreement (|Δd| ≥ 0.05 m)</td><td>{rr} / {rs}</td><td>– / –</td></tr></table>
<p class="muted">Tokenizers: {vt} and {at}. One drive is a picture, not a measurement: the evaluation in
<code>docs/results/</code> scores the model on the test split.</p>
"#,
        scene = esc(&session.sim().scene().name),
        policy = esc(&format!("{:?}", cfg.policy)),
        n = records.len(),
        seed = cfg.seed,
        model = esc(&im.model.display().to_string()),
        hist = session.imaginer().history(),
        sampler = im.sampler,
        pm = scores.psnr_model,
        pc = scores.psnr_copy,
        lm = scores.lsd_model,
        lc = scores.lsd_copy,
        rr = opt(scores.reward_head_r),
        rs = opt(scores.reward_head_sign),
        vt = esc(&im.visual_tokenizer.display().to_string()),
        at = esc(&im.audio_tokenizer.display().to_string()),
    );
    let truth: Vec<Option<f64>> = records
        .iter()
        .map(|r| Some(f64::from(r.distance_reduction_m)))
        .collect();
    let head: Vec<Option<f64>> = records
        .iter()
        .map(|r| r.imagined[0].expected_reward_m.map(f64::from))
        .collect();
    let token: Vec<Option<f64>> = records
        .iter()
        .map(|r| r.imagined[0].reward_token_m.map(f64::from))
        .collect();
    h.push_str(&svg_chart(
        "reward: geodesic-distance reduction per step",
        &[
            ("true", "#222", truth),
            ("reward head E[r]", "#d62728", head),
            ("reward token", "#1f77b4", token),
        ],
        "m",
    ));
    let _ = write!(
        h,
        r#"<h2>Path</h2><p><img src="{}" alt="top-down map with the path" style="max-width:100%"></p>
<h2>Steps</h2><table><tr><th>step</th><th>action</th><th>before</th><th>truth</th><th>imagined</th><th>true audio</th><th>imagined audio</th><th>Δd true / head / token (m)</th></tr>
<tr><td>0</td><td>start</td><td></td><td><img class="frame" src="{}" alt="first frame"></td><td></td><td><img class="spec" src="{}" alt="spectrogram"><br><audio controls src="{}"></audio></td><td></td><td></td></tr>
"#,
        png_uri(map)?,
        png_uri(&first.rgb)?,
        spectrogram_uri(&first.audio)?,
        wav_uri(&first.audio)?
    );
    for r in records {
        let im = &r.imagined[0];
        let _ = writeln!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td><img class="frame" src="{}" alt="before"></td><td><img class="frame" src="{}" alt="truth"></td><td><img class="frame" src="{}" alt="imagined"></td><td><img class="spec" src="{}" alt="true spectrogram"><br><audio controls src="{}"></audio></td><td><img class="spec" src="{}" alt="imagined spectrogram"><br><audio controls src="{}"></audio></td><td class="num">{:+.3} / {} / {}</td></tr>"#,
            r.step,
            r.action.name(),
            png_uri(&r.before.rgb)?,
            png_uri(&r.truth.rgb)?,
            png_uri(&im.rgb)?,
            spectrogram_uri(&r.truth.audio)?,
            wav_uri(&r.truth.audio)?,
            spectrogram_uri(&im.audio)?,
            wav_uri(&im.audio)?,
            r.distance_reduction_m,
            fmt_opt(im.expected_reward_m, 3),
            fmt_opt(im.reward_token_m, 3),
        );
    }
    h.push_str(
        "</table>\n<p class=\"muted\">Written by <code>avwm demo</code>.</p></body></html>\n",
    );
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_scales_every_series_into_the_frame() {
        let svg = svg_chart(
            "t",
            &[("a", "#000", vec![Some(-1.0), Some(0.5), None, Some(2.0)])],
            "m",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        let pts = svg
            .split("points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a polyline");
        let coords: Vec<(f64, f64)> = pts
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').expect("x,y");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect();
        assert_eq!(coords.len(), 3, "the missing value is skipped");
        assert!(
            coords
                .iter()
                .all(|&(x, y)| (56.0..=708.0).contains(&x) && (24.0..=190.0).contains(&y))
        );
        assert!(coords[2].1 < coords[0].1, "larger values are higher");
    }

    #[test]
    fn html_escaping_covers_markup() {
        assert_eq!(
            esc("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
