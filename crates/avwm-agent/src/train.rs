//! `avwm agent train`: a DAgger warm start on the shortest-path expert, then PPO, in the
//! simulator's training scenes.
//!
//! * **DAgger** (the first `dagger_frames`): each step executes the expert's action with
//!   probability β (falling linearly from `dagger_beta` to 0 over the first half of the warm
//!   start) and otherwise the policy's sample; the loss is the cross-entropy to the expert's action
//!   on every visited state, plus the value loss on GAE returns (the critic learns before PPO
//!   needs it, PIRLNav's critic-first idea) and the goal auxiliary loss.
//! * **PPO**: clipped surrogate, value loss, entropy bonus, auxiliary loss, optionally a small
//!   cross-entropy to the expert; whole 128-step sequences per environment, the GRU unrolled over
//!   them with state resets where episodes begin.
//!
//! Run folder: `config.json` (the settings; only `frames` may change on resume), `ckpt/`
//! (`model.safetensors`, `optim.safetensors`, `hidden.safetensors`, `state.json` written last),
//! `log.jsonl` (one line per update), `agent/` (the trained agent) and `summary.json`.
//! Every random choice derives from the run seed and the update index, and the environment pool
//! resumes by replay, so an interrupted run resumed from its checkpoint ends with the same bytes.

use crate::config::{AgentConfig, TrainConfig};
use crate::envs::{EnvPool, EpisodeFilter, SlotState, agent_sim_config, training_scenes};
use crate::metrics::EpisodeOutcome;
use crate::net::Agent;
use crate::obs::stack;
use crate::{AgentError, Result};
use avwm_core::{Action, Seed};
use avwm_nn::ckpt;
use avwm_nn::optim::{AdamW, AdamWConfig};
use avwm_nn::runlog::JsonlLog;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Episodes kept for the running statistics of the log.
const RECENT_EPISODES: usize = 100;

/// One line of `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateLog {
    /// Update index (1-based, the updates done so far).
    pub step: u64,
    /// Frames (environment steps) so far.
    pub frames: u64,
    /// `dagger` or `ppo`.
    pub phase: String,
    /// Probability of executing the expert's action in this rollout.
    pub beta: f64,
    /// Frames per second of this update, end to end (rollout and learning).
    pub fps: f64,
    /// Episodes finished in this rollout.
    pub episodes: usize,
    /// Success rate over the last 100 finished episodes.
    pub success: f64,
    /// SPL over the last 100 finished episodes.
    pub spl: f64,
    /// SoftSPL over the last 100 finished episodes.
    pub soft_spl: f64,
    /// Mean length (actions) of the last 100 finished episodes.
    pub episode_length: f64,
    /// Fraction of rollout steps where the policy's argmax equals the expert's action.
    pub expert_agreement: f64,
    /// Clipped-surrogate loss (0 in DAgger).
    pub policy_loss: f64,
    /// Value loss.
    pub value_loss: f64,
    /// Cross-entropy to the expert.
    pub bc_loss: f64,
    /// Goal auxiliary loss.
    pub aux_loss: f64,
    /// Policy entropy (nats).
    pub entropy: f64,
    /// Mean gradient norm before clipping.
    pub grad_norm: f64,
    /// Training seconds so far.
    pub seconds: f64,
}

/// The checkpoint's JSON state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    update: u64,
    frames: u64,
    seconds: f64,
    envs: Vec<SlotState>,
    recent: Vec<EpisodeOutcome>,
}

/// What `train` returns (also `summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Updates done.
    pub updates: u64,
    /// Frames trained on.
    pub frames: u64,
    /// Wall seconds of training (all sessions).
    pub seconds: f64,
    /// Parameters of the network.
    pub parameters: i64,
    /// The last update's log line.
    pub last: Option<UpdateLog>,
    /// The agent folder.
    pub agent: String,
}

/// Rollout storage, `[T, N, …]`.
struct Rollout {
    rgb: Vec<Tensor>,
    audio: Vec<Tensor>,
    actions: Vec<i64>,
    experts: Vec<i64>,
    labels: Vec<f32>,
    logp: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<bool>,
    agree: usize,
}

fn check_config(path: &Path, cfg: &TrainConfig) -> Result<()> {
    if path.is_file() {
        let old: TrainConfig = ckpt::read_json(path)?;
        if (TrainConfig {
            frames: cfg.frames,
            ..old
        }) != *cfg
        {
            return Err(AgentError::Config(format!(
                "{} holds another configuration; use a new run folder (only the frames may change on resume)",
                path.display()
            )));
        }
    } else {
        ckpt::write_json(path, cfg)?;
    }
    Ok(())
}

/// Trains (or resumes) an agent in `run`; `on_update` sees every log line.
///
/// # Errors
/// A bad configuration, a run folder of another configuration, a corrupt checkpoint, a simulator
/// error, a non-finite loss (the last checkpoint is kept) or I/O.
pub fn train(
    cfg: &TrainConfig,
    run: &Path,
    device: Device,
    on_update: &mut dyn FnMut(&UpdateLog),
) -> Result<TrainSummary> {
    cfg.validate()?;
    let ckpt_dir = run.join("ckpt");
    std::fs::create_dir_all(&ckpt_dir).map_err(|source| AgentError::Io {
        path: ckpt_dir.clone(),
        source,
    })?;
    check_config(&run.join("config.json"), cfg)?;
    let seed = Seed(cfg.seed);
    avwm_nn::seed::torch_seed(seed.derive("init", 0));
    let mut agent = Agent::new(
        AgentConfig {
            net: cfg.net,
            sim_preset: "default".into(),
            data_preset: cfg.data_preset.clone(),
        },
        device,
    )?;
    let mut opt = AdamW::new(
        &agent.vs,
        AdamWConfig {
            eps: 1e-5,
            ..AdamWConfig::default()
        },
        |_| true,
    );
    let scenes = training_scenes(&cfg.data_preset, &cfg.scene_preset)?;
    let sim_cfg = agent_sim_config(&cfg.data_preset, cfg.net.image_size, cfg.native_render)?;
    let filter = EpisodeFilter {
        min_geodesic_m: cfg.min_geodesic_m,
        min_ratio: cfg.min_ratio,
    };
    let size = cfg.net.image_size as usize;
    let mut pool = EnvPool::new(
        &scenes,
        &sim_cfg,
        cfg.envs,
        filter,
        seed.derive("envs", 0),
        size,
        cfg.episodes_per_scene,
    )?;
    let n = cfg.envs as i64;
    let mut hidden = agent.net.initial_hidden(n, device);
    let state_path = ckpt_dir.join("state.json");
    let mut state = State {
        update: 0,
        frames: 0,
        seconds: 0.0,
        envs: pool.states(),
        recent: vec![],
    };
    let log_path = run.join("log.jsonl");
    if state_path.is_file() {
        state = ckpt::read_json(&state_path)?;
        ckpt::load_var_store(&mut agent.vs, &ckpt_dir.join("model.safetensors"), false)?;
        opt.load(&ckpt_dir.join("optim.safetensors"))?;
        let h = ckpt::load_tensors(&ckpt_dir.join("hidden.safetensors"))?;
        hidden = h
            .get("hidden")
            .filter(|t| t.size() == [n, cfg.net.hidden])
            .ok_or_else(|| {
                AgentError::Config(format!(
                    "{}: no [{n}, {}] tensor `hidden`",
                    ckpt_dir.join("hidden.safetensors").display(),
                    cfg.net.hidden
                ))
            })?
            .to_device(device);
        pool.resume(&state.envs)?;
        JsonlLog::truncate_after(&log_path, state.update)?;
    } else if log_path.exists() {
        std::fs::remove_file(&log_path).map_err(|source| AgentError::Io {
            path: log_path.clone(),
            source,
        })?;
    }
    // A resumed run reports its last logged update, as an uninterrupted one does (the log holds
    // exactly the updates up to the checkpoint).
    let mut last: Option<UpdateLog> = JsonlLog::records(&log_path)?.pop();
    let mut log = JsonlLog::append(&log_path)?;
    while state.frames < cfg.frames {
        let t0 = Instant::now();
        let update = state.update;
        let dagger = state.frames < cfg.dagger_frames;
        let beta = if dagger {
            let half = (cfg.dagger_frames as f64 / 2.0).max(1.0);
            cfg.dagger_beta * (1.0 - state.frames as f64 / half).max(0.0)
        } else {
            0.0
        };
        let mut rng = seed.derive("rollout", update).rng();
        let h0 = hidden.shallow_clone();
        let mut ro = Rollout {
            rgb: vec![],
            audio: vec![],
            actions: vec![],
            experts: vec![],
            labels: vec![],
            logp: vec![],
            values: vec![],
            rewards: vec![],
            dones: vec![],
            agree: 0,
        };
        let mut finished = 0;
        for _ in 0..cfg.rollout {
            let (rgb, audio) = stack(&pool.observations(), size);
            let experts = pool.expert_actions();
            let (rgb, audio) = (rgb.to_device(device), audio.to_device(device));
            let out = tch::no_grad(|| agent.net.step(&rgb, &audio, &hidden));
            let logp_all = out
                .logits
                .log_softmax(-1, Kind::Float)
                .to_device(Device::Cpu);
            let lp: Vec<f32> = Vec::try_from(logp_all.flatten(0, -1))
                .map_err(|e| AgentError::Model(format!("reading the policy's output: {e}")))?;
            let vals: Vec<f32> = Vec::try_from(out.value.to_device(Device::Cpu))
                .map_err(|e| AgentError::Model(format!("reading the value: {e}")))?;
            let mut acts = Vec::with_capacity(cfg.envs);
            for (e, expert) in experts.iter().enumerate() {
                let row = &lp[e * 4..e * 4 + 4];
                let u: f64 = rng.random();
                let sampled = sample(row, rng.random());
                let argmax = argmax(row);
                if argmax == expert.id() as usize {
                    ro.agree += 1;
                }
                let a = if u < beta {
                    expert.id() as usize
                } else {
                    sampled
                };
                if !row[a].is_finite() {
                    return Err(AgentError::NonFinite {
                        what: "policy log-probability",
                        update,
                        value: f64::from(row[a]),
                    });
                }
                ro.logp.push(row[a]);
                acts.push(a);
            }
            ro.labels.extend(pool.goal_labels().iter().flatten());
            let actions: Vec<Action> = acts.iter().map(|&a| Action::ALL[a]).collect();
            let steps = pool.step(&actions)?;
            let mut keep = vec![1f32; cfg.envs];
            for (e, s) in steps.iter().enumerate() {
                ro.rewards.push(s.reward);
                ro.dones.push(s.done);
                if s.done {
                    keep[e] = 0.0;
                }
                if let Some(o) = s.outcome {
                    finished += 1;
                    state.recent.push(o);
                }
            }
            hidden = out.hidden * Tensor::from_slice(&keep).to_device(device).unsqueeze(1);
            ro.rgb.push(rgb);
            ro.audio.push(audio);
            ro.actions.extend(acts.iter().map(|&a| a as i64));
            ro.experts.extend(experts.iter().map(|a| i64::from(a.id())));
            ro.values.extend(vals);
        }
        if state.recent.len() > RECENT_EPISODES {
            let cut = state.recent.len() - RECENT_EPISODES;
            state.recent.drain(..cut);
        }
        // Bootstrap from the state after the rollout.
        let (rgb, audio) = stack(&pool.observations(), size);
        let last_value: Vec<f32> = tch::no_grad(|| {
            let out = agent
                .net
                .step(&rgb.to_device(device), &audio.to_device(device), &hidden);
            Vec::try_from(out.value.to_device(Device::Cpu))
        })
        .map_err(|e| AgentError::Model(format!("reading the value: {e}")))?;
        let (adv, ret) = gae(&ro, &last_value, cfg);
        let losses = learn(
            &agent, &mut opt, cfg, &ro, &adv, &ret, &h0, dagger, update, device,
        )?;
        state.update += 1;
        state.frames += cfg.frames_per_update();
        let dt = t0.elapsed().as_secs_f64();
        state.seconds += dt;
        let recent = &state.recent;
        let mean = |f: &dyn Fn(&EpisodeOutcome) -> f64| {
            if recent.is_empty() {
                0.0
            } else {
                recent.iter().map(f).sum::<f64>() / recent.len() as f64
            }
        };
        let line = UpdateLog {
            step: state.update,
            frames: state.frames,
            phase: if dagger { "dagger" } else { "ppo" }.into(),
            beta,
            fps: cfg.frames_per_update() as f64 / dt,
            episodes: finished,
            success: mean(&|o| f64::from(u8::from(o.success))),
            spl: mean(&|o| o.spl()),
            soft_spl: mean(&|o| o.soft_spl()),
            episode_length: mean(&|o| o.actions as f64),
            expert_agreement: ro.agree as f64 / (cfg.rollout * cfg.envs) as f64,
            policy_loss: losses[0],
            value_loss: losses[1],
            bc_loss: losses[2],
            aux_loss: losses[3],
            entropy: losses[4],
            grad_norm: losses[5],
            seconds: state.seconds,
        };
        log.write(&line)?;
        on_update(&line);
        last = Some(line);
        if state.update.is_multiple_of(cfg.checkpoint_every) || state.frames >= cfg.frames {
            state.envs = pool.states();
            // The state file last (and gone while the others are rewritten): a kill mid-way
            // leaves no checkpoint rather than a mixed one (`avwm_nn::resume::save_training`).
            avwm_nn::resume::remove_state(&state_path)?;
            ckpt::save_var_store(&agent.vs, &ckpt_dir.join("model.safetensors"))?;
            opt.save(&ckpt_dir.join("optim.safetensors"))?;
            ckpt::save_tensors(
                &ckpt_dir.join("hidden.safetensors"),
                &[("hidden".to_string(), hidden.shallow_clone())],
            )?;
            // The agent as it stands, ready for `avwm nav eval` while training goes on.
            agent.save(&run.join("agent"))?;
            ckpt::write_json(&state_path, &state)?;
        }
    }
    let agent_dir = run.join("agent");
    agent.save(&agent_dir)?;
    let summary = TrainSummary {
        updates: state.update,
        frames: state.frames,
        seconds: state.seconds,
        parameters: agent.parameters(),
        last,
        agent: agent_dir.display().to_string(),
    };
    ckpt::write_json(&run.join("summary.json"), &summary)?;
    Ok(summary)
}

/// Index of the largest value (first on ties).
pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// Samples an index from log-probabilities with a uniform `u` in [0, 1).
pub(crate) fn sample(logp: &[f32], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, l) in logp.iter().enumerate() {
        acc += f64::from(*l).exp();
        if u < acc {
            return i;
        }
    }
    logp.len() - 1
}

/// Generalised advantage estimation: `(advantages, returns)`, `[T·N]` in rollout order.
fn gae(ro: &Rollout, last_value: &[f32], cfg: &TrainConfig) -> (Vec<f32>, Vec<f32>) {
    let n = cfg.envs;
    let t_len = cfg.rollout;
    let mut adv = vec![0f32; t_len * n];
    for (e, &last) in last_value.iter().enumerate().take(n) {
        let mut next_adv = 0f64;
        let mut next_value = f64::from(last);
        for t in (0..t_len).rev() {
            let i = t * n + e;
            let live = if ro.dones[i] { 0.0 } else { 1.0 };
            let v = f64::from(ro.values[i]);
            let delta = f64::from(ro.rewards[i]) + cfg.gamma * live * next_value - v;
            next_adv = delta + cfg.gamma * cfg.lambda * live * next_adv;
            adv[i] = next_adv as f32;
            next_value = v;
        }
    }
    let ret = adv.iter().zip(&ro.values).map(|(a, v)| a + v).collect();
    (adv, ret)
}

/// The learning phase of one update. Returns the mean policy, value, BC, auxiliary losses,
/// entropy and gradient norm.
#[allow(clippy::too_many_arguments)]
fn learn(
    agent: &Agent,
    opt: &mut AdamW,
    cfg: &TrainConfig,
    ro: &Rollout,
    adv: &[f32],
    ret: &[f32],
    h0: &Tensor,
    dagger: bool,
    update: u64,
    device: Device,
) -> Result<[f64; 6]> {
    let (t, n) = (cfg.rollout as i64, cfg.envs as i64);
    let rgb = Tensor::stack(&ro.rgb, 0);
    let audio = Tensor::stack(&ro.audio, 0);
    let tn = |v: &[f32]| Tensor::from_slice(v).view([t, n]).to_device(device);
    let ti = |v: &[i64]| Tensor::from_slice(v).view([t, n]).to_device(device);
    let actions = ti(&ro.actions);
    let experts = ti(&ro.experts);
    let old_logp = tn(&ro.logp);
    let adv_t = tn(adv);
    let ret_t = tn(ret);
    let labels = Tensor::from_slice(&ro.labels)
        .view([t, n, 3])
        .to_device(device);
    // Masks: the state resets before step t where the previous step ended an episode.
    let mut m = vec![1f32; (t * n) as usize];
    for (mi, &done) in m[n as usize..].iter_mut().zip(&ro.dones) {
        if done {
            *mi = 0.0;
        }
    }
    let masks = tn(&m);
    let mut sums = [0f64; 6];
    let mut count = 0.0;
    let mb = cfg.envs / cfg.minibatches;
    let mut rng = Seed(cfg.seed).derive("minibatch", update).rng();
    let (epochs, lr) = if dagger {
        (cfg.dagger_epochs, cfg.dagger_lr)
    } else {
        (cfg.epochs, cfg.lr)
    };
    for _ in 0..epochs {
        let mut order: Vec<i64> = (0..n).collect();
        order.shuffle(&mut rng);
        for chunk in order.chunks(mb) {
            let idx = Tensor::from_slice(chunk).to_device(device);
            let sel = |x: &Tensor| x.index_select(1, &idx);
            let (logits, values, aux) = agent.net.sequence(
                &sel(&rgb),
                &sel(&audio),
                &sel(&masks),
                &h0.index_select(0, &idx),
            );
            let logp_all = logits.log_softmax(-1, Kind::Float);
            let entropy = -(logp_all.exp() * &logp_all)
                .sum_dim_intlist(-1, false, Kind::Float)
                .mean(Kind::Float);
            let value_loss = (values - sel(&ret_t)).square().mean(Kind::Float) * 0.5;
            let bc = -logp_all
                .gather(-1, &sel(&experts).unsqueeze(-1), false)
                .mean(Kind::Float);
            let aux_loss = (aux - sel(&labels)).square().mean(Kind::Float);
            let mut loss = &value_loss * cfg.value_coef + &aux_loss * cfg.aux_coef;
            let policy_loss = if dagger {
                loss += &bc;
                Tensor::zeros([], (Kind::Float, device))
            } else {
                let a = sel(&adv_t);
                let a = (&a - a.mean(Kind::Float)) / (a.std(true) + 1e-8);
                let logp = logp_all
                    .gather(-1, &sel(&actions).unsqueeze(-1), false)
                    .squeeze_dim(-1);
                let ratio = (logp - sel(&old_logp)).exp();
                let s1 = &ratio * &a;
                let s2 = ratio.clamp(1.0 - cfg.clip, 1.0 + cfg.clip) * &a;
                let pl = -s1.min_other(&s2).mean(Kind::Float);
                loss = loss + &pl - &entropy * cfg.entropy_coef + &bc * cfg.bc_coef_ppo;
                pl
            };
            let lv = loss.double_value(&[]);
            if !lv.is_finite() {
                return Err(AgentError::NonFinite {
                    what: "loss",
                    update,
                    value: lv,
                });
            }
            opt.zero_grad();
            loss.backward();
            let gn = opt.clip_grad_norm(cfg.grad_clip);
            opt.step(lr);
            for (s, v) in sums.iter_mut().zip([
                policy_loss.double_value(&[]),
                value_loss.double_value(&[]),
                bc.double_value(&[]),
                aux_loss.double_value(&[]),
                entropy.double_value(&[]),
                gn,
            ]) {
                *s += v;
            }
            count += 1.0;
        }
    }
    Ok(sums.map(|s| s / count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NetConfig;

    pub(crate) fn tiny_cfg(frames: u64) -> TrainConfig {
        TrainConfig {
            data_preset: "tiny".into(),
            scene_preset: "tiny".into(),
            envs: 2,
            rollout: 8,
            frames,
            dagger_frames: 32,
            minibatches: 2,
            checkpoint_every: 1,
            min_geodesic_m: 1.0,
            min_ratio: 1.0,
            net: NetConfig {
                image_size: 64,
                visual_channels: [8, 8, 8],
                visual_embed: 32,
                audio_channels: [4, 4, 4],
                audio_embed: 16,
                hidden: 32,
            },
            ..TrainConfig::default()
        }
    }

    fn weights(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join("agent").join(crate::net::WEIGHTS_FILE)).unwrap()
    }

    #[test]
    fn resumed_training_ends_with_the_same_bytes() {
        tch::set_num_threads(1);
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        // 4 updates: 2 DAgger, 2 PPO, in one go …
        let s = train(&tiny_cfg(64), a.path(), Device::Cpu, &mut |_| {}).unwrap();
        assert_eq!(s.updates, 4);
        // … and interrupted after 3, then resumed with a larger budget.
        train(&tiny_cfg(48), b.path(), Device::Cpu, &mut |_| {}).unwrap();
        let mut phases = vec![];
        train(&tiny_cfg(64), b.path(), Device::Cpu, &mut |l| {
            phases.push(l.phase.clone())
        })
        .unwrap();
        assert_eq!(phases, ["ppo"], "only the missing update runs");
        assert_eq!(weights(a.path()), weights(b.path()));
        let la = std::fs::read_to_string(a.path().join("log.jsonl")).unwrap();
        let lb = std::fs::read_to_string(b.path().join("log.jsonl")).unwrap();
        let strip = |s: &str| -> Vec<(u64, String, u64)> {
            s.lines()
                .map(|l| {
                    let u: UpdateLog = serde_json::from_str(l).unwrap();
                    (u.step, format!("{:.6}", u.value_loss), u.frames)
                })
                .collect()
        };
        assert_eq!(strip(&la), strip(&lb));
        // Another configuration in the same folder is refused, naming the file.
        let other = TrainConfig {
            lr: 1e-3,
            ..tiny_cfg(64)
        };
        let e = train(&other, b.path(), Device::Cpu, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("config.json"), "{e}");
    }

    #[test]
    fn gae_matches_a_hand_computed_return() {
        // One env, 3 steps, the episode ends at step 1: the bootstrap never crosses it.
        let ro = Rollout {
            rgb: vec![],
            audio: vec![],
            actions: vec![],
            experts: vec![],
            labels: vec![],
            logp: vec![],
            values: vec![0.5, 0.25, 1.0],
            rewards: vec![1.0, 2.0, 3.0],
            dones: vec![false, true, false],
            agree: 0,
        };
        let cfg = TrainConfig {
            envs: 1,
            rollout: 3,
            gamma: 0.5,
            lambda: 1.0,
            ..TrainConfig::default()
        };
        let (adv, ret) = gae(&ro, &[2.0], &cfg);
        // λ = 1: returns are discounted sums. t2: 3 + 0.5·2 = 4; t1: 2; t0: 1 + 0.5·2 = 2.
        assert_eq!(ret, vec![2.0, 2.0, 4.0]);
        assert_eq!(adv, vec![1.5, 1.75, 3.0]);
    }

    #[test]
    fn sampling_follows_the_probabilities() {
        let lp = [0.1f32.ln(), 0.2f32.ln(), 0.3f32.ln(), 0.4f32.ln()];
        assert_eq!(sample(&lp, 0.05), 0);
        assert_eq!(sample(&lp, 0.25), 1);
        assert_eq!(sample(&lp, 0.59), 2);
        assert_eq!(sample(&lp, 0.99), 3);
        assert_eq!(argmax(&lp), 3);
    }
}
