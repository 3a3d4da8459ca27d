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
pub mod plan;
pub mod refi;
mod write;

pub use plan::Plan;

use crate::diagnostics::Diagnostic;

/// A GUID as keys hold it: no braces, upper case (tools disagree on both).
pub(crate) fn normalise_guid(guid: &str) -> String {
    let g = guid.trim();
    let g = g.strip_prefix('{').unwrap_or(g);
    let g = g.strip_suffix('}').unwrap_or(g);
    g.trim().to_ascii_uppercase()
}

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

/// What an import run did (or, with `dry_run`, would do).
#[derive(Debug)]
pub struct Report {
    /// The plan: files, counts, skipped.
    pub plan: Plan,
    /// True when nothing was written.
    pub dry_run: bool,
    /// What `thematic build` will refuse in the imported study until the author
    /// acts (a denylisted name in a quote, a page profiling one participant).
    pub build_errors: Vec<Diagnostic>,
}

impl Report {
    /// What the run did, a line each: skipped passages (one line per reason: a
    /// project without a site variable skips every passage for the same one),
    /// theme pages the project no longer has, notes on kept or removed parents, and
    /// each file written.
    pub fn details(&self) -> Vec<String> {
        let plan = &self.plan;
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for s in &plan.skipped {
            match reasons.iter_mut().find(|(why, _)| *why == s.why) {
                Some((_, whats)) => whats.push(&s.what),
                None => reasons.push((&s.why, vec![&s.what])),
            }
        }
        let mut lines = Vec::new();
        for (why, whats) in &reasons {
            if let [what] = whats.as_slice() {
                lines.push(format!("skipped: {what}: {why}"));
            } else {
                let shown = whats.iter().take(3).copied().collect::<Vec<_>>().join("; ");
                let more = match whats.len() {
                    n if n > 3 => format!("; and {} more", n - 3),
                    _ => String::new(),
                };
                lines.push(format!(
                    "skipped {} passages: {why} ({shown}{more})",
                    whats.len()
                ));
            }
        }
        for path in &plan.themes_gone {
            lines.push(format!(
                "note: {path} is no longer in the project; it was kept for its text: delete it if it is not needed"
            ));
        }
        for note in &plan.notes {
            lines.push(format!("note: {note}"));
        }
        let verb = if self.dry_run { "would write" } else { "wrote" };
        for f in &plan.files {
            lines.push(format!(
                "{verb} {}{}",
                f.path,
                if f.new { " (new)" } else { "" }
            ));
        }
        lines
    }

    /// The note under the build's errors, when the imported study has any.
    pub fn build_errors_note(&self) -> Option<String> {
        let these = match self.build_errors.len() {
            0 => return None,
            1 => "this is",
            _ => "these are",
        };
        Some(format!(
            "note: the import is written, but `thematic build` will refuse to publish until {these} fixed (above)"
        ))
    }

    /// The run's one summary line.
    pub fn summary_line(&self, file: &std::path::Path, study: &std::path::Path) -> String {
        format!(
            "{} {} into {}: {}",
            if self.dry_run {
                "Dry run, nothing written: would import"
            } else {
                "Imported"
            },
            file.display(),
            study.display(),
            self.plan.summary()
        )
    }
}

/// Imports `incoming` into the study in `study_dir`: plans every file, checks the
/// study they make, then writes them (unless `dry_run`). `name` names the import
/// (a project or file name) for its quotes file and a new study's title.
pub fn import(
    study_dir: &std::path::Path,
    incoming: &Incoming,
    name: &str,
    dry_run: bool,
) -> Result<Report, Errors> {
    let plan = plan::plan(study_dir, incoming, name)?;
    write::check_result(study_dir, &plan.files)?;
    let build_errors = if dry_run {
        Vec::new()
    } else {
        write::write_files(study_dir, &plan.files)?;
        write::build_errors(study_dir)
    };
    Ok(Report {
        plan,
        dry_run,
        build_errors,
    })
}

/// Parses `--columns text=COL,participant=COL,site=COL,group=COL,themes=COL[,id=COL][,context=COL]`.
/// `themes` may be given more than once, for files with repeated theme columns.
pub fn parse_columns(spec: &str) -> Result<Columns, String> {
    let mut c = Columns::default();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, column)) = part.split_once('=') else {
            return Err(format!(
                "`{part}` is not FIELD=COLUMN: write, for example, `text=Excerpt`"
            ));
        };
        let column = column.trim().to_string();
        if column.is_empty() {
            return Err(format!("`{part}` names no column"));
        }
        match field.trim() {
            "text" => c.text = column,
            "participant" => c.participant = column,
            "site" => c.site = column,
            "group" => c.group = column,
            "themes" | "theme" => c.themes.push(column),
            "id" => c.id = Some(column),
            "context" => c.context = Some(column),
            other => {
                return Err(format!(
                    "unknown field `{other}` in --columns: the fields are text, participant, site, group, themes, id and context"
                ));
            }
        }
    }
    let missing: Vec<&str> = [
        ("text", c.text.is_empty()),
        ("participant", c.participant.is_empty()),
        ("site", c.site.is_empty()),
        ("group", c.group.is_empty()),
        ("themes", c.themes.is_empty()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(f, _)| *f)
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "--columns must name a column for {}: for example --columns text=Excerpt,participant=Case,site=Site,group=Group,themes=Codes",
            missing.join(", ")
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_parsed_and_checked() {
        let c = parse_columns("text=Excerpt, participant=Case,site=Site,group=Group,themes=Code 1,themes=Code 2,id=ID").unwrap();
        assert_eq!(c.text, "Excerpt");
        assert_eq!(c.themes, ["Code 1", "Code 2"]);
        assert_eq!(c.id.as_deref(), Some("ID"));
        let e = parse_columns("text=A,participant=B").unwrap_err();
        assert!(e.contains("site, group, themes"), "{e}");
        assert!(parse_columns("text").unwrap_err().contains("FIELD=COLUMN"));
        assert!(
            parse_columns("txt=A")
                .unwrap_err()
                .contains("unknown field `txt`")
        );
    }
}
