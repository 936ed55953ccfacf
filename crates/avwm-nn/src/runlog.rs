//! JSONL run logs: one JSON object per line, flushed per line so a crash loses nothing written.

use crate::{NnError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An append-only JSONL file.
pub struct JsonlLog {
    path: PathBuf,
    file: std::fs::File,
}

impl JsonlLog {
    /// Opens `path` for appending (creates it).
    ///
    /// # Errors
    /// [`NnError::Io`].
    pub fn append(path: &Path) -> Result<JsonlLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(NnError::io(path))?;
        Ok(JsonlLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Keeps only the lines whose `"step"` is at most `step` (used when a run resumes from an
    /// older checkpoint than the last logged line), rewriting the file atomically.
    ///
    /// # Errors
    /// [`NnError::Io`].
    pub fn truncate_after(path: &Path, step: u64) -> Result<()> {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Ok(());
        };
        let kept: String = text
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                    .is_none_or(|s| s <= step)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        Ok(avwm_core::write_atomic(path, kept.as_bytes())?)
    }

    /// Every record of the log at `path` (none if the file does not exist).
    ///
    /// # Errors
    /// [`NnError::Io`], or [`NnError::Json`] naming the file for a line that is not a record.
    pub fn records<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(NnError::io(path)(e)),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).map_err(|source| NnError::Json {
                    path: path.to_path_buf(),
                    source,
                })
            })
            .collect()
    }

    /// Appends one record.
    ///
    /// # Errors
    /// [`NnError::Io`] or [`NnError::Json`].
    pub fn write<T: serde::Serialize>(&mut self, record: &T) -> Result<()> {
        let mut line = serde_json::to_vec(record).map_err(|source| NnError::Json {
            path: self.path.clone(),
            source,
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(NnError::io(&self.path))?;
        self.file.flush().map_err(NnError::io(&self.path))
    }
}
