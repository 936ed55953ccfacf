//! `info.json`: the description of a dataset folder.

use crate::error::{DataError, Result};
use crate::schema::{COLUMNS, FORMAT_NAME, FORMAT_VERSION, Split, hf_features};
use crate::shard::ShardInfo;
use crate::stats::Statistics;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// File name of the dataset description inside the dataset folder.
pub const INFO_FILE: &str = "info.json";

/// One column of the schema, documented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Arrow type.
    #[serde(rename = "type")]
    pub dtype: String,
    /// Meaning and unit.
    pub description: String,
}

/// One split: its scenes and shards.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SplitInfo {
    /// Scene names in this split (disjoint from the other splits).
    pub scenes: Vec<String>,
    /// Episodes.
    pub episodes: usize,
    /// Frames (rows).
    pub frames: usize,
    /// Shard files (relative paths), in order.
    pub shards: Vec<String>,
}

/// The content of `info.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// One-line description.
    pub description: String,
    /// Audio sample rate (Hz).
    pub sample_rate_hz: u32,
    /// Image width and height (px).
    pub image_size: [u32; 2],
    /// Hugging Face `datasets` features (`Image`, `Audio`, `Value`s).
    pub features: serde_json::Value,
    /// Columns with types and meaning.
    pub schema: Vec<ColumnInfo>,
    /// Splits by name.
    pub splits: BTreeMap<String, SplitInfo>,
    /// The full generator configuration and seeds (opaque to this crate).
    pub generator: serde_json::Value,
    /// Statistics (the paper's Fig. 2).
    pub statistics: Statistics,
    /// Plot files (relative paths).
    pub plots: Vec<String>,
    /// Every shard with its episodes.
    pub shards: Vec<ShardInfo>,
}

impl DatasetInfo {
    /// A description of `shards`, with splits and statistics derived from them.
    pub fn new(
        description: &str,
        sample_rate_hz: u32,
        image_size: [u32; 2],
        generator: serde_json::Value,
        shards: Vec<ShardInfo>,
        split_of_shard: &[Split],
        statistics: Statistics,
    ) -> DatasetInfo {
        let mut splits: BTreeMap<String, SplitInfo> = BTreeMap::new();
        for (s, split) in shards.iter().zip(split_of_shard) {
            let e = splits.entry(split.name().to_string()).or_default();
            e.shards.push(s.file.clone());
            e.episodes += s.episodes.len();
            e.frames += s.rows;
            for ep in &s.episodes {
                if !e.scenes.contains(&ep.scene_id) {
                    e.scenes.push(ep.scene_id.clone());
                }
            }
        }
        DatasetInfo {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            description: description.to_string(),
            sample_rate_hz,
            image_size,
            features: hf_features(sample_rate_hz),
            schema: COLUMNS
                .iter()
                .map(|(n, t, d)| ColumnInfo {
                    name: n.to_string(),
                    dtype: t.to_string(),
                    description: d.to_string(),
                })
                .collect(),
            splits,
            generator,
            statistics,
            plots: Vec::new(),
            shards,
        }
    }

    /// Writes `dir/info.json` atomically (pretty JSON, keys in a fixed order).
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| DataError::Invalid(format!("serialising info.json: {e}")))?;
        Ok(avwm_core::write_atomic(&dir.join(INFO_FILE), &bytes)?)
    }

    /// Reads and checks `dir/info.json`.
    ///
    /// # Errors
    /// [`DataError::MissingInfo`], [`DataError::BadInfo`], [`DataError::Version`] or
    /// [`DataError::Foreign`] (another `format`).
    pub fn read(dir: &Path) -> Result<DatasetInfo> {
        let path = dir.join(INFO_FILE);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DataError::MissingInfo {
                    dir: dir.to_path_buf(),
                });
            }
            Err(e) => return Err(DataError::Io { path, source: e }),
        };
        // Check the header first so that another version gets a version error, not a field error.
        #[derive(Deserialize)]
        struct Head {
            format: Option<String>,
            format_version: Option<serde_json::Value>,
        }
        let head: Head = serde_json::from_slice(&text).map_err(|source| DataError::BadInfo {
            path: path.clone(),
            source,
        })?;
        if head.format.as_deref() != Some(FORMAT_NAME) {
            return Err(DataError::Foreign {
                path,
                reason: format!(
                    "info.json \"format\" is {:?}, expected {FORMAT_NAME:?}",
                    head.format
                ),
            });
        }
        match head.format_version {
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(FORMAT_VERSION)) => {
            }
            other => {
                return Err(DataError::Version {
                    path,
                    found: other.map_or("none".into(), |v| v.to_string()),
                    expected: FORMAT_VERSION,
                });
            }
        }
        serde_json::from_slice(&text).map_err(|source| DataError::BadInfo { path, source })
    }
}
