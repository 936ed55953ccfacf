//! `avwm nav eval`: the agent on a fixed AudioGoal episode file, alone or planning through a
//! world model, scored with SoundSpaces' metrics.
//!
//! Each episode runs in the simulator at the preset's resolution (128² for `default`, the world
//! model's and the paper's); the agent sees the frames area-averaged to its input size. Every
//! random choice of an episode (policy samples, planner candidates, diffusion noise) derives from
//! the run seed and the episode id, so two agents compared on the same file meet the same
//! randomness, and an interrupted evaluation resumes where it stopped: `episodes.jsonl` gets one
//! line per finished episode and finished episodes are not run again.

use crate::metrics::{EpisodeOutcome, Estimate, Paired, estimate, paired};
use crate::net::Agent;
use crate::obs::agent_obs;
use crate::planner::{PlanConfig, WorldModel, plan};
use crate::train::{argmax, sample};
use crate::{AgentError, Result};
use avwm_core::{Action, Env, EpisodeSpec, MAX_EPISODE_STEPS, Observation, Seed};
use avwm_datagen::episodes::NavEpisode;
use avwm_scene::procedural::ProceduralConfig;
use avwm_sim::{SimConfig, Simulator};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// How the agent picks its action when it does not plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// The most probable action.
    Greedy,
    /// A sample from the policy (SoundSpaces' evaluation).
    Sample,
}

/// Settings of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NavConfig {
    /// Action choice without planning.
    pub policy: PolicyMode,
    /// The planner's settings (None: the plain agent).
    pub plan: Option<PlanConfig>,
    /// Run seed.
    pub seed: u64,
    /// Evaluate only the first episodes of the file.
    pub limit: Option<usize>,
    /// Action limit of an episode: SoundSpaces' 500 ([`MAX_EPISODE_STEPS`]); a smaller one ends
    /// episodes early, as failures, for quick checks.
    pub max_actions: usize,
}

/// One finished episode (a line of `episodes.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Episode id in the file.
    pub episode_id: u64,
    /// Scene name.
    pub scene: String,
    /// The outcome.
    pub outcome: EpisodeOutcome,
    /// Poses `[x, y, yaw]` from the start to the end.
    pub trajectory: Vec<[f32; 3]>,
    /// The actions as letters (F, L, R, S).
    pub actions: String,
    /// Real steps where the planner chose another action than the policy's own choice.
    pub overrides: usize,
    /// Seconds spent planning.
    pub plan_seconds: f64,
    /// Seconds of the whole episode.
    pub seconds: f64,
}

/// Aggregates of an evaluation (`summary.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NavSummary {
    /// The agent folder.
    pub agent: String,
    /// `none`, `oracle` or the learned model's name.
    pub planner: String,
    /// The settings.
    pub config: NavConfig,
    /// Episodes scored.
    pub episodes: usize,
    /// success, spl, soft_spl, na, sna, distance_to_goal: mean and 95 % interval.
    pub metrics: BTreeMap<String, Estimate>,
    /// Paired comparison with another evaluation on the same episodes (this minus that).
    pub against: Option<Comparison>,
    /// Mean seconds of planning per real step (0 without a planner).
    pub plan_seconds_per_step: f64,
    /// Wall seconds of the episodes.
    pub seconds: f64,
}

/// A paired comparison with another evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// The other evaluation's folder.
    pub baseline: String,
    /// Episodes in both.
    pub episodes: usize,
    /// Per metric: mean difference (this − baseline), its interval and the paired t-test.
    pub metrics: BTreeMap<String, Paired>,
}

fn letter(a: Action) -> char {
    match a {
        Action::Stop => 'S',
        Action::Forward => 'F',
        Action::TurnLeft => 'L',
        Action::TurnRight => 'R',
    }
}

/// Simulators by scene, built on first use.
struct Scenes {
    cfg: SimConfig,
    sims: HashMap<(u64, String), Simulator>,
}

impl Scenes {
    /// No simulator yet; they run at the `default` preset (128², the world model's resolution).
    fn new() -> Result<Scenes> {
        Ok(Scenes {
            cfg: SimConfig::preset("default")
                .ok_or_else(|| AgentError::Config("no default simulator preset".into()))?,
            sims: HashMap::new(),
        })
    }

    fn get(&mut self, ep: &NavEpisode) -> Result<&mut Simulator> {
        let key = (ep.scene_seed, ep.scene_preset.clone());
        if !self.sims.contains_key(&key) {
            let pc = ProceduralConfig::preset(&ep.scene_preset).ok_or_else(|| {
                AgentError::Config(format!(
                    "episode {}: unknown scene preset {:?}",
                    ep.episode_id, ep.scene_preset
                ))
            })?;
            let scene = avwm_scene::procedural::generate(ep.scene_seed, &pc).map_err(|e| {
                AgentError::Scene {
                    scene: ep.scene.clone(),
                    msg: e.to_string(),
                }
            })?;
            if scene.name != ep.scene {
                return Err(AgentError::Config(format!(
                    "episode {}: scene seed {} generates {}, the file says {}",
                    ep.episode_id, ep.scene_seed, scene.name, ep.scene
                )));
            }
            let sim =
                Simulator::new(Arc::new(scene), &self.cfg).map_err(AgentError::sim(&ep.scene))?;
            self.sims.insert(key.clone(), sim);
        }
        self.sims
            .get_mut(&key)
            .ok_or_else(|| AgentError::Config("scene cache".into()))
    }
}

/// Runs one episode.
///
/// # Errors
/// A simulator, network or model failure.
pub fn run_episode<M: WorldModel>(
    agent: &Agent,
    sim: &mut Simulator,
    ep: &NavEpisode,
    cfg: &NavConfig,
    mut model: Option<&mut M>,
) -> Result<EpisodeRecord> {
    let t0 = Instant::now();
    let size = agent.config.net.image_size as usize;
    let device = agent.vs.device();
    let spec = EpisodeSpec {
        seed: Seed(ep.seed),
        start: ep.start_pose(),
    };
    let scene = ep.scene.clone();
    let mut obs: Observation = sim.reset(&spec).map_err(AgentError::sim(&scene))?;
    if let Some(m) = model.as_deref_mut() {
        m.begin(sim, &obs)?;
    }
    let ep_seed = Seed(cfg.seed).derive("episode", ep.episode_id);
    let mut rng = ep_seed.derive("policy", 0).rng();
    let mut hidden = agent.net.initial_hidden(1, device);
    let mut trajectory = vec![[spec.start.x, spec.start.y, spec.start.yaw]];
    let mut actions = String::new();
    let (mut overrides, mut plan_seconds) = (0, 0.0);
    loop {
        let seen = agent.perceive(&[&agent_obs(&obs, size)?], &hidden)?;
        hidden = seen.hidden;
        let logp = seen.logp;
        let own = match cfg.policy {
            PolicyMode::Greedy => argmax(&logp),
            PolicyMode::Sample => sample(&logp, rng.random()),
        };
        let mut action = Action::ALL[own];
        if let (Some(pc), Some(m)) = (&cfg.plan, model.as_deref_mut()) {
            let tp = Instant::now();
            let snap = sim.snapshot();
            let step_seed = ep_seed.derive("plan", actions.len() as u64);
            let choice = plan(agent, m, sim, &hidden, &logp, pc, step_seed);
            sim.restore(&snap);
            let choice = choice?;
            plan_seconds += tp.elapsed().as_secs_f64();
            if choice.action != action {
                overrides += 1;
            }
            action = choice.action;
        }
        let step = sim.step(action).map_err(AgentError::sim(&scene))?;
        actions.push(letter(action));
        let p = step.info.pose;
        trajectory.push([p.x, p.y, p.yaw]);
        if step.done || actions.len() >= cfg.max_actions {
            let st = sim
                .state()
                .ok_or_else(|| AgentError::Model("state lost".into()))?;
            return Ok(EpisodeRecord {
                episode_id: ep.episode_id,
                scene,
                outcome: EpisodeOutcome {
                    success: step.done && step.info.success,
                    geodesic_m: ep.geodesic_distance,
                    path_m: st.walked_m,
                    distance_to_goal_m: step.info.geodesic_m,
                    actions: step.info.steps,
                    oracle_actions: ep.num_action,
                },
                trajectory,
                actions,
                overrides,
                plan_seconds,
                seconds: t0.elapsed().as_secs_f64(),
            });
        }
        if let Some(m) = model.as_deref_mut() {
            m.observe(sim, action, &step.obs)?;
        }
        obs = step.obs;
    }
}

/// Reads the finished episodes of an evaluation folder (a torn last line is dropped).
///
/// # Errors
/// An unreadable file or a corrupt line before the last.
pub fn read_records(path: &Path) -> Result<Vec<EpisodeRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => {
            return Err(AgentError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = vec![];
    for (i, l) in lines.iter().enumerate() {
        match serde_json::from_str(l) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(e) => {
                return Err(AgentError::Config(format!(
                    "{} line {}: {e}",
                    path.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(out)
}

/// Metric means with intervals over records.
pub fn aggregate(records: &[EpisodeRecord]) -> BTreeMap<String, Estimate> {
    let mut cols: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in records {
        for (k, v) in r.outcome.values() {
            cols.entry(k.to_string()).or_default().push(v);
        }
    }
    cols.into_iter().map(|(k, v)| (k, estimate(&v))).collect()
}

/// Paired comparison of `this` against `base` on the episodes both hold.
pub fn compare(this: &[EpisodeRecord], base: &[EpisodeRecord], baseline: &str) -> Comparison {
    let by_id: HashMap<u64, &EpisodeRecord> = base.iter().map(|r| (r.episode_id, r)).collect();
    let mut a: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut b: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut n = 0;
    for r in this {
        let Some(o) = by_id.get(&r.episode_id) else {
            continue;
        };
        n += 1;
        for ((k, x), (_, y)) in o.outcome.values().into_iter().zip(r.outcome.values()) {
            a.entry(k.to_string()).or_default().push(x);
            b.entry(k.to_string()).or_default().push(y);
        }
    }
    Comparison {
        baseline: baseline.to_string(),
        episodes: n,
        metrics: a
            .iter()
            .map(|(k, x)| (k.clone(), paired(x, &b[k])))
            .collect(),
    }
}

/// Evaluates `agent` on `episodes` into `out` (`episodes.jsonl`, `summary.json`), resuming a
/// partial run. `model` is the planner's world model (None for the plain agent); `on_episode`
/// sees every finished episode.
///
/// # Errors
/// A bad configuration, a simulator, network or model failure, or I/O.
pub fn evaluate<M: WorldModel>(
    agent: &Agent,
    agent_dir: &Path,
    episodes: &[NavEpisode],
    cfg: &NavConfig,
    mut model: Option<&mut M>,
    out: &Path,
    on_episode: &mut dyn FnMut(&EpisodeRecord, usize, usize),
) -> Result<NavSummary> {
    if cfg.max_actions == 0 || cfg.max_actions > MAX_EPISODE_STEPS {
        return Err(AgentError::Config(format!(
            "the action limit must be 1–{MAX_EPISODE_STEPS}, got {}",
            cfg.max_actions
        )));
    }
    if let Some(pc) = &cfg.plan {
        pc.validate()?;
        if model.is_none() {
            return Err(AgentError::Config("a planner needs a world model".into()));
        }
    }
    std::fs::create_dir_all(out).map_err(|source| AgentError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let cfg_path = out.join("config.json");
    if cfg_path.is_file() {
        let old: NavConfig = avwm_nn::ckpt::read_json(&cfg_path)?;
        if old != *cfg {
            return Err(AgentError::Config(format!(
                "{} holds another evaluation; use a new --out folder",
                cfg_path.display()
            )));
        }
    } else {
        avwm_nn::ckpt::write_json(&cfg_path, cfg)?;
    }
    let rec_path = out.join("episodes.jsonl");
    let mut records = read_records(&rec_path)?;
    // Rewrite without a torn line, then append.
    let text: String = records
        .iter()
        .map(|r| serde_json::to_string(r).map(|s| s + "\n"))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| AgentError::Model(format!("serialising a record: {e}")))?;
    avwm_core::write_atomic(&rec_path, text.as_bytes())?;
    let done: std::collections::HashSet<u64> = records.iter().map(|r| r.episode_id).collect();
    let todo: Vec<&NavEpisode> = episodes
        .iter()
        .take(cfg.limit.unwrap_or(usize::MAX))
        .collect();
    let total = todo.len();
    let mut scenes = Scenes::new()?;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&rec_path)
        .map_err(|source| AgentError::Io {
            path: rec_path.clone(),
            source,
        })?;
    for ep in todo.iter().filter(|e| !done.contains(&e.episode_id)) {
        let sim = scenes.get(ep)?;
        let r = run_episode(agent, sim, ep, cfg, model.as_deref_mut())?;
        let line = serde_json::to_string(&r)
            .map_err(|e| AgentError::Model(format!("serialising a record: {e}")))?;
        writeln!(file, "{line}")
            .and_then(|()| file.sync_data())
            .map_err(|source| AgentError::Io {
                path: rec_path.clone(),
                source,
            })?;
        records.push(r);
        on_episode(records.last().expect("pushed"), records.len(), total);
    }
    let ids: std::collections::HashSet<u64> = todo.iter().map(|e| e.episode_id).collect();
    records.retain(|r| ids.contains(&r.episode_id));
    records.sort_by_key(|r| r.episode_id);
    let steps: usize = records.iter().map(|r| r.outcome.actions).sum();
    let summary = NavSummary {
        agent: agent_dir.display().to_string(),
        planner: match (&cfg.plan, &model) {
            (Some(_), Some(m)) => m.name(),
            _ => "none".into(),
        },
        config: cfg.clone(),
        episodes: records.len(),
        metrics: aggregate(&records),
        against: None,
        plan_seconds_per_step: records.iter().map(|r| r.plan_seconds).sum::<f64>()
            / steps.max(1) as f64,
        seconds: records.iter().map(|r| r.seconds).sum(),
    };
    avwm_nn::ckpt::write_json(&out.join("summary.json"), &summary)?;
    Ok(summary)
}

/// Adds a paired comparison against the evaluation in `baseline` to the summary in `out`.
///
/// # Errors
/// Unreadable records or summary.
pub fn compare_folders(out: &Path, baseline: &Path) -> Result<NavSummary> {
    let mut summary: NavSummary = avwm_nn::ckpt::read_json(&out.join("summary.json"))?;
    let this = read_records(&out.join("episodes.jsonl"))?;
    let base = read_records(&baseline.join("episodes.jsonl"))?;
    if base.is_empty() {
        return Err(AgentError::Config(format!(
            "{} holds no finished episodes to compare with",
            baseline.display()
        )));
    }
    summary.against = Some(compare(&this, &base, &baseline.display().to_string()));
    avwm_nn::ckpt::write_json(&out.join("summary.json"), &summary)?;
    Ok(summary)
}

/// Colours of the agents in trajectory figures, in the order of the evaluation folders:
/// vermilion, blue, bluish green, reddish purple, yellow, sky blue (Okabe–Ito, readable by
/// colour-blind readers).
pub const PATH_COLOURS: [(&str, [u8; 3]); 6] = [
    ("vermilion", [213, 94, 0]),
    ("blue", [0, 114, 178]),
    ("bluish green", [0, 158, 115]),
    ("reddish purple", [204, 121, 167]),
    ("yellow", [240, 228, 66]),
    ("sky blue", [86, 180, 233]),
];

/// One agent's path in a trajectory figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FigurePath {
    /// The evaluation folder.
    pub evaluation: String,
    /// Its planner (`none`, `oracle`, a model's name).
    pub planner: String,
    /// The colour's name in [`PATH_COLOURS`].
    pub colour: String,
    /// The episode's outcome for this agent.
    pub outcome: EpisodeOutcome,
}

/// One figure: the top-down map of an episode with every agent's path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// The episode.
    pub episode_id: u64,
    /// Its scene.
    pub scene: String,
    /// The PNG, relative to the output folder.
    pub png: String,
    /// The agents, in the order drawn.
    pub paths: Vec<FigurePath>,
}

/// The paper's Fig. 7: for the first `count` episodes that every evaluation in `dirs` finished,
/// a top-down map (`episode-<id>.png`, 40 px per metre, north up) with each evaluation's path in
/// its colour of [`PATH_COLOURS`], the start a green disc, the sound source red; then
/// `figures.json` (the list) and `README.md` (the legend and each agent's outcome) in `out`.
///
/// # Errors
/// More evaluations than colours, an unreadable evaluation, an episode missing from `episodes`,
/// a scene that fails to build, or I/O.
pub fn trajectory_figures(
    dirs: &[std::path::PathBuf],
    episodes: &[NavEpisode],
    count: usize,
    out: &Path,
) -> Result<Vec<Figure>> {
    if dirs.is_empty() || dirs.len() > PATH_COLOURS.len() {
        return Err(AgentError::Config(format!(
            "trajectory figures take 1–{} evaluations, got {}",
            PATH_COLOURS.len(),
            dirs.len()
        )));
    }
    let mut evals = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let s: NavSummary = avwm_nn::ckpt::read_json(&dir.join("summary.json"))?;
        let recs: HashMap<u64, EpisodeRecord> = read_records(&dir.join("episodes.jsonl"))?
            .into_iter()
            .map(|r| (r.episode_id, r))
            .collect();
        evals.push((dir.display().to_string(), s.planner, recs));
    }
    let mut ids: Vec<u64> = evals[0]
        .2
        .keys()
        .copied()
        .filter(|id| evals.iter().all(|e| e.2.contains_key(id)))
        .collect();
    ids.sort_unstable();
    ids.truncate(count);
    std::fs::create_dir_all(out).map_err(|source| AgentError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut scenes = Scenes::new()?;
    let mut figures = Vec::with_capacity(ids.len());
    for id in ids {
        let ep = episodes
            .iter()
            .find(|e| e.episode_id == id)
            .ok_or_else(|| {
                AgentError::Config(format!("episode {id} is not in the episode file"))
            })?;
        let sim = scenes.get(ep)?;
        let poses: Vec<Vec<avwm_core::Pose>> = evals
            .iter()
            .map(|e| {
                e.2[&id]
                    .trajectory
                    .iter()
                    .map(|p| avwm_core::Pose::new(p[0], p[1], p[2]))
                    .collect()
            })
            .collect();
        let paths: Vec<(&[avwm_core::Pose], [u8; 3])> = poses
            .iter()
            .zip(PATH_COLOURS)
            .map(|(p, (_, c))| (p.as_slice(), c))
            .collect();
        let img = sim.nav().draw_map_paths(sim.scene(), &paths, 40.0);
        let png = format!("episode-{id:04}.png");
        avwm_core::write_atomic(&out.join(&png), &avwm_core::encode_png(&img)?)?;
        figures.push(Figure {
            episode_id: id,
            scene: ep.scene.clone(),
            png,
            paths: evals
                .iter()
                .zip(PATH_COLOURS)
                .map(|(e, (name, _))| FigurePath {
                    evaluation: e.0.clone(),
                    planner: e.1.clone(),
                    colour: name.into(),
                    outcome: e.2[&id].outcome,
                })
                .collect(),
        });
    }
    avwm_nn::ckpt::write_json(&out.join("figures.json"), &figures)?;
    let mut md = String::from(
        "# Trajectories (the paper's Fig. 7)\n\nTop-down maps, north up, 40 px per metre: walls dark, reachable floor light, doors orange, the sound source (the goal) red, the start a green disc; each agent's path in its colour with heading ticks, a square where it ended.\n\n| colour | evaluation | planner |\n|---|---|---|\n",
    );
    for (e, (name, _)) in evals.iter().zip(PATH_COLOURS) {
        md.push_str(&format!("| {name} | `{}` | {} |\n", e.0, e.1));
    }
    for f in &figures {
        md.push_str(&format!(
            "\n## Episode {} ({})\n\n![episode {}]({})\n\n",
            f.episode_id, f.scene, f.episode_id, f.png
        ));
        for p in &f.paths {
            md.push_str(&format!(
                "- {}: {} in {} actions, SPL {:.3}, {:.2} m from the goal\n",
                p.colour,
                if p.outcome.success {
                    "success"
                } else {
                    "failure"
                },
                p.outcome.actions,
                p.outcome.spl(),
                p.outcome.distance_to_goal_m
            ));
        }
    }
    avwm_core::write_atomic(&out.join("README.md"), md.as_bytes())?;
    Ok(figures)
}

/// The paper's Table 8 from evaluation folders (each with `summary.json`), as Markdown: one row
/// per evaluation (planner, n, B, k, policy), SPL, SoftSPL, NA, SNA, success and distance to
/// goal as mean [95 % interval], and the paired difference in SPL and NA against the baseline
/// each was compared with (`--against`), with its p-value.
///
/// # Errors
/// A folder without a readable `summary.json`.
pub fn table(dirs: &[std::path::PathBuf]) -> Result<String> {
    let mut out = String::from(
        "| evaluation | planner | n | B | k | policy | episodes | SPL | SoftSPL | NA | SNA | success | distance to goal (m) | ΔSPL vs plain (p) | ΔNA vs plain (p) | planning s/step |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let cell = |m: &BTreeMap<String, Estimate>, k: &str, digits: usize| -> String {
        match m.get(k) {
            Some(e) if e.lo.is_finite() => {
                format!("{:.d$} [{:.d$}, {:.d$}]", e.mean, e.lo, e.hi, d = digits)
            }
            Some(e) => format!("{:.d$}", e.mean, d = digits),
            None => "–".into(),
        }
    };
    for dir in dirs {
        let s: NavSummary = avwm_nn::ckpt::read_json(&dir.join("summary.json"))?;
        let (n, b, k) = match &s.config.plan {
            Some(p) => (
                p.candidates.to_string(),
                p.beam.to_string(),
                p.depth.to_string(),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        let diff = |key: &str, digits: usize| -> String {
            s.against
                .as_ref()
                .and_then(|c| c.metrics.get(key))
                .map_or_else(
                    || "–".into(),
                    |p| format!("{:+.d$} (p = {:.3})", p.diff.mean, p.p_value, d = digits),
                )
        };
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        out.push_str(&format!(
            "| {name} | {} | {n} | {b} | {k} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3} |\n",
            s.planner,
            s.config.policy,
            s.episodes,
            cell(&s.metrics, "spl", 3),
            cell(&s.metrics, "soft_spl", 3),
            cell(&s.metrics, "na", 1),
            cell(&s.metrics, "sna", 3),
            cell(&s.metrics, "success", 3),
            cell(&s.metrics, "distance_to_goal", 2),
            diff("spl", 3),
            diff("na", 1),
            s.plan_seconds_per_step,
        ));
    }
    Ok(out)
}
