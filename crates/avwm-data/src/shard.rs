//! Parquet shards: atomic, deterministic writing and checked reading.
//!
//! A shard holds whole episodes, one Parquet row group per episode (so that one episode is one
//! read), rows in step order. Writing goes to a hidden `.NAME.tmp` beside the final file, which is
//! fsynced and renamed only when complete: a half-written shard is never visible under its final
//! name, and Hugging Face `datasets` ignores the hidden temporary. Bytes depend only on the rows:
//! no timestamps, a fixed `created_by`, fixed zstd level, fixed page and row-group layout.

use crate::error::{DataError, Result, io};
use crate::schema::{
    BatchView, EpisodeHeader, FORMAT_VERSION, FrameRecord, META_VERSION_KEY, MotionPattern, RawRow,
    arrow_schema, episode_batch,
};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::RowSelection;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Largest number of frames per episode (the paper's limit); also the row-group size limit.
pub const MAX_EPISODE_FRAMES: usize = avwm_core::MAX_EPISODE_STEPS;

/// Rows per data page (with the offset index, random access decodes at most this many extra frames).
pub const PAGE_ROWS: usize = 8;

/// Where an episode lives and what it is, as listed in `info.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeEntry {
    /// Episode id.
    pub episode_id: u64,
    /// Scene name.
    pub scene_id: String,
    /// Motion pattern.
    pub pattern: MotionPattern,
    /// Frames (rows).
    pub frames: usize,
    /// Row group inside the shard.
    pub row_group: usize,
}

/// One finished shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// File path relative to the dataset folder (`data/train-00000-of-00004.parquet`).
    pub file: String,
    /// Rows (frames).
    pub rows: usize,
    /// Size (bytes).
    pub bytes: u64,
    /// Episodes, in row-group order.
    pub episodes: Vec<EpisodeEntry>,
}

/// Writes one shard, episode by episode.
pub struct ShardWriter {
    final_path: PathBuf,
    tmp_path: PathBuf,
    rel: String,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    episodes: Vec<EpisodeEntry>,
    rows: usize,
}

impl std::fmt::Debug for ShardWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardWriter")
            .field("final_path", &self.final_path)
            .field("rows", &self.rows)
            .finish()
    }
}

/// The hidden temporary beside `final_path`.
pub fn tmp_path_for(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(format!(".{name}.tmp"))
}

fn writer_properties() -> Result<WriterProperties> {
    let zstd = ZstdLevel::try_new(3).map_err(|e| DataError::Invalid(format!("zstd level: {e}")))?;
    let mut b = WriterProperties::builder()
        .set_created_by(format!("avwm-data format {FORMAT_VERSION}"))
        .set_compression(Compression::ZSTD(zstd))
        .set_max_row_group_row_count(Some(MAX_EPISODE_FRAMES))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        // Small pages let the reader fetch a few frames of an episode without decoding all of it.
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_write_batch_size(PAGE_ROWS);
    for media in ["image", "audio"] {
        for leaf in ["bytes", "path"] {
            let c = ColumnPath::new(vec![media.to_string(), leaf.to_string()]);
            b = b
                .set_column_dictionary_enabled(c.clone(), false)
                .set_column_statistics_enabled(c.clone(), EnabledStatistics::None);
        }
        // PNG is already deflated: zstd on it costs time for ~nothing.
        if media == "image" {
            b = b.set_column_compression(
                ColumnPath::new(vec![media.into(), "bytes".into()]),
                Compression::UNCOMPRESSED,
            );
        }
    }
    Ok(b.build())
}

impl ShardWriter {
    /// Starts a shard that will appear at `dir/rel` once [`ShardWriter::finish`] succeeds.
    ///
    /// # Errors
    /// I/O or Parquet errors creating the temporary file.
    pub fn create(dir: &Path, rel: &str, sample_rate_hz: u32) -> Result<ShardWriter> {
        let final_path = dir.join(rel);
        if let Some(parent) = final_path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let tmp_path = tmp_path_for(&final_path);
        let file = File::create(&tmp_path).map_err(io(&tmp_path))?;
        let schema = arrow_schema(sample_rate_hz);
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_properties()?))
            .map_err(|source| DataError::Parquet {
                path: tmp_path.clone(),
                source,
            })?;
        // Top-level key-value entries (sorted: deterministic), read by our reader and by `datasets`.
        let mut kv: Vec<_> = schema.metadata().iter().collect();
        kv.sort();
        for (k, v) in kv {
            writer.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
                k.clone(),
                v.clone(),
            ));
        }
        Ok(ShardWriter {
            final_path,
            tmp_path,
            rel: rel.to_string(),
            schema,
            writer,
            episodes: Vec::new(),
            rows: 0,
        })
    }

    /// Appends one episode as one row group.
    ///
    /// # Errors
    /// Empty or over-long episodes, steps out of order, Parquet errors.
    pub fn write_episode(&mut self, header: &EpisodeHeader, frames: &[FrameRecord]) -> Result<()> {
        if frames.is_empty() || frames.len() > MAX_EPISODE_FRAMES {
            return Err(DataError::Invalid(format!(
                "episode {} has {} frames (1..={MAX_EPISODE_FRAMES} allowed)",
                header.episode_id,
                frames.len()
            )));
        }
        if frames.iter().enumerate().any(|(k, f)| f.step as usize != k) {
            return Err(DataError::Invalid(format!(
                "episode {}: steps must be 0, 1, 2, …",
                header.episode_id
            )));
        }
        let batch = episode_batch(&self.schema, header, frames)?;
        let perr = |source| DataError::Parquet {
            path: self.tmp_path.clone(),
            source,
        };
        self.writer.write(&batch).map_err(perr)?;
        self.writer.flush().map_err(|source| DataError::Parquet {
            path: self.tmp_path.clone(),
            source,
        })?;
        self.episodes.push(EpisodeEntry {
            episode_id: header.episode_id,
            scene_id: header.scene_id.clone(),
            pattern: header.pattern,
            frames: frames.len(),
            row_group: self.episodes.len(),
        });
        self.rows += frames.len();
        Ok(())
    }

    /// Closes the file, syncs it, and renames it to its final name.
    ///
    /// # Errors
    /// I/O or Parquet errors.
    pub fn finish(self) -> Result<ShardInfo> {
        let file = self
            .writer
            .into_inner()
            .map_err(|source| DataError::Parquet {
                path: self.tmp_path.clone(),
                source,
            })?;
        file.sync_all().map_err(io(&self.tmp_path))?;
        drop(file);
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(io(&self.final_path))?;
        let bytes = std::fs::metadata(&self.final_path)
            .map_err(io(&self.final_path))?
            .len();
        Ok(ShardInfo {
            file: self.rel,
            rows: self.rows,
            bytes,
            episodes: self.episodes,
        })
    }
}

/// An opened shard: footer parsed and checked.
#[derive(Debug, Clone)]
pub struct ShardReader {
    path: PathBuf,
    meta: ArrowReaderMetadata,
}

impl ShardReader {
    /// Opens a shard and checks that it is an avwm shard of this format version.
    ///
    /// # Errors
    /// [`DataError::Io`], [`DataError::Parquet`] (corrupt/not Parquet), [`DataError::Foreign`]
    /// (no avwm metadata or missing columns), [`DataError::Version`].
    pub fn open(path: &Path) -> Result<ShardReader> {
        let file = File::open(path).map_err(io(path))?;
        let opts = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
        let meta = ArrowReaderMetadata::load(&file, opts).map_err(|source| DataError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
        let kv = meta.metadata().file_metadata().key_value_metadata();
        let version = kv
            .and_then(|kv| kv.iter().find(|e| e.key == META_VERSION_KEY))
            .and_then(|e| e.value.clone());
        match version {
            None => {
                return Err(DataError::Foreign {
                    path: path.to_path_buf(),
                    reason: format!("no {META_VERSION_KEY:?} key in the Parquet metadata"),
                });
            }
            Some(v) if v != FORMAT_VERSION.to_string() => {
                return Err(DataError::Version {
                    path: path.to_path_buf(),
                    found: v,
                    expected: FORMAT_VERSION,
                });
            }
            Some(_) => {}
        }
        let schema = meta.schema();
        for (name, _, _) in crate::schema::COLUMNS {
            if schema.field_with_name(name).is_err() {
                return Err(DataError::Foreign {
                    path: path.to_path_buf(),
                    reason: format!("no column {name:?}"),
                });
            }
        }
        Ok(ShardReader {
            path: path.to_path_buf(),
            meta,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of row groups (episodes).
    pub fn num_row_groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// Reads row group `rg`; with `media = false` the image and audio columns are skipped (fast).
    ///
    /// # Errors
    /// Corrupt pages or inconsistent content.
    pub fn read_row_group(&self, rg: usize, media: bool) -> Result<Vec<RawRow>> {
        self.read(Some(rg), None, media)
    }

    /// Reads rows `rows` (indices inside row group `rg`), decoding only the pages that hold them.
    ///
    /// # Errors
    /// Corrupt pages or inconsistent content.
    pub fn read_rows(
        &self,
        rg: usize,
        rows: std::ops::Range<usize>,
        media: bool,
    ) -> Result<Vec<RawRow>> {
        self.read(Some(rg), Some(rows), media)
    }

    /// Rows in row group `rg` (from the footer).
    pub fn row_group_rows(&self, rg: usize) -> Option<usize> {
        (rg < self.num_row_groups()).then(|| self.meta.metadata().row_group(rg).num_rows() as usize)
    }

    /// Reads every row (see [`ShardReader::read_row_group`] for `media`).
    ///
    /// # Errors
    /// Corrupt pages or inconsistent content.
    pub fn read_all(&self, media: bool) -> Result<Vec<RawRow>> {
        self.read(None, None, media)
    }

    fn read(
        &self,
        rg: Option<usize>,
        rows: Option<std::ops::Range<usize>>,
        media: bool,
    ) -> Result<Vec<RawRow>> {
        let path = &self.path;
        let perr = |source| DataError::Parquet {
            path: path.clone(),
            source,
        };
        if let Some(rg) = rg
            && rg >= self.num_row_groups()
        {
            return Err(DataError::Corrupt {
                path: path.clone(),
                reason: format!("row group {rg} of {}", self.num_row_groups()),
            });
        }
        let file = File::open(path).map_err(io(path))?;
        let mut b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_batch_size(1024);
        if let Some(rg) = rg {
            b = b.with_row_groups(vec![rg]);
            if let Some(r) = rows {
                let total = self.row_group_rows(rg).unwrap_or(0);
                if r.start >= r.end || r.end > total {
                    return Err(DataError::Invalid(format!(
                        "rows {r:?} of a row group of {total}"
                    )));
                }
                b = b.with_row_selection(RowSelection::from_consecutive_ranges(
                    std::iter::once(r),
                    total,
                ));
            }
        }
        if !media {
            let schema = self.meta.schema();
            let roots: Vec<usize> = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name() != "image" && f.name() != "audio")
                .map(|(i, _)| i)
                .collect();
            let mask =
                ProjectionMask::roots(self.meta.metadata().file_metadata().schema_descr(), roots);
            b = b.with_projection(mask);
        }
        let decode = || -> Result<Vec<RawRow>> {
            let reader = b.build().map_err(perr)?;
            let mut rows = Vec::new();
            for batch in reader {
                let batch = batch.map_err(|source| DataError::Arrow {
                    path: path.clone(),
                    source,
                })?;
                let view = BatchView::new(&batch, path)?;
                for i in 0..view.len() {
                    rows.push(view.row(i, path)?);
                }
            }
            Ok(rows)
        };
        // parquet 60.1 panics on some corrupt pages ("Decoder for dict should have been set",
        // found by avwm-fuzz): a corrupt shard is an error naming the file, never a crash.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|_| {
            Err(DataError::Corrupt {
                path: path.clone(),
                reason: "the Parquet decoder panicked on this file".into(),
            })
        })
    }
}
