//! Shared vocabulary of avwm: poses, actions, observations, the [`Env`] trait and seeds.
//!
//! Every other crate depends on this one; it depends on nothing of ours. It holds no simulation
//! or learning code, only the types that cross crate boundaries and the constants the paper fixes.
//!
//! Coordinate frame used everywhere: metres, right-handed, **z up**, the floor of a scene at
//! `z = floor_z` (0 for procedural scenes). An agent's heading `yaw` is in radians, measured
//! counter-clockwise from +x when seen from above, so turning left increases `yaw`.
#![warn(missing_docs)]

mod env;
pub mod fs;
mod png;
mod seed;
mod types;

pub use env::{Env, EpisodeSpec, Step, StepInfo};
pub use fs::{IoError, write_atomic};
pub use png::{PngError, encode_png};
pub use seed::Seed;
pub use types::{Action, BinauralAudio, Observation, Pose, RgbImage, wrap_angle};

pub use glam;

/// Forward step length of the `Forward` action (m); fixed by the paper.
pub const FORWARD_STEP_M: f32 = 0.15;
/// Turn angle of `TurnLeft` / `TurnRight` (degrees); fixed by the paper.
pub const TURN_DEG: f32 = 10.0;
/// Audio sample rate (Hz); fixed by the paper.
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// Duration of one step (s): the audio of one observation covers this much time.
pub const STEP_S: f32 = 0.15;
/// Audio samples per channel per step (0.15 s at 16 kHz).
pub const STEP_SAMPLES: usize = 2400;
/// Agent radius for collision and navigability (m), as habitat's default agent.
pub const AGENT_RADIUS_M: f32 = 0.1;
/// Camera height above the floor (m), as SoundSpaces.
pub const CAMERA_HEIGHT_M: f32 = 1.25;
/// Listener (ear) height above the floor (m), as SoundSpaces.
pub const EAR_HEIGHT_M: f32 = 1.5;
/// Maximum number of actions in an episode (STOP included), as SoundSpaces.
pub const MAX_EPISODE_STEPS: usize = 500;
/// Success radius: STOP within this geodesic distance of the source (m).
pub const SUCCESS_DISTANCE_M: f32 = 1.0;
/// Reward added on success.
pub const SUCCESS_REWARD: f32 = 10.0;
/// Reward added every step (the time penalty).
pub const SLACK_REWARD: f32 = -0.01;
/// Speed of sound (m/s) at 20 °C.
pub const SPEED_OF_SOUND_M_S: f32 = 343.0;

/// Number of acoustic frequency bands.
pub const NUM_BANDS: usize = 6;
/// Centre frequencies of the acoustic octave bands (Hz). The last band reaches up to Nyquist (8 kHz).
pub const BAND_CENTERS_HZ: [f32; NUM_BANDS] = [125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0];
/// A per-band quantity (energy, absorption, gain), one value per entry of [`BAND_CENTERS_HZ`].
pub type Bands = [f32; NUM_BANDS];
