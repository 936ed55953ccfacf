//! Beam search through a world model (the paper's planner, §5.5, with its ambiguities resolved as
//! `reference/planning.md` §3 proposes):
//!
//! 1. At a real step, with the agent's recurrent state h and policy π(·|h), the root beam expands
//!    `n` **distinct** actions sampled from π without replacement (Gumbel top-k).
//! 2. Every beam at depth j expands the same way; all B·n branches of a depth go to the world
//!    model in **one batched call**, with **the same noise seed** for every branch of the step
//!    (common random numbers: only the differences between branches matter).
//! 3. A child's score is Σ_{i≤j} γ^i r̂_i + γ^{j+1} V(h'), where h' is the agent's state after it
//!    perceives the imagined observation (its GRU carried through imagination) and V is its critic.
//!    Our reading of "combined … at each rollout step": the value is added at the depth where
//!    beams are ranked, not summed over depths.
//! 4. STOP is never expanded: its branch ends with the model's reward for stopping (the oracle's is
//!    exact: −0.01, +10 inside 1 m), and it keeps competing with its final score.
//! 5. The top B of the children and the ended branches survive; after depth k the first action of
//!    the best surviving branch is executed, and planning starts again at the next real step.
//!
//! The model is any [`WorldModel`]: [`OracleModel`] is the simulator itself through
//! `snapshot`/`restore`; a learned model implements the same trait.

use crate::net::Agent;
use crate::obs::{AgentObs, agent_obs};
use crate::{AgentError, Result};
use avwm_core::{Action, Env, Observation, Seed};
use avwm_sim::{EpisodeState, Simulator};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// What a world model predicts for one branch and action.
#[derive(Debug, Clone)]
pub struct Imagined<S> {
    /// The state to continue from.
    pub state: S,
    /// The predicted observation (None when the branch ended).
    pub obs: Option<AgentObs>,
    /// The predicted reward of the action.
    pub reward: f32,
    /// The branch ended (STOP, or the model's step limit).
    pub done: bool,
}

/// A world model the planner can look ahead in. Every call gets the real simulator of the
/// episode: the oracle plays in it (the navigation loop restores it after planning); a learned
/// model only reads the real history it was shown through [`WorldModel::begin`] and
/// [`WorldModel::observe`].
pub trait WorldModel {
    /// A point in imagination to continue from.
    type State: Clone;

    /// A short name for reports (`oracle`, `avwm-small`, …).
    fn name(&self) -> String;

    /// The episode begins with this real observation.
    ///
    /// # Errors
    /// A model that cannot take the observation.
    fn begin(&mut self, sim: &Simulator, obs: &Observation) -> Result<()>;

    /// The real episode went on by `action` to `obs`.
    ///
    /// # Errors
    /// A model that cannot take the observation.
    fn observe(&mut self, sim: &Simulator, action: Action, obs: &Observation) -> Result<()>;

    /// The present, as the root of a search.
    ///
    /// # Errors
    /// A model without history.
    fn root(&mut self, sim: &Simulator) -> Result<Self::State>;

    /// Applies `actions[i]` to `states[i]` for the whole batch, with the same noise seed for all.
    ///
    /// # Errors
    /// A model failure.
    fn step_batch(
        &mut self,
        sim: &mut Simulator,
        states: &[Self::State],
        actions: &[Action],
        noise: Seed,
        image_size: usize,
    ) -> Result<Vec<Imagined<Self::State>>>;
}

/// The oracle world model: the simulator itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct OracleModel;

impl WorldModel for OracleModel {
    type State = EpisodeState;

    fn name(&self) -> String {
        "oracle".into()
    }

    fn begin(&mut self, _: &Simulator, _: &Observation) -> Result<()> {
        Ok(())
    }

    fn observe(&mut self, _: &Simulator, _: Action, _: &Observation) -> Result<()> {
        Ok(())
    }

    fn root(&mut self, sim: &Simulator) -> Result<EpisodeState> {
        sim.state().cloned().ok_or_else(|| AgentError::Scene {
            scene: sim.scene().name.clone(),
            msg: "planning before the episode began".into(),
        })
    }

    fn step_batch(
        &mut self,
        sim: &mut Simulator,
        states: &[EpisodeState],
        actions: &[Action],
        _noise: Seed,
        image_size: usize,
    ) -> Result<Vec<Imagined<EpisodeState>>> {
        let name = sim.scene().name.clone();
        states
            .iter()
            .zip(actions)
            .map(|(s, &a)| {
                sim.restore(s);
                let step = sim.step(a).map_err(AgentError::sim(&name))?;
                let obs = if step.done {
                    None
                } else {
                    Some(agent_obs(&step.obs, image_size)?)
                };
                Ok(Imagined {
                    state: sim.snapshot(),
                    obs,
                    reward: step.reward,
                    done: step.done,
                })
            })
            .collect()
    }
}

/// Beam-search settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanConfig {
    /// Distinct candidate actions per expansion (n).
    pub candidates: usize,
    /// Beams kept per depth (B).
    pub beam: usize,
    /// Depth of the look-ahead (k).
    pub depth: usize,
    /// Discount of predicted rewards and values.
    pub gamma: f64,
}

impl PlanConfig {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`AgentError::Config`].
    pub fn validate(&self) -> Result<()> {
        if !(1..=4).contains(&self.candidates) || self.beam == 0 || self.depth == 0 {
            return Err(AgentError::Config(format!(
                "planner: n must be 1–4 (got {}), beam and depth ≥ 1 (got {}, {})",
                self.candidates, self.beam, self.depth
            )));
        }
        Ok(())
    }
}

/// The outcome of one search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanChoice {
    /// The action to execute.
    pub action: Action,
    /// The candidates of the root and the best score reached through each.
    pub root_scores: Vec<(Action, f64)>,
    /// World-model calls (batched depths).
    pub model_calls: usize,
    /// Branches imagined.
    pub branches: usize,
}

struct Beam<S> {
    state: S,
    hidden: Tensor,
    logp: Vec<f32>,
    first: Action,
    cum: f64,
    score: f64,
    ended: bool,
}

impl<S: Clone> Clone for Beam<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            hidden: self.hidden.shallow_clone(),
            logp: self.logp.clone(),
            first: self.first,
            cum: self.cum,
            score: self.score,
            ended: self.ended,
        }
    }
}

/// `k` distinct indices drawn from log-probabilities without replacement (Gumbel top-k).
pub fn sample_distinct(logp: &[f32], k: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut keys: Vec<(f64, usize)> = logp
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            (f64::from(*l) - (-u.ln()).ln(), i)
        })
        .collect();
    keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keys.into_iter()
        .take(k.min(logp.len()))
        .filter(|(key, _)| key.is_finite())
        .map(|(_, i)| i)
        .collect()
}

/// Searches from the present. `hidden` (`[1, H]`) and `logp` are the agent's state and policy
/// after perceiving the current real observation.
///
/// # Errors
/// A model or network failure.
pub fn plan<M: WorldModel>(
    agent: &Agent,
    model: &mut M,
    sim: &mut Simulator,
    hidden: &Tensor,
    logp: &[f32],
    cfg: &PlanConfig,
    seed: Seed,
) -> Result<PlanChoice> {
    cfg.validate()?;
    let size = agent.config.net.image_size as usize;
    let mut rng = seed.derive("candidates", 0).rng();
    let root = model.root(sim)?;
    let mut beams = vec![Beam {
        state: root,
        hidden: hidden.shallow_clone(),
        logp: logp.to_vec(),
        first: Action::Stop,
        cum: 0.0,
        score: 0.0,
        ended: false,
    }];
    let mut model_calls = 0;
    let mut branches = 0;
    let mut root_best: Vec<(Action, f64)> = vec![];
    for depth in 0..cfg.depth {
        let mut parents = vec![];
        let mut actions = vec![];
        for (bi, b) in beams.iter().enumerate() {
            if b.ended {
                continue;
            }
            for a in sample_distinct(&b.logp, cfg.candidates, &mut rng) {
                parents.push(bi);
                actions.push(Action::ALL[a]);
            }
        }
        if parents.is_empty() {
            break;
        }
        let states: Vec<M::State> = parents.iter().map(|&p| beams[p].state.clone()).collect();
        let imagined = model.step_batch(
            sim,
            &states,
            &actions,
            seed.derive("noise", depth as u64),
            size,
        )?;
        model_calls += 1;
        branches += imagined.len();
        let discount = cfg.gamma.powi(depth as i32);
        // The agent perceives every continuing branch's imagined observation, all at once.
        let live: Vec<usize> = (0..imagined.len())
            .filter(|&i| !imagined[i].done && imagined[i].obs.is_some())
            .collect();
        let mut perceived: Vec<Option<(Tensor, Vec<f32>, f64)>> =
            (0..imagined.len()).map(|_| None).collect();
        if !live.is_empty() {
            let obs: Vec<&AgentObs> = live
                .iter()
                .filter_map(|&i| imagined[i].obs.as_ref())
                .collect();
            let hs: Vec<Tensor> = live
                .iter()
                .map(|&i| beams[parents[i]].hidden.shallow_clone())
                .collect();
            let seen = agent.perceive(&obs, &Tensor::cat(&hs, 0))?;
            for (j, &i) in live.iter().enumerate() {
                perceived[i] = Some((
                    seen.hidden.narrow(0, j as i64, 1),
                    seen.logp[j * 4..j * 4 + 4].to_vec(),
                    f64::from(seen.value[j]),
                ));
            }
        }
        let mut next: Vec<Beam<M::State>> = beams.iter().filter(|b| b.ended).cloned().collect();
        for (i, im) in imagined.into_iter().enumerate() {
            let parent = &beams[parents[i]];
            let cum = parent.cum + discount * f64::from(im.reward);
            let first = if depth == 0 { actions[i] } else { parent.first };
            let beam = match perceived[i].take() {
                Some((hidden, logp, value)) => Beam {
                    state: im.state,
                    hidden,
                    logp,
                    first,
                    cum,
                    score: cum + discount * cfg.gamma * value,
                    ended: false,
                },
                None => Beam {
                    state: im.state,
                    hidden: parent.hidden.shallow_clone(),
                    logp: vec![],
                    first,
                    cum,
                    score: cum,
                    ended: true,
                },
            };
            next.push(beam);
        }
        next.sort_by(|a, b| b.score.total_cmp(&a.score));
        for b in &next {
            match root_best.iter_mut().find(|(a, _)| *a == b.first) {
                Some(entry) => entry.1 = entry.1.max(b.score),
                None => root_best.push((b.first, b.score)),
            }
        }
        next.truncate(cfg.beam);
        beams = next;
    }
    let best = beams
        .iter()
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .ok_or_else(|| AgentError::Model("the search kept no branch".into()))?;
    Ok(PlanChoice {
        action: best.first,
        root_scores: root_best,
        model_calls,
        branches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{agent_sim_config, split_scenes};
    use crate::{AgentConfig, NetConfig};
    use avwm_core::{EpisodeSpec, Pose};
    use avwm_data::Split;
    use std::sync::Arc;
    use tch::Device;

    /// A small agent whose critic says 0 everywhere, so that a plan's score is its rewards.
    fn small_agent() -> Agent {
        tch::manual_seed(0);
        let agent = Agent::new(
            AgentConfig {
                net: NetConfig {
                    image_size: 64,
                    visual_channels: [8, 8, 8],
                    visual_embed: 32,
                    audio_channels: [4, 4, 4],
                    audio_embed: 16,
                    hidden: 32,
                },
                sim_preset: "tiny".into(),
                data_preset: "tiny".into(),
            },
            Device::Cpu,
        )
        .unwrap();
        tch::no_grad(|| {
            for (name, mut t) in agent.vs.variables() {
                if name.starts_with("critic") {
                    let _ = t.zero_();
                }
            }
        });
        agent
    }

    /// Plans once from `start` with every action a candidate, returning the choice.
    fn plan_from(sim: &mut Simulator, agent: &Agent, start: Pose) -> PlanChoice {
        let obs = sim
            .reset(&EpisodeSpec {
                seed: Seed(1),
                start,
            })
            .unwrap();
        let h = agent.net.initial_hidden(1, Device::Cpu);
        let out = agent
            .perceive(&[&agent_obs(&obs, 64).unwrap()], &h)
            .unwrap();
        // A uniform policy: every action is a candidate.
        let logp = vec![0.25f32.ln(); 4];
        let cfg = PlanConfig {
            candidates: 4,
            beam: 4,
            depth: 2,
            gamma: 0.99,
        };
        let snap = sim.snapshot();
        let choice = plan(
            agent,
            &mut OracleModel,
            sim,
            &out.hidden,
            &logp,
            &cfg,
            Seed(2),
        )
        .unwrap();
        sim.restore(&snap);
        let now = sim.snapshot();
        assert_eq!(
            (now.pose, now.steps, now.done),
            (snap.pose, snap.steps, snap.done),
            "the real episode is as it was"
        );
        choice
    }

    #[test]
    fn the_oracle_planner_stops_at_the_goal_and_not_before() {
        let scene = split_scenes("tiny", Split::Train).unwrap().remove(0);
        let mut sim = Simulator::new(
            Arc::clone(&scene),
            &agent_sim_config("tiny", 64, true).unwrap(),
        )
        .unwrap();
        let agent = small_agent();
        let mut rng = Seed(4).rng();
        let (mut near, mut far) = (None, None);
        for _ in 0..20_000 {
            let p = sim.nav().random_navigable_point(&mut rng);
            let g = sim.nav().geodesic_to_source(p);
            if g < 0.7 && near.is_none() {
                near = Some(Pose::new(p.x, p.y, 0.0));
            }
            if g > 3.0 && far.is_none() {
                // Facing along the shortest path, so that two steps forward bring it closer.
                far = (0..36)
                    .map(|i| Pose::new(p.x, p.y, (i as f32 * 10.0).to_radians()))
                    .find(|&q| crate::envs::expert_action(&sim, q) == Action::Forward);
            }
        }
        let near = plan_from(&mut sim, &agent, near.expect("a start near the source"));
        assert_eq!(near.action, Action::Stop, "{near:?}");
        // Depth 1: four candidates; depth 2: the B = 4 survivors that did not stop, × 4.
        assert_eq!(near.model_calls, 2);
        let far = plan_from(&mut sim, &agent, far.expect("a start far from the source"));
        assert_ne!(far.action, Action::Stop, "{far:?}");
    }

    #[test]
    fn distinct_samples_never_repeat_and_follow_the_policy() {
        let lp = [0.7f32.ln(), 0.1f32.ln(), 0.1f32.ln(), 0.1f32.ln()];
        let mut rng = Seed(1).rng();
        let mut first = [0usize; 4];
        for _ in 0..2000 {
            let s = sample_distinct(&lp, 2, &mut rng);
            assert_eq!(s.len(), 2);
            assert_ne!(s[0], s[1]);
            first[s[0]] += 1;
        }
        // The first draw of Gumbel top-k is a plain sample: P(0) = 0.7.
        let p0 = first[0] as f64 / 2000.0;
        assert!((p0 - 0.7).abs() < 0.04, "{p0}");
        // An impossible action is never drawn.
        let lp = [
            f32::NEG_INFINITY,
            0.5f32.ln(),
            0.5f32.ln(),
            f32::NEG_INFINITY,
        ];
        for _ in 0..100 {
            let s = sample_distinct(&lp, 3, &mut rng);
            assert!(s.iter().all(|&i| i == 1 || i == 2), "{s:?}");
        }
    }
}
