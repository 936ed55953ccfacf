//! Files written whole or not at all: the one atomic writer every avwm crate uses.
//!
//! A file is written to a hidden temporary beside its final name (unique to the process and the
//! call, so concurrent writers of the same file never share one), flushed to disk, and renamed
//! over the final name. A reader or a crash sees the old file or the new one, never a part.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file operation failed: the path it concerned and the operating system's error.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    /// The file or folder concerned.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

impl IoError {
    /// A closure that wraps an [`std::io::Error`] with `path`, for `map_err`.
    pub fn at(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
        move |source| IoError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A fresh hidden temporary beside `path` (`.NAME.PID-N.tmp`, unique to the process and the
/// call), for writers that must stream to a file before renaming it over `path`; [`write_atomic`]
/// uses it.
pub fn temporary(path: &Path) -> PathBuf {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Makes `path`'s parent folder, has `fill` write the temporary [`temporary`]`(path)`, and
/// renames it over `path`; the temporary is removed if any step fails.
fn atomically(path: &Path, fill: impl FnOnce(&Path) -> Result<(), IoError>) -> Result<(), IoError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(IoError::at(parent))?;
    }
    let tmp = temporary(path);
    let result = fill(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(IoError::at(path)));
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result
}

/// Writes `bytes` to `path` atomically, creating missing parent folders.
///
/// # Errors
/// [`IoError`] naming the folder, the temporary or the file that could not be made.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    atomically(path, |tmp| {
        let mut f = std::fs::File::create(tmp).map_err(IoError::at(tmp))?;
        f.write_all(bytes).map_err(IoError::at(tmp))?;
        f.sync_all().map_err(IoError::at(tmp))
    })
}

/// Copies the file `from` to `to` atomically (through [`write_atomic`]'s temporary), creating
/// missing parent folders.
///
/// # Errors
/// [`IoError`] naming the file that could not be read or written.
pub fn copy_atomic(from: &Path, to: &Path) -> Result<(), IoError> {
    atomically(to, |tmp| {
        std::fs::copy(from, tmp).map_err(IoError::at(from))?;
        std::fs::File::open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(IoError::at(tmp))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_into_new_folders_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/c.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let q = d.path().join("x/copy.json");
        copy_atomic(&p, &q).unwrap();
        assert_eq!(std::fs::read(&q).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.json")]);
    }

    #[test]
    fn errors_name_the_path_once() {
        let d = tempfile::tempdir().unwrap();
        let blocker = d.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let e = write_atomic(&blocker.join("inside.json"), b"y").unwrap_err();
        let msg = e.to_string();
        assert_eq!(msg.matches("file").count(), 1, "{msg}");
        assert!(!d.path().join("missing").exists());
        let e = copy_atomic(&d.path().join("missing"), &d.path().join("to")).unwrap_err();
        assert_eq!(e.path, d.path().join("missing"));
        assert!(!d.path().join("to").exists());
    }

    #[test]
    fn concurrent_writers_of_one_file_do_not_collide() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("same.json");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..20 {
                        write_atomic(&p, b"identical").unwrap();
                    }
                });
            }
        });
        assert_eq!(std::fs::read(&p).unwrap(), b"identical");
    }
}
