//! User-facing diagnostics: one type for every error and warning about a study.
//!
//! A [`Diagnostic`] always names the file and, where known, the line and column,
//! and may carry a hint that says how to fix the problem. The same value is
//! printed in the terminal by `build` and `check` (and later shown by `serve`),
//! so wording lives in one place.

use std::fmt;
use std::path::Path;

/// How bad a diagnostic is. Errors fail the run; warnings are printed and the build goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The study cannot be built as written.
    Error,
    /// Probably a mistake, but the study still builds.
    Warning,
}

/// A place in a source file: 1-based line and column. A zero line means "the whole file".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// 1-based line, or 0 when the problem concerns the whole file.
    pub line: u32,
    /// 1-based column, or 0 when unknown.
    pub column: u32,
}

impl Position {
    /// A position at a line, column unknown.
    pub fn line(line: u32) -> Self {
        Position { line, column: 0 }
    }

    /// A position at a line and column.
    pub fn at(line: u32, column: u32) -> Self {
        Position { line, column }
    }
}

/// One problem found in a study, with everything needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the study folder where possible, with `/` separators.
    pub file: String,
    /// Where in the file.
    pub position: Position,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, when we can tell.
    pub hint: Option<String>,
    /// The text of the offending line, for a snippet under the message.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// An error about `file` at `position`.
    pub fn error(file: impl Into<String>, position: Position, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            position,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    /// A warning about `file` at `position`.
    pub fn warning(
        file: impl Into<String>,
        position: Position,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, position, message)
        }
    }

    /// Adds a hint that says how to fix the problem.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds an optional hint.
    pub fn with_optional_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// Attaches the text of the offending line, taken from the file's full text.
    pub fn with_source(mut self, text: &str) -> Self {
        if self.position.line > 0 {
            self.source_line = text
                .lines()
                .nth(self.position.line as usize - 1)
                .map(|l| l.trim_end().to_string());
        }
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column`, as editors and terminals link it.
    pub fn location(&self) -> String {
        match (self.position.line, self.position.column) {
            (0, _) => self.file.clone(),
            (l, 0) => format!("{}:{}", self.file, l),
            (l, c) => format!("{}:{}:{}", self.file, l, c),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// Renders in the style of rustc: headline, location arrow, source snippet, hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        let line = self.position.line.to_string();
        let pad = " ".repeat(line.len());
        write!(f, "{pad}--> {}", self.location())?;
        if let Some(src) = &self.source_line {
            write!(f, "\n{pad} |\n{line} | {src}")?;
            if self.position.column > 0 {
                let col = self.position.column as usize - 1;
                // Underline from the column to the end of the word there.
                let width = src
                    .chars()
                    .skip(col)
                    .take_while(|c| !c.is_whitespace() && *c != ':')
                    .count()
                    .max(1);
                write!(f, "\n{pad} | {}{}", " ".repeat(col), "^".repeat(width))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n{pad} = help: {hint}")?;
        }
        Ok(())
    }
}

/// The diagnostics of one run, in the order they were found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Records many diagnostics.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    /// True when at least one error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// All diagnostics, sorted by file, line and message so output is stable
    /// whatever order parallel stages found them in.
    pub fn sorted(&self) -> Vec<Diagnostic> {
        let mut v = self.items.clone();
        v.sort_by(|a, b| {
            (&a.file, a.position, a.severity, &a.message)
                .cmp(&(&b.file, b.position, b.severity, &b.message))
        });
        v.dedup();
        v
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Changes every recorded diagnostic in place (used to scrub private text).
    pub fn for_each_mut(&mut self, f: impl FnMut(&mut Diagnostic)) {
        self.items.iter_mut().for_each(f);
    }

    /// Iterates in recording order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}

/// Renders a path for messages: relative to `base` when inside it, with `/` separators.
pub fn display_path(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// The known word closest to `word`, if one is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_l = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_l, &c.to_lowercase()), c))
        .filter(|(d, c)| {
            let len = c.chars().count().max(word.chars().count());
            // One edit for short words, a third of the length (at least two) for longer ones.
            *d <= if len <= 3 { 1 } else { (len / 3).max(2) }
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// A "did you mean" hint for an unknown name, if a close candidate exists.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_field_names() {
        let fields = ["id", "site", "group", "themes", "text"];
        assert_eq!(closest("sit", fields), Some("site"));
        assert_eq!(closest("theme", fields), Some("themes"));
        assert_eq!(closest("colour", fields), None);
        assert_eq!(closest("hihg", ["high", "low"]), Some("high"));
        assert_eq!(closest("lo", ["high", "low"]), Some("low"));
    }

    #[test]
    fn renders_location_snippet_and_hint() {
        let d = Diagnostic::error(
            "content/quotes/a.yaml",
            Position::at(2, 3),
            "unknown field `sit`",
        )
        .with_hint("did you mean `site`?")
        .with_source("- id: a\n  sit: x\n");
        let text = d.to_string();
        assert!(text.starts_with("error: unknown field `sit`\n"), "{text}");
        assert!(text.contains("--> content/quotes/a.yaml:2:3"), "{text}");
        assert!(text.contains("2 |   sit: x"), "{text}");
        assert!(text.contains("  |   ^^^"), "{text}");
        assert!(text.contains("= help: did you mean `site`?"), "{text}");
    }

    #[test]
    fn whole_file_location_has_no_line() {
        let d = Diagnostic::error("content/study.yaml", Position::default(), "missing");
        assert_eq!(d.location(), "content/study.yaml");
    }
}
