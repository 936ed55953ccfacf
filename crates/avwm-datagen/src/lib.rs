//! Generates AVW-4k-style datasets with the simulator (paper §3.2): procedural scenes split 6:1:2
//! by scene, trajectories in three motion patterns that follow shortest paths with natural
//! variation, written as the `avwm-data` Parquet format.
//!
//! * [`GenConfig`] with presets `tiny`, `small`, `avw4k`;
//! * [`Plan`]: scenes → splits → episodes → shards, a pure function of the config;
//! * [`walk`](walk::walk): one trajectory;
//! * [`generate`]: parallel, deterministic, resumable generation with a progress callback;
//! * [`generate_part`] and [`merge`]: the same dataset made by `N` machines, one [`Part`] each,
//!   then joined, byte-identical to one [`generate`];
//! * [`resim::Resimulator`]: exact replay of a generated dataset's episodes and counterfactual
//!   branches from any of their frames.
#![warn(missing_docs)]

mod config;
pub mod episodes;
mod generate;
pub mod resim;
pub mod walk;

pub use config::{GenConfig, Variation};
pub use generate::{
    GenError, GenSummary, MergeSummary, Part, PartSummary, Plan, Progress, RUN_CONFIG_FILE,
    ScenePlan, episode_seed, generate, generate_part, merge, pattern_of,
};
