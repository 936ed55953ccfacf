//! The simulator proper.

use crate::config::{HrtfChoice, SimConfig, SourceChoice};
use avwm_audio::binaural::{BinauralRir, Hrtf, render_binaural};
use avwm_audio::dsp::StepAudio;
use avwm_audio::propagation::AcousticScene;
use avwm_audio::source::SourceSignal;
use avwm_audio::{AcousticResponse, AudioError};
use avwm_core::{
    Action, EAR_HEIGHT_M, Env, EpisodeSpec, MAX_EPISODE_STEPS, Observation, Pose, SLACK_REWARD,
    STEP_SAMPLES, SUCCESS_DISTANCE_M, SUCCESS_REWARD, Seed, Step, StepInfo,
};
use avwm_geom::{Bvh, Vec3};
use avwm_nav::{NavError, NavGrid};
use avwm_render::{RenderError, Renderer};
use avwm_scene::Scene;
use rand::Rng;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Building the navigation grid failed.
    #[error("navigation: {0}")]
    Nav(#[from] NavError),
    /// Building the renderer failed.
    #[error("renderer: {0}")]
    Render(#[from] RenderError),
    /// Acoustics, HRTF or source signal failed.
    #[error("audio: {0}")]
    Audio(#[from] AudioError),
    /// A thread pool could not be started (benchmarks).
    #[error("could not start a thread pool: {0}")]
    Threads(String),
    /// `step` was called before `reset`.
    #[error("step() called before reset()")]
    NotReset,
    /// `step` was called after the episode ended.
    #[error(
        "the episode is over (STOP was called or {MAX_EPISODE_STEPS} actions were taken); call reset()"
    )]
    EpisodeOver,
    /// The start pose is not navigable or cannot reach the source.
    #[error("start pose ({x:.2}, {y:.2}) is not navigable or cannot reach the source")]
    BadStart {
        /// x (m).
        x: f32,
        /// y (m).
        y: f32,
    },
}

/// Accumulated wall time per stage (s), for benchmarks. Reset with [`Simulator::take_timings`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StepTimings {
    /// Observations produced (resets + steps).
    pub observations: u64,
    /// Motion, collision and geodesic lookups.
    pub nav_s: f64,
    /// Camera.
    pub render_s: f64,
    /// Propagation (paths + late histogram) for the listener position.
    pub propagation_s: f64,
    /// Binaural RIR synthesis.
    pub binaural_s: f64,
    /// Convolution of the looping source with the RIRs and crossfade.
    pub step_audio_s: f64,
}

/// The complete dynamic state of an episode: a [`Simulator`] snapshot.
#[derive(Debug, Clone)]
pub struct EpisodeState {
    /// The episode.
    pub spec: EpisodeSpec,
    /// Current pose.
    pub pose: Pose,
    /// Actions taken so far.
    pub steps: usize,
    /// Geodesic distance at the current pose (m).
    pub geodesic_m: f32,
    /// Path length walked so far (m), for SPL.
    pub walked_m: f32,
    /// The episode has ended.
    pub done: bool,
    /// Whether it ended in success.
    pub success: bool,
    /// Audio stream state (loop index, previous RIR).
    pub audio: StepAudio,
}

/// The audio-visual simulator for one scene.
pub struct Simulator {
    scene: Arc<Scene>,
    nav: NavGrid,
    renderer: Renderer,
    acoustics: AcousticScene,
    hrtf: Hrtf,
    source: SourceSignal,
    cfg: SimConfig,
    state: Option<EpisodeState>,
    /// Last propagation result, keyed by the exact listener position (turning in place reuses it).
    cache: Option<([u32; 2], Arc<AcousticResponse>)>,
    /// Disable the position cache (benchmarks measure fresh propagation per step).
    pub cache_enabled: bool,
    timings: StepTimings,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("scene", &self.scene.name)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Builds navigation, camera and acoustics for `scene`.
    ///
    /// # Errors
    /// A configuration out of range ([`SimConfig::validate`]); navigation (no free space),
    /// renderer, HRTF or source-file problems.
    pub fn new(scene: Arc<Scene>, cfg: &SimConfig) -> Result<Simulator, SimError> {
        cfg.validate()?;
        let bvh = Arc::new(Bvh::build(&scene.mesh));
        let nav = NavGrid::build(&scene, &cfg.nav)?;
        let renderer = Renderer::new(&scene, bvh.clone(), &cfg.camera)?;
        let acoustics = AcousticScene::new(&scene, bvh, &cfg.acoustics, Seed(cfg.acoustic_seed))?;
        let hrtf = match &cfg.hrtf {
            HrtfChoice::Kemar => Hrtf::kemar_default()?,
            HrtfChoice::Sofa { path } => Hrtf::load_or_fallback(Some(path)),
            HrtfChoice::SphericalHead => Hrtf::spherical_head(avwm_core::SAMPLE_RATE_HZ),
        };
        let source = match &cfg.source {
            SourceChoice::Ringtone => SourceSignal::ringtone(avwm_core::SAMPLE_RATE_HZ),
            SourceChoice::Wav { path } => SourceSignal::from_wav(path)?,
        }
        .with_rms_dbfs(cfg.source_level_dbfs)?;
        Ok(Simulator {
            scene,
            nav,
            renderer,
            acoustics,
            hrtf,
            source,
            cfg: cfg.clone(),
            state: None,
            cache: None,
            cache_enabled: true,
            timings: StepTimings::default(),
        })
    }

    /// The scene.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The navigation grid (geodesics, paths, random points).
    pub fn nav(&self) -> &NavGrid {
        &self.nav
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The current episode state, if `reset` was called.
    pub fn state(&self) -> Option<&EpisodeState> {
        self.state.as_ref()
    }

    /// Returns the accumulated timings and zeroes them.
    pub fn take_timings(&mut self) -> StepTimings {
        std::mem::take(&mut self.timings)
    }

    /// A random navigable start pose that can reach the source, drawn from `seed`.
    pub fn random_start(&self, seed: Seed) -> Pose {
        let mut rng = seed.rng();
        let p = self.nav.random_navigable_point(&mut rng);
        Pose::new(
            p.x,
            p.y,
            rng.random_range(-std::f32::consts::PI..std::f32::consts::PI),
        )
    }

    /// Listener (ear) position for a pose.
    fn ear(&self, pose: Pose) -> Vec3 {
        Vec3::new(pose.x, pose.y, self.scene.floor_z + EAR_HEIGHT_M)
    }

    /// Propagation for the pose's position, reusing the last result when the agent only turned.
    fn response(&mut self, pose: Pose) -> Arc<AcousticResponse> {
        let key = [pose.x.to_bits(), pose.y.to_bits()];
        if self.cache_enabled
            && let Some((k, r)) = &self.cache
            && *k == key
        {
            return r.clone();
        }
        let t = Instant::now();
        let seed = Seed(self.cfg.acoustic_seed).derive("response", 0);
        let r = Arc::new(self.acoustics.response(self.ear(pose), seed));
        self.timings.propagation_s += t.elapsed().as_secs_f64();
        self.cache = Some((key, r.clone()));
        r
    }

    /// The binaural RIR at a pose (what the step audio is convolved with).
    pub fn rir_at(&mut self, pose: Pose, tail_seed: Seed) -> BinauralRir {
        let resp = self.response(pose);
        let t = Instant::now();
        let rir = render_binaural(&resp, pose.yaw, &self.hrtf, &self.cfg.binaural, tail_seed);
        self.timings.binaural_s += t.elapsed().as_secs_f64();
        rir
    }

    fn observe(&mut self, advance: bool) -> Result<Observation, SimError> {
        let (pose, spec) = match &self.state {
            Some(s) => (s.pose, s.spec),
            None => return Err(SimError::NotReset),
        };
        let t = Instant::now();
        let rgb = self.renderer.render(pose);
        self.timings.render_s += t.elapsed().as_secs_f64();
        let rir = self.rir_at(pose, spec.seed.derive("tail", 0));
        let t = Instant::now();
        let state = self.state.as_mut().ok_or(SimError::NotReset)?;
        let audio = state.audio.render(&rir, advance);
        self.timings.step_audio_s += t.elapsed().as_secs_f64();
        self.timings.observations += 1;
        debug_assert_eq!(audio.left.len(), STEP_SAMPLES);
        Ok(Observation { rgb, audio })
    }
}

impl Env for Simulator {
    type Snapshot = EpisodeState;
    type Error = SimError;

    fn reset(&mut self, spec: &EpisodeSpec) -> Result<Observation, SimError> {
        let start = Pose::new(spec.start.x, spec.start.y, spec.start.yaw);
        let d = self.nav.geodesic_to_source(start.xy());
        if !d.is_finite() {
            return Err(SimError::BadStart {
                x: start.x,
                y: start.y,
            });
        }
        // SoundSpaces draws the loop start uniformly in [0, N); so do we, from the episode seed.
        let offset = StepAudio::random_start_index(spec.seed.derive("audio_start", 0));
        self.state = Some(EpisodeState {
            spec: *spec,
            pose: start,
            steps: 0,
            geodesic_m: d,
            walked_m: 0.0,
            done: false,
            success: false,
            audio: StepAudio::new(self.source.clone(), offset),
        });
        self.observe(false)
    }

    fn step(&mut self, action: Action) -> Result<Step, SimError> {
        let t = Instant::now();
        let nav = &self.nav;
        let state = self.state.as_mut().ok_or(SimError::NotReset)?;
        if state.done {
            return Err(SimError::EpisodeOver);
        }
        let motion = nav.apply_action(state.pose, action);
        let geodesic = nav.geodesic_to_source(motion.pose.xy());
        let reduction = state.geodesic_m - geodesic;
        let success = action == Action::Stop && geodesic < SUCCESS_DISTANCE_M;
        let reward = SLACK_REWARD + reduction + if success { SUCCESS_REWARD } else { 0.0 };
        state.walked_m += motion.moved_m;
        state.pose = motion.pose;
        state.steps += 1;
        state.geodesic_m = geodesic;
        state.success = success;
        state.done = action == Action::Stop || state.steps >= MAX_EPISODE_STEPS;
        let info = StepInfo {
            pose: motion.pose,
            geodesic_m: geodesic,
            distance_reduction_m: reduction,
            success,
            collided: motion.collided,
            steps: state.steps,
        };
        let done = state.done;
        self.timings.nav_s += t.elapsed().as_secs_f64();
        // STOP re-renders at the same pose and does not advance the source (SoundSpaces).
        let obs = self.observe(action != Action::Stop)?;
        Ok(Step {
            obs,
            reward,
            done,
            info,
        })
    }

    fn snapshot(&self) -> EpisodeState {
        self.state
            .clone()
            .expect("snapshot() requires a reset() first")
    }

    fn restore(&mut self, snapshot: &EpisodeState) {
        self.state = Some(snapshot.clone());
    }
}
