//! One trajectory: choose start and goal for a motion pattern, then follow the shortest path
//! with natural variation (look-arounds, detours, pauses), recording every frame.

use crate::config::GenConfig;
use avwm_core::{
    Action, Env, EpisodeSpec, Observation, Pose, SUCCESS_DISTANCE_M, Seed, TURN_DEG, wrap_angle,
};
use avwm_data::media::{encode_png, encode_wav};
use avwm_data::{FrameRecord, MotionPattern};
use avwm_sim::Simulator;
use glam::Vec2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Errors while generating one episode.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// The simulator failed.
    #[error("simulator: {0}")]
    Sim(#[from] avwm_sim::SimError),
    /// Encoding a frame failed.
    #[error("encoding: {0}")]
    Data(#[from] avwm_data::DataError),
}

/// A generated episode.
#[derive(Debug, Clone)]
pub struct Walk {
    /// Start pose.
    pub start: Pose,
    /// Goal point (m).
    pub goal: Vec2,
    /// Frames, step 0 first.
    pub frames: Vec<FrameRecord>,
}

fn random_point_within(
    sim: &Simulator,
    rng: &mut ChaCha8Rng,
    ok: impl Fn(Vec2) -> bool,
) -> Option<Vec2> {
    (0..200)
        .map(|_| sim.nav().random_navigable_point(rng))
        .find(|&p| ok(p))
}

/// Chooses the start pose and the goal of `pattern`.
fn endpoints(
    sim: &Simulator,
    cfg: &GenConfig,
    pattern: MotionPattern,
    rng: &mut ChaCha8Rng,
) -> (Pose, Vec2) {
    let nav = sim.nav();
    let r = cfg.max_source_geodesic_m;
    let in_range = |p: Vec2| nav.geodesic_to_source(p) <= r;
    let yaw = rng.random_range(-std::f32::consts::PI..std::f32::consts::PI);
    let far_enough = |a: Vec2, b: Vec2| nav.geodesic(a, b).is_some_and(|d| d >= cfg.min_path_m);
    let (start, goal) = match pattern {
        MotionPattern::SourceToGoal => {
            // Start within the success radius of the source (or at the snapped goal).
            let s =
                random_point_within(sim, rng, |p| nav.geodesic_to_source(p) < SUCCESS_DISTANCE_M)
                    .unwrap_or(nav.goal());
            let g = random_point_within(sim, rng, |p| in_range(p) && far_enough(s, p)).unwrap_or(s);
            (s, g)
        }
        MotionPattern::StartToSource => {
            let s = random_point_within(sim, rng, |p| {
                in_range(p) && nav.geodesic_to_source(p) >= cfg.min_path_m
            })
            .unwrap_or(nav.goal());
            (s, nav.goal())
        }
        MotionPattern::RandomToRandom => {
            let s = random_point_within(sim, rng, in_range).unwrap_or(nav.goal());
            let g = random_point_within(sim, rng, |p| in_range(p) && far_enough(s, p)).unwrap_or(s);
            (s, g)
        }
    };
    (Pose::new(start.x, start.y, yaw), goal)
}

/// Waypoints from `p` to `goal` (string-pulled shortest path, start excluded).
fn plan(sim: &Simulator, p: Vec2, goal: Vec2) -> Vec<Vec2> {
    match sim.nav().shortest_path(p, goal) {
        Some(path) => path
            .smoothed(sim.nav())
            .points
            .into_iter()
            .skip(1)
            .collect(),
        None => vec![goal],
    }
}

/// Encodes the observation's media into `frame`.
fn with_media(
    obs: &Observation,
    cfg: &GenConfig,
    frame: FrameRecord,
) -> Result<FrameRecord, WalkError> {
    Ok(FrameRecord {
        png: encode_png(&obs.rgb)?,
        wav: encode_wav(&obs.audio, cfg.audio)?,
        ..frame
    })
}

/// A frame without media.
fn meta(
    step: usize,
    action: Option<Action>,
    pose: Pose,
    geodesic_m: f32,
    reward: f32,
    red: f32,
    collided: bool,
) -> FrameRecord {
    FrameRecord {
        step: step as u32,
        action,
        pose,
        png: Vec::new(),
        wav: Vec::new(),
        geodesic_m,
        reward,
        distance_reduction_m: red,
        collided,
    }
}

/// Generates one episode of `pattern` from `seed` in `sim`'s scene.
///
/// The follower turns towards the next waypoint when the heading is more than 5° off (10° once
/// walking, as the navigation crate's oracle), walks otherwise, and replans after 3 blocked
/// moves. It ends with STOP at the goal (for `start_to_source`: inside 0.9 × the success
/// radius), when `max_frames` is reached, or when a frame exceeds `max_source_geodesic_m`.
///
/// # Errors
/// Simulator or encoding errors.
pub fn walk(
    sim: &mut Simulator,
    cfg: &GenConfig,
    pattern: MotionPattern,
    seed: Seed,
) -> Result<Walk, WalkError> {
    let mut rng = seed.derive("walk", 0).rng();
    let (start, goal) = endpoints(sim, cfg, pattern, &mut rng);
    let obs = sim.reset(&EpisodeSpec { seed, start })?;
    let geo0 = sim.nav().geodesic_to_source(start.xy());
    let mut frames = vec![with_media(
        &obs,
        cfg,
        meta(0, None, start, geo0, 0.0, 0.0, false),
    )?];
    let mut pose = start;
    let mut route = plan(sim, start.xy(), goal);
    let mut walking = false;
    let mut blocked = 0;
    let mut queue: Vec<Action> = Vec::new(); // scripted variation (look-around, pause)
    let var = cfg.variation.clone();
    let to_source = pattern == MotionPattern::StartToSource;
    while frames.len() < cfg.max_frames {
        let p = pose.xy();
        let geo = sim.nav().geodesic_to_source(p);
        // Arrival.
        let arrived = if to_source {
            geo < 0.9 * SUCCESS_DISTANCE_M
        } else {
            p.distance(goal) < 0.3
        };
        let action = if arrived {
            Action::Stop
        } else if let Some(a) = queue.pop() {
            a
        } else {
            // Variation, drawn in a fixed order so that the stream of draws is reproducible.
            let u_look: f32 = rng.random();
            let u_detour: f32 = rng.random();
            let u_pause: f32 = rng.random();
            if u_look < var.look_around {
                let n = rng.random_range(2..=6);
                let a = if rng.random::<bool>() {
                    Action::TurnLeft
                } else {
                    Action::TurnRight
                };
                queue.extend(std::iter::repeat_n(a, n - 1));
                a
            } else if u_pause < var.pause && geo >= SUCCESS_DISTANCE_M {
                let n = rng.random_range(1..=3);
                queue.extend(std::iter::repeat_n(Action::Stop, n - 1));
                Action::Stop
            } else {
                if u_detour < var.detour {
                    let nav = sim.nav();
                    let r = var.detour_radius_m;
                    let d = random_near(nav, p, r, &mut rng);
                    if let Some(d) = d {
                        let mut new = vec![d];
                        new.extend(plan(sim, d, goal));
                        route = new;
                    }
                }
                // Follow the route.
                while route.len() > 1 && p.distance(route[0]) < 0.5 * avwm_core::FORWARD_STEP_M {
                    route.remove(0);
                }
                let target = route.first().copied().unwrap_or(goal);
                let to = target - p;
                let err = wrap_angle(to.y.atan2(to.x) - pose.yaw);
                let tol = if walking { TURN_DEG } else { 0.5 * TURN_DEG }.to_radians();
                if to.length() < 1e-3 || err.abs() <= tol {
                    Action::Forward
                } else if err > 0.0 {
                    Action::TurnLeft
                } else {
                    Action::TurnRight
                }
            }
        };
        let terminal = arrived;
        let step = sim.step(action)?;
        if action == Action::Stop && !terminal {
            // A pause: STOP observed, but the episode goes on.
            let mut snap = sim.snapshot();
            snap.done = false;
            snap.success = false;
            sim.restore(&snap);
        }
        walking = action == Action::Forward;
        if action == Action::Forward && step.info.collided {
            blocked += 1;
            if blocked >= 3 {
                route = plan(sim, step.info.pose.xy(), goal);
                blocked = 0;
            }
        } else if action == Action::Forward {
            blocked = 0;
        }
        pose = step.info.pose;
        let m = meta(
            frames.len(),
            Some(action),
            pose,
            step.info.geodesic_m,
            step.reward,
            step.info.distance_reduction_m,
            step.info.collided,
        );
        frames.push(with_media(&step.obs, cfg, m)?);
        if terminal
            || step.info.geodesic_m > cfg.max_source_geodesic_m
            || (step.done && !(action == Action::Stop))
        {
            break;
        }
    }
    Ok(Walk {
        start,
        goal,
        frames,
    })
}

/// A navigable point within `r` of `p` that `p` sees through free cells.
fn random_near(nav: &avwm_nav::NavGrid, p: Vec2, r: f32, rng: &mut ChaCha8Rng) -> Option<Vec2> {
    (0..20)
        .map(|_| {
            let a = rng.random_range(-std::f32::consts::PI..std::f32::consts::PI);
            let d = rng.random_range(0.5 * r..r);
            p + d * Vec2::new(a.cos(), a.sin())
        })
        .find(|&q| nav.is_navigable(q) && nav.line_of_sight(p, q))
}
