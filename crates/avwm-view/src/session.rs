//! A driving session: the simulator and the world model stepping together.
//!
//! Before each real step the model imagines the chosen action (and, on request, `k − 1` more of
//! it) from the history of true observations; then the simulator takes the step and its true
//! observation joins the history. So every step has the truth and the imagination of the same
//! action from the same past.

use crate::imagine::{Imagined, Imaginer, ImaginerConfig};
use crate::{Result, ViewError};
use avwm_core::{Action, Env, EpisodeSpec, Observation, Pose, Seed};
use avwm_scene::Scene;
use avwm_sim::{SimConfig, Simulator};
use std::sync::Arc;
use std::time::Instant;

/// What a session runs on.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The scene.
    pub scene: Arc<Scene>,
    /// Simulator settings (the model's tokenizers need 128×128 images: the default preset).
    pub sim: SimConfig,
    /// The world model and its tokenizers.
    pub imaginer: ImaginerConfig,
}

/// One real step with its imagination.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// Actions taken so far (this one included).
    pub step: usize,
    /// The action.
    pub action: Action,
    /// The observation before the action (what copying the last frame predicts).
    pub before: Observation,
    /// The true observation after it.
    pub truth: Observation,
    /// The imagination: the action's outcome first, then `k − 1` further steps of it.
    pub imagined: Vec<Imagined>,
    /// True geodesic-distance reduction (m), what the model's reward predicts.
    pub distance_reduction_m: f32,
    /// SoundSpaces reward of the step.
    pub reward: f32,
    /// Geodesic distance after the step (m).
    pub geodesic_m: f32,
    /// Pose after the step.
    pub pose: Pose,
    /// The episode ended (STOP or the action cap).
    pub done: bool,
    /// STOP within the success radius.
    pub success: bool,
    /// Wall time of the imagination (ms).
    pub imagine_ms: f64,
    /// Wall time of the simulator step and of encoding its observation (ms).
    pub sim_ms: f64,
}

/// The simulator, the imaginer and the path of the current episode.
#[derive(Debug)]
pub struct Session {
    sim: Simulator,
    imaginer: Imaginer,
    path: Vec<Pose>,
    current: Option<Observation>,
    steps: usize,
}

impl Session {
    /// Builds the simulator and loads the model.
    ///
    /// # Errors
    /// Simulator or model failures; a camera whose images the tokenizers cannot take shows at
    /// the first [`Session::reset`].
    pub fn new(cfg: &SessionConfig, device: tch::Device) -> Result<Session> {
        let sim = Simulator::new(cfg.scene.clone(), &cfg.sim)?;
        let imaginer = Imaginer::load(&cfg.imaginer, device)?;
        Ok(Session {
            sim,
            imaginer,
            path: Vec::new(),
            current: None,
            steps: 0,
        })
    }

    /// Starts episode `seed` at its random navigable start (as `avwm sim record --seed`) or at
    /// `start`, and encodes the first observation.
    ///
    /// # Errors
    /// A start that is not navigable; observations the model cannot take.
    pub fn reset(&mut self, seed: u64, start: Option<Pose>) -> Result<&Observation> {
        let seed = Seed(seed);
        let start = start.unwrap_or_else(|| self.sim.random_start(seed.derive("start", 0)));
        let obs = self.sim.reset(&EpisodeSpec { seed, start })?;
        self.imaginer.clear();
        self.imaginer.observe(&obs, start)?;
        self.path = vec![start];
        self.steps = 0;
        Ok(self.current.insert(obs))
    }

    /// Imagines `action` (repeated `lookahead` times, at least once), then takes it in the
    /// simulator.
    ///
    /// # Errors
    /// [`ViewError::NoObservation`] before a reset; a step after the episode's end.
    pub fn step(&mut self, action: Action, lookahead: usize) -> Result<StepRecord> {
        let before = self.current.clone().ok_or(ViewError::NoObservation)?;
        if self.sim.state().is_some_and(|s| s.done) {
            return Err(ViewError::Invalid(
                "the episode is over: reset to start another".into(),
            ));
        }
        let t = Instant::now();
        let imagined = self.imaginer.imagine(&vec![action; lookahead.max(1)])?;
        let imagine_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let step = self.sim.step(action)?;
        self.imaginer.observe(&step.obs, step.info.pose)?;
        let sim_ms = t.elapsed().as_secs_f64() * 1e3;
        self.path.push(step.info.pose);
        self.steps += 1;
        self.current = Some(step.obs.clone());
        Ok(StepRecord {
            step: self.steps,
            action,
            before,
            truth: step.obs,
            imagined,
            distance_reduction_m: step.info.distance_reduction_m,
            reward: step.reward,
            geodesic_m: step.info.geodesic_m,
            pose: step.info.pose,
            done: step.done,
            success: step.info.success,
            imagine_ms,
            sim_ms,
        })
    }

    /// The simulator (geodesics, the scene, the state).
    pub fn sim(&self) -> &Simulator {
        &self.sim
    }

    /// The imaginer.
    pub fn imaginer(&self) -> &Imaginer {
        &self.imaginer
    }

    /// The current observation.
    pub fn current(&self) -> Option<&Observation> {
        self.current.as_ref()
    }

    /// The poses of the episode so far.
    pub fn path(&self) -> &[Pose] {
        &self.path
    }

    /// The top-down map with the path so far.
    pub fn map(&self) -> avwm_core::RgbImage {
        self.sim.nav().draw_map(self.sim.scene(), &self.path, 12.0)
    }
}
