//! `thematic init`: a small study that builds, to start from.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

macro_rules! starter {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("starter/", $path)))),*]
    };
}

/// The starter study's files: (path in the new study, contents).
const FILES: &[(&str, &str)] = starter!(
    "content/study.yaml",
    "content/index.md",
    "content/themes/access.md",
    "content/themes/travel.md",
    "content/themes/support.md",
    "content/sites/north.md",
    "content/sites/south.md",
    "content/groups/high.md",
    "content/groups/low.md",
    "content/findings/summary.md",
    "content/quotes/north.yaml",
    "content/quotes/south.yaml",
    "content/privacy.yaml",
);

const GITIGNORE: &str = include_str!("starter/gitignore");

/// Why a study could not be created.
#[derive(Debug)]
pub enum InitError {
    /// The folder already holds a study.
    Exists(PathBuf),
    /// Writing failed.
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Exists(p) => write!(
                f,
                "{} already holds a study (content/ exists): thematic init never overwrites content",
                p.display()
            ),
            InitError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

/// Creates a starter study in `dir` (created if missing). Returns the files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    if dir.join("content").exists() {
        return Err(InitError::Exists(dir.to_path_buf()));
    }
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| InitError::Io(parent.to_path_buf(), e))?;
        }
        fs::write(&path, text).map_err(|e| InitError::Io(path.clone(), e))?;
        written.push(path);
    }
    // An existing .gitignore gets the rules it lacks: privacy.yaml must never be committed.
    let gitignore = dir.join(".gitignore");
    let existing = fs::read_to_string(&gitignore).unwrap_or_default();
    if let Some(text) = gitignore_with_rules(&existing) {
        fs::write(&gitignore, text).map_err(|e| InitError::Io(gitignore.clone(), e))?;
        written.push(gitignore);
    }
    Ok(written)
}

/// The starter `content/privacy.yaml`: empty lists, with what each field is for.
pub const PRIVACY_STARTER: &str = include_str!("starter/content/privacy.yaml");

/// `existing` (a `.gitignore`'s text) with the rules a study needs that it lacks
/// appended (the output folder, and privacy.yaml, which must never be committed);
/// `None` when it has them all.
pub fn gitignore_with_rules(existing: &str) -> Option<String> {
    let missing: Vec<&str> = GITIGNORE
        .split("\n\n")
        .filter(|block| {
            let rule = block
                .lines()
                .find(|l| !l.starts_with('#') && !l.trim().is_empty());
            rule.is_some_and(|r| !existing.lines().any(|l| l.trim() == r.trim()))
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut text = existing.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(missing.join("\n\n").trim_end());
    text.push('\n');
    Some(text)
}
