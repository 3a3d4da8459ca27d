//! Source files of a study and places in them.

use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Position};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A place in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// Which file.
    pub file: FileId,
    /// Where in it.
    pub pos: Position,
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub loc: Loc,
}

/// One file read from the study folder.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the study folder, with `/` separators (`content/themes/a.md`).
    pub rel: String,
    /// The whole text, UTF-8, without a byte-order mark (shared with the load cache).
    pub text: Arc<str>,
}

/// Every file read during a run, so diagnostics can quote their lines.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<Option<SourceFile>>,
}

impl SourceMap {
    /// Registers a file under an id chosen by the caller (ids stay stable across
    /// reloads in `serve`, so cached records keep pointing at the right file).
    pub fn insert(&mut self, id: FileId, rel: String, text: Arc<str>) {
        let i = id.0 as usize;
        if self.files.len() <= i {
            self.files.resize(i + 1, None);
        }
        self.files[i] = Some(SourceFile { rel, text });
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        self.files
            .get(id.0 as usize)
            .and_then(Option::as_ref)
            .unwrap_or_else(|| {
                static NO_FILE: std::sync::OnceLock<SourceFile> = std::sync::OnceLock::new();
                NO_FILE.get_or_init(|| SourceFile {
                    rel: String::new(),
                    text: Arc::from(""),
                })
            })
    }

    /// An error at `loc`, with the offending line attached.
    pub fn error(&self, loc: Loc, message: impl Into<String>) -> Diagnostic {
        let f = self.get(loc.file);
        Diagnostic::error(f.rel.clone(), loc.pos, message).with_source(&f.text)
    }

    /// A warning at `loc`, with the offending line attached.
    pub fn warning(&self, loc: Loc, message: impl Into<String>) -> Diagnostic {
        let f = self.get(loc.file);
        Diagnostic::warning(f.rel.clone(), loc.pos, message).with_source(&f.text)
    }

    /// Number of files read.
    pub fn len(&self) -> usize {
        self.files.iter().flatten().count()
    }

    /// True when no file was read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
