//! Site themes: the built-in default, compiled into the binary, and a study's
//! own `themes/NAME/` whose templates and static files override it file by file.

use std::collections::BTreeMap;
use std::path::Path;

use tera::Tera;
use walkdir::WalkDir;

use crate::diagnostics::{Diagnostic, Position, display_path};
use crate::model::Study;

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../themes/default/templates/", $name)))),*]
    };
}

/// The default site theme's templates, as compiled into the binary.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = builtin!(
    "base.html",
    "quote.html",
    "quote_list.html",
    "index.html",
    "themes.html",
    "theme.html",
    "theme_site.html",
    "sites.html",
    "site.html",
    "groups.html",
    "group.html",
    "findings.html",
    "finding.html",
    "quotes.html",
    "404.html",
    "quote_filter.html",
    "pagination.html",
    "data.html",
    "search.html",
);

/// The default site theme's static files.
pub const BUILTIN_STATIC: &[(&str, &str)] = &[
    (
        "style.css",
        include_str!("../../themes/default/static/style.css"),
    ),
    (
        "thematic.js",
        include_str!("../../themes/default/static/thematic.js"),
    ),
    (
        "search.js",
        include_str!("../../themes/default/static/search.js"),
    ),
    (
        "favicon.svg",
        include_str!("../../themes/default/static/favicon.svg"),
    ),
];

/// A loaded site theme: compiled templates and the static files to copy.
pub struct SiteTheme {
    /// The template engine with every template loaded.
    pub tera: Tera,
    /// Static files, by path under `static/`.
    pub statics: BTreeMap<String, Vec<u8>>,
    /// Where each template came from, for diagnostics.
    origins: BTreeMap<String, (String, String)>,
    /// Whether `quote.html` is the built-in one, which [`super::quote_html`]
    /// renders without Tera.
    quote_is_builtin: bool,
    /// Whether every template of the quote-list pages is the built-in one, which
    /// [`super::list_html`] renders without Tera.
    lists_are_builtin: bool,
}

impl SiteTheme {
    /// A hash of every template's name and source: equal hashes render equal HTML.
    pub fn templates_hash(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        for (name, (_, src)) in &self.origins {
            name.hash(&mut h);
            src.hash(&mut h);
        }
        h.finish()
    }
}

impl SiteTheme {
    /// True when `quote.html` is the default theme's, character for character.
    pub fn quote_is_builtin(&self) -> bool {
        self.quote_is_builtin
    }

    /// True when every template of the quote-list pages
    /// ([`super::list_html::TEMPLATES`]) is the default theme's, character for
    /// character.
    pub fn lists_are_builtin(&self) -> bool {
        self.lists_are_builtin
    }

    /// Renders every page through Tera, as a site theme of its own would: for
    /// the tests that compare the compiled templates with Tera's output.
    #[cfg(test)]
    pub(crate) fn without_compiled_templates(mut self) -> Self {
        self.quote_is_builtin = false;
        self.lists_are_builtin = false;
        self
    }

    /// Turns a Tera error into a diagnostic at the template's file and line.
    pub fn diagnostic(&self, err: &tera::Error, while_doing: &str) -> Diagnostic {
        template_diagnostic(err, &self.origins, while_doing)
    }
}

fn template_diagnostic(
    err: &tera::Error,
    origins: &BTreeMap<String, (String, String)>,
    while_doing: &str,
) -> Diagnostic {
    match err.kind() {
        tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => {
            let (file, text) = origins
                .get(r.filename())
                .cloned()
                .unwrap_or_else(|| (r.filename().to_string(), String::new()));
            let span = r.span();
            Diagnostic::error(
                file,
                Position::at(span.start_line as u32, span.start_col as u32 + 1),
                format!("template error {while_doing}: {}", r.message()),
            )
            .with_source(&text)
        }
        _ => report_diagnostic(&err.to_string(), origins, while_doing),
    }
}

/// A diagnostic for each error of a Tera report: checks across templates (a missing
/// filter or include) come as one message joining their reports, each with its
/// place only in its text, as `--> NAME:LINE:COL`.
fn template_diagnostics(
    err: &tera::Error,
    origins: &BTreeMap<String, (String, String)>,
    while_doing: &str,
) -> Vec<Diagnostic> {
    let tera::ErrorKind::Msg(report) = err.kind() else {
        return vec![template_diagnostic(err, origins, while_doing)];
    };
    let mut chunks: Vec<String> = Vec::new();
    for line in report.lines() {
        if line.starts_with("error: ") || chunks.is_empty() {
            chunks.push(String::new());
        }
        let chunk = chunks.last_mut().expect("a chunk was pushed");
        chunk.push_str(line);
        chunk.push('\n');
    }
    chunks
        .iter()
        .map(|c| report_diagnostic(c.trim_end(), origins, while_doing))
        .collect()
}

fn report_diagnostic(
    report: &str,
    origins: &BTreeMap<String, (String, String)>,
    while_doing: &str,
) -> Diagnostic {
    let place = report.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("--> ")?;
        let mut parts = rest.rsplitn(3, ':');
        let col: u32 = parts.next()?.trim().parse().ok()?;
        let line: u32 = parts.next()?.trim().parse().ok()?;
        Some((parts.next()?.to_string(), line, col))
    });
    let headline = report
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    match place.and_then(|(name, line, col)| origins.get(&name).map(|o| (o.clone(), line, col))) {
        Some(((file, text), line, col)) => Diagnostic::error(
            file,
            Position::at(line, col),
            format!("template error {while_doing}: {headline}"),
        )
        .with_source(&text),
        None => Diagnostic::error(
            "templates",
            Position::default(),
            format!("template error {while_doing}: {report}"),
        ),
    }
}

/// Loads the site theme named in study.yaml from `study_dir/themes/NAME/`, over the built-in default.
pub fn load(study_dir: &Path, study: &Study) -> Result<SiteTheme, Vec<Diagnostic>> {
    let name = &study.meta.site_theme;
    let dir = study_dir.join("themes").join(name);
    let mut templates: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (n, src) in BUILTIN_TEMPLATES {
        templates.insert(
            n.to_string(),
            (format!("(built-in default theme) {n}"), src.to_string()),
        );
    }
    let mut statics: BTreeMap<String, Vec<u8>> = BUILTIN_STATIC
        .iter()
        .map(|(n, s)| (n.to_string(), s.as_bytes().to_vec()))
        .collect();
    let mut errors = Vec::new();
    if dir.is_dir() {
        for (rel, shown, bytes) in read_dir_files(&dir.join("templates"), study_dir, &mut errors) {
            match String::from_utf8(bytes) {
                Ok(text) => {
                    templates.insert(rel, (shown, text));
                }
                Err(_) => errors.push(
                    Diagnostic::error(shown, Position::default(), "the template is not UTF-8 text")
                        .with_hint("save the file as UTF-8"),
                ),
            }
        }
        for (rel, _, bytes) in read_dir_files(&dir.join("static"), study_dir, &mut errors) {
            statics.insert(rel, bytes);
        }
    } else if name != "default" {
        let loc = study.site_theme_loc.unwrap_or(crate::load::Loc {
            file: crate::load::FileId(0),
            pos: Position::default(),
        });
        errors.push(
            study
                .sources
                .error(loc, format!("site theme `{name}` not found: there is no folder themes/{name}/"))
                .with_hint("create themes/NAME/templates/ in the study folder, or remove `site_theme` to use the built-in default"),
        );
        return Err(errors);
    }

    // Parse each template on its own so that every template with a syntax error is
    // reported (Tera stops at the first). Checks across templates (parents, includes,
    // filters) need them all, and come below.
    for (n, (shown, src)) in &templates {
        let mut probe = Tera::new();
        if let Err(e) = probe.add_raw_template(n, src) {
            if !matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                continue;
            }
            let mut origins = BTreeMap::new();
            origins.insert(n.clone(), (shown.clone(), src.clone()));
            errors.push(template_diagnostic(&e, &origins, "in the site theme"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut tera = Tera::new();
    tera.autoescape_on(vec![".html", ".xml"]);
    if let Err(e) =
        tera.add_raw_templates(templates.iter().map(|(n, (_, s))| (n.as_str(), s.as_str())))
    {
        return Err(template_diagnostics(&e, &templates, "in the site theme"));
    }
    let is_builtin = |name: &str| {
        let builtin = BUILTIN_TEMPLATES.iter().find(|(n, _)| *n == name);
        match (templates.get(name), builtin) {
            (Some((_, src)), Some((_, builtin))) => src == builtin,
            _ => false,
        }
    };
    let quote_is_builtin = is_builtin("quote.html");
    let lists_are_builtin = super::list_html::TEMPLATES.iter().all(|n| is_builtin(n));
    Ok(SiteTheme {
        tera,
        statics,
        origins: templates,
        quote_is_builtin,
        lists_are_builtin,
    })
}

/// Every file under `dir`, in path order: (path relative to `dir`, path as shown, bytes).
fn read_dir_files(
    dir: &Path,
    study_dir: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for entry in WalkDir::new(dir).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() || entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let rel = display_path(entry.path(), dir);
        let shown = display_path(entry.path(), study_dir);
        match std::fs::read(entry.path()) {
            Ok(bytes) => out.push((rel, shown, bytes)),
            Err(e) => errors.push(Diagnostic::error(
                shown,
                Position::default(),
                format!("cannot read: {e}"),
            )),
        }
    }
    out
}
