//! A fuzzing harness on stable Rust for avwm's loaders of user files (issue 17).
//!
//! * [`mutate`]: the mutation engine (byte-level and token-level edits, seeded, deterministic);
//! * [`engine`]: the in-process loop: each input under `catch_unwind` with a quiet panic hook,
//!   timed (over [`engine::HANG_S`] is a finding), error-message feedback, the report;
//! * [`targets`]: one target per loader, fed through a scratch folder as a user's file;
//! * [`corpus`]: the seeds that the library writes (`avwm-fuzz build-corpus`).
//!
//! The `avwm-fuzz` binary runs each target in a child process (a re-exec of itself) so that
//! aborts and real hangs are recorded too; see the crate's README.
#![warn(missing_docs)]

pub mod corpus;
pub mod engine;
pub mod mutate;
pub mod targets;

pub use engine::{Finding, Fuzzer, Kind, Report, RunOptions, Target};
