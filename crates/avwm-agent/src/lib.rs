//! The AV-Nav agent of the paper's navigation experiment (§5.5, Table 8) and everything around it:
//!
//! * [`obs`]: what the agent sees and hears: a 64×64 RGB image and a log-magnitude binaural
//!   spectrogram (2 × 65 × 24 magnitudes and the interaural phase) of the step's 0.15 s of audio;
//! * [`net`]: SoundSpaces' AV-Nav actor-critic sized for a CPU (visual CNN, audio CNN, GRU, policy,
//!   value, and SAVi's goal-direction auxiliary head), ≈ 1 M parameters;
//! * [`envs`]: a pool of training simulators on the training scenes, stepped in parallel, with
//!   fresh SoundSpaces-filtered episodes and a replayable history for exact resumption;
//! * [`train`]: `avwm agent train`: a DAgger warm start on the shortest-path expert, then PPO;
//!   resumable bit for bit, JSONL log, learning curve;
//! * [`metrics`]: SPL, SoftSPL, NA, SNA, success, distance to goal, with confidence intervals and
//!   paired tests;
//! * [`planner`]: beam search through a [`planner::WorldModel`] (the simulator itself is the
//!   oracle; a learned model plugs in through the same trait);
//! * [`learned`]: the learned world model (with its tokenizers) behind the same trait;
//! * [`mod@bench`]: `avwm bench agent` (training fps, native vs downsampled render, planning time);
//! * [`nav`]: `avwm nav eval`: the agent, with or without a planner, on a fixed episode file.

#![warn(missing_docs)]

pub mod bench;
pub mod config;
pub mod envs;
mod error;
pub mod learned;
pub mod metrics;
pub mod nav;
pub mod net;
pub mod obs;
pub mod planner;
pub mod train;

pub use config::{AgentConfig, NetConfig, TrainConfig};
pub use error::{AgentError, Result};
pub use net::{Agent, AgentNet};
