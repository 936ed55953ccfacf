//! Recording an episode to a folder.
//!
//! Layout of the output folder:
//! ```text
//! OUT/
//!   frames/000000.png …   egocentric RGB, one per observation (reset = 000000)
//!   audio.wav             all observations' binaural audio stitched (2 ch, 16 kHz, float)
//!   log.jsonl             one JSON object per observation (action, pose, geodesic, reward…)
//!   map.png               top-down map with the trajectory
//!   summary.json          episode totals, metrics, timings
//! ```

use crate::policy::{Policy, PolicyKind};
use crate::sim::{SimError, Simulator, StepTimings};
use avwm_core::{Action, Env, EpisodeSpec, Pose, Seed};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Errors of recording.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The simulator failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing the WAV failed.
    #[error(transparent)]
    Audio(#[from] avwm_audio::AudioError),
    /// An image could not be encoded.
    #[error(transparent)]
    Png(#[from] avwm_core::PngError),
}

impl From<avwm_core::IoError> for RecordError {
    fn from(e: avwm_core::IoError) -> Self {
        RecordError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// One line of `log.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// Observation index (0 = reset).
    pub step: usize,
    /// Action that led to this observation (`null` for the reset).
    pub action: Option<&'static str>,
    /// x (m).
    pub x: f32,
    /// y (m).
    pub y: f32,
    /// Heading (rad).
    pub yaw: f32,
    /// Geodesic distance to the source (m).
    pub geodesic_m: f32,
    /// Reward of the action (0 for the reset).
    pub reward: f32,
    /// Geodesic reduction by the action (m).
    pub distance_reduction_m: f32,
    /// The move was blocked or shortened.
    pub collided: bool,
    /// Episode over after this observation.
    pub done: bool,
    /// STOP inside the success radius.
    pub success: bool,
}

/// Totals written to `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    /// Scene name.
    pub scene: String,
    /// Policy used.
    pub policy: PolicyKind,
    /// Episode seed.
    pub seed: u64,
    /// Start pose.
    pub start: Pose,
    /// Actions taken.
    pub steps: usize,
    /// Sum of rewards.
    pub episode_return: f32,
    /// Success (STOP within 1 m).
    pub success: bool,
    /// Geodesic distance at the start (m).
    pub start_geodesic_m: f32,
    /// Geodesic distance at the end (m).
    pub final_geodesic_m: f32,
    /// Path length walked (m).
    pub walked_m: f32,
    /// SPL = success · l_opt / max(l_opt, walked).
    pub spl: f32,
    /// Per-stage timings.
    pub timings: StepTimings,
    /// Wall time of the whole recording (s).
    pub wall_s: f64,
}

/// What to record.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// Policy.
    pub policy: PolicyKind,
    /// Maximum number of actions.
    pub steps: usize,
    /// Episode seed (start pose if `start` is `None`, audio offset, tail noise, policy).
    pub seed: Seed,
    /// Start pose; random navigable if `None`.
    pub start: Option<Pose>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs one episode and writes it to `out`. `progress` is called after every observation
/// with the number of actions taken so far.
///
/// # Errors
/// Simulator failures or unwritable output files.
pub fn record(
    sim: &mut Simulator,
    req: &RecordRequest,
    out: &Path,
    progress: &dyn Fn(usize),
) -> Result<RecordSummary, RecordError> {
    let started = std::time::Instant::now();
    let frames = out.join("frames");
    std::fs::create_dir_all(&frames).map_err(io_err(&frames))?;
    sim.take_timings();
    let start = req
        .start
        .unwrap_or_else(|| sim.random_start(req.seed.derive("start", 0)));
    let spec = EpisodeSpec {
        seed: req.seed,
        start,
    };
    let mut obs = sim.reset(&spec)?;
    let start_geodesic = sim.nav().geodesic_to_source(start.xy());
    let mut policy = Policy::new(req.policy.clone(), req.seed);
    let mut log = String::new();
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut poses = vec![start];
    let mut line = LogLine {
        step: 0,
        action: None,
        x: start.x,
        y: start.y,
        yaw: start.yaw,
        geodesic_m: start_geodesic,
        reward: 0.0,
        distance_reduction_m: 0.0,
        collided: false,
        done: false,
        success: false,
    };
    let mut ret = 0.0;
    let mut i = 0;
    loop {
        avwm_core::write_atomic(
            &frames.join(format!("{i:06}.png")),
            &avwm_core::encode_png(&obs.rgb)?,
        )?;
        left.extend_from_slice(&obs.audio.left);
        right.extend_from_slice(&obs.audio.right);
        log.push_str(&serde_json::to_string(&line).expect("log lines always serialise"));
        log.push('\n');
        progress(i);
        if line.done || i >= req.steps {
            break;
        }
        let pose = sim.state().map(|s| s.pose).ok_or(SimError::NotReset)?;
        let action = if i + 1 == req.steps && req.policy == PolicyKind::ShortestPath {
            Action::Stop
        } else {
            policy.act(sim, pose)
        };
        let step = sim.step(action)?;
        i += 1;
        ret += step.reward;
        poses.push(step.info.pose);
        line = LogLine {
            step: i,
            action: Some(action.name()),
            x: step.info.pose.x,
            y: step.info.pose.y,
            yaw: step.info.pose.yaw,
            geodesic_m: step.info.geodesic_m,
            reward: step.reward,
            distance_reduction_m: step.info.distance_reduction_m,
            collided: step.info.collided,
            done: step.done,
            success: step.info.success,
        };
        obs = step.obs;
    }
    avwm_core::write_atomic(&out.join("log.jsonl"), log.as_bytes())?;
    avwm_audio::source::write_wav(
        out.join("audio.wav"),
        &[&left, &right],
        avwm_core::SAMPLE_RATE_HZ,
    )?;
    let map = sim.nav().draw_map(sim.scene(), &poses, 20.0);
    avwm_core::write_atomic(&out.join("map.png"), &avwm_core::encode_png(&map)?)?;
    let state = sim.state().ok_or(SimError::NotReset)?;
    let spl = if state.success {
        start_geodesic / start_geodesic.max(state.walked_m)
    } else {
        0.0
    };
    let summary = RecordSummary {
        scene: sim.scene().name.clone(),
        policy: req.policy.clone(),
        seed: req.seed.0,
        start,
        steps: state.steps,
        episode_return: ret,
        success: state.success,
        start_geodesic_m: start_geodesic,
        final_geodesic_m: state.geodesic_m,
        walked_m: state.walked_m,
        spl,
        timings: sim.take_timings(),
        wall_s: started.elapsed().as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&summary).expect("summary always serialises");
    avwm_core::write_atomic(&out.join("summary.json"), &json)?;
    Ok(summary)
}
