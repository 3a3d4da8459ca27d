//! `thematic import`: turns what researchers coded elsewhere into study files.
//!
//! Beside the pipeline, like `serve`. Each reader turns one format into
//! [`Incoming`], a format-free description of themes and coded quotes:
//! - `refi`: REFI-QDA projects (`.qdpx`, `.qde`) and codebooks (`.qdc`);
//! - `csvfile`: spreadsheets of excerpts (Taguette, QualCoder).
//!
//! `plan` then compares it with the study on disk and works out every file to
//! write; `write` writes them only when the whole plan is ready, so a failed import
//! leaves the study as it was.

pub mod csvfile;
pub mod refi;

use crate::diagnostics::Diagnostic;

/// What an import brings, whatever its format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    /// The project's name, for a new study's title.
    pub title: Option<String>,
    /// Themes, each parent before its children.
    pub themes: Vec<IncomingTheme>,
    /// Coded quotes, in the order of the project.
    pub quotes: Vec<IncomingQuote>,
    /// What was left out, and why: reported, never an error.
    pub skipped: Vec<Skipped>,
}

/// A theme (a code of a QDA tool, or a theme name in a spreadsheet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingTheme {
    /// What identifies the theme across imports: the code's GUID (upper case, no
    /// braces) for REFI-QDA, the theme's name for a spreadsheet.
    pub key: String,
    /// The REFI-QDA GUID, recorded in the theme's front matter.
    pub guid: Option<String>,
    /// Title (the code's name).
    pub title: String,
    /// Index of the parent theme in [`Incoming::themes`].
    pub parent: Option<usize>,
    /// The code's description, as plain text: the body of a new theme's page.
    pub description: Option<String>,
    /// Colour as `#rrggbb`, when the tool gave one.
    pub color: Option<String>,
}

/// A coded passage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingQuote {
    /// What identifies the quote across imports: the selection's GUID (upper case,
    /// no braces) for REFI-QDA, the `id` column (or, without one, the participant
    /// and text) for a spreadsheet.
    pub key: String,
    /// The REFI-QDA selection GUID, recorded on the quote.
    pub guid: Option<String>,
    /// Participant code, as the project has it.
    pub participant: String,
    /// The site, as the project names it (a variable's value): matched to a site's
    /// title or id, or a new site.
    pub site: String,
    /// The responder group, likewise.
    pub group: String,
    /// Indexes into [`Incoming::themes`], each once, in the order first applied.
    pub themes: Vec<usize>,
    /// The verbatim text.
    pub text: String,
    /// Context, from a spreadsheet's context column.
    pub context: Option<String>,
}

/// Something an import left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// What: "selection GUID in source NAME", "row 12".
    pub what: String,
    /// Why: "no site", "not coded".
    pub why: String,
}

/// `thematic import refi-qda` options (the file and the variable names).
#[derive(Debug, Clone, Default)]
pub struct RefiOptions {
    /// The `.qdpx`, `.qde` or `.qdc` file.
    pub file: std::path::PathBuf,
    /// Variable (or set-name prefix) that holds the site; `None`: `site`.
    pub site: Option<String>,
    /// Variable that holds the responder group; `None`: `group`.
    pub group: Option<String>,
    /// Variable that holds the participant code; `None`: the case's name.
    pub participant: Option<String>,
}

/// `thematic import csv` options.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// The CSV file.
    pub file: std::path::PathBuf,
    /// Which columns hold what.
    pub columns: Columns,
    /// Splits a themes cell that holds several themes, such as `;`.
    pub theme_separator: Option<String>,
    /// A CSV whose first column is the participant key and whose other columns
    /// include the site and group columns (QualCoder's cases file).
    pub participants: Option<std::path::PathBuf>,
}

/// `--columns text=COL,participant=COL,site=COL,group=COL,themes=COL[,id=COL][,context=COL]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// The quote's text.
    pub text: String,
    /// The participant code (or the key into `--participants`).
    pub participant: String,
    /// The site (in the participants file, when one is given).
    pub site: String,
    /// The responder group (in the participants file, when one is given).
    pub group: String,
    /// One or more columns (QualCoder can write repeated theme columns).
    pub themes: Vec<String>,
    /// A quote id: rows with the same id are one quote.
    pub id: Option<String>,
    /// Context.
    pub context: Option<String>,
}

/// Errors of an import: each names the file, and the line or row where it can.
pub type Errors = Vec<Diagnostic>;
