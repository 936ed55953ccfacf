//! Exact re-simulation from dataset frames, and counterfactual branches (DESIGN §4).
//!
//! A dataset written by `avwm-datagen` records in `info.json` (`generator.config`) everything
//! that defines it, and in each episode's header the scene seed and the episode seed. Since the
//! simulator is deterministic, replaying the recorded `action` column from the reset reproduces
//! every frame bit for bit; from any replayed state the simulator can then be snapshotted and run
//! on *other* actions: the true outcome of "what if I had turned left?".
//!
//! [`Resimulator`] does both:
//!
//! * [`Resimulator::replay`]: the replayed observations at chosen steps of an episode;
//! * [`Resimulator::branch_episode`]: for each anchor step `t` and each action sequence, the
//!   observations after each action of the sequence, starting from the state of frame `t`;
//!   [`Resimulator::branch_episode_with_anchors`] also returns the replayed anchor frames.
//!
//! # Semantics
//!
//! * **Replay** follows the generator's recipe: reset with `EpisodeSpec { seed: episode_seed,
//!   start: pose of step 0 }`, then the recorded actions. Every STOP is treated as a pause: after
//!   it the snapshot's `done` and `success` are cleared and restored, exactly as the generator
//!   does for non-terminal STOPs (a terminal STOP is always the last frame, so nothing recorded
//!   depends on it; clearing it lets one branch from the last frame too). Each replayed pose and
//!   geodesic distance is checked against the recorded one; a mismatch is an error naming the
//!   step (the dataset was made with another simulator version, or is not deterministic).
//! * **Branches** start from a snapshot of the replayed state at the anchor; every sequence is
//!   run from a fresh restore of that snapshot, so sequences never see each other's state. In a
//!   branch, STOP is a pause too, and the episode never ends: whenever the simulator reports the
//!   episode over (STOP, or [`avwm_core::MAX_EPISODE_STEPS`] actions), `done`/`success` are
//!   cleared before the next action.
//! * **Media** of an [`Outcome`] equal what the dataset would have stored: PNG is lossless, so the
//!   rendered image is returned as is; audio is passed through the dataset's WAV encoding
//!   (`config.audio`) and decoded again when that encoding is lossy (`pcm16`); `float32` is exact.
//!   A replayed outcome therefore compares with [`avwm_data::Frame`] with `==`.
//! * **Distances**: [`Outcome::distance_reduction_m`] of the k-th outcome of a sequence is the
//!   geodesic distance before the k-th action minus after it (the dataset's column). The
//!   reduction from the anchor to the k-th outcome is
//!   `anchor.geodesic_m - outcome.geodesic_m` (equal to the sum of the per-action reductions
//!   up to f32 rounding; prefer the difference).
//!
//! # Cost
//!
//! The simulator of the current scene is kept between calls (building one takes seconds), keyed
//! by the scene seed. Replay is sequential: the simulator renders and propagates sound at every
//! step (its API has no observation-free step), but no media are encoded or decoded for frames
//! that are not returned, and the dataset rows are read without media.

use crate::GenConfig;
use avwm_core::{Action, BinauralAudio, Env, EpisodeSpec, Observation, Pose, RgbImage, Seed};
use avwm_data::media::{decode_wav, encode_wav};
use avwm_data::{AudioEncoding, DataError, Dataset, RawRow};
use avwm_scene::SceneError;
use avwm_sim::{SimError, Simulator};
use std::path::PathBuf;
use std::sync::Arc;

/// Errors of re-simulation. Each names the dataset folder and, where there is one, the episode
/// and step.
#[derive(Debug, thiserror::Error)]
pub enum ResimError {
    /// `info.json` has no `generator.config`: the dataset was not made by `avwm-datagen`.
    #[error("{}: info.json has no generator.config; cannot re-simulate this dataset", dir.display())]
    NoConfig {
        /// The dataset folder.
        dir: PathBuf,
    },
    /// `generator.config` does not parse as this version's [`GenConfig`].
    #[error("{}: info.json generator.config is not an avwm-datagen config: {message}", dir.display())]
    BadConfig {
        /// The dataset folder.
        dir: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A call passed another dataset than the one the [`Resimulator`] was made for.
    #[error(
        "{}: the dataset's generator config differs from the one this Resimulator was made for",
        dir.display()
    )]
    OtherDataset {
        /// The dataset folder passed.
        dir: PathBuf,
    },
    /// The episode or its rows could not be read.
    #[error("{}: episode {episode}: {source}", dir.display())]
    Data {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// What went wrong.
        #[source]
        source: DataError,
    },
    /// An anchor step beyond the episode's last frame.
    #[error(
        "{}: episode {episode}: anchor step {step} is not in the episode (steps 0..{frames})",
        dir.display()
    )]
    Anchor {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// The anchor asked for.
        step: usize,
        /// Frames of the episode.
        frames: usize,
    },
    /// The episode's scene could not be generated from its seed.
    #[error("{}: episode {episode}: scene {scene_seed}: {source}", dir.display())]
    Scene {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// The scene seed recorded in the episode.
        scene_seed: u64,
        /// What went wrong.
        #[source]
        source: SceneError,
    },
    /// The scene seed generates another scene than the episode names (another generator version).
    #[error(
        "{}: episode {episode}: scene seed {scene_seed} generates scene {generated:?}, the episode \
         says {recorded:?}",
        dir.display()
    )]
    SceneMismatch {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// The scene seed recorded in the episode.
        scene_seed: u64,
        /// The name of the scene the seed generates.
        generated: String,
        /// The scene name recorded in the episode.
        recorded: String,
    },
    /// The simulator failed: building it (`at` names the scene), at a replayed step or in a
    /// branch (`at` names the step and action).
    #[error("{}: episode {episode}: {at}: simulator: {source}", dir.display())]
    Simulator {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// Where: `scene NAME`, `step T` or `branch at step T, action K (A)`.
        at: String,
        /// What went wrong.
        #[source]
        source: SimError,
    },
    /// A frame after the first has no recorded action.
    #[error("{}: episode {episode}: step {step} has no recorded action", dir.display())]
    NoAction {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// The step.
        step: usize,
    },
    /// The replayed pose or geodesic distance differs from the recorded one (the dataset was made
    /// with another simulator version, or is not deterministic).
    #[error(
        "{}: episode {episode}: replay diverged at step {step}: pose {pose:?}, geodesic \
         {geodesic_m} m; recorded pose {recorded_pose:?}, geodesic {recorded_geodesic_m} m",
        dir.display()
    )]
    Diverged {
        /// The dataset folder.
        dir: PathBuf,
        /// The episode.
        episode: u64,
        /// The first step that differs.
        step: usize,
        /// The replayed pose.
        pose: Pose,
        /// The replayed geodesic distance (m).
        geodesic_m: f32,
        /// The recorded pose.
        recorded_pose: Pose,
        /// The recorded geodesic distance (m).
        recorded_geodesic_m: f32,
    },
    /// The dataset's audio encoding failed on a simulated frame.
    #[error("audio encoding: {0}")]
    Audio(#[source] DataError),
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, ResimError>;

/// The simulator's observation and state after a replayed step or a branch action, with media as
/// the dataset stores them (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Agent pose.
    pub pose: Pose,
    /// Egocentric RGB image (identical to the PNG-decoded dataset image).
    pub rgb: RgbImage,
    /// Binaural step audio, after the dataset's WAV encoding and decoding.
    pub audio: BinauralAudio,
    /// Geodesic distance to the source (m).
    pub geodesic_m: f32,
    /// Geodesic distance before the action that led here minus after it (m); 0 at a reset.
    pub distance_reduction_m: f32,
}

/// The replayed anchor frames and the branches from them
/// ([`Resimulator::branch_episode_with_anchors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Branches {
    /// `anchors[i]`: the replayed frame at the `i`-th anchor step (equal to the dataset frame).
    pub anchors: Vec<Outcome>,
    /// `outcomes[i][j][k]`: after the `k`-th action of the `j`-th sequence from the `i`-th anchor.
    pub outcomes: Vec<Vec<Vec<Outcome>>>,
}

/// The dataset folder and episode that errors name.
struct Episode {
    dir: PathBuf,
    episode: u64,
}

impl Episode {
    fn data(&self, source: DataError) -> ResimError {
        ResimError::Data {
            dir: self.dir.clone(),
            episode: self.episode,
            source,
        }
    }

    fn simulator(&self, at: String, source: SimError) -> ResimError {
        ResimError::Simulator {
            dir: self.dir.clone(),
            episode: self.episode,
            at,
            source,
        }
    }
}

/// The simulator of one scene.
struct SceneSim {
    scene_seed: u64,
    scene_id: String,
    sim: Simulator,
}

/// Re-runs the simulator of a generated dataset: exact replay of episodes and branches from
/// any of their frames. See the [module docs](self).
pub struct Resimulator {
    config: GenConfig,
    /// `generator.config` as stored, to check that later calls pass the same dataset config.
    config_json: serde_json::Value,
    cached: Option<SceneSim>,
}

impl std::fmt::Debug for Resimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resimulator")
            .field("seed", &self.config.seed)
            .field(
                "cached_scene",
                &self.cached.as_ref().map(|c| c.scene_id.as_str()),
            )
            .finish_non_exhaustive()
    }
}

/// Clears the end-of-episode flags so that the next action can be taken (a pause).
fn keep_going(sim: &mut Simulator) {
    if sim.state().is_some_and(|s| s.done) {
        let mut snap = sim.snapshot();
        snap.done = false;
        snap.success = false;
        sim.restore(&snap);
    }
}

impl Resimulator {
    /// Reads the generator config of `ds` (`info.json` → `generator.config`).
    ///
    /// # Errors
    /// [`ResimError::NoConfig`] or [`ResimError::BadConfig`] naming the dataset folder if the
    /// config is missing or does not parse as an `avwm-datagen` config (a dataset not made by the
    /// generator, or by another version).
    pub fn new(ds: &Dataset) -> Result<Resimulator> {
        let dir = ds.dir().to_path_buf();
        let config_json = ds
            .info()
            .generator
            .get("config")
            .cloned()
            .ok_or_else(|| ResimError::NoConfig { dir: dir.clone() })?;
        let config: GenConfig =
            serde_json::from_value(config_json.clone()).map_err(|e| ResimError::BadConfig {
                dir,
                message: e.to_string(),
            })?;
        Ok(Resimulator {
            config,
            config_json,
            cached: None,
        })
    }

    /// The generator config of the dataset.
    pub fn config(&self) -> &GenConfig {
        &self.config
    }

    /// The replayed frames at `steps` of `episode` (any order, repeats allowed), in the order of
    /// `steps`; each equals the dataset frame at that step (pose, image, audio, geodesic and
    /// reduction).
    ///
    /// # Errors
    /// As [`Resimulator::branch_episode`].
    pub fn replay(&mut self, ds: &Dataset, episode: u64, steps: &[usize]) -> Result<Vec<Outcome>> {
        Ok(self.run(ds, episode, steps, &[])?.anchors)
    }

    /// Replays `episode` once and, at each anchor step (any order, repeats allowed), runs every
    /// action sequence from the anchor's state: `result[anchor][sequence][k]` is the outcome after
    /// the `k`-th action of the sequence. STOP in a sequence is a pause, and a sequence never
    /// ends the episode (see the [module docs](self)). An empty sequence gives an empty list.
    ///
    /// # Errors
    /// A [`ResimError`] naming the dataset folder and the episode: another dataset than the one
    /// given to [`Resimulator::new`], unknown episode or unreadable rows, anchor not a step of the
    /// episode, scene or simulator failure, or a replay that diverges from the recorded poses.
    pub fn branch_episode(
        &mut self,
        ds: &Dataset,
        episode: u64,
        anchors: &[usize],
        sequences: &[Vec<Action>],
    ) -> Result<Vec<Vec<Vec<Outcome>>>> {
        Ok(self.run(ds, episode, anchors, sequences)?.outcomes)
    }

    /// As [`Resimulator::branch_episode`], also returning the replayed frame at each anchor (for
    /// checking it against the dataset, or as the reference of distance reductions).
    ///
    /// # Errors
    /// As [`Resimulator::branch_episode`].
    pub fn branch_episode_with_anchors(
        &mut self,
        ds: &Dataset,
        episode: u64,
        anchors: &[usize],
        sequences: &[Vec<Action>],
    ) -> Result<Branches> {
        self.run(ds, episode, anchors, sequences)
    }

    /// The simulator of the scene `scene_seed`, built on first use.
    fn simulator(
        &mut self,
        at: &Episode,
        scene_seed: u64,
        scene_id: &str,
    ) -> Result<&mut Simulator> {
        if self
            .cached
            .as_ref()
            .is_none_or(|c| c.scene_seed != scene_seed)
        {
            self.cached = None; // free the old scene first
            let scene = avwm_scene::procedural::generate(scene_seed, &self.config.scene).map_err(
                |source| ResimError::Scene {
                    dir: at.dir.clone(),
                    episode: at.episode,
                    scene_seed,
                    source,
                },
            )?;
            if scene.name != scene_id {
                return Err(ResimError::SceneMismatch {
                    dir: at.dir.clone(),
                    episode: at.episode,
                    scene_seed,
                    generated: scene.name.clone(),
                    recorded: scene_id.to_string(),
                });
            }
            let name = scene.name.clone();
            let sim = Simulator::new(Arc::new(scene), &self.config.sim)
                .map_err(|e| at.simulator(format!("scene {name}"), e))?;
            self.cached = Some(SceneSim {
                scene_seed,
                scene_id: name,
                sim,
            });
        }
        match &mut self.cached {
            Some(c) => Ok(&mut c.sim),
            None => unreachable!("just built"),
        }
    }

    fn run(
        &mut self,
        ds: &Dataset,
        episode: u64,
        anchors: &[usize],
        sequences: &[Vec<Action>],
    ) -> Result<Branches> {
        let at = Episode {
            dir: ds.dir().to_path_buf(),
            episode,
        };
        if ds.info().generator.get("config") != Some(&self.config_json) {
            return Err(ResimError::OtherDataset { dir: at.dir });
        }
        let frames = ds.episode(episode).map_err(|e| at.data(e))?.entry.frames;
        if let Some(&step) = anchors.iter().find(|&&t| t >= frames) {
            return Err(ResimError::Anchor {
                dir: at.dir,
                episode,
                step,
                frames,
            });
        }
        let Some(&last) = anchors.iter().max() else {
            return Ok(Branches {
                anchors: Vec::new(),
                outcomes: Vec::new(),
            });
        };
        // Metadata only (header, actions, poses, geodesics), up to the last anchor.
        let rows: Vec<RawRow> = ds
            .raw_rows(episode, 0..last + 1, false)
            .map_err(|e| at.data(e))?;
        let header = &rows[0].header;
        let enc = self.config.audio;
        let sim = self.simulator(&at, header.scene_seed, &header.scene_id)?;
        let sim_err = |step: usize, e: SimError| at.simulator(format!("step {step}"), e);

        // Anchor indices in step order (ties: any order; they share one computation).
        let mut order: Vec<usize> = (0..anchors.len()).collect();
        order.sort_by_key(|&i| anchors[i]);
        let mut anchor_out: Vec<Option<Outcome>> = vec![None; anchors.len()];
        let mut branch_out: Vec<Vec<Vec<Outcome>>> = vec![Vec::new(); anchors.len()];
        let mut next = 0; // position in `order`
        for (t, row) in rows.iter().enumerate() {
            // Advance to step t.
            let (obs, red) = if t == 0 {
                let spec = EpisodeSpec {
                    seed: Seed(header.episode_seed),
                    start: row.frame.pose,
                };
                (sim.reset(&spec).map_err(|e| sim_err(0, e))?, 0.0)
            } else {
                let action = row.frame.action.ok_or_else(|| ResimError::NoAction {
                    dir: at.dir.clone(),
                    episode,
                    step: t,
                })?;
                let step = sim.step(action).map_err(|e| sim_err(t, e))?;
                keep_going(sim);
                (step.obs, step.info.distance_reduction_m)
            };
            // The simulator has a state after a reset or a step.
            let Some(state) = sim.state() else {
                unreachable!("no simulator state after a reset or a step")
            };
            let (pose, geodesic) = (state.pose, state.geodesic_m);
            if pose != row.frame.pose || geodesic != row.frame.geodesic_m {
                return Err(ResimError::Diverged {
                    dir: at.dir,
                    episode,
                    step: t,
                    pose,
                    geodesic_m: geodesic,
                    recorded_pose: row.frame.pose,
                    recorded_geodesic_m: row.frame.geodesic_m,
                });
            }
            if next >= order.len() || anchors[order[next]] != t {
                continue; // not an anchor: no media work at all
            }
            let at_anchor = outcome(enc, obs, pose, geodesic, red)?;
            let snap = sim.snapshot();
            let mut branches = Vec::with_capacity(sequences.len());
            for seq in sequences {
                sim.restore(&snap);
                let mut outs = Vec::with_capacity(seq.len());
                for (k, &a) in seq.iter().enumerate() {
                    let step = sim.step(a).map_err(|e| {
                        at.simulator(format!("branch at step {t}, action {k} ({a:?})"), e)
                    })?;
                    keep_going(sim);
                    let i = step.info;
                    outs.push(outcome(
                        enc,
                        step.obs,
                        i.pose,
                        i.geodesic_m,
                        i.distance_reduction_m,
                    )?);
                }
                branches.push(outs);
            }
            sim.restore(&snap);
            while next < order.len() && anchors[order[next]] == t {
                anchor_out[order[next]] = Some(at_anchor.clone());
                branch_out[order[next]] = branches.clone();
                next += 1;
            }
        }
        Ok(Branches {
            anchors: anchor_out.into_iter().flatten().collect(),
            outcomes: branch_out,
        })
    }
}

/// Converts an observation to an outcome with the dataset's media encoding `enc`.
fn outcome(
    enc: AudioEncoding,
    obs: Observation,
    pose: Pose,
    geodesic_m: f32,
    red: f32,
) -> Result<Outcome> {
    let audio = match enc {
        // Bit-exact: the WAV holds the samples' little-endian bytes.
        AudioEncoding::Float32 => obs.audio,
        AudioEncoding::Pcm16 => encode_wav(&obs.audio, AudioEncoding::Pcm16)
            .and_then(|w| decode_wav(&w))
            .map_err(ResimError::Audio)?,
    };
    Ok(Outcome {
        pose,
        rgb: obs.rgb,
        audio,
        geodesic_m,
        distance_reduction_m: red,
    })
}
