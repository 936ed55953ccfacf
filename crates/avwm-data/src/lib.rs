//! The AVW-4k-style dataset format of avwm: one Parquet row per simulator step, images as PNG and
//! audio as WAV in the struct layout that Hugging Face `datasets` decodes as `Image` / `Audio`,
//! an `info.json` with schema, splits, generator config and statistics, and the training reader.
//!
//! * [`schema`]: columns, [`Split`], [`MotionPattern`], [`FrameRecord`], HF features;
//! * [`shard`]: [`ShardWriter`] (atomic, deterministic) and [`ShardReader`] (checked);
//! * [`info`]: [`DatasetInfo`] (`info.json`);
//! * [`stats`]: the paper's Fig. 2 statistics; [`plot`]: the same as PNG and SVG charts;
//! * [`dataset`]: [`Dataset`] (random access), [`WindowSampler`] (context + targets with the
//!   aggregated action), [`Prefetch`] (background decoding).
//!
//! Layout of a dataset folder:
//!
//! ```text
//! DIR/info.json
//! DIR/data/{train,validation,test}-NNNNN-of-MMMMM.parquet   one row group per episode
//! DIR/plots/*.png, *.svg
//! ```
//!
//! This crate depends on `avwm-core` and `avwm-plot` (its charts) only; generation lives in
//! `avwm-datagen`.
#![warn(missing_docs)]

pub mod dataset;
mod error;
pub mod info;
pub mod levels;
pub mod media;
pub mod plot;
pub mod schema;
pub mod shard;
pub mod stats;

pub use dataset::{
    AggregatedAction, Dataset, EpisodeRef, Filter, Frame, Prefetch, Target, Window, WindowConfig,
    WindowSampler,
};
pub use error::{DataError, Result};
pub use info::{DatasetInfo, INFO_FILE};
pub use media::AudioEncoding;
pub use schema::{EpisodeHeader, FORMAT_VERSION, FrameRecord, MotionPattern, RawRow, Split};
pub use shard::{EpisodeEntry, ShardInfo, ShardReader, ShardWriter};
pub use stats::{Histogram, Statistics, StatsBuilder};
