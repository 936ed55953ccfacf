//! The training environments: one simulator per environment on the training scenes of a dataset
//! preset (environment i lives in training scene i mod S), stepped in parallel, with fresh
//! SoundSpaces-filtered episodes drawn from the run seed. The state of the pool is its episode
//! counters and the actions taken since each episode began, so a checkpoint stores only those and
//! [`EnvPool::resume`] replays them: the simulator is deterministic, and the replayed pool is the
//! pool that was saved.

use crate::metrics::EpisodeOutcome;
use crate::obs::{AgentObs, agent_obs, goal_label};
use crate::{AgentError, Result};
use avwm_core::{Action, Env, EpisodeSpec, Pose, SUCCESS_DISTANCE_M, Seed};
use avwm_data::Split;
use avwm_datagen::{GenConfig, Plan};
use avwm_scene::Scene;
use avwm_sim::{SimConfig, Simulator};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Draws per episode before a scene is declared unable to hold the filters.
const MAX_DRAWS: usize = 100_000;

/// The scenes of one split of a dataset preset, generated.
///
/// # Errors
/// An unknown preset or a scene that fails to generate.
pub fn split_scenes(data_preset: &str, split: Split) -> Result<Vec<Arc<Scene>>> {
    let cfg = GenConfig::preset(data_preset).ok_or_else(|| {
        AgentError::Config(format!(
            "unknown data preset {data_preset:?}: use tiny, small or avw4k"
        ))
    })?;
    let plan = Plan::new(&cfg)?;
    plan.scenes
        .iter()
        .filter(|s| s.split == split)
        .map(|s| {
            avwm_scene::procedural::generate(s.seed, &cfg.scene)
                .map(Arc::new)
                .map_err(|e| AgentError::Scene {
                    scene: format!("procedural seed {}", s.seed),
                    msg: e.to_string(),
                })
        })
        .collect()
}

/// The simulator settings of a dataset preset's agent: its simulator, with the camera rendering
/// at `image_size` when `native` (otherwise the preset's 128² frames are downsampled).
///
/// # Errors
/// An unknown preset.
pub fn agent_sim_config(data_preset: &str, image_size: i64, native: bool) -> Result<SimConfig> {
    let mut sim = GenConfig::preset(data_preset)
        .ok_or_else(|| AgentError::Config(format!("unknown data preset {data_preset:?}")))?
        .sim;
    if native {
        sim.camera.width = image_size as u32;
        sim.camera.height = image_size as u32;
    }
    Ok(sim)
}

/// Episode filters of training episodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpisodeFilter {
    /// Smallest start geodesic (m, exclusive).
    pub min_geodesic_m: f32,
    /// Smallest geodesic / Euclidean ratio (exclusive).
    pub min_ratio: f32,
}

/// Draws the start of an episode from `seed` with SoundSpaces' filters.
///
/// # Errors
/// A scene where no start passes the filters.
pub fn draw_episode(sim: &Simulator, filter: EpisodeFilter, seed: Seed) -> Result<EpisodeSpec> {
    let mut rng = seed.rng();
    let goal = sim.nav().source_xy();
    for _ in 0..MAX_DRAWS {
        let p = sim.nav().random_navigable_point(&mut rng);
        let yaw: f32 = rng.random_range(-std::f32::consts::PI..std::f32::consts::PI);
        let ep_seed: u64 = rng.random();
        let geo = sim.nav().geodesic_to_source(p);
        let euc = (p - goal).length();
        if geo.is_finite() && geo > filter.min_geodesic_m && geo > filter.min_ratio * euc {
            return Ok(EpisodeSpec {
                seed: Seed(ep_seed),
                start: Pose::new(p.x, p.y, yaw),
            });
        }
    }
    Err(AgentError::Scene {
        scene: sim.scene().name.clone(),
        msg: format!(
            "no start with geodesic > {} m and ratio > {} in {MAX_DRAWS} draws",
            filter.min_geodesic_m, filter.min_ratio
        ),
    })
}

/// The shortest-path expert's action at a pose: it stops inside 90 % of the success radius and
/// walks while the path 0.9 m ahead is within one turn step (10°) of its heading. (The dataset's
/// follower aligns to 5° before walking; from one pose alone that rule alternates left and right,
/// which no policy can tell apart from its observation, so the agent imitates the 10° rule.)
pub fn expert_action(sim: &Simulator, pose: Pose) -> Action {
    sim.nav().oracle_action_with_tolerance(
        pose,
        0.9 * SUCCESS_DISTANCE_M,
        avwm_core::TURN_DEG.to_radians(),
    )
}

/// What a checkpoint keeps of one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotState {
    /// Episodes begun by this environment (the current one included).
    pub episode: u64,
    /// Action ids since the current episode began.
    pub actions: Vec<u8>,
}

/// One environment.
#[derive(Debug)]
struct Slot {
    sim: Simulator,
    seed: Seed,
    state: SlotState,
    obs: AgentObs,
    pose: Pose,
    start_geodesic: f32,
}

/// The result of one environment's step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvStep {
    /// Reward of the action.
    pub reward: f32,
    /// The episode ended with it (a new one has begun and its first observation is current).
    pub done: bool,
    /// The finished episode's outcome, when `done`.
    pub outcome: Option<EpisodeOutcome>,
}

/// The pool of training environments.
#[derive(Debug)]
pub struct EnvPool {
    slots: Vec<Slot>,
    filter: EpisodeFilter,
    image_size: usize,
}

impl Slot {
    fn begin(&mut self, filter: EpisodeFilter, image_size: usize) -> Result<()> {
        let spec = draw_episode(
            &self.sim,
            filter,
            self.seed.derive("episode", self.state.episode),
        )?;
        let obs = self
            .sim
            .reset(&spec)
            .map_err(AgentError::sim(&self.sim.scene().name))?;
        self.obs = agent_obs(&obs, image_size)?;
        self.pose = spec.start;
        self.start_geodesic = self.sim.nav().geodesic_to_source(spec.start.xy());
        self.state.actions.clear();
        Ok(())
    }

    fn step(&mut self, action: Action, filter: EpisodeFilter, size: usize) -> Result<EnvStep> {
        let name = self.sim.scene().name.clone();
        let s = self.sim.step(action).map_err(AgentError::sim(&name))?;
        self.state.actions.push(action.id());
        self.pose = s.info.pose;
        if !s.done {
            self.obs = agent_obs(&s.obs, size)?;
            return Ok(EnvStep {
                reward: s.reward,
                done: false,
                outcome: None,
            });
        }
        let st = self.sim.state().ok_or_else(|| AgentError::Scene {
            scene: name.clone(),
            msg: "episode state missing after a step".into(),
        })?;
        let outcome = EpisodeOutcome {
            success: s.info.success,
            geodesic_m: self.start_geodesic,
            path_m: st.walked_m,
            distance_to_goal_m: s.info.geodesic_m,
            actions: s.info.steps,
            oracle_actions: 0,
        };
        self.state.episode += 1;
        self.begin(filter, size)?;
        Ok(EnvStep {
            reward: s.reward,
            done: true,
            outcome: Some(outcome),
        })
    }
}

impl EnvPool {
    /// Builds `n` environments over `scenes` (environment i in scene i mod S), each at the start
    /// of its first episode. Seeds derive from `seed`.
    ///
    /// # Errors
    /// A simulator that fails to build, or a scene that cannot hold the filters.
    pub fn new(
        scenes: &[Arc<Scene>],
        sim_cfg: &SimConfig,
        n: usize,
        filter: EpisodeFilter,
        seed: Seed,
        image_size: usize,
    ) -> Result<EnvPool> {
        if scenes.is_empty() {
            return Err(AgentError::Config("no training scenes".into()));
        }
        let slots = (0..n)
            .into_par_iter()
            .map(|i| {
                let scene = scenes[i % scenes.len()].clone();
                let name = scene.name.clone();
                let sim = Simulator::new(scene, sim_cfg).map_err(AgentError::sim(&name))?;
                let mut slot = Slot {
                    sim,
                    seed: seed.derive("env", i as u64),
                    state: SlotState {
                        episode: 0,
                        actions: vec![],
                    },
                    obs: AgentObs {
                        rgb: vec![],
                        audio: vec![],
                    },
                    pose: Pose::new(0.0, 0.0, 0.0),
                    start_geodesic: 0.0,
                };
                slot.begin(filter, image_size)?;
                Ok(slot)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(EnvPool {
            slots,
            filter,
            image_size,
        })
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Returns every environment to a saved state by replaying its episode's actions.
    ///
    /// # Errors
    /// A state list of another length, a bad action id, or a simulator error.
    pub fn resume(&mut self, states: &[SlotState]) -> Result<()> {
        if states.len() != self.slots.len() {
            return Err(AgentError::Config(format!(
                "the checkpoint holds {} environments, the run has {}",
                states.len(),
                self.slots.len()
            )));
        }
        let (filter, size) = (self.filter, self.image_size);
        self.slots
            .par_iter_mut()
            .zip(states)
            .try_for_each(|(slot, st)| {
                slot.state.episode = st.episode;
                slot.begin(filter, size)?;
                for &id in &st.actions {
                    let a = Action::from_id(id).ok_or_else(|| {
                        AgentError::Config(format!("checkpoint action id {id} is not an action"))
                    })?;
                    if slot.step(a, filter, size)?.done {
                        return Err(AgentError::Config(
                            "a replayed episode ended early: the checkpoint does not fit this scene set".into(),
                        ));
                    }
                }
                Ok(())
            })
    }

    /// The state to checkpoint.
    pub fn states(&self) -> Vec<SlotState> {
        self.slots.iter().map(|s| s.state.clone()).collect()
    }

    /// The current observations.
    pub fn observations(&self) -> Vec<&AgentObs> {
        self.slots.iter().map(|s| &s.obs).collect()
    }

    /// The expert's action for every current observation.
    pub fn expert_actions(&self) -> Vec<Action> {
        self.slots
            .iter()
            .map(|s| expert_action(&s.sim, s.pose))
            .collect()
    }

    /// The goal auxiliary target of every current observation.
    pub fn goal_labels(&self) -> Vec<[f32; 3]> {
        self.slots
            .iter()
            .map(|s| {
                let g = s.sim.nav().source_xy();
                goal_label(s.pose, [g.x, g.y])
            })
            .collect()
    }

    /// Steps every environment with its action, in parallel; finished episodes restart.
    ///
    /// # Errors
    /// A simulator error.
    pub fn step(&mut self, actions: &[Action]) -> Result<Vec<EnvStep>> {
        let (filter, size) = (self.filter, self.image_size);
        self.slots
            .par_iter_mut()
            .zip(actions)
            .map(|(slot, &a)| slot.step(a, filter, size))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(seed: u64) -> EnvPool {
        let scenes = split_scenes("tiny", Split::Train).unwrap();
        let cfg = agent_sim_config("tiny", 32, false).unwrap();
        let filter = EpisodeFilter {
            min_geodesic_m: 1.0,
            min_ratio: 1.0,
        };
        EnvPool::new(&scenes, &cfg, 3, filter, Seed(seed), 16).unwrap()
    }

    #[test]
    fn replaying_the_state_restores_the_pool() {
        let mut a = pool(3);
        let acts = [Action::Forward, Action::TurnLeft, Action::Stop];
        for i in 0..25 {
            let step: Vec<Action> = (0..3).map(|e| acts[(i + e) % 3]).collect();
            a.step(&step).unwrap();
        }
        let saved = a.states();
        assert!(saved.iter().any(|s| s.episode > 0), "STOPs end episodes");
        let mut b = pool(3);
        b.resume(&saved).unwrap();
        assert_eq!(a.observations(), b.observations());
        assert_eq!(a.expert_actions(), b.expert_actions());
        let step = vec![Action::Forward; 3];
        let (ra, rb) = (a.step(&step).unwrap(), b.step(&step).unwrap());
        assert_eq!(ra, rb);
        let mut bad = saved.clone();
        bad.pop();
        assert!(b.resume(&bad).is_err());
    }

    #[test]
    fn expert_reaches_the_goal() {
        let mut p = pool(5);
        let mut outcomes = vec![];
        for _ in 0..500 {
            let a = p.expert_actions();
            for s in p.step(&a).unwrap() {
                outcomes.extend(s.outcome);
            }
            if outcomes.len() >= 3 {
                break;
            }
        }
        assert!(outcomes.len() >= 3);
        for o in &outcomes {
            assert!(o.success, "{o:?}");
            assert!(o.spl() > 0.7, "{o:?}");
        }
    }
}
