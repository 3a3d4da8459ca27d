//! Stage 4: writing the site without ever damaging the last good output.
//!
//! Files go to a staging folder beside the output; only a complete staging
//! folder is swapped in (two renames). A build that fails or is killed midway
//! leaves the previous output as it was. The output folder carries a marker
//! file so thematic never deletes a folder it did not write.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::render::OutputFile;

/// The file that marks a folder as thematic's output.
pub const MARKER: &str = ".thematic-output";

const MARKER_TEXT: &str =
    "This folder is written by `thematic build` and replaced on every build.\n";

/// Why the output folder cannot be used.
#[derive(Debug)]
pub enum OutputError {
    /// The output folder would overwrite the study or something thematic did not write.
    Refused(String),
    /// Writing failed.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Refused(m) => write!(f, "{m}"),
            OutputError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    // Resolve `..` and symlinks where the path exists, so comparisons are meaningful.
    fs::canonicalize(&abs).unwrap_or_else(|_| {
        match (
            abs.parent().and_then(|d| fs::canonicalize(d).ok()),
            abs.file_name(),
        ) {
            (Some(parent), Some(name)) => parent.join(name),
            _ => abs,
        }
    })
}

/// Refuses output folders that would destroy the study or files thematic did not write.
pub fn check_output_dir(out: &Path, study_dir: &Path) -> Result<(), OutputError> {
    let out_abs = absolute(out);
    let study_abs = absolute(study_dir);
    if out_abs == study_abs {
        return Err(OutputError::Refused(format!(
            "refusing to write into the study folder itself ({}): choose another --output",
            out.display()
        )));
    }
    if study_abs.starts_with(&out_abs) {
        return Err(OutputError::Refused(format!(
            "refusing to write into {}: it contains the study folder",
            out.display()
        )));
    }
    if out_abs.join("content").exists() {
        return Err(OutputError::Refused(format!(
            "refusing to write into {}: it contains a content/ folder, so it looks like a study",
            out.display()
        )));
    }
    if out_abs.exists() {
        if !out_abs.is_dir() {
            return Err(OutputError::Refused(format!(
                "{} exists and is not a folder",
                out.display()
            )));
        }
        let empty = fs::read_dir(&out_abs)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !out_abs.join(MARKER).is_file() {
            return Err(OutputError::Refused(format!(
                "refusing to replace {}: it holds files that thematic did not write (no {MARKER} marker)",
                out.display()
            )));
        }
    }
    Ok(())
}

/// Writes `files` into `out` atomically: staging folder, then swap.
pub fn write_site(out: &Path, study_dir: &Path, files: &[OutputFile]) -> Result<(), OutputError> {
    let staging = Staging::create(out, study_dir)?;
    staging.write_all(files)?;
    staging.commit()
}

/// A site being written: files go into a staging folder beside `out`, which
/// replaces `out` only on [`Staging::commit`]. Dropped without a commit, the
/// staging folder is removed and the previous output stays as it was. Files can be
/// written as they are made (`build` streams pages, so the whole site is never in
/// memory at once), from several threads.
pub struct Staging {
    out: PathBuf,
    staging: PathBuf,
    old: PathBuf,
    parent: PathBuf,
    name: String,
    /// Whether the staging folder was created, or why it could not be.
    opened: std::sync::OnceLock<Result<(), String>>,
    committed: bool,
    /// Folders already created.
    dirs: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// Files written so far, for a progress display.
    pub written: AtomicUsize,
    /// Bytes written so far.
    pub bytes: std::sync::atomic::AtomicU64,
}

impl Staging {
    /// Checks `out` (see [`check_output_dir`]), clears what a killed build left, and
    /// creates the staging folder with its marker.
    pub fn create(out: &Path, study_dir: &Path) -> Result<Staging, OutputError> {
        check_output_dir(out, study_dir)?;
        let out = absolute(out);
        let parent = out
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let pid = std::process::id();
        let staging = parent.join(format!(".{name}.staging-{pid}"));
        let old = parent.join(format!(".{name}.old-{pid}"));
        Ok(Staging {
            out,
            staging,
            old,
            parent,
            name,
            opened: std::sync::OnceLock::new(),
            committed: false,
            dirs: Default::default(),
            written: AtomicUsize::new(0),
            bytes: Default::default(),
        })
    }

    /// Creates the staging folder, once, when the first file comes: a build that
    /// fails before writing anything leaves no trace, not even a new output folder.
    fn open(&self) -> Result<(), OutputError> {
        let opened = self.opened.get_or_init(|| {
            (|| {
                fs::create_dir_all(&self.parent)
                    .map_err(|e| OutputError::Io(self.parent.clone(), e))?;
                remove_leftovers(&self.parent, &self.name);
                fs::create_dir_all(&self.staging)
                    .map_err(|e| OutputError::Io(self.staging.clone(), e))?;
                // The marker goes in first, so a staging folder left by a killed
                // build is recognisably ours.
                let marker = self.staging.join(MARKER);
                fs::write(&marker, MARKER_TEXT).map_err(|e| OutputError::Io(marker, e))
            })()
            .map_err(|e| e.to_string())
        });
        opened
            .clone()
            .map_err(|e| OutputError::Io(self.staging.clone(), io::Error::other(e)))
    }

    /// Writes one file (`rel`, with `/`) into the staging folder.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), OutputError> {
        self.write_pieces(rel, std::slice::from_ref(&bytes))
    }

    /// Writes one file made of `pieces`, one after another.
    pub fn write_pieces(&self, rel: &str, pieces: &[impl AsRef<[u8]>]) -> Result<(), OutputError> {
        self.open()?;
        let path = self.staging.join(rel);
        if let Some(dir) = path.parent() {
            let known = self.dirs.lock().map(|d| d.contains(dir)).unwrap_or(false);
            if !known {
                fs::create_dir_all(dir).map_err(|e| OutputError::Io(dir.to_path_buf(), e))?;
                if let Ok(mut d) = self.dirs.lock() {
                    d.insert(dir.to_path_buf());
                }
            }
        }
        let written = fs::File::create(&path).and_then(|mut file| {
            pieces
                .iter()
                .try_for_each(|piece| file.write_all(piece.as_ref()))
        });
        written.map_err(|e| OutputError::Io(path, e))?;
        let bytes: usize = pieces.iter().map(|p| p.as_ref().len()).sum();
        self.written.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes `files`, in parallel.
    pub fn write_all(&self, files: &[OutputFile]) -> Result<(), OutputError> {
        files
            .par_iter()
            .try_for_each(|f| self.write(&f.path, f.bytes.as_slice()))
    }

    /// Puts the staging folder in place of the output, keeping the previous output
    /// until the swap is done.
    pub fn commit(mut self) -> Result<(), OutputError> {
        self.open()?;
        if self.out.exists() {
            fs::rename(&self.out, &self.old).map_err(|e| OutputError::Io(self.out.clone(), e))?;
        }
        if let Err(e) = fs::rename(&self.staging, &self.out) {
            // Put the previous output back before reporting.
            let _ = fs::rename(&self.old, &self.out);
            return Err(OutputError::Io(self.out.clone(), e));
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.old);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Staging and old folders left by a build that was killed: they are ours, by name
/// and marker. An old output without a current one is restored, never deleted.
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let staging = format!(".{name}.staging-");
    let old = format!(".{name}.old-");
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        // Ours by name and by marker; an empty one was killed before its marker was written.
        let ours = e.path().join(MARKER).is_file()
            || fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_none());
        if !(n.starts_with(&staging) || n.starts_with(&old)) || !ours {
            continue;
        }
        let out = parent.join(name);
        // Killed between the two renames of a swap: the previous output is here; put it back.
        if n.starts_with(&old) && !out.exists() && fs::rename(e.path(), &out).is_ok() {
            continue;
        }
        let _ = fs::remove_dir_all(e.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile::new(path, text.as_bytes().to_vec())
    }

    #[test]
    fn writes_and_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let study = tmp.path().join("study");
        fs::create_dir_all(study.join("content")).unwrap();
        let out = study.join("output");
        write_site(
            &out,
            &study,
            &[file("index.html", "one"), file("a/b/index.html", "x")],
        )
        .unwrap();
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "one");
        write_site(&out, &study, &[file("index.html", "two")]).unwrap();
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "two");
        assert!(!out.join("a").exists(), "stale files are gone after a swap");
        // A swap killed between its two renames: the old output alone remains, and comes back.
        fs::rename(&out, study.join(".output.old-1")).unwrap();
        remove_leftovers(&study, "output");
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "two");
        let leftovers: Vec<_> = fs::read_dir(&study)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn refuses_foreign_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let study = tmp.path().join("study");
        fs::create_dir_all(study.join("content")).unwrap();
        let foreign = tmp.path().join("docs");
        fs::create_dir_all(&foreign).unwrap();
        fs::write(foreign.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            check_output_dir(&foreign, &study),
            Err(OutputError::Refused(_))
        ));
        assert!(matches!(
            check_output_dir(&study, &study),
            Err(OutputError::Refused(_))
        ));
        assert!(matches!(
            check_output_dir(tmp.path(), &study),
            Err(OutputError::Refused(_))
        ));
        assert!(check_output_dir(&tmp.path().join("new"), &study).is_ok());
    }
}
