//! Spreadsheets of coded excerpts, as CSV (RFC 4180, UTF-8 with or without BOM).
//!
//! One row is one coded excerpt: its text, participant, site, group and themes,
//! with an optional id and context. `--columns` says which column holds what.
//!
//! - **Columns** are matched to the names in `--columns` exactly first, then
//!   ignoring case and surrounding spaces. A `themes` name matches every column of
//!   that name (QualCoder can repeat a column), and `--columns` may name several.
//! - **Rows** are numbered by the line of the file where they start (a quoted cell
//!   may span lines), which is what an editor shows. Empty rows are ignored.
//! - **Values** are trimmed of surrounding spaces; the text and context keep their
//!   inner line breaks, written as `\n`.
//! - **Themes**: a cell holds one theme, or several split by `--theme-separator`;
//!   empty names are dropped. Each distinct name (as written, trimmed, case kept)
//!   is one theme, keyed by that name, in the order first seen. Names are flat:
//!   `Parent > Child` or `Parent/Child` is one theme of that name, because no tool
//!   we know writes a hierarchy into an excerpts CSV (Taguette's highlights export
//!   writes each tag's name, and versions with nested tags give the parent only in
//!   their codebook export), while names like `Stigma/discrimination` are common.
//! - **Quotes**: rows with the same id are one quote, whose themes are the union
//!   (Taguette writes one row per highlight and tag); their text, participant,
//!   site, group and context must agree. Without an id (no id column, or an empty
//!   cell) the key is the participant and the text, joined by a NUL, so rows with
//!   the same participant and text are one quote too.
//! - **`--participants FILE`**: its first column is the participant key, and its
//!   site and group columns (named as in `--columns`) give each participant's site
//!   and group; the main file's site and group columns are then not used. A row
//!   whose participant is not there, or has no site or group there, is skipped and
//!   reported.
//!
//! Every problem of both files is reported in one run, each with its file and line.

use std::collections::HashMap;
use std::path::Path;

use super::{CsvOptions, Errors, Incoming, IncomingQuote, IncomingTheme, Skipped};
use crate::diagnostics::{Diagnostic, Position, did_you_mean};

/// What to do about a file that is not UTF-8.
const SAVE_AS_UTF8: &str = "open the file in a spreadsheet or text editor, save it as UTF-8 \
     (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\"), and import again";

/// What to do about a row whose cells do not line up with the header.
const QUOTING_HINT: &str = "every row needs one cell per column: look for a missing or extra comma; \
     a cell that holds a comma, a quote or a line break must be in double quotes, \
     with each quote inside it doubled (\"\")";

/// Reads a CSV of excerpts into [`Incoming`].
pub fn read(opts: &CsvOptions) -> Result<Incoming, Errors> {
    let mut errors = Errors::new();
    let main_file = display(&opts.file);
    usage_errors(opts, &main_file, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }

    let main = Table::load(&opts.file, &mut errors);
    let people = opts
        .participants
        .as_deref()
        .map(|p| Table::load(p, &mut errors));

    let cols = main
        .as_ref()
        .and_then(|t| MainColumns::find(t, opts, &mut errors));
    let people = match people {
        None => None,
        Some(None) => return Err(errors),
        Some(Some(t)) => People::read(&t, opts, &mut errors).map(|p| (p, t.file)),
    };
    let (Some(main), Some(cols)) = (main, cols) else {
        return Err(errors);
    };
    if opts.participants.is_some() && people.is_none() {
        return Err(errors);
    }

    let mut b = Builder::default();
    let sep = opts.theme_separator.as_deref().filter(|s| !s.is_empty());
    for row in &main.rows {
        let cell = |i: usize| row.cells.get(i).map(|s| s.trim()).unwrap_or("");
        let text = newlines(cell(cols.text));
        let participant = cell(cols.participant).to_string();
        let mut missing = Vec::new();
        if text.is_empty() {
            missing.push(("text", &main.headers[cols.text]));
        }
        if participant.is_empty() {
            missing.push(("participant", &main.headers[cols.participant]));
        }
        let (site, group) = match &people {
            None => {
                let (s, g) = cols.site_group.unwrap_or_default();
                let (site, group) = (cell(s).to_string(), cell(g).to_string());
                if site.is_empty() {
                    missing.push(("site", &main.headers[s]));
                }
                if group.is_empty() {
                    missing.push(("group", &main.headers[g]));
                }
                (site, group)
            }
            Some(_) => (String::new(), String::new()),
        };
        if !missing.is_empty() {
            errors.push(missing_values(&main.file, row.line, &missing));
            continue;
        }
        let (site, group) = match &people {
            None => (site, group),
            Some((people, pfile)) => match people.get(&participant) {
                None => {
                    b.skipped.push(Skipped {
                        what: format!("row {}", row.line),
                        why: format!("participant `{participant}` is not in {pfile}"),
                    });
                    continue;
                }
                Some(p) if p.site.is_empty() || p.group.is_empty() => {
                    let lacks = match (p.site.is_empty(), p.group.is_empty()) {
                        (true, true) => "site or group",
                        (true, false) => "site",
                        _ => "group",
                    };
                    b.skipped.push(Skipped {
                        what: format!("row {}", row.line),
                        why: format!(
                            "participant `{participant}` has no {lacks} in {pfile} (line {})",
                            p.line
                        ),
                    });
                    continue;
                }
                Some(p) => (p.site.clone(), p.group.clone()),
            },
        };
        let mut themes = Vec::new();
        for &i in &cols.themes {
            let value = cell(i);
            let names: Vec<&str> = match sep {
                Some(sep) => value.split(sep).collect(),
                None => vec![value],
            };
            for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
                if !themes.iter().any(|t| t == name) {
                    themes.push(name.to_string());
                }
            }
        }
        let id = cols.id.map(cell).filter(|s| !s.is_empty());
        let context = cols
            .context
            .map(|i| newlines(cell(i)))
            .filter(|s| !s.is_empty());
        let incoming = Row {
            line: row.line,
            id: id.map(str::to_string),
            text,
            participant,
            site,
            group,
            context,
            themes,
        };
        if let Err(e) = b.add(incoming) {
            errors.push(
                Diagnostic::error(main.file.clone(), Position::line(row.line), e.0).with_hint(e.1),
            );
        }
    }

    // A quote needs a theme: checked once its rows are merged, so that Taguette's
    // rows of one highlight count together.
    let theme_cols = cols
        .themes
        .iter()
        .map(|&i| format!("`{}`", main.headers[i]))
        .collect::<Vec<_>>();
    let theme_cols = match theme_cols.len() {
        1 => format!("column {}", theme_cols[0]),
        _ => format!("columns {}", list(&theme_cols)),
    };
    for (q, lines) in b.quotes.iter().zip(&b.lines) {
        if q.themes.is_empty() {
            let rows = lines.iter().map(u32::to_string).collect::<Vec<_>>();
            let message = match rows.len() {
                1 => format!("row {} has no theme in {theme_cols}", rows[0]),
                _ => format!(
                    "rows {} (one quote) have no theme in {theme_cols}",
                    list(&rows)
                ),
            };
            errors.push(
                Diagnostic::error(main.file.clone(), Position::line(lines[0]), message).with_hint(
                    "code the excerpt in your QDA tool and export again, or delete the row",
                ),
            );
        }
    }

    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));
        return Err(errors);
    }
    Ok(Incoming {
        title: None,
        themes: b.themes,
        quotes: b.quotes,
        skipped: b.skipped,
    })
}

/// A path as messages show it, with `/` separators.
fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Text with its line breaks as `\n` (Windows files write `\r\n`).
fn newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `--columns` that does not say where a required field is.
fn usage_errors(opts: &CsvOptions, file: &str, errors: &mut Errors) {
    let c = &opts.columns;
    let mut required = vec![("text", &c.text), ("participant", &c.participant)];
    required.push(("site", &c.site));
    required.push(("group", &c.group));
    for (field, name) in required {
        if name.trim().is_empty() {
            errors.push(
                Diagnostic::error(
                    file,
                    Position::default(),
                    format!("--columns does not say which column holds the {field}"),
                )
                .with_hint(format!("add {field}=COLUMN to --columns")),
            );
        }
    }
    if c.themes.iter().all(|t| t.trim().is_empty()) {
        errors.push(
            Diagnostic::error(
                file,
                Position::default(),
                "--columns does not say which column holds the themes",
            )
            .with_hint("add themes=COLUMN to --columns (repeat it for several columns)"),
        );
    }
}

/// One row with a required value missing.
fn missing_values(file: &str, line: u32, missing: &[(&str, &String)]) -> Diagnostic {
    let what = missing
        .iter()
        .map(|(field, col)| format!("no {field} (column `{col}`)"))
        .collect::<Vec<_>>();
    Diagnostic::error(
        file,
        Position::line(line),
        format!("row {line} has {}", list(&what)),
    )
    .with_hint("fill in the missing cells, or delete the row if it is not a coded excerpt")
}

/// A CSV file, read and split into cells.
struct Table {
    /// The path, for messages.
    file: String,
    /// The header row's cells, as written.
    headers: Vec<String>,
    /// The line of the header row.
    header_line: u32,
    /// The rows that hold something, each with its line.
    rows: Vec<TableRow>,
}

/// A row of a [`Table`].
struct TableRow {
    /// The line where the row starts.
    line: u32,
    /// Its cells, as written.
    cells: Vec<String>,
}

impl Table {
    /// Reads `path`, reporting what is wrong with it. `None` when nothing can be read
    /// (no file, not UTF-8, empty); rows that do not fit the header are reported and
    /// left out.
    fn load(path: &Path, errors: &mut Errors) -> Option<Table> {
        let file = display(path);
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                errors.push(
                    Diagnostic::error(
                        &file,
                        Position::default(),
                        format!("cannot read {file}: {e}"),
                    )
                    .with_hint("check the path to the CSV file"),
                );
                return None;
            }
        };
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            errors.push(
                Diagnostic::error(
                    &file,
                    Position::line(1),
                    format!("{file} is UTF-16 text, not UTF-8"),
                )
                .with_hint(SAVE_AS_UTF8),
            );
            return None;
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let good = &bytes[..e.valid_up_to()];
                // The prefix is valid UTF-8, so this cannot fail.
                let good = std::str::from_utf8(good).unwrap_or_default();
                let line = good.matches('\n').count() + 1;
                let column = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                errors.push(
                    Diagnostic::error(
                        &file,
                        Position::at(to_u32(line), to_u32(column)),
                        format!(
                            "{file} is not UTF-8: line {line} has a byte that is not UTF-8 text \
                             (the file is probably in a Windows or Latin-1 encoding)"
                        ),
                    )
                    .with_hint(SAVE_AS_UTF8),
                );
                return None;
            }
        };
        if text.trim().is_empty() {
            errors.push(
                Diagnostic::error(&file, Position::default(), format!("{file} is empty"))
                    .with_hint("a CSV to import starts with a header row that names its columns"),
            );
            return None;
        }

        let lines = LineIndex::new(text.as_bytes());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let header = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                errors.push(Diagnostic::error(
                    &file,
                    Position::line(1),
                    format!("cannot read {file}: {e}"),
                ));
                return None;
            }
        };
        let header_line = header.position().map_or(1, |p| lines.record_line(p.byte()));
        let headers: Vec<String> = header.iter().map(str::to_string).collect();

        let mut rows = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    if record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let line = record.position().map_or(0, |p| lines.record_line(p.byte()));
                    rows.push(TableRow {
                        line,
                        cells: record.iter().map(str::to_string).collect(),
                    });
                }
                Err(e) => match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => {
                        let line = pos.as_ref().map_or(0, |p| lines.record_line(p.byte()));
                        let cells = |n: u64| {
                            if n == 1 {
                                "1 cell".to_string()
                            } else {
                                format!("{n} cells")
                            }
                        };
                        errors.push(
                            Diagnostic::error(
                                &file,
                                Position::line(line),
                                format!(
                                    "row {line} has {} but the header row (line {header_line}) has {}",
                                    cells(*len),
                                    cells(*expected_len)
                                ),
                            )
                            .with_hint(QUOTING_HINT),
                        );
                    }
                    _ => {
                        let line = e.position().map_or(0, |p| lines.record_line(p.byte()));
                        errors.push(Diagnostic::error(
                            &file,
                            Position::line(line),
                            format!("cannot read {file}: {e}"),
                        ));
                        break;
                    }
                },
            }
        }
        if let Some(at) = unclosed_quote(text.as_bytes()) {
            let line = lines.line_of(at);
            errors.push(
                Diagnostic::error(
                    &file,
                    Position::line(line),
                    format!(
                        "a quoted cell opens on line {line} and is never closed, \
                         so the rest of the file was read as that one cell"
                    ),
                )
                .with_hint("close the quote; a quote inside a quoted cell is written twice (\"\")"),
            );
        }
        Some(Table {
            file,
            headers,
            header_line,
            rows,
        })
    }

    /// The columns `name` names: those spelt exactly so, else those equal to it
    /// ignoring case and surrounding spaces.
    fn columns_named(&self, name: &str) -> Vec<usize> {
        let exact: Vec<usize> = (0..self.headers.len())
            .filter(|&i| self.headers[i] == name)
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        let want = name.trim().to_lowercase();
        (0..self.headers.len())
            .filter(|&i| self.headers[i].trim().to_lowercase() == want)
            .collect()
    }

    /// The one column `name` names for `field`, or an error.
    fn column(&self, field: &str, name: &str, note: &str, errors: &mut Errors) -> Option<usize> {
        match self.columns_named(name)[..] {
            [] => {
                errors.push(self.no_column(field, name, note));
                None
            }
            [one] => Some(one),
            ref many => {
                let numbers = many.iter().map(|i| (i + 1).to_string()).collect::<Vec<_>>();
                errors.push(
                    Diagnostic::error(
                        &self.file,
                        Position::line(self.header_line),
                        format!(
                            "{} has {} columns named `{name}` (columns {}), so the {field} is ambiguous",
                            self.file,
                            many.len(),
                            list(&numbers)
                        ),
                    )
                    .with_hint("rename all but one of them in the header row"),
                );
                None
            }
        }
    }

    /// When columns are missing and the header is one cell holding `;` or tabs, the
    /// one error that says so (Excel in many languages writes `;`).
    fn other_separator(&self) -> Option<Diagnostic> {
        let [only] = &self.headers[..] else {
            return None;
        };
        let sep = [';', '\t'].into_iter().find(|c| only.contains(*c))?;
        let sep = if sep == '\t' {
            "tabs".to_string()
        } else {
            format!("`{sep}`")
        };
        Some(
            Diagnostic::error(
                &self.file,
                Position::line(self.header_line),
                format!(
                    "{} separates its columns with {sep}, not commas, so its header row is one column `{only}`",
                    self.file
                ),
            )
            .with_hint(
                "save it as comma-separated CSV (in Excel: \"CSV UTF-8 (Comma delimited)\") and import again",
            ),
        )
    }

    /// Replaces the missing-column errors pushed since `before` by one, when the
    /// file uses another separator.
    fn explain_missing(&self, before: usize, errors: &mut Errors) {
        if errors.len() > before {
            if let Some(d) = self.other_separator() {
                errors.truncate(before);
                errors.push(d);
            }
        }
    }

    /// The error for a column that `--columns` names and the file lacks.
    fn no_column(&self, field: &str, name: &str, note: &str) -> Diagnostic {
        let existing = self
            .headers
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>();
        let mut hint = did_you_mean(name, self.headers.iter().map(String::as_str))
            .map(|d| format!("{d} "))
            .unwrap_or_default();
        hint.push_str(&format!(
            "name one of its columns in --columns {field}=COLUMN"
        ));
        Diagnostic::error(
            &self.file,
            Position::line(self.header_line),
            format!(
                "{} has no column `{name}` (named for the {field} in --columns{note}); its columns are {}",
                self.file,
                list(&existing)
            ),
        )
        .with_hint(hint)
    }
}

/// Where the main file's fields are.
struct MainColumns {
    text: usize,
    participant: usize,
    /// Site and group, unless `--participants` gives them.
    site_group: Option<(usize, usize)>,
    themes: Vec<usize>,
    id: Option<usize>,
    context: Option<usize>,
}

impl MainColumns {
    /// Finds every column `--columns` names, reporting each one missing.
    fn find(t: &Table, opts: &CsvOptions, errors: &mut Errors) -> Option<MainColumns> {
        let c = &opts.columns;
        let before = errors.len();
        let text = t.column("text", &c.text, "", errors);
        let participant = t.column("participant", &c.participant, "", errors);
        let site_group = if opts.participants.is_none() {
            let site = t.column("site", &c.site, "", errors);
            let group = t.column("group", &c.group, "", errors);
            site.zip(group)
        } else {
            None
        };
        let mut themes = Vec::new();
        for name in c.themes.iter().filter(|n| !n.trim().is_empty()) {
            let found = t.columns_named(name);
            if found.is_empty() {
                errors.push(t.no_column("themes", name, ""));
            }
            for i in found {
                if !themes.contains(&i) {
                    themes.push(i);
                }
            }
        }
        let id = c.id.as_deref().and_then(|n| t.column("id", n, "", errors));
        let context = c
            .context
            .as_deref()
            .and_then(|n| t.column("context", n, "", errors));
        if errors.len() > before {
            t.explain_missing(before, errors);
            return None;
        }
        Some(MainColumns {
            text: text?,
            participant: participant?,
            site_group,
            themes,
            id,
            context,
        })
    }
}

/// A participant's site and group, from `--participants`.
struct Person {
    line: u32,
    site: String,
    group: String,
}

/// The participants file, by participant key.
struct People(HashMap<String, Person>);

impl People {
    /// Reads the participant key (first column), site and group of every row.
    fn read(t: &Table, opts: &CsvOptions, errors: &mut Errors) -> Option<People> {
        let note = "; with --participants, site and group come from this file";
        let before = errors.len();
        let site = t.column("site", &opts.columns.site, note, errors);
        let group = t.column("group", &opts.columns.group, note, errors);
        t.explain_missing(before, errors);
        let (site, group) = site.zip(group)?;
        let mut people: HashMap<String, Person> = HashMap::new();
        for row in &t.rows {
            let cell = |i: usize| row.cells.get(i).map_or("", |s| s.trim()).to_string();
            let key = cell(0);
            if key.is_empty() {
                continue;
            }
            let person = Person {
                line: row.line,
                site: cell(site),
                group: cell(group),
            };
            match people.get(&key) {
                Some(first) if first.site != person.site || first.group != person.group => {
                    errors.push(
                        Diagnostic::error(
                            &t.file,
                            Position::line(row.line),
                            format!(
                                "participant `{key}` is listed again on line {} (first on line {}) \
                                 with a different site or group",
                                row.line, first.line
                            ),
                        )
                        .with_hint("keep one row per participant"),
                    );
                }
                Some(_) => {}
                None => {
                    people.insert(key, person);
                }
            }
        }
        Some(People(people))
    }

    fn get(&self, key: &str) -> Option<&Person> {
        self.0.get(key)
    }
}

/// One row's excerpt, values trimmed.
struct Row {
    line: u32,
    id: Option<String>,
    text: String,
    participant: String,
    site: String,
    group: String,
    context: Option<String>,
    themes: Vec<String>,
}

/// Collects themes and quotes, merging rows of one quote.
#[derive(Default)]
struct Builder {
    themes: Vec<IncomingTheme>,
    theme_index: HashMap<String, usize>,
    quotes: Vec<IncomingQuote>,
    /// The lines of each quote's rows.
    lines: Vec<Vec<u32>>,
    by_key: HashMap<String, usize>,
    skipped: Vec<Skipped>,
}

impl Builder {
    /// Adds a row, or says (message, hint) why its quote conflicts with an earlier row.
    fn add(&mut self, row: Row) -> Result<(), (String, String)> {
        let key = match &row.id {
            Some(id) => id.clone(),
            None => format!("{}\u{0}{}", row.participant, row.text),
        };
        let Some(&at) = self.by_key.get(&key) else {
            let themes = row.themes.iter().map(|t| self.theme(t)).collect();
            self.by_key.insert(key.clone(), self.quotes.len());
            self.quotes.push(IncomingQuote {
                key,
                guid: None,
                participant: row.participant,
                site: row.site,
                group: row.group,
                themes,
                text: row.text,
                context: row.context,
            });
            self.lines.push(vec![row.line]);
            return Ok(());
        };
        let first = self.lines[at][0];
        let q = &self.quotes[at];
        let same = match &row.id {
            Some(id) => format!("has the same id `{id}` as row {first}"),
            None => format!("repeats the participant and text of row {first}"),
        };
        let hint = match &row.id {
            Some(_) => {
                "rows with one id are one quote: make them agree, or give them different ids"
            }
            None => {
                "rows with the same participant and text are one quote: make them agree, or add an id column to tell them apart"
            }
        };
        let differs = |what: &str, new: &str, old: &str| {
            Err((
                format!(
                    "row {} {same} but a different {what} (`{new}`, not `{old}`)",
                    row.line
                ),
                hint.to_string(),
            ))
        };
        if q.text != row.text {
            return Err((
                format!("row {} {same} but a different text", row.line),
                hint.to_string(),
            ));
        }
        if q.participant != row.participant {
            return differs("participant", &row.participant, &q.participant);
        }
        if q.site != row.site {
            return differs("site", &row.site, &q.site);
        }
        if q.group != row.group {
            return differs("group", &row.group, &q.group);
        }
        if matches!((&q.context, &row.context), (Some(old), Some(new)) if old != new) {
            return Err((
                format!("row {} {same} but a different context", row.line),
                hint.to_string(),
            ));
        }
        let themes: Vec<usize> = row.themes.iter().map(|t| self.theme(t)).collect();
        let q = &mut self.quotes[at];
        if q.context.is_none() {
            q.context = row.context;
        }
        for t in themes {
            if !q.themes.contains(&t) {
                q.themes.push(t);
            }
        }
        self.lines[at].push(row.line);
        Ok(())
    }

    /// The index of the theme named `name`, added when new.
    fn theme(&mut self, name: &str) -> usize {
        if let Some(&i) = self.theme_index.get(name) {
            return i;
        }
        let i = self.themes.len();
        self.themes.push(IncomingTheme {
            key: name.to_string(),
            guid: None,
            title: name.to_string(),
            parent: None,
            description: None,
            color: None,
        });
        self.theme_index.insert(name.to_string(), i);
        i
    }
}

/// Line numbers from byte offsets. A line ends at `\n`, `\r\n` or a lone `\r`, as
/// the CSV reader sees them; the reader's own line count is off after `\r\n` and
/// blank lines.
struct LineIndex<'a> {
    data: &'a [u8],
    /// Byte offset of each line's start.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut starts = vec![0];
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { data, starts }
    }

    /// The 1-based line that holds byte `offset`.
    fn line_of(&self, offset: usize) -> u32 {
        to_u32(self.starts.partition_point(|&s| s <= offset))
    }

    /// The line where a record starts, given the reader's offset for it (which may
    /// point at the line breaks before it).
    fn record_line(&self, offset: u64) -> u32 {
        let len = self.data.len();
        let mut at = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        while at < len && matches!(self.data[at], b'\n' | b'\r') {
            at += 1;
        }
        self.line_of(at)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The offset of a quote that opens a cell and is never closed, as the CSV reader
/// parses quotes (a quote counts only at the start of a cell; `""` inside is one).
fn unclosed_quote(data: &[u8]) -> Option<usize> {
    enum S {
        Start,
        Field,
        Quoted(usize),
        QuoteInQuoted(usize),
    }
    let mut s = S::Start;
    for (i, &b) in data.iter().enumerate() {
        let end = matches!(b, b',' | b'\n' | b'\r');
        s = match s {
            S::Start if b == b'"' => S::Quoted(i),
            S::Start | S::Field if end => S::Start,
            S::Start | S::Field => S::Field,
            S::Quoted(o) if b == b'"' => S::QuoteInQuoted(o),
            S::Quoted(o) => S::Quoted(o),
            S::QuoteInQuoted(o) if b == b'"' => S::Quoted(o),
            S::QuoteInQuoted(_) if end => S::Start,
            S::QuoteInQuoted(_) => S::Field,
        };
    }
    match s {
        S::Quoted(o) => Some(o),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_crlf_lone_cr_and_blank_lines() {
        let data = b"a,b\r\n1,\"x\r\ny\"\r\n\r\n3,4\r5,6\n";
        let idx = LineIndex::new(data);
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(5), 2);
        assert_eq!(idx.line_of(12), 3);
        // The reader puts record "3,4" at the blank line's break.
        assert_eq!(idx.record_line(16), 5);
        assert_eq!(idx.line_of(22), 6);
        assert_eq!(idx.record_line(u64::MAX), 7);
    }

    #[test]
    fn finds_unclosed_quotes_only() {
        assert_eq!(unclosed_quote(b"a,b\n1,\"open\n2,3\n"), Some(6));
        assert_eq!(unclosed_quote(b"a,b\n1,\"say \"\"hi\"\"\"\n"), None);
        assert_eq!(unclosed_quote(b"a,b\n1,x\"y\n"), None);
        assert_eq!(unclosed_quote(b"a,b\n\"q\"x\"y,2\n"), None);
        assert_eq!(unclosed_quote(b""), None);
    }

    #[test]
    fn lists_read_as_prose() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(list(&s(&[])), "");
        assert_eq!(list(&s(&["a"])), "a");
        assert_eq!(list(&s(&["a", "b"])), "a and b");
        assert_eq!(list(&s(&["a", "b", "c"])), "a, b and c");
    }
}
