//! Simple agents used to record episodes and to benchmark the simulator.

use crate::sim::Simulator;
use avwm_core::{Action, Pose, SUCCESS_DISTANCE_M, Seed};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which policy drives a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Follows the shortest path to the source and stops inside the success radius.
    ShortestPath,
    /// Forward 60 %, left 20 %, right 20 %; never stops on its own.
    Random,
    /// A fixed action list (then STOP when it runs out).
    Scripted(Vec<Action>),
}

impl PolicyKind {
    /// Parses `shortest-path`, `random` or `scripted:<letters>` where the letters are
    /// `F` (forward), `L` (left), `R` (right), `S` (stop).
    ///
    /// ```
    /// use avwm_sim::policy::PolicyKind;
    /// use avwm_core::Action;
    /// assert_eq!(PolicyKind::parse("scripted:FLS").unwrap(),
    ///            PolicyKind::Scripted(vec![Action::Forward, Action::TurnLeft, Action::Stop]));
    /// assert!(PolicyKind::parse("walk").is_err());
    /// ```
    ///
    /// # Errors
    /// A message naming the bad policy or letter.
    pub fn parse(s: &str) -> Result<PolicyKind, String> {
        match s {
            "shortest-path" | "shortest_path" => Ok(PolicyKind::ShortestPath),
            "random" => Ok(PolicyKind::Random),
            _ => {
                let Some(script) = s.strip_prefix("scripted:") else {
                    return Err(format!(
                        "unknown policy {s:?}: expected shortest-path, random or scripted:<FLRS letters>"
                    ));
                };
                script
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != ',')
                    .map(|c| match c.to_ascii_uppercase() {
                        'F' => Ok(Action::Forward),
                        'L' => Ok(Action::TurnLeft),
                        'R' => Ok(Action::TurnRight),
                        'S' => Ok(Action::Stop),
                        other => Err(format!(
                            "scripted policy: unknown action letter {other:?} (use F, L, R, S)"
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(PolicyKind::Scripted)
            }
        }
    }
}

/// A running policy.
#[derive(Debug, Clone)]
pub struct Policy {
    kind: PolicyKind,
    rng: ChaCha8Rng,
    cursor: usize,
}

impl Policy {
    /// A policy of `kind`, with its randomness drawn from `seed`.
    pub fn new(kind: PolicyKind, seed: Seed) -> Policy {
        Policy {
            kind,
            rng: seed.derive("policy", 0).rng(),
            cursor: 0,
        }
    }

    /// The next action at `pose`.
    pub fn act(&mut self, sim: &Simulator, pose: Pose) -> Action {
        match &self.kind {
            PolicyKind::ShortestPath => shortest_path_action(sim, pose),
            PolicyKind::Random => {
                let u: f32 = self.rng.random();
                if u < 0.6 {
                    Action::Forward
                } else if u < 0.8 {
                    Action::TurnLeft
                } else {
                    Action::TurnRight
                }
            }
            PolicyKind::Scripted(actions) => {
                let a = actions.get(self.cursor).copied().unwrap_or(Action::Stop);
                self.cursor += 1;
                a
            }
        }
    }
}

/// The shortest-path expert: `avwm_nav`'s oracle follower, stopping once inside 90 % of the
/// success radius (a margin against the grid's discretisation).
pub fn shortest_path_action(sim: &Simulator, pose: Pose) -> Action {
    sim.nav().oracle_action(pose, 0.9 * SUCCESS_DISTANCE_M)
}
