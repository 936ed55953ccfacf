//! The native half of the `avwm` Python package: avwm's simulator behind PyO3.
//!
//! The gymnasium classes live in Python (`python/avwm/`); this module gives them a simulator
//! (`Simulator`), a batch of simulators stepped in Rust threads with the GIL released
//! (`VecSimulator`), episode snapshots (`Snapshot`) and `record_episode`, the library
//! function behind `avwm sim record`. Observations cross the boundary as `bytes` (RGB `u8`
//! H×W×3, audio `f32` little-endian 2×2400, left ear first), which Python views with NumPy.
//!
//! Every failure is a Python exception (`ValueError` for bad arguments, scenes and configs,
//! `OSError` for files, `RuntimeError` for misuse such as stepping a finished episode).

use avwm_core::{
    Action, Env, EpisodeSpec, MAX_EPISODE_STEPS, Observation, Pose, STEP_SAMPLES, Seed, StepInfo,
};
use avwm_scene::Scene;
use avwm_scene::procedural::ProceduralConfig;
use avwm_sim::policy::PolicyKind;
use avwm_sim::record::{RecordRequest, record};
use avwm_sim::{EpisodeState, SimConfig, SimError, Simulator};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A batch of observations: RGB bytes, audio bytes and one info dict per environment.
type PyBatch<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, Vec<Py<PyAny>>);
/// One transition: RGB bytes, audio bytes, reward and the info dict.
type PyTransition<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    f32,
    Bound<'py, PyDict>,
);

/// One simulator step: RGB bytes, audio bytes, reward, done and the info dict.
type PyStep<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    f32,
    bool,
    Bound<'py, PyDict>,
);

fn value_err(msg: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(msg.to_string())
}

fn sim_err(e: SimError) -> PyErr {
    match e {
        SimError::BadStart { .. } => value_err(e),
        e => PyRuntimeError::new_err(e.to_string()),
    }
}

/// The simulator settings: the TOML file if given, else the preset's.
fn resolve_config(preset: &str, config: Option<&Path>) -> PyResult<SimConfig> {
    match config {
        None => SimConfig::preset(preset).ok_or_else(|| {
            value_err(format!(
                "unknown preset {preset:?}: use \"tiny\" or \"default\""
            ))
        }),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| PyOSError::new_err(format!("reading {}: {e}", path.display())))?;
            toml::from_str(&text).map_err(|e| value_err(format!("parsing {}: {e}", path.display())))
        }
    }
}

/// A scene file, or the procedural scene of `seed` with the preset's settings.
fn resolve_scene(preset: &str, scene_seed: u64, scene_file: Option<&Path>) -> PyResult<Arc<Scene>> {
    let scene = match scene_file {
        Some(path) => {
            if !path.exists() {
                return Err(PyOSError::new_err(format!(
                    "scene file {} does not exist",
                    path.display()
                )));
            }
            avwm_scene::file::load_scene_file(path)
                .map_err(|e| value_err(format!("loading scene {}: {e}", path.display())))?
        }
        None => {
            let cfg = ProceduralConfig::preset(preset).ok_or_else(|| {
                value_err(format!(
                    "unknown preset {preset:?}: use \"tiny\" or \"default\""
                ))
            })?;
            avwm_scene::procedural::generate(scene_seed, &cfg)
                .map_err(|e| value_err(format!("generating procedural scene {scene_seed}: {e}")))?
        }
    };
    Ok(Arc::new(scene))
}

fn build_simulator(
    preset: &str,
    scene_seed: u64,
    scene_file: Option<&Path>,
    config: Option<&Path>,
) -> PyResult<Simulator> {
    let cfg = resolve_config(preset, config)?;
    let scene = resolve_scene(preset, scene_seed, scene_file)?;
    Simulator::new(scene, &cfg).map_err(|e| value_err(format!("building the simulator: {e}")))
}

fn action_from(a: i64) -> PyResult<Action> {
    u8::try_from(a)
        .ok()
        .and_then(Action::from_id)
        .ok_or_else(|| {
            value_err(format!(
                "action {a} is not one of 0 (stop), 1 (forward), 2 (left), 3 (right)"
            ))
        })
}

/// The spec `avwm sim record` uses for episode seed `seed`: the given start, or the random
/// navigable start drawn from the seed's `start` sub-seed.
fn episode_spec(
    sim: &Simulator,
    seed: u64,
    start: Option<(f32, f32, f32)>,
) -> PyResult<EpisodeSpec> {
    let seed = Seed(seed);
    let start = match start {
        Some((x, y, yaw)) => {
            if !(x.is_finite() && y.is_finite() && yaw.is_finite()) {
                return Err(value_err(format!("start ({x}, {y}, {yaw}) must be finite")));
            }
            Pose::new(x, y, yaw)
        }
        None => sim.random_start(seed.derive("start", 0)),
    };
    Ok(EpisodeSpec { seed, start })
}

fn append_audio(obs: &Observation, out: &mut Vec<u8>) {
    for x in obs.audio.left.iter().chain(&obs.audio.right) {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// What a Python `info` dict holds after a reset or a step.
#[derive(Debug, Clone, Copy)]
struct Info {
    pose: Pose,
    geodesic_m: f32,
    start_geodesic_m: f32,
    walked_m: f32,
    distance_reduction_m: f32,
    collided: bool,
    success: bool,
    steps: usize,
    done: bool,
}

impl Info {
    fn at_reset(state: &EpisodeState) -> Info {
        Info {
            pose: state.pose,
            geodesic_m: state.geodesic_m,
            start_geodesic_m: state.geodesic_m,
            walked_m: 0.0,
            distance_reduction_m: 0.0,
            collided: false,
            success: false,
            steps: 0,
            done: false,
        }
    }

    fn after_step(start_geodesic_m: f32, state: &EpisodeState, step: &StepInfo) -> Info {
        Info {
            pose: step.pose,
            geodesic_m: step.geodesic_m,
            start_geodesic_m,
            walked_m: state.walked_m,
            distance_reduction_m: step.distance_reduction_m,
            collided: step.collided,
            success: step.success,
            steps: step.steps,
            done: state.done,
        }
    }

    /// Success weighted by path length (SoundSpaces): 0 unless the episode succeeded.
    fn spl(&self) -> f32 {
        if self.success {
            self.start_geodesic_m / self.start_geodesic_m.max(self.walked_m)
        } else {
            0.0
        }
    }

    fn dict<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("pose", (self.pose.x, self.pose.y, self.pose.yaw))?;
        d.set_item("geodesic_distance", self.geodesic_m)?;
        d.set_item("start_geodesic_distance", self.start_geodesic_m)?;
        d.set_item("path_length", self.walked_m)?;
        d.set_item("distance_reduction", self.distance_reduction_m)?;
        d.set_item("collided", self.collided)?;
        d.set_item("success", self.success)?;
        d.set_item("steps", self.steps)?;
        if self.done {
            d.set_item("spl", self.spl())?;
        }
        Ok(d)
    }
}

/// One environment's episode bookkeeping around a [`Simulator`].
struct Episode {
    sim: Simulator,
    start_geodesic_m: f32,
}

/// What one reset or step produced, before it becomes Python objects.
struct Transition {
    obs: Observation,
    reward: f32,
    info: Info,
}

impl Episode {
    fn reset(&mut self, spec: &EpisodeSpec) -> Result<Transition, SimError> {
        let obs = self.sim.reset(spec)?;
        let state = self.sim.state().ok_or(SimError::NotReset)?;
        self.start_geodesic_m = state.geodesic_m;
        Ok(Transition {
            obs,
            reward: 0.0,
            info: Info::at_reset(state),
        })
    }

    fn step(&mut self, action: Action) -> Result<Transition, SimError> {
        let step = self.sim.step(action)?;
        let state = self.sim.state().ok_or(SimError::NotReset)?;
        Ok(Transition {
            info: Info::after_step(self.start_geodesic_m, state, &step.info),
            obs: step.obs,
            reward: step.reward,
        })
    }
}

/// One avwm simulator: a scene, a camera, the acoustics and an AudioGoal episode.
///
/// `Simulator(preset="default", scene_seed=0, scene_file=None, config=None)`
#[pyclass(module = "avwm._native", name = "Simulator")]
struct PySimulator {
    ep: Episode,
}

/// A complete episode state from `Simulator.snapshot()`, for `Simulator.restore()`.
#[pyclass(module = "avwm._native", name = "Snapshot", frozen)]
struct PySnapshot {
    state: EpisodeState,
    start_geodesic_m: f32,
    scene: String,
}

#[pymethods]
impl PySnapshot {
    /// Actions taken before the snapshot.
    #[getter]
    fn steps(&self) -> usize {
        self.state.steps
    }

    /// The pose `(x, y, yaw)` at the snapshot (m, m, rad).
    #[getter]
    fn pose(&self) -> (f32, f32, f32) {
        (self.state.pose.x, self.state.pose.y, self.state.pose.yaw)
    }
}

#[pymethods]
impl PySimulator {
    #[new]
    #[pyo3(signature = (preset = "default", scene_seed = 0, scene_file = None, config = None))]
    fn new(
        py: Python<'_>,
        preset: &str,
        scene_seed: u64,
        scene_file: Option<PathBuf>,
        config: Option<PathBuf>,
    ) -> PyResult<Self> {
        let preset = preset.to_owned();
        let sim = py.detach(|| {
            build_simulator(
                &preset,
                scene_seed,
                scene_file.as_deref(),
                config.as_deref(),
            )
        })?;
        Ok(PySimulator {
            ep: Episode {
                sim,
                start_geodesic_m: 0.0,
            },
        })
    }

    /// Image height and width (px).
    #[getter]
    fn image_shape(&self) -> (u32, u32) {
        let c = &self.ep.sim.config().camera;
        (c.height, c.width)
    }

    /// Samples per ear and step.
    #[getter]
    fn audio_samples(&self) -> usize {
        STEP_SAMPLES
    }

    /// The action cap of an episode.
    #[getter]
    fn max_steps(&self) -> usize {
        MAX_EPISODE_STEPS
    }

    /// The scene's name.
    #[getter]
    fn scene_name(&self) -> String {
        self.ep.sim.scene().name.clone()
    }

    /// The source position `(x, y)` (m).
    #[getter]
    fn source(&self) -> (f32, f32) {
        let s = self.ep.sim.scene().source.position;
        (s.x, s.y)
    }

    /// The resolved simulator settings as TOML (what `avwm sim record` writes as config.toml).
    fn config_toml(&self) -> PyResult<String> {
        toml::to_string(self.ep.sim.config()).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Geodesic distance (m) from `(x, y)` to the source; `inf` where it cannot be reached.
    fn geodesic_distance(&self, x: f32, y: f32) -> f32 {
        self.ep
            .sim
            .nav()
            .geodesic_to_source(avwm_core::Pose::new(x, y, 0.0).xy())
    }

    /// Starts episode `seed` at `start = (x, y, yaw_rad)`, or at the seed's random navigable
    /// start as `avwm sim record --seed` does. Returns `(rgb, audio, info)`.
    #[pyo3(signature = (seed, start = None))]
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: u64,
        start: Option<(f32, f32, f32)>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyDict>)> {
        let spec = episode_spec(&self.ep.sim, seed, start)?;
        let ep = &mut self.ep;
        let t = py.detach(|| ep.reset(&spec)).map_err(sim_err)?;
        let (rgb, audio, _, info) = transition_to_py(py, &t)?;
        Ok((rgb, audio, info))
    }

    /// Applies action 0 (stop), 1 (forward), 2 (turn left) or 3 (turn right). Returns
    /// `(rgb, audio, reward, done, info)`; `done` after STOP or at the action cap.
    fn step<'py>(&mut self, py: Python<'py>, action: i64) -> PyResult<PyStep<'py>> {
        let action = action_from(action)?;
        let ep = &mut self.ep;
        let t = py.detach(|| ep.step(action)).map_err(sim_err)?;
        let (rgb, audio, reward, info) = transition_to_py(py, &t)?;
        Ok((rgb, audio, reward, t.info.done, info))
    }

    /// The complete episode state, to return to with `restore`.
    fn snapshot(&self) -> PyResult<PySnapshot> {
        let state = self
            .ep
            .sim
            .state()
            .cloned()
            .ok_or_else(|| PyRuntimeError::new_err("snapshot() requires a reset() first"))?;
        Ok(PySnapshot {
            state,
            start_geodesic_m: self.ep.start_geodesic_m,
            scene: self.ep.sim.scene().name.clone(),
        })
    }

    /// Returns to a snapshot of this simulator's scene: the steps that follow equal those that
    /// followed the snapshot, bit for bit.
    fn restore(&mut self, snapshot: &PySnapshot) -> PyResult<()> {
        let scene = &self.ep.sim.scene().name;
        if &snapshot.scene != scene {
            return Err(value_err(format!(
                "the snapshot belongs to scene {:?}, this simulator holds {scene:?}",
                snapshot.scene
            )));
        }
        self.ep.sim.restore(&snapshot.state);
        self.ep.start_geodesic_m = snapshot.start_geodesic_m;
        Ok(())
    }

    /// Runs `actions` in Rust without building any Python object: reset to episode `seed`,
    /// step, and on an episode's end reset to the next episode seed (`seed + 1`, …). The
    /// reference for the binding's throughput benchmark. Returns the observations produced.
    fn run_actions(&mut self, py: Python<'_>, seed: u64, actions: Vec<i64>) -> PyResult<usize> {
        let actions: Vec<Action> = actions
            .into_iter()
            .map(action_from)
            .collect::<PyResult<_>>()?;
        let mut spec = episode_spec(&self.ep.sim, seed, None)?;
        let ep = &mut self.ep;
        py.detach(|| -> Result<usize, SimError> {
            let mut n = 1;
            let mut next = seed;
            ep.reset(&spec)?;
            for a in actions {
                n += 1;
                if ep.step(a)?.info.done {
                    next += 1;
                    spec = EpisodeSpec {
                        seed: Seed(next),
                        start: ep.sim.random_start(Seed(next).derive("start", 0)),
                    };
                    ep.reset(&spec)?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .map_err(sim_err)
    }
}

fn transition_to_py<'py>(py: Python<'py>, t: &Transition) -> PyResult<PyTransition<'py>> {
    let mut audio = Vec::with_capacity(2 * STEP_SAMPLES * 4);
    append_audio(&t.obs, &mut audio);
    Ok((
        PyBytes::new(py, &t.obs.rgb.data),
        PyBytes::new(py, &audio),
        t.reward,
        t.info.dict(py)?,
    ))
}

/// N simulators stepped together in Rust threads with the GIL released, with gymnasium's
/// next-step autoreset: the step after an episode ends resets that environment (reward 0) and
/// returns its first observation.
///
/// `VecSimulator(scene_seeds, preset="default", config=None, threads=0)`; `threads = 0` uses
/// one thread per core.
#[pyclass(module = "avwm._native", name = "VecSimulator")]
struct PyVecSimulator {
    eps: Vec<Episode>,
    /// Episode seed of each environment's current episode and how many it has run.
    seeds: Vec<(u64, u64)>,
    needs_reset: Vec<bool>,
    /// `reset` was called.
    started: bool,
    pool: rayon::ThreadPool,
}

/// The batch of one vector reset or step, before it becomes Python objects.
struct Batch {
    rgb: Vec<u8>,
    audio: Vec<u8>,
    transitions: Vec<(f32, bool, Info)>,
}

impl PyVecSimulator {
    fn collect(results: Vec<Result<(Transition, bool), SimError>>) -> Result<Batch, SimError> {
        let mut b = Batch {
            rgb: Vec::new(),
            audio: Vec::with_capacity(results.len() * 2 * STEP_SAMPLES * 4),
            transitions: Vec::with_capacity(results.len()),
        };
        for r in results {
            let (t, was_reset) = r?;
            b.rgb.extend_from_slice(&t.obs.rgb.data);
            append_audio(&t.obs, &mut b.audio);
            b.transitions.push((t.reward, was_reset, t.info));
        }
        Ok(b)
    }

    fn batch_to_py<'py>(py: Python<'py>, b: &Batch) -> PyResult<PyBatch<'py>> {
        let mut out = Vec::with_capacity(b.transitions.len());
        for (reward, was_reset, info) in &b.transitions {
            let d = info.dict(py)?;
            d.set_item("reward", *reward)?;
            d.set_item("done", info.done)?;
            d.set_item("was_reset", *was_reset)?;
            out.push(d.into_any().unbind());
        }
        Ok((PyBytes::new(py, &b.rgb), PyBytes::new(py, &b.audio), out))
    }
}

#[pymethods]
impl PyVecSimulator {
    #[new]
    #[pyo3(signature = (scene_seeds, preset = "default", config = None, threads = 0))]
    fn new(
        py: Python<'_>,
        scene_seeds: Vec<u64>,
        preset: &str,
        config: Option<PathBuf>,
        threads: usize,
    ) -> PyResult<Self> {
        if scene_seeds.is_empty() {
            return Err(value_err(
                "a vector simulator needs at least one scene seed",
            ));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("starting {threads} threads: {e}")))?;
        let preset = preset.to_owned();
        let cfg = resolve_config(&preset, config.as_deref())?;
        let eps = py.detach(|| {
            pool.install(|| {
                scene_seeds
                    .par_iter()
                    .map(|&s| -> PyResult<Episode> {
                        let scene = resolve_scene(&preset, s, None)?;
                        let sim = Simulator::new(scene, &cfg)
                            .map_err(|e| value_err(format!("building the simulator: {e}")))?;
                        Ok(Episode {
                            sim,
                            start_geodesic_m: 0.0,
                        })
                    })
                    .collect::<PyResult<Vec<_>>>()
            })
        })?;
        let n = eps.len();
        Ok(PyVecSimulator {
            eps,
            seeds: vec![(0, 0); n],
            needs_reset: vec![true; n],
            started: false,
            pool,
        })
    }

    /// Number of environments.
    #[getter]
    fn num_envs(&self) -> usize {
        self.eps.len()
    }

    /// Image height and width (px).
    #[getter]
    fn image_shape(&self) -> (u32, u32) {
        let c = &self.eps[0].sim.config().camera;
        (c.height, c.width)
    }

    /// Resets every environment: environment `i` starts episode `seeds[i]` (its random start, as
    /// `Simulator.reset(seeds[i])`). Returns `(rgb, audio, infos)`.
    fn reset<'py>(&mut self, py: Python<'py>, seeds: Vec<u64>) -> PyResult<PyBatch<'py>> {
        if seeds.len() != self.eps.len() {
            return Err(value_err(format!(
                "{} seeds for {} environments",
                seeds.len(),
                self.eps.len()
            )));
        }
        let specs = self
            .eps
            .iter()
            .zip(&seeds)
            .map(|(ep, &s)| episode_spec(&ep.sim, s, None))
            .collect::<PyResult<Vec<_>>>()?;
        let (pool, eps) = (&self.pool, &mut self.eps);
        let batch = py
            .detach(|| {
                let r = pool.install(|| {
                    eps.par_iter_mut()
                        .zip(specs.par_iter())
                        .map(|(ep, spec)| ep.reset(spec).map(|t| (t, true)))
                        .collect::<Vec<_>>()
                });
                Self::collect(r)
            })
            .map_err(sim_err)?;
        self.seeds = seeds.iter().map(|&s| (s, 0)).collect();
        self.needs_reset.iter_mut().for_each(|r| *r = false);
        self.started = true;
        Self::batch_to_py(py, &batch)
    }

    /// Steps every environment with its action (ignored for an environment that resets this
    /// step). Returns `(rgb, audio, infos)`; each info holds `reward`, `done` and `was_reset`.
    fn step<'py>(&mut self, py: Python<'py>, actions: Vec<i64>) -> PyResult<PyBatch<'py>> {
        if actions.len() != self.eps.len() {
            return Err(value_err(format!(
                "{} actions for {} environments",
                actions.len(),
                self.eps.len()
            )));
        }
        let actions: Vec<Action> = actions
            .into_iter()
            .map(action_from)
            .collect::<PyResult<_>>()?;
        if !self.started {
            return Err(PyRuntimeError::new_err("step() called before reset()"));
        }
        // Next episode seeds of the environments that reset now: a sub-seed of the first
        // episode's seed per later episode.
        let mut specs = Vec::with_capacity(self.eps.len());
        for i in 0..self.eps.len() {
            specs.push(if self.needs_reset[i] {
                let (base, k) = &mut self.seeds[i];
                *k += 1;
                let s = Seed(*base).derive("episode", *k);
                Some(EpisodeSpec {
                    seed: s,
                    start: self.eps[i].sim.random_start(s.derive("start", 0)),
                })
            } else {
                None
            });
        }
        let (pool, eps) = (&self.pool, &mut self.eps);
        let batch = py
            .detach(|| {
                let r = pool.install(|| {
                    eps.par_iter_mut()
                        .zip(specs.par_iter().zip(actions.par_iter()))
                        .map(|(ep, (spec, &a))| match spec {
                            Some(spec) => ep.reset(spec).map(|t| (t, true)),
                            None => ep.step(a).map(|t| (t, false)),
                        })
                        .collect::<Vec<_>>()
                });
                Self::collect(r)
            })
            .map_err(sim_err)?;
        for (r, (_, was_reset, info)) in self.needs_reset.iter_mut().zip(&batch.transitions) {
            *r = !was_reset && info.done;
        }
        Self::batch_to_py(py, &batch)
    }
}

/// Records one episode exactly as `avwm sim record` does (PNG frames, WAV, JSONL log, map,
/// summary.json, config.toml) and returns the summary as JSON.
#[pyfunction]
#[allow(
    clippy::too_many_arguments,
    reason = "Python keyword arguments, each with a default"
)]
#[pyo3(signature = (out, preset = "default", scene_seed = 0, seed = 0, policy = "shortest-path", steps = 300, config = None))]
fn record_episode(
    py: Python<'_>,
    out: PathBuf,
    preset: &str,
    scene_seed: u64,
    seed: u64,
    policy: &str,
    steps: usize,
    config: Option<PathBuf>,
) -> PyResult<String> {
    let policy = PolicyKind::parse(policy).map_err(value_err)?;
    let preset = preset.to_owned();
    py.detach(|| {
        let mut sim = build_simulator(&preset, scene_seed, None, config.as_deref())?;
        std::fs::create_dir_all(&out)
            .map_err(|e| PyOSError::new_err(format!("creating {}: {e}", out.display())))?;
        let text =
            toml::to_string(sim.config()).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        avwm_core::write_atomic(&out.join("config.toml"), text.as_bytes())
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        let req = RecordRequest {
            policy,
            steps,
            seed: Seed(seed),
            start: None,
        };
        let summary = record(&mut sim, &req, &out, &|_| {})
            .map_err(|e| PyRuntimeError::new_err(format!("recording to {}: {e}", out.display())))?;
        serde_json::to_string(&summary).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    })
}

/// The native module `avwm._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimulator>()?;
    m.add_class::<PyVecSimulator>()?;
    m.add_class::<PySnapshot>()?;
    m.add_function(wrap_pyfunction!(record_episode, m)?)?;
    m.add("STEP_SAMPLES", STEP_SAMPLES)?;
    m.add("MAX_EPISODE_STEPS", MAX_EPISODE_STEPS)?;
    m.add("SAMPLE_RATE_HZ", avwm_core::SAMPLE_RATE_HZ)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
