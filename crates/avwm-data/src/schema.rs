//! The row schema: one row per step, the Arrow/Parquet columns and the Hugging Face features.

use crate::error::{DataError, Result};
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float32Builder, Int8Builder, Int32Builder, Int64Builder,
    StringBuilder, UInt64Builder,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Float32Array, Int8Array, Int32Array, Int64Array,
    RecordBatch, StringArray, StructArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use avwm_core::{Action, Pose};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Version of the on-disk format (columns, metadata, info.json). Readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the format, stored in `info.json` and in every shard's key-value metadata.
pub const FORMAT_NAME: &str = "avwm-dataset";
/// Parquet key-value metadata key holding [`FORMAT_VERSION`].
pub const META_VERSION_KEY: &str = "avwm.format_version";
/// Parquet key-value metadata key that Hugging Face `datasets` reads its features from.
pub const META_HF_KEY: &str = "huggingface";

/// A dataset split. Scenes are disjoint between splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training scenes.
    Train,
    /// Validation scenes.
    Validation,
    /// Test scenes.
    Test,
}

impl Split {
    /// All splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The name used in file names and the `split` column (`train`, `validation`, `test`;
    /// the names Hugging Face `datasets` recognises).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }

    /// Parses [`Split::name`] (also `val`).
    pub fn parse(s: &str) -> Option<Split> {
        match s {
            "train" => Some(Split::Train),
            "validation" | "val" => Some(Split::Validation),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

/// The three motion patterns of the paper (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotionPattern {
    /// Starts at (next to) the source and walks to a random goal.
    SourceToGoal,
    /// Starts at a random point and walks to the source.
    StartToSource,
    /// Walks between two random points, independently of the source.
    RandomToRandom,
}

impl MotionPattern {
    /// All patterns in order.
    pub const ALL: [MotionPattern; 3] = [
        MotionPattern::SourceToGoal,
        MotionPattern::StartToSource,
        MotionPattern::RandomToRandom,
    ];

    /// The name stored in the `pattern` column.
    pub fn name(self) -> &'static str {
        match self {
            MotionPattern::SourceToGoal => "source_to_goal",
            MotionPattern::StartToSource => "start_to_source",
            MotionPattern::RandomToRandom => "random_to_random",
        }
    }

    /// Parses [`MotionPattern::name`].
    pub fn parse(s: &str) -> Option<MotionPattern> {
        MotionPattern::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// What is common to all rows of one episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeHeader {
    /// Dataset-wide episode id (unique, dense from 0).
    pub episode_id: u64,
    /// Scene name (e.g. `proc-00042`).
    pub scene_id: String,
    /// Seed of the procedural scene (with the generator config in `info.json` it rebuilds the scene).
    pub scene_seed: u64,
    /// Split of the scene.
    pub split: Split,
    /// Motion pattern.
    pub pattern: MotionPattern,
    /// Seed of the episode ([`avwm_core::EpisodeSpec::seed`]).
    pub episode_seed: u64,
    /// The trajectory's goal point (m, floor plane); the snapped source goal for `start_to_source`.
    pub goal_xy: [f32; 2],
}

/// One step of an episode, media already encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRecord {
    /// Step index: 0 is the reset observation, `k` the observation after the `k`-th action.
    pub step: u32,
    /// Action that led to this frame (`None` for step 0).
    pub action: Option<Action>,
    /// Agent pose at this frame.
    pub pose: Pose,
    /// RGB image, PNG bytes.
    pub png: Vec<u8>,
    /// Binaural step audio, WAV bytes.
    pub wav: Vec<u8>,
    /// Geodesic distance to the source (m).
    pub geodesic_m: f32,
    /// Simulator reward of the action (0 for step 0).
    pub reward: f32,
    /// Geodesic-distance reduction since the previous frame (m; 0 for step 0): the paper's pseudo-reward.
    pub distance_reduction_m: f32,
    /// The forward move was blocked or shortened.
    pub collided: bool,
}

/// Column documentation for `info.json` and the README: `(name, type, meaning)`.
pub const COLUMNS: [(&str, &str, &str); 21] = [
    (
        "episode_id",
        "int64",
        "dataset-wide episode id, dense from 0",
    ),
    ("scene_id", "string", "scene name, e.g. proc-00042"),
    (
        "split",
        "string",
        "train | validation | test (scene-disjoint)",
    ),
    (
        "pattern",
        "string",
        "source_to_goal | start_to_source | random_to_random",
    ),
    (
        "step",
        "int32",
        "0 = reset observation, k = after the k-th action",
    ),
    (
        "action",
        "int8",
        "SoundSpaces id of the action that led here: 0 stop (pause), 1 forward, 2 left, 3 right; -1 at step 0",
    ),
    ("x", "float32", "agent position x (m), scene frame, z up"),
    ("y", "float32", "agent position y (m)"),
    ("yaw", "float32", "heading (rad, CCW from +x, in (-pi, pi])"),
    (
        "image",
        "struct<bytes: binary, path: string>",
        "egocentric RGB, PNG bytes (HF Image)",
    ),
    (
        "audio",
        "struct<bytes: binary, path: string>",
        "binaural step audio, stereo WAV 16 kHz, 2 x 2400 samples (HF Audio)",
    ),
    (
        "geodesic_m",
        "float32",
        "geodesic distance to the source (m)",
    ),
    (
        "reward",
        "float32",
        "simulator reward of the action: -0.01 + distance reduction (+10 on success); 0 at step 0",
    ),
    (
        "distance_reduction_m",
        "float32",
        "geodesic reduction since the previous step (m): the paper's pseudo-reward",
    ),
    (
        "collided",
        "bool",
        "the forward move was blocked or shortened",
    ),
    (
        "scene_seed",
        "uint64",
        "procedural scene seed (with info.json generator.scenes rebuilds the scene)",
    ),
    (
        "episode_seed",
        "uint64",
        "EpisodeSpec seed; with the start pose (step 0) and the actions it re-simulates every frame",
    ),
    ("goal_x", "float32", "trajectory goal x (m)"),
    ("goal_y", "float32", "trajectory goal y (m)"),
    (
        "episode_frames",
        "int32",
        "number of frames of this episode",
    ),
    ("is_last", "bool", "last frame of the episode"),
];

fn media_fields() -> Fields {
    Fields::from(vec![
        Field::new("bytes", DataType::Binary, true),
        Field::new("path", DataType::Utf8, true),
    ])
}

/// The Hugging Face `datasets` features (the `features` object of `info.json` and of the
/// `huggingface` Parquet metadata): plain `Value`s, plus `Image` and `Audio`.
pub fn hf_features(sample_rate_hz: u32) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (name, ty, _) in COLUMNS {
        let v = match name {
            "image" => serde_json::json!({"_type": "Image"}),
            "audio" => {
                serde_json::json!({"_type": "Audio", "sampling_rate": sample_rate_hz, "mono": false})
            }
            _ => serde_json::json!({"_type": "Value", "dtype": ty}),
        };
        m.insert(name.to_string(), v);
    }
    serde_json::Value::Object(m)
}

/// The Arrow schema of a shard, with the format version and the Hugging Face features in its metadata.
pub fn arrow_schema(sample_rate_hz: u32) -> SchemaRef {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|(name, ty, _)| {
            let dt = match *ty {
                "int64" => DataType::Int64,
                "uint64" => DataType::UInt64,
                "int32" => DataType::Int32,
                "int8" => DataType::Int8,
                "float32" => DataType::Float32,
                "bool" => DataType::Boolean,
                "string" => DataType::Utf8,
                _ => DataType::Struct(media_fields()),
            };
            // Nullable as Hugging Face expects (its field comparison includes nullability); never null.
            Field::new(*name, dt, true)
        })
        .collect();
    let hf = serde_json::json!({"info": {"features": hf_features(sample_rate_hz)}});
    let meta = HashMap::from([
        (META_VERSION_KEY.to_string(), FORMAT_VERSION.to_string()),
        (META_HF_KEY.to_string(), hf.to_string()),
    ]);
    Arc::new(Schema::new(fields).with_metadata(meta))
}

/// Builds the record batch of one episode.
pub(crate) fn episode_batch(
    schema: &SchemaRef,
    h: &EpisodeHeader,
    frames: &[FrameRecord],
) -> Result<RecordBatch> {
    let n = frames.len();
    let (mut eid, mut sid, mut split, mut pat) = (
        Int64Builder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut step, mut act, mut x, mut y, mut yaw) = (
        Int32Builder::new(),
        Int8Builder::new(),
        Float32Builder::new(),
        Float32Builder::new(),
        Float32Builder::new(),
    );
    let (mut img_b, mut img_p, mut wav_b, mut wav_p) = (
        BinaryBuilder::new(),
        StringBuilder::new(),
        BinaryBuilder::new(),
        StringBuilder::new(),
    );
    let (mut geo, mut rew, mut red, mut col) = (
        Float32Builder::new(),
        Float32Builder::new(),
        Float32Builder::new(),
        BooleanBuilder::new(),
    );
    let (mut sseed, mut eseed, mut gx, mut gy, mut nfr, mut last) = (
        UInt64Builder::new(),
        UInt64Builder::new(),
        Float32Builder::new(),
        Float32Builder::new(),
        Int32Builder::new(),
        BooleanBuilder::new(),
    );
    let episode_id = i64::try_from(h.episode_id)
        .map_err(|_| DataError::Invalid(format!("episode id {} too large", h.episode_id)))?;
    let n_i32 = i32::try_from(n).map_err(|_| DataError::Invalid(format!("{n} frames")))?;
    for (k, f) in frames.iter().enumerate() {
        eid.append_value(episode_id);
        sid.append_value(&h.scene_id);
        split.append_value(h.split.name());
        pat.append_value(h.pattern.name());
        step.append_value(f.step as i32);
        act.append_value(f.action.map_or(-1, |a| a.id() as i8));
        x.append_value(f.pose.x);
        y.append_value(f.pose.y);
        yaw.append_value(f.pose.yaw);
        img_b.append_value(&f.png);
        img_p.append_value(format!("e{:06}_{:03}.png", h.episode_id, f.step));
        wav_b.append_value(&f.wav);
        wav_p.append_value(format!("e{:06}_{:03}.wav", h.episode_id, f.step));
        geo.append_value(f.geodesic_m);
        rew.append_value(f.reward);
        red.append_value(f.distance_reduction_m);
        col.append_value(f.collided);
        sseed.append_value(h.scene_seed);
        eseed.append_value(h.episode_seed);
        gx.append_value(h.goal_xy[0]);
        gy.append_value(h.goal_xy[1]);
        nfr.append_value(n_i32);
        last.append_value(k + 1 == n);
    }
    let media = |b: &mut BinaryBuilder, p: &mut StringBuilder| -> Result<ArrayRef> {
        let s = StructArray::try_new(
            media_fields(),
            vec![Arc::new(b.finish()), Arc::new(p.finish())],
            None,
        )
        .map_err(|source| DataError::Arrow {
            path: Default::default(),
            source,
        })?;
        Ok(Arc::new(s))
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(eid.finish()),
        Arc::new(sid.finish()),
        Arc::new(split.finish()),
        Arc::new(pat.finish()),
        Arc::new(step.finish()),
        Arc::new(act.finish()),
        Arc::new(x.finish()),
        Arc::new(y.finish()),
        Arc::new(yaw.finish()),
        media(&mut img_b, &mut img_p)?,
        media(&mut wav_b, &mut wav_p)?,
        Arc::new(geo.finish()),
        Arc::new(rew.finish()),
        Arc::new(red.finish()),
        Arc::new(col.finish()),
        Arc::new(sseed.finish()),
        Arc::new(eseed.finish()),
        Arc::new(gx.finish()),
        Arc::new(gy.finish()),
        Arc::new(nfr.finish()),
        Arc::new(last.finish()),
    ];
    RecordBatch::try_new(schema.clone(), cols).map_err(|source| DataError::Arrow {
        path: Default::default(),
        source,
    })
}

/// One row as read back (media still encoded).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// Episode header fields of the row.
    pub header: EpisodeHeader,
    /// The step.
    pub frame: FrameRecord,
}

/// Typed access to the columns of a batch read from a shard.
pub(crate) struct BatchView<'a> {
    pub episode_id: &'a Int64Array,
    pub scene_id: &'a StringArray,
    pub split: &'a StringArray,
    pub pattern: &'a StringArray,
    pub step: &'a Int32Array,
    pub action: &'a Int8Array,
    pub x: &'a Float32Array,
    pub y: &'a Float32Array,
    pub yaw: &'a Float32Array,
    pub image: Option<&'a BinaryArray>,
    pub audio: Option<&'a BinaryArray>,
    pub geodesic_m: &'a Float32Array,
    pub reward: &'a Float32Array,
    pub reduction: &'a Float32Array,
    pub collided: &'a BooleanArray,
    pub scene_seed: &'a UInt64Array,
    pub episode_seed: &'a UInt64Array,
    pub goal_x: &'a Float32Array,
    pub goal_y: &'a Float32Array,
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| DataError::Foreign {
            path: path.to_path_buf(),
            reason: format!("column {name:?} missing or of the wrong type"),
        })
}

fn media_col<'a>(b: &'a RecordBatch, name: &str, path: &Path) -> Result<Option<&'a BinaryArray>> {
    let Some(c) = b.column_by_name(name) else {
        return Ok(None);
    };
    let s = c
        .as_any()
        .downcast_ref::<StructArray>()
        .ok_or_else(|| DataError::Foreign {
            path: path.to_path_buf(),
            reason: format!("column {name:?} is not a struct"),
        })?;
    let bytes = s
        .column_by_name("bytes")
        .and_then(|c| c.as_any().downcast_ref::<BinaryArray>())
        .ok_or_else(|| DataError::Foreign {
            path: path.to_path_buf(),
            reason: format!("{name}.bytes missing"),
        })?;
    Ok(Some(bytes))
}

impl<'a> BatchView<'a> {
    /// Views a batch; `image`/`audio` may be absent (projected reads).
    pub(crate) fn new(b: &'a RecordBatch, path: &Path) -> Result<BatchView<'a>> {
        Ok(BatchView {
            episode_id: col(b, "episode_id", path)?,
            scene_id: col(b, "scene_id", path)?,
            split: col(b, "split", path)?,
            pattern: col(b, "pattern", path)?,
            step: col(b, "step", path)?,
            action: col(b, "action", path)?,
            x: col(b, "x", path)?,
            y: col(b, "y", path)?,
            yaw: col(b, "yaw", path)?,
            image: media_col(b, "image", path)?,
            audio: media_col(b, "audio", path)?,
            geodesic_m: col(b, "geodesic_m", path)?,
            reward: col(b, "reward", path)?,
            reduction: col(b, "distance_reduction_m", path)?,
            collided: col(b, "collided", path)?,
            scene_seed: col(b, "scene_seed", path)?,
            episode_seed: col(b, "episode_seed", path)?,
            goal_x: col(b, "goal_x", path)?,
            goal_y: col(b, "goal_y", path)?,
        })
    }

    /// Row `i` (media empty when not read).
    pub(crate) fn row(&self, i: usize, path: &Path) -> Result<RawRow> {
        let corrupt = |reason: String| DataError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let split = Split::parse(self.split.value(i))
            .ok_or_else(|| corrupt(format!("split {:?}", self.split.value(i))))?;
        let pattern = MotionPattern::parse(self.pattern.value(i))
            .ok_or_else(|| corrupt(format!("pattern {:?}", self.pattern.value(i))))?;
        let a = self.action.value(i);
        let action = if a < 0 {
            None
        } else {
            Some(Action::from_id(a as u8).ok_or_else(|| corrupt(format!("action id {a}")))?)
        };
        let step = u32::try_from(self.step.value(i))
            .map_err(|_| corrupt(format!("step {}", self.step.value(i))))?;
        Ok(RawRow {
            header: EpisodeHeader {
                episode_id: u64::try_from(self.episode_id.value(i))
                    .map_err(|_| corrupt("negative episode id".into()))?,
                scene_id: self.scene_id.value(i).to_string(),
                scene_seed: self.scene_seed.value(i),
                split,
                pattern,
                episode_seed: self.episode_seed.value(i),
                goal_xy: [self.goal_x.value(i), self.goal_y.value(i)],
            },
            frame: FrameRecord {
                step,
                action,
                pose: Pose {
                    x: self.x.value(i),
                    y: self.y.value(i),
                    yaw: self.yaw.value(i),
                },
                png: self.image.map(|c| c.value(i).to_vec()).unwrap_or_default(),
                wav: self.audio.map(|c| c.value(i).to_vec()).unwrap_or_default(),
                geodesic_m: self.geodesic_m.value(i),
                reward: self.reward.value(i),
                distance_reduction_m: self.reduction.value(i),
                collided: self.collided.value(i),
            },
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.step.len()
    }
}
