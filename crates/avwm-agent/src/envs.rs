//! The training environments: one simulator per environment on the training scenes (environment
//! i begins in scene i mod S and moves on to the next scene every few episodes, so every
//! environment visits all S scenes in turn), stepped in parallel, with fresh
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
    let cfg = gen_preset(data_preset)?;
    generate_scenes(&cfg, &scene_seeds(&cfg, |s| s == split)?)
}

/// The training scenes of an agent evaluated on `data_preset`'s test split: the training split of
/// `scene_preset`, less every scene that `data_preset` puts in its
/// validation or test split, so the evaluation's scenes stay unseen however large the training
/// set. (Presets share their scene generator and seeds: `small`'s scenes are `avw4k`'s first 12,
/// shuffled into other splits.)
///
/// # Errors
/// An unknown preset, no scene left, or a scene that fails to generate.
pub fn training_scenes(data_preset: &str, scene_preset: &str) -> Result<Vec<Arc<Scene>>> {
    let eval = gen_preset(data_preset)?;
    let held_out = scene_seeds(&eval, |s| s != Split::Train)?;
    let source = gen_preset(scene_preset)?;
    if source.scene != eval.scene {
        return Err(AgentError::Config(format!(
            "scene preset {scene_preset:?} generates other scenes than {data_preset:?}"
        )));
    }
    let seeds: Vec<u64> = scene_seeds(&source, |s| s == Split::Train)?
        .into_iter()
        .filter(|s| !held_out.contains(s))
        .collect();
    if seeds.is_empty() {
        return Err(AgentError::Config(format!(
            "no training scene of {scene_preset:?} lies outside {data_preset:?}'s validation and test splits"
        )));
    }
    generate_scenes(&source, &seeds)
}

fn gen_preset(name: &str) -> Result<GenConfig> {
    GenConfig::preset(name).ok_or_else(|| {
        AgentError::Config(format!(
            "unknown data preset {name:?}: use tiny, small or avw4k"
        ))
    })
}

fn scene_seeds(cfg: &GenConfig, keep: impl Fn(Split) -> bool) -> Result<Vec<u64>> {
    Ok(Plan::new(cfg)?
        .scenes
        .iter()
        .filter(|s| keep(s.split))
        .map(|s| s.seed)
        .collect())
}

fn generate_scenes(cfg: &GenConfig, seeds: &[u64]) -> Result<Vec<Arc<Scene>>> {
    seeds
        .iter()
        .map(|&seed| {
            avwm_scene::procedural::generate(seed, &cfg.scene)
                .map(Arc::new)
                .map_err(|e| AgentError::Scene {
                    scene: format!("procedural seed {seed}"),
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
    let mut sim = gen_preset(data_preset)?.sim;
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
    /// The environment's index in the pool.
    index: usize,
    /// Index of the simulator's scene in the pool's scene list.
    scene: usize,
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
    world: World,
}

/// What a slot needs to begin an episode: the scene list, its simulator settings, the filters.
#[derive(Debug)]
struct World {
    scenes: Vec<Arc<Scene>>,
    sim_cfg: SimConfig,
    filter: EpisodeFilter,
    image_size: usize,
    episodes_per_scene: u64,
}

impl World {
    /// The scene of environment `index`'s episode `episode`: i, i + 1, i + 2, … (mod S), moving
    /// on every `episodes_per_scene` episodes, so every environment visits every scene, and
    /// environments that move on together hold distinct scenes when S ≥ N.
    fn scene_of(&self, index: usize, episode: u64) -> usize {
        let block = (episode / self.episodes_per_scene) as usize;
        (index + block) % self.scenes.len()
    }

    fn simulator(&self, scene: usize) -> Result<Simulator> {
        let s = self.scenes[scene].clone();
        let name = s.name.clone();
        Simulator::new(s, &self.sim_cfg).map_err(AgentError::sim(&name))
    }
}

impl Slot {
    fn begin(&mut self, ctx: &World) -> Result<()> {
        let (filter, image_size) = (ctx.filter, ctx.image_size);
        let scene = ctx.scene_of(self.index, self.state.episode);
        if scene != self.scene {
            self.sim = ctx.simulator(scene)?;
            self.scene = scene;
        }
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

    fn step(&mut self, action: Action, ctx: &World) -> Result<EnvStep> {
        let size = ctx.image_size;
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
        self.begin(ctx)?;
        Ok(EnvStep {
            reward: s.reward,
            done: true,
            outcome: Some(outcome),
        })
    }
}

impl EnvPool {
    /// Builds `n` environments over `scenes`, each at the start of its first episode; environment
    /// i begins in scene i mod S and moves on to the next every `episodes_per_scene` episodes.
    /// Seeds derive from `seed`.
    ///
    /// # Errors
    /// No scenes, `episodes_per_scene` 0, a simulator that fails to build, or a scene that
    /// cannot hold the filters.
    pub fn new(
        scenes: &[Arc<Scene>],
        sim_cfg: &SimConfig,
        n: usize,
        filter: EpisodeFilter,
        seed: Seed,
        image_size: usize,
        episodes_per_scene: u64,
    ) -> Result<EnvPool> {
        if scenes.is_empty() {
            return Err(AgentError::Config("no training scenes".into()));
        }
        if episodes_per_scene == 0 {
            return Err(AgentError::Config("episodes_per_scene must be ≥ 1".into()));
        }
        let world = World {
            scenes: scenes.to_vec(),
            sim_cfg: sim_cfg.clone(),
            filter,
            image_size,
            episodes_per_scene,
        };
        let ctx = &world;
        let slots = (0..n)
            .into_par_iter()
            .map(|i| {
                let scene = ctx.scene_of(i, 0);
                let mut slot = Slot {
                    sim: ctx.simulator(scene)?,
                    index: i,
                    scene,
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
                slot.begin(ctx)?;
                Ok(slot)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(EnvPool { slots, world })
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
        let world = &self.world;
        self.slots
            .par_iter_mut()
            .zip(states)
            .try_for_each(|(slot, st)| {
                slot.state.episode = st.episode;
                slot.begin(world)?;
                for &id in &st.actions {
                    let a = Action::from_id(id).ok_or_else(|| {
                        AgentError::Config(format!("checkpoint action id {id} is not an action"))
                    })?;
                    if slot.step(a, world)?.done {
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

    /// The scene each environment is in now.
    pub fn scene_names(&self) -> Vec<&str> {
        self.slots
            .iter()
            .map(|s| s.sim.scene().name.as_str())
            .collect()
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
        let world = &self.world;
        self.slots
            .par_iter_mut()
            .zip(actions)
            .map(|(slot, &a)| slot.step(a, world))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(seed: u64) -> EnvPool {
        // All three of tiny's scenes, one episode each before moving on, so replays cross scenes.
        let scenes: Vec<_> = [Split::Train, Split::Validation, Split::Test]
            .iter()
            .flat_map(|&s| split_scenes("tiny", s).unwrap())
            .collect();
        let cfg = agent_sim_config("tiny", 32, false).unwrap();
        let filter = EpisodeFilter {
            min_geodesic_m: 1.0,
            min_ratio: 1.0,
        };
        EnvPool::new(&scenes, &cfg, 3, filter, Seed(seed), 16, 1).unwrap()
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
        assert_ne!(
            a.scene_names(),
            pool(3).scene_names(),
            "environments moved on"
        );
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
    fn training_scenes_leave_the_evaluation_scenes_out() {
        let seeds =
            |v: &[Arc<Scene>]| -> Vec<String> { v.iter().map(|s| s.name.clone()).collect() };
        let train = seeds(&training_scenes("small", "avw4k").unwrap());
        let held: Vec<String> = [Split::Validation, Split::Test]
            .iter()
            .flat_map(|&s| seeds(&split_scenes("small", s).unwrap()))
            .collect();
        assert!(train.len() > 40, "{} scenes", train.len());
        assert!(train.iter().all(|t| !held.contains(t)));
        // small's own training scenes that avw4k also trains in are kept.
        let own = seeds(&split_scenes("small", Split::Train).unwrap());
        assert!(own.iter().any(|o| train.contains(o)));
        assert_eq!(seeds(&training_scenes("small", "small").unwrap()), own);
        let e = training_scenes("small", "tiny").unwrap_err();
        assert!(e.to_string().contains("other scenes"), "{e}");
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
