//! Fixed AudioGoal evaluation episodes (issue 15): start poses in the scenes of one split of a
//! dataset plan, sampled as SoundSpaces samples its episodes, written as JSON Lines so that every
//! navigation result is measured on the same episodes.
//!
//! SoundSpaces draws start and goal on its navigation graph and keeps an episode when the
//! geodesic distance exceeds 4 m and the geodesic / Euclidean ratio exceeds 1.1 (no trivial
//! straight-line episodes). Here the goal is the scene's sound source; starts are drawn
//! uniformly on the navigable area with a uniform heading and kept by the same two filters.
//! Each episode stores its geodesic and Euclidean distances and `num_action`, the length of the
//! oracle follower's action sequence in avwm's action space (forward 0.15 m, turn 10°, the final
//! STOP included), for SNA.

use crate::config::GenConfig;
use crate::generate::{GenError, Plan};
use avwm_core::{MAX_EPISODE_STEPS, Pose, SUCCESS_DISTANCE_M, Seed};
use avwm_data::Split;
use avwm_nav::NavGrid;
use avwm_scene::procedural::ProceduralConfig;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the episode format and sampling rules.
pub const EPISODE_FORMAT_VERSION: u32 = 1;

/// One AudioGoal episode: a scene, a start pose and an episode seed (the source's loop offset and
/// the reverberation tail noise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavEpisode {
    /// Index in the set (0-based, dense).
    pub episode_id: u64,
    /// Scene name (`proc-<seed>`).
    pub scene: String,
    /// Procedural scene seed.
    pub scene_seed: u64,
    /// Procedural scene preset the scene is generated with (`default`, as `avwm sim record`).
    pub scene_preset: String,
    /// Episode seed.
    pub seed: u64,
    /// Start `[x, y, yaw_deg]` (m, m, degrees).
    pub start: [f32; 3],
    /// The goal, the sound source `[x, y]` (m).
    pub goal: [f32; 2],
    /// Geodesic distance from the start to the goal (m).
    pub geodesic_distance: f32,
    /// Straight-line distance from the start to the goal (m).
    pub euclidean_distance: f32,
    /// Actions of the oracle follower from the start to STOP within the success radius.
    pub num_action: usize,
    /// The source's sound.
    pub sound: String,
    /// [`EPISODE_FORMAT_VERSION`].
    pub version: u32,
}

impl NavEpisode {
    /// The start pose (yaw in radians).
    pub fn start_pose(&self) -> Pose {
        Pose::new(self.start[0], self.start[1], self.start[2].to_radians())
    }
}

/// How episodes are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeRules {
    /// Smallest geodesic distance to the goal (m, exclusive).
    pub min_geodesic_m: f32,
    /// Smallest geodesic / Euclidean ratio (exclusive).
    pub min_ratio: f32,
    /// Draws per kept episode before the scene is declared unable to hold more.
    pub max_draws_per_episode: usize,
}

impl Default for EpisodeRules {
    /// SoundSpaces' filters: geodesic > 4 m, geodesic / Euclidean > 1.1.
    fn default() -> Self {
        EpisodeRules {
            min_geodesic_m: 4.0,
            min_ratio: 1.1,
            max_draws_per_episode: 10_000,
        }
    }
}

fn scene_preset_name(cfg: &ProceduralConfig) -> Result<&'static str, GenError> {
    ["default", "tiny"]
        .into_iter()
        .find(|n| ProceduralConfig::preset(n).as_ref() == Some(cfg))
        .ok_or_else(|| {
            GenError::Config(
                "episodes need scenes of a named preset (default or tiny): this configuration's scene settings are custom".into(),
            )
        })
}

/// Draws `per_scene` episodes in every scene of `split` in the plan of `cfg`, from `seed`.
/// Scenes in plan order, episodes numbered densely.
///
/// # Errors
/// A bad configuration, a scene that fails to build, or a scene that cannot hold `per_scene`
/// episodes under `rules`.
pub fn sample_episodes(
    cfg: &GenConfig,
    split: Split,
    per_scene: usize,
    rules: &EpisodeRules,
    seed: Seed,
) -> Result<Vec<NavEpisode>, GenError> {
    let plan = Plan::new(cfg)?;
    let preset = scene_preset_name(&cfg.scene)?;
    let mut out = Vec::new();
    for sp in plan.scenes.iter().filter(|s| s.split == split) {
        let scene = avwm_scene::procedural::generate(sp.seed, &cfg.scene).map_err(|source| {
            GenError::Scene {
                seed: sp.seed,
                source,
            }
        })?;
        let grid = NavGrid::build(&scene, &cfg.sim.nav)
            .map_err(|e| GenError::Config(format!("scene {}: navigation grid: {e}", scene.name)))?;
        let goal = grid.source_xy();
        let mut rng = seed.derive("episodes", sp.seed).rng();
        let mut kept = 0;
        let mut draws = 0;
        while kept < per_scene {
            draws += 1;
            if draws > rules.max_draws_per_episode * per_scene {
                return Err(GenError::Config(format!(
                    "scene {} holds only {kept} episodes with geodesic > {} m and ratio > {} after {} draws",
                    scene.name,
                    rules.min_geodesic_m,
                    rules.min_ratio,
                    draws - 1
                )));
            }
            let p = grid.random_navigable_point(&mut rng);
            let yaw_deg: f32 = rng.random_range(-180.0..180.0);
            let ep_seed: u64 = rng.random();
            let geo = grid.geodesic_to_source(p);
            let euc = (p - goal).length();
            if !(geo.is_finite() && geo > rules.min_geodesic_m && geo > rules.min_ratio * euc) {
                continue;
            }
            let start = Pose::new(p.x, p.y, yaw_deg.to_radians());
            let (actions, _) =
                grid.oracle_actions(start, 0.9 * SUCCESS_DISTANCE_M, MAX_EPISODE_STEPS);
            out.push(NavEpisode {
                episode_id: out.len() as u64,
                scene: scene.name.clone(),
                scene_seed: sp.seed,
                scene_preset: preset.to_string(),
                seed: ep_seed,
                start: [p.x, p.y, yaw_deg],
                goal: [goal.x, goal.y],
                geodesic_distance: geo,
                euclidean_distance: euc,
                num_action: actions.len(),
                sound: "ringtone".into(),
                version: EPISODE_FORMAT_VERSION,
            });
            kept += 1;
        }
    }
    Ok(out)
}

/// Writes episodes as JSON Lines, atomically.
///
/// # Errors
/// The file cannot be written.
pub fn write_episodes(path: &Path, episodes: &[NavEpisode]) -> Result<(), GenError> {
    let mut text = String::new();
    for e in episodes {
        text.push_str(&serde_json::to_string(e).expect("episodes always serialise"));
        text.push('\n');
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| GenError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(avwm_core::write_atomic(path, text.as_bytes())?)
}

/// Reads an episode file, checking every line.
///
/// # Errors
/// [`GenError::Episodes`] naming the file and the line: unreadable file, bad JSON, an unknown
/// field, another format version, ids out of order, non-finite numbers.
pub fn read_episodes(path: &Path) -> Result<Vec<NavEpisode>, GenError> {
    let bad = |line: usize, msg: String| GenError::Episodes {
        path: path.to_path_buf(),
        line,
        msg,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(0, e.to_string()))?;
    let mut out = Vec::new();
    for (i, l) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let e: NavEpisode = serde_json::from_str(l).map_err(|e| bad(i + 1, e.to_string()))?;
        if e.version != EPISODE_FORMAT_VERSION {
            return Err(bad(
                i + 1,
                format!(
                    "format version {} (this avwm reads {EPISODE_FORMAT_VERSION})",
                    e.version
                ),
            ));
        }
        if e.episode_id != out.len() as u64 {
            return Err(bad(
                i + 1,
                format!(
                    "episode_id {} where {} was expected",
                    e.episode_id,
                    out.len()
                ),
            ));
        }
        let nums = [
            e.start[0],
            e.start[1],
            e.start[2],
            e.goal[0],
            e.goal[1],
            e.geodesic_distance,
            e.euclidean_distance,
        ];
        if nums.iter().any(|x| !x.is_finite()) {
            return Err(bad(i + 1, "non-finite number".into()));
        }
        out.push(e);
    }
    if out.is_empty() {
        return Err(bad(0, "no episodes".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> GenConfig {
        GenConfig::tiny()
    }

    #[test]
    fn episodes_pass_soundspaces_filters_and_are_deterministic() {
        let rules = EpisodeRules {
            min_geodesic_m: 2.0,
            ..EpisodeRules::default()
        };
        let a = sample_episodes(&tiny(), Split::Test, 5, &rules, Seed(1)).unwrap();
        let b = sample_episodes(&tiny(), Split::Test, 5, &rules, Seed(1)).unwrap();
        assert_eq!(a, b);
        assert!(!a.is_empty() && a.len().is_multiple_of(5));
        let c = sample_episodes(&tiny(), Split::Test, 5, &rules, Seed(2)).unwrap();
        assert_ne!(a, c);
        for (i, e) in a.iter().enumerate() {
            assert_eq!(e.episode_id, i as u64);
            assert!(e.geodesic_distance > 2.0);
            assert!(e.geodesic_distance > 1.1 * e.euclidean_distance);
            // The geodesic is at least the straight line; the oracle needs at least one
            // forward step per 0.15 m of the distance it must close.
            assert!(e.geodesic_distance >= e.euclidean_distance);
            let must_close = e.geodesic_distance - SUCCESS_DISTANCE_M;
            assert!(e.num_action as f32 >= must_close / 0.15, "{e:?}");
            assert!(e.num_action <= MAX_EPISODE_STEPS);
        }
    }

    #[test]
    fn the_file_round_trips_and_broken_lines_are_named() {
        let rules = EpisodeRules {
            min_geodesic_m: 2.0,
            ..EpisodeRules::default()
        };
        let eps = sample_episodes(&tiny(), Split::Test, 2, &rules, Seed(3)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/eps.jsonl");
        write_episodes(&p, &eps).unwrap();
        assert_eq!(read_episodes(&p).unwrap(), eps);
        let text = std::fs::read_to_string(&p).unwrap();
        let cases = [
            (
                text.replacen("\"version\":1", "\"version\":9", 1),
                "version",
            ),
            (
                text.replacen("\"episode_id\":0", "\"episode_id\":5", 1),
                "episode_id",
            ),
            (text.replacen("{", "{\"extra\":1,", 1), "unknown field"),
            (format!("{text}{{not json\n"), "line"),
            (String::new(), "no episodes"),
        ];
        for (bad, what) in cases {
            std::fs::write(&p, bad).unwrap();
            let err = read_episodes(&p).unwrap_err().to_string();
            assert!(
                err.contains("eps.jsonl") && err.contains(what),
                "{what}: {err}"
            );
        }
    }

    #[test]
    fn a_scene_too_small_for_the_filters_is_an_error_not_a_hang() {
        let rules = EpisodeRules {
            min_geodesic_m: 500.0,
            max_draws_per_episode: 10,
            ..EpisodeRules::default()
        };
        let err = sample_episodes(&tiny(), Split::Test, 1, &rules, Seed(0)).unwrap_err();
        assert!(err.to_string().contains("holds only 0 episodes"), "{err}");
    }
}
