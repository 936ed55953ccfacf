//! The environment interface shared by the simulator and (later) the world model.

use crate::{Action, Observation, Pose, Seed};
use serde::{Deserialize, Serialize};

/// What defines an episode inside an already loaded scene.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSpec {
    /// Seed of the episode: drives every stochastic choice (audio start offset, acoustic rays).
    pub seed: Seed,
    /// Start pose; must be navigable.
    pub start: Pose,
}

/// Diagnostics returned with each step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// Pose after the action.
    pub pose: Pose,
    /// Geodesic distance to the source after the action (m).
    pub geodesic_m: f32,
    /// Geodesic distance reduction `previous - current` (m): the paper's pseudo-reward.
    pub distance_reduction_m: f32,
    /// STOP was called within the success distance.
    pub success: bool,
    /// A forward move was blocked or shortened by an obstacle.
    pub collided: bool,
    /// Number of actions taken so far in the episode (this one included).
    pub steps: usize,
}

/// Result of one control step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Observation after the action.
    pub obs: Observation,
    /// Reward of the action.
    pub reward: f32,
    /// The episode has ended (STOP, or the step limit).
    pub done: bool,
    /// Pose, geodesic distance, success.
    pub info: StepInfo,
}

/// An embodied environment. The simulator implements it; so will the world model, so that an
/// agent or planner can run on either.
pub trait Env {
    /// Complete state, enough to continue from exactly this point (see [`Env::restore`]).
    type Snapshot: Clone;
    /// Error type of the environment.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Starts an episode. Same spec ⇒ same observation, bit for bit.
    fn reset(&mut self, spec: &EpisodeSpec) -> Result<Observation, Self::Error>;
    /// Applies one action.
    fn step(&mut self, action: Action) -> Result<Step, Self::Error>;
    /// Captures the complete state.
    fn snapshot(&self) -> Self::Snapshot;
    /// Returns to a captured state: the following steps equal those that followed the snapshot.
    fn restore(&mut self, snapshot: &Self::Snapshot);
}
