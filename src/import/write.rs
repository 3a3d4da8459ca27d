//! Writing an import's files: only once the whole plan is ready and the study it
//! makes has been checked, and each file by a rename, so a failed import leaves
//! the study as it was.

use std::fs;
use std::path::{Path, PathBuf};

use super::Errors;
use super::plan::{FileChange, at_file};
use crate::diagnostics::Diagnostic;

/// Checks that the study `files` would make loads and validates (files, fields,
/// ids, references), in a copy of `content/` and `themes/`; its errors (none: the
/// import may be written). What the privacy guard will say is for the author to
/// act on after the import (see [`build_errors`]): the coded data belongs in
/// `content/` even when it may not be published as it is.
pub fn check_result(study_dir: &Path, files: &[FileChange]) -> Result<(), Errors> {
    let stage = Stage::new().map_err(|e| vec![at_file("(temporary folder)", e)])?;
    for dir in ["content", "themes"] {
        let from = study_dir.join(dir);
        if from.is_dir() {
            copy_dir(&from, &stage.0.join(dir))
                .map_err(|e| vec![at_file(&from.display().to_string(), e)])?;
        }
    }
    for f in files {
        let path = stage.0.join(&f.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| vec![at_file(&f.path, e.to_string())])?;
        }
        fs::write(&path, &f.contents).map_err(|e| vec![at_file(&f.path, e.to_string())])?;
    }
    let (sources, mut diags) = crate::load::load_study(&stage.0);
    crate::model::build_study(
        sources,
        crate::model::ModelOptions { drafts: true },
        &mut diags,
    );
    let errors: Vec<Diagnostic> = diags
        .sorted()
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The errors `thematic build` will report for the study in `study_dir` (the
/// privacy guard's among them), for the author to fix after an import.
pub fn build_errors(study_dir: &Path) -> Vec<Diagnostic> {
    crate::pipeline::check(study_dir, false)
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect()
}

/// Writes `files` into `study_dir`: each to a temporary file beside it first, then
/// all renamed into place. Nothing is renamed unless every file was written.
pub fn write_files(study_dir: &Path, files: &[FileChange]) -> Result<(), Errors> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    let mut failed = None;
    for f in files {
        let target = study_dir.join(&f.path);
        let temp = target.with_extension(format!(
            "{}.thematic-import",
            target.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        let result = target
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::write(&temp, &f.contents));
        match result {
            Ok(()) => staged.push((temp, target)),
            Err(e) => {
                failed = Some(at_file(&f.path, format!("cannot write the file: {e}")));
                break;
            }
        }
    }
    if let Some(e) = failed {
        for (temp, _) in &staged {
            let _ = fs::remove_file(temp);
        }
        return Err(vec![e.with_hint(
            "nothing was imported; check the folder's permissions and free space",
        )]);
    }
    for (temp, target) in staged {
        fs::rename(&temp, &target).map_err(|e| {
            vec![at_file(
                &target.display().to_string(),
                format!("cannot move the imported file into place: {e}"),
            )]
        })?;
    }
    Ok(())
}

/// A temporary folder, removed when dropped.
struct Stage(PathBuf);

impl Stage {
    fn new() -> Result<Stage, String> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "thematic-import-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Stage(dir))
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.map_err(|e| e.to_string())?;
        let rel = entry.path().strip_prefix(from).map_err(|e| e.to_string())?;
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
        } else if entry.file_type().is_file() {
            fs::copy(entry.path(), &dest).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
