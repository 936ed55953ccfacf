//! `avwm bench view`: how long one step of the viewer takes to answer, against the imagination
//! budget of 150 ms.

use crate::Result;
use crate::session::{Session, SessionConfig};
use avwm_core::Action;
use serde::Serialize;
use std::time::Instant;

/// The viewer's step budget (ms): a step must answer within it.
pub const BUDGET_MS: f64 = 150.0;

/// Quantiles of a set of timings (ms).
#[derive(Debug, Clone, Serialize)]
pub struct Quantiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Quantiles {
    fn of(mut v: Vec<f64>) -> Quantiles {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Quantiles {
            p50: q(0.5),
            p95: q(0.95),
            max: q(1.0),
            mean: v.iter().sum::<f64>() / v.len() as f64,
        }
    }
}

/// The benchmark's report.
#[derive(Debug, Clone, Serialize)]
pub struct ViewBenchReport {
    /// Timed steps (after two warm-up steps).
    pub steps: usize,
    /// Imagined steps per real step.
    pub lookahead: usize,
    /// libtorch threads.
    pub threads: i32,
    /// Imagination: context, sampling, decoding (ms).
    pub imagine_ms: Quantiles,
    /// Simulator step and encoding its observation into the history (ms).
    pub sim_ms: Quantiles,
    /// The whole answer of `POST /api/step`: imagination, simulator, and the JSON with its PNG
    /// pictures and WAV sounds (ms).
    pub answer_ms: Quantiles,
    /// The budget (ms).
    pub budget_ms: f64,
    /// Fraction of steps that answered within the budget.
    pub within_budget: f64,
}

/// Drives `steps` steps of a fixed forward-and-turn pattern (restarting the episode when it
/// ends) and times each answer as the server builds it.
///
/// # Errors
/// Session failures.
pub fn bench_view(
    cfg: &SessionConfig,
    steps: usize,
    lookahead: usize,
    device: tch::Device,
) -> Result<ViewBenchReport> {
    let pattern = [
        Action::Forward,
        Action::Forward,
        Action::TurnLeft,
        Action::Forward,
        Action::TurnRight,
        Action::Forward,
    ];
    let mut session = Session::new(cfg, device)?;
    session.reset(0, None)?;
    let (mut im, mut sim, mut ans) = (vec![], vec![], vec![]);
    let steps = steps.max(1);
    for i in 0..steps + 2 {
        let t = Instant::now();
        let r = session.step(pattern[i % pattern.len()], lookahead.max(1))?;
        let body = crate::server::step_json(&session, &r)?.to_string();
        let total = t.elapsed().as_secs_f64() * 1e3;
        std::hint::black_box(body);
        if i >= 2 {
            im.push(r.imagine_ms);
            sim.push(r.sim_ms);
            ans.push(total);
        }
        if r.done {
            session.reset(i as u64 + 1, None)?;
        }
    }
    let within = ans.iter().filter(|&&t| t <= BUDGET_MS).count() as f64 / ans.len() as f64;
    Ok(ViewBenchReport {
        steps,
        lookahead: lookahead.max(1),
        threads: tch::get_num_threads(),
        imagine_ms: Quantiles::of(im),
        sim_ms: Quantiles::of(sim),
        answer_ms: Quantiles::of(ans),
        budget_ms: BUDGET_MS,
        within_budget: within,
    })
}
